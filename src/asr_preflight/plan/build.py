"""Build the target plan the way "Enable replication" with default settings would: the vault,
target resource groups, VNets and availability sets (ASR's "-asr" names), cache accounts in the
source region, replica disks, a size and zone per VM, and the quota all of it needs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from asr_preflight.analysis import encryption
from asr_preflight.analysis.churn import Outcome, initial_replication_hours
from asr_preflight.analysis.quota import DemandBook, QuotaCheck
from asr_preflight.analysis.sizing import Choice, SizeChoice, Sizer
from asr_preflight.context import Context
from asr_preflight.knowledge import facts
from asr_preflight.knowledge.regions import display, premium_target_blocked
from asr_preflight.model import ids
from asr_preflight.model.entities import DiskRef, VirtualMachine
from asr_preflight.plan.existing import target_vault, usable_cache_accounts
from asr_preflight.plan.model import (
    DiskPlan,
    QuotaAsk,
    TargetPlan,
    TargetResource,
    VmPlan,
)

COMPUTE, NETWORK, STORAGE = "Microsoft.Compute", "Microsoft.Network", "Microsoft.Storage"


@dataclass(frozen=True)
class PlanResult:
    target: TargetPlan  # what `plan` prints
    sizes: dict[str, SizeChoice]  # VM key -> size choice (capacity rules)
    quota: list[QuotaCheck]  # every quota the plan consumes (capacity rules)


def _suffixed(resource_id: str) -> str:
    return f"{ids.name(resource_id)}-asr"


def _replica(disk: DiskRef, premium_blocked: str | None) -> DiskPlan:
    """ASR creates replica managed disks of the source disk's type."""
    sku = disk.sku
    note = None
    if disk.ephemeral or not disk.managed or (sku or "").lower().startswith("ultrassd"):
        return DiskPlan(
            disk.name, disk.role, disk.size_gib, sku, None, "not replicated (see ASR-STO-005)"
        )
    if premium_blocked and (sku or "").lower().startswith("premium"):
        note = f"premium replica disks in this region contradict the {premium_blocked} rule"
    return DiskPlan(disk.name, disk.role, disk.size_gib, sku, sku, note)


def _cache_disks_per_account(ctx: Context) -> tuple[int, str]:
    """Disks one (v2) cache account takes: 750 when every disk's churn is known to stay at or
    under 4 MB/s, else the conservative 375 (at 8 MB/s)."""
    rows = sorted(
        (r for r in facts.load("limits")["cache_account_disks"] if r["kind"] == "v2"),
        key=lambda r: r["churn_mb_s"],
    )
    churns = [ctx.churn[vm.key] for vm in ctx.vms]
    low, high = rows[0], rows[-1]
    calm = churns and all(
        c.outcome is not Outcome.UNKNOWN and all(d.p95_mb_s <= low["churn_mb_s"] for d in c.disks)
        for c in churns
    )
    row = low if calm else high
    why = (
        f"every disk's churn is {low['churn_mb_s']} MB/s or less"
        if calm
        else f"at the {high['churn_mb_s']} MB/s row: some churn is higher or unknown"
    )
    return int(row["disks"]), why


def build_plan(ctx: Context) -> PlanResult:
    estate, source, target = ctx.estate, ctx.source_region, ctx.target_region
    sizer = Sizer(estate, target, ctx.target_zone)
    book = DemandBook()
    premium_blocked = premium_target_blocked(target)
    groups: dict[str, TargetResource] = {}
    vnets: dict[str, TargetResource] = {}
    sets: dict[str, TargetResource] = {}
    vm_plans, sizes, notes = [], {}, []
    target_vnets = {v.name.lower() for v in estate.vnets.values() if v.location == target}
    for vm in ctx.vms:
        sub = ctx.target_subscription_of(vm)
        choice = sizes[vm.key] = sizer.choose(vm)
        rg_id = ctx.target_resource_group_id(vm)
        if ids.key(rg_id) not in groups:
            groups[ids.key(rg_id)] = TargetResource(
                "resource_group",
                ids.name(rg_id),
                target,
                exists=ids.key(rg_id) in estate.resource_groups,
                id=rg_id,
            )
        vm_vnets = _plan_vnets(ctx, vm, target_vnets, vnets, book)
        availability_set = None
        if vm.availability_set_id:
            availability_set = _suffixed(vm.availability_set_id)
            first = availability_set.lower() not in sets
            if first:
                sets[availability_set.lower()] = TargetResource(
                    "availability_set", availability_set, target, exists=False
                )
            # every VM of the set depends on it; only the first one adds to the count
            book.add(sub, target, "availabilitySets", COMPUTE, vm, 1 if first else 0)
        if choice.choice in (Choice.SAME, Choice.CLOSEST) and choice.vcpus is not None:
            book.add(sub, target, choice.family or "unknown family", COMPUTE, vm, int(choice.vcpus))
            book.add(sub, target, "cores", COMPUTE, vm, int(choice.vcpus))
            book.add(sub, target, "virtualMachines", COMPUTE, vm, 1)
        book.add(sub, target, "NetworkInterfaces", NETWORK, vm, max(len(vm.nic_ids or ()), 1))
        vm_plans.append(
            VmPlan(
                id=vm.id,
                name=vm.name,
                source_size=vm.size,
                target_size=choice.size,
                choice=choice.choice.value,
                reason=choice.reason,
                source_zone=vm.zones[0] if vm.zones else None,
                target_zone=choice.zone,
                target_resource_group=ids.name(rg_id),
                target_virtual_networks=vm_vnets,
                availability_set=availability_set,
                disks=[_replica(d, premium_blocked) for d in vm.disks or ()],
                smaller=choice.shrink.describe() if choice.shrink else None,
                churn=ctx.churn[vm.key].outcome.value,
                initial_replication_hours=initial_replication_hours(vm),
                larger_sizes=[c.name for c in choice.shrink.larger] if choice.shrink else [],
            )
        )
        if vm.zones and not sizer.region_has_zones:
            notes.append(
                f"{vm.name}: {display(target)} has no availability zones; the "
                "replica is a single instance"
            )
    notes.extend(
        f"{vm.name}: already replicated by vault "
        f"{estate.protected_items[vm.key].vault_name}; nothing to create"
        for vm in ctx.protected_vms
    )
    caches = _plan_cache_accounts(ctx, book)
    vault = target_vault(ctx)
    vault_plan = (
        TargetResource("vault", vault.name, vault.location, exists=True, id=vault.id)
        if vault
        else TargetResource(
            "vault",
            f"rsv-asr-{target}",
            target,
            exists=False,
            note="ASR needs a Recovery Services vault",
        )
    )
    quota = book.check(estate.usages_for)
    plan = TargetPlan(
        source_region=source,
        target_region=target,
        target_zone=ctx.target_zone,
        vault=vault_plan,
        resource_groups=list(groups.values()),
        virtual_networks=list(vnets.values()),
        availability_sets=list(sets.values()),
        cache_accounts=caches,
        vms=vm_plans,
        quota=[_ask(q) for q in quota],
        notes=notes,
        encryption=_plan_encryption(ctx),
    )
    return PlanResult(plan, sizes, quota)


def _plan_encryption(ctx: Context) -> list[TargetResource]:
    """A disk encryption set per source set of CMK disks, a key vault per source vault of ADE
    VMs: the existing one in the target region, else the one to create (ASR's `-asr` names)."""
    estate, target = ctx.estate, ctx.target_region
    planned: dict[str, TargetResource] = {}
    for vm in ctx.vms:
        for des_id in encryption.cmk_sets(vm):
            source = estate.disk_encryption_sets.get(ids.key(des_id))
            found = encryption.target_des(estate, source, des_id, target)
            kind = encryption.encryption_label(source.encryption_type if source else None)
            name = found.name if found else encryption.target_des_name(des_id)
            planned.setdefault(
                f"des:{name.lower()}",
                TargetResource(
                    "disk_encryption_set",
                    name,
                    target,
                    exists=found is not None,
                    id=found.id if found else None,
                    note=f"for disks of {ids.name(des_id)} ({kind})",
                ),
            )
        ade = encryption.ade_of(estate, vm)
        if ade is None:
            continue
        vault = encryption.target_key_vault(estate, ade, target)
        name = vault.name if vault else encryption.target_vault_name(ade)
        kek = " and key encryption key" if ade.kek_url else ""
        planned.setdefault(
            f"kv:{name.lower()}",
            TargetResource(
                "key_vault",
                name,
                target,
                exists=vault is not None,
                id=vault.id if vault else None,
                note=f"ADE secrets{kek} of {ade.vault_name}",
            ),
        )
    return sorted(planned.values(), key=lambda r: (r.kind, r.name.lower()))


def _target_network(ctx: Context, vnet_id: str, existing: set[str]) -> TargetResource:
    """The network a source VNet fails over into: the one a network mapping names in the target
    region, else ASR's '<vnet>-asr' (existing, or created with the source address space)."""
    estate, target = ctx.estate, ctx.target_region
    if ctx.zone_to_zone:  # the same-IP failover the zone-to-zone page describes stays in it
        return TargetResource(
            "virtual_network",
            ids.name(vnet_id),
            target,
            exists=ids.key(vnet_id) in estate.vnets,
            id=vnet_id,
            note="zone to zone: the VM fails over within its own virtual network",
        )
    for mapping in estate.network_mappings:
        if ids.key(mapping.primary_network_id) != ids.key(vnet_id):
            continue
        recovery = estate.vnets.get(ids.key(mapping.recovery_network_id))
        where = recovery.location if recovery else mapping.recovery_location
        if where == target:
            return TargetResource(
                "virtual_network",
                ids.name(mapping.recovery_network_id),
                target,
                exists=True,
                id=mapping.recovery_network_id,
                note=f"network mapping {mapping.name}",
            )
    name = _suffixed(vnet_id)
    source = estate.vnets.get(ids.key(vnet_id))
    space = ", ".join(source.address_prefixes) if source and source.address_prefixes else None
    return TargetResource(
        "virtual_network",
        name,
        target,
        exists=name.lower() in existing,
        note=f"mapped from {ids.name(vnet_id)}" + (f", address space {space}" if space else ""),
    )


def _plan_vnets(
    ctx: Context,
    vm: VirtualMachine,
    existing: set[str],
    vnets: dict[str, TargetResource],
    book: DemandBook,
) -> list[str]:
    """Each source VNet's target network; every VM on a new one depends on it, counted once."""
    names = []
    for subnet in ctx.estate.network_of(vm).subnets:
        key = ids.key(subnet.vnet_id)
        first = key not in vnets
        if first:
            vnets[key] = _target_network(ctx, subnet.vnet_id, existing)
        names.append(vnets[key].name)
        if not vnets[key].exists:
            book.add(
                ctx.target_subscription_of(vm),
                ctx.target_region,
                "VirtualNetworks",
                NETWORK,
                vm,
                1 if first else 0,
            )
    return sorted(set(names))


def _plan_cache_accounts(ctx: Context, book: DemandBook) -> list[TargetResource]:
    """Enough cache accounts in the source region for every replicated disk, reusing usable
    ones; new ones count against the source region's storage-account quota."""
    replicated = [
        (vm, d) for vm in ctx.vms for d in vm.disks or () if d.managed and not d.ephemeral
    ]
    per_account, why = _cache_disks_per_account(ctx)
    needed = max(1, math.ceil(len(replicated) / per_account)) if replicated else 0
    existing = usable_cache_accounts(ctx)
    plan = [
        TargetResource("cache_account", a.name, a.location, exists=True, id=a.id)
        for a in existing[:needed]
    ]
    new = needed - len(plan)
    for n in range(new):
        plan.append(
            TargetResource(
                "cache_account",
                f"<new>asrcache{n + 1}",
                ctx.source_region,
                exists=False,
                note=f"up to {per_account} disks per cache account ({why})",
            )
        )
    high_churn = [vm.name for vm in ctx.vms if ctx.churn[vm.key].outcome is Outcome.HIGH_CHURN]
    block_blob = [a for a in existing if (a.kind or "").lower() == "blockblobstorage"]
    if high_churn and not block_blob:
        plan.append(
            TargetResource(
                "cache_account",
                "<new>asrcachepremium",
                ctx.source_region,
                exists=False,
                note="Premium Block Blob (BlockBlobStorage, Premium_LRS) for the VMs that need "
                f"High Churn: {', '.join(high_churn)}",
            )
        )
    if new:  # every replicating VM depends on the new accounts; count them once
        for index, vm in enumerate(dict.fromkeys(vm for vm, _ in replicated)):
            book.add(
                vm.subscription_id,
                ctx.source_region,
                "StorageAccounts",
                STORAGE,
                vm,
                new if index == 0 else 0,
            )
    return plan


def _ask(check: QuotaCheck) -> QuotaAsk:
    demand = check.demand
    return QuotaAsk(
        subscription=demand.subscription,
        region=demand.region,
        provider=demand.provider,
        quota=demand.quota,
        needed=demand.needed,
        vms=len(demand.vms),
        state=check.state.value,
        current=check.current,
        limit=check.limit,
        request_limit=check.new_limit if check.state.value == "short" else None,
        source=check.source,
    )
