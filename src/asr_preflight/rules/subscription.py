"""Subscription area: the target region is open to the subscription, providers are registered,
and the support matrix allows the region pair."""

from __future__ import annotations

from asr_preflight.findings import Area, Status
from asr_preflight.fix.actions import RegisterProvider
from asr_preflight.knowledge.regions import display, historical_cluster_note, pair_rules
from asr_preflight.rules.base import Context, Out, rule

REQUIRED_PROVIDERS = (
    "Microsoft.RecoveryServices",
    "Microsoft.Compute",
    "Microsoft.Network",
    "Microsoft.Storage",
)
_ACTIVE_STATES = ("enabled",)


def _subscriptions_involved(ctx: Context) -> list[str]:
    subs = set(ctx.subscriptions)
    if ctx.target_subscription:
        subs.add(ctx.target_subscription)
    return sorted(subs)


def _target_subscriptions(ctx: Context) -> list[str]:
    return [ctx.target_subscription] if ctx.target_subscription else ctx.subscriptions


@rule(
    "ASR-SUB-001",
    Area.SUBSCRIPTION,
    "The subscription can create VMs in the target region",
    label="target region access",
    sources=("WT-PREREQ-2017", "TS-2024"),
    code=150097,
)
def target_region_offered(ctx: Context, out: Out) -> None:
    """The target subscription must be active and allowed to create VMs in the target region;
    otherwise enabling replication fails with 150097."""
    region = display(ctx.target_region)
    for sub in _target_subscriptions(ctx):
        scope = f"/subscriptions/{sub}"
        info = ctx.estate.subscriptions.get(sub)
        if info and info.state and info.state.lower() not in _ACTIVE_STATES:
            out.fail(
                scope,
                f"subscription {info.name or sub} is {info.state}",
                "reactivate the subscription before enabling replication",
            )
            continue
        offered = ctx.estate.offered_locations.get(sub)
        compute = ctx.estate.providers.get((sub, "microsoft.compute"))
        vm_locations = compute.locations.get("virtualmachines") if compute else None
        if offered is None and vm_locations is None:
            out.unknown(
                scope,
                "neither the subscription's locations nor the Microsoft.Compute "
                "provider were exported",
                f"az account list-locations --subscription {sub} -o json > locations.json",
            )
        elif offered is not None and ctx.target_region not in offered:
            out.fail(
                scope,
                f"{region} is not among the regions this subscription can use",
                "ask Azure support to enable the region for this subscription, or choose "
                "another target region",
            )
        elif vm_locations is not None and ctx.target_region not in vm_locations:
            out.fail(
                scope,
                f"this subscription cannot create virtual machines in {region}",
                "ask Azure support (billing) to enable VM creation in the region",
            )
        else:
            out.pass_(scope, f"{region} is open to this subscription")


@rule(
    "ASR-SUB-002",
    Area.SUBSCRIPTION,
    "The resource providers ASR uses are registered",
    label="resource providers",
    sources=("SM-2025",),
)
def providers_registered(ctx: Context, out: Out) -> None:
    """Site Recovery creates vault, compute, network and storage resources; each provider must be
    registered in the source and target subscriptions."""
    for sub in _subscriptions_involved(ctx):
        scope = f"/subscriptions/{sub}"
        exported = [ns for ns in REQUIRED_PROVIDERS if (sub, ns.lower()) in ctx.estate.providers]
        if not exported:
            out.unknown(
                scope,
                "the subscription's resource providers were not exported",
                f"az provider list --subscription {sub} -o json > providers-{sub}.json",
            )
            continue
        missing = [
            ns
            for ns in REQUIRED_PROVIDERS
            if ns in exported and ctx.estate.providers[(sub, ns.lower())].state != "Registered"
        ]
        absent = [ns for ns in REQUIRED_PROVIDERS if ns not in exported]
        if missing:
            commands = "; ".join(
                f"az provider register --namespace {ns} --subscription {sub}" for ns in missing
            )
            out.fail(
                scope,
                f"not registered: {', '.join(missing)}",
                commands,
                actions=tuple(RegisterProvider(sub, ns) for ns in missing),
            )
        elif absent:
            out.unknown(
                scope,
                f"not in the provider export: {', '.join(absent)}",
                f"az provider list --subscription {sub} -o json > providers-{sub}.json",
            )
        else:
            out.pass_(
                scope, "Microsoft.RecoveryServices, Compute, Network and Storage are registered"
            )


@rule(
    "ASR-SUB-003",
    Area.SUBSCRIPTION,
    "The support matrix allows this source/target pair",
    label="region pair",
    sources=("SM-2025", "SM-2023", "Z2Z-2023", "Z2Z-2022"),
)
def region_pair_allowed(ctx: Context, out: Out) -> None:
    """Any two regions may replicate today, except restricted in-country regions, the Brazil
    South/Southeast rules and JIO regions. Earlier docs limited pairs to geographic clusters.
    Zone-to-zone (one region) is offered only in the regions the zone-to-zone page lists."""
    pair = f"{display(ctx.source_region)} → {display(ctx.target_region)}"
    if ctx.zone_to_zone:
        pair = f"{display(ctx.source_region)}, zone to zone {ctx.target_zone}"
    found = pair_rules(ctx.source_region, ctx.target_region)
    for item in found:
        if item.status == "pass":
            out.pass_(None, f"{pair}: {item.message} ({item.source})")
            continue
        remedy = (
            "raise a support request to allow-list both subscriptions"
            if item.status == "warn"
            else "choose another target region"
            if not ctx.zone_to_zone
            else "protect these VMs to another region instead"
        )
        out.add(Status(item.status), None, f"{pair}: {item.message} ({item.source})", remedy)
    if not found and ctx.zone_to_zone:
        out.pass_(None, f"{pair}: the region offers zone-to-zone disaster recovery")
    elif not found:
        note = historical_cluster_note(ctx.source_region, ctx.target_region)
        out.pass_(None, f"{pair} is allowed" + (f"; {note}" if note else ""))


@rule(
    "ASR-SUB-004",
    Area.SUBSCRIPTION,
    "Source and target subscriptions share one tenant",
    label="tenant",
    sources=("SM-2025",),
)
def same_tenant(ctx: Context, out: Out) -> None:
    """Cross-subscription replication is supported only within one Microsoft Entra tenant."""
    target = ctx.target_subscription
    if target is None:
        out.pass_(None, "each VM replicates within its own subscription")
        return
    target_info = ctx.estate.subscriptions.get(target)
    for sub in ctx.subscriptions:
        if sub == target:
            out.pass_(f"/subscriptions/{sub}", "source and target subscription are the same")
            continue
        source_info = ctx.estate.subscriptions.get(sub)
        if not (source_info and source_info.tenant_id and target_info and target_info.tenant_id):
            out.unknown(
                f"/subscriptions/{sub}",
                "the tenant of the source or target subscription is unknown",
                "az account list --all -o json > accounts.json",
            )
        elif source_info.tenant_id.lower() != target_info.tenant_id.lower():
            out.fail(
                f"/subscriptions/{sub}",
                f"target subscription {target} is in another tenant",
                "choose a target subscription in the same Microsoft Entra tenant",
            )
        else:
            out.pass_(f"/subscriptions/{sub}", "both subscriptions are in the same tenant")
