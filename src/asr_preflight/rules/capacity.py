"""Capacity area: the target size ASR would pick for each VM, the zone it lands in, and whether
the target subscription's quotas hold for everything the plan creates (plan/build.py)."""

from __future__ import annotations

from asr_preflight.analysis.quota import QuotaCheck, QuotaState
from asr_preflight.analysis.sizing import Candidate, Choice, SizeChoice
from asr_preflight.findings import Area
from asr_preflight.fix.actions import RaiseQuota
from asr_preflight.knowledge.regions import display
from asr_preflight.model.entities import VirtualMachine
from asr_preflight.plan.build import COMPUTE
from asr_preflight.rules.base import Context, Out, rule, vms_with


def export_skus(region: str) -> str:
    """The export that feeds size checks; --all keeps the sizes restricted for the subscription."""
    return (
        f"az vm list-skus -l {region} --resource-type virtualMachines --all -o json > "
        f"skus-{region}.json"
    )


@rule(
    "ASR-CAP-001",
    Area.CAPACITY,
    "ASR can pick a target size that fits the VM",
    label="target size",
    sources=("TS-2024", "ARCH-2022", "WT-PREREQ-2017"),
    code=150097,
)
def target_size(ctx: Context, out: Out) -> None:
    """ASR keeps the source size when the target region offers it to the subscription and it fits
    (NICs, data disks, premium IO, generation, accelerated networking, security type, CPU
    architecture, zone); otherwise it picks the closest size that fits, and fails with 150097
    when none does."""
    sizes = ctx.plan.sizes
    for vm in vms_with(ctx, out, "disks", "nic_ids"):
        choice = sizes[vm.key]
        if choice.choice is Choice.SAME:
            out.pass_(vm.id, choice.reason)
        elif choice.choice is Choice.CLOSEST and choice.shrink is not None:
            _report_shrink(ctx, out, vm, choice)
        elif choice.choice is Choice.CLOSEST:
            out.warn(
                vm.id,
                choice.reason,
                f"review the size, or set the target size to "
                f"{choice.size} (or another) when enabling replication",
            )
        elif choice.choice is Choice.NONE:
            out.fail(
                vm.id,
                choice.reason,
                "free the VM from the blocking requirement (NICs, "
                "disks), request access to a fitting size, or choose another target region",
            )
        else:
            exported = bool(ctx.estate.skus.get(ctx.target_region))
            out.unknown(
                vm.id, choice.reason, export_skus(vm.location if exported else ctx.target_region)
            )


def _report_shrink(ctx: Context, out: Out, vm: VirtualMachine, choice: SizeChoice) -> None:
    """A smaller target size is a capacity risk: say how much smaller, and which sizes are not,
    with the quota each would take."""
    shrink, region = choice.shrink, display(ctx.target_region)
    assert shrink is not None
    free = {
        u.name.lower(): u.limit - u.current
        for u in ctx.estate.usages_for(ctx.target_subscription_of(vm), ctx.target_region)
    }

    def quota(size: Candidate) -> str:
        left = free.get(size.family.lower())
        stock = "free quota not exported" if left is None else f"{left} free"
        return f"{size.name} ({size.vcpus:g} vCPUs, {size.memory:g} GiB; {size.family}: {stock})"

    if shrink.larger:
        larger = f"sizes in {region} that keep them: " + ", ".join(map(quota, shrink.larger))
        remedy = (
            f"set the target size to {shrink.larger[0].name} (or another that keeps the "
            f"VM's capacity) when enabling replication, and request quota if it is short"
        )
    else:
        larger = f"no size offered in {region} keeps them"
        remedy = "test the workload on the smaller size, or choose another target region"
    out.warn(
        vm.id,
        f"{choice.reason}, but it has only {shrink.describe()}; {larger}",
        remedy,
    )


def _request(check: QuotaCheck) -> str:
    demand = check.demand
    scope = (
        f"/subscriptions/{demand.subscription}/providers/{demand.provider}/locations/"
        f"{demand.region}"
    )
    return (
        f"request {demand.quota} in {display(demand.region)} raised to {check.new_limit}: "
        f"az quota update --resource-name {demand.quota} --scope {scope} "
        f"--limit-object value={check.new_limit}"
    )


def _report_quota(out: Out, check: QuotaCheck, export: str) -> None:
    demand = check.demand
    scope = (
        f"/subscriptions/{demand.subscription}/providers/{demand.provider}/locations/"
        f"{demand.region}/usages/{demand.quota}"
    )
    region = display(demand.region)
    affected = tuple(demand.vms)
    if check.state is QuotaState.UNKNOWN:
        out.unknown(
            scope,
            f"no usage for {demand.quota} in {region} was exported",
            export,
            affected_vms=affected,
        )
    elif check.state is QuotaState.SHORT:
        out.fail(
            scope,
            f"{demand.quota} in {region}: {len(set(demand.vms))} VMs need "
            f"{demand.needed}, {check.free} free (limit {check.limit}, used {check.current})",
            _request(check),
            affected_vms=affected,
            actions=(
                RaiseQuota(
                    demand.subscription,
                    demand.region,
                    demand.provider,
                    demand.quota,
                    check.new_limit,
                ),
            ),
        )
    else:
        out.pass_(
            scope,
            f"{demand.quota} in {region}: {demand.needed} needed, {check.free} free",
            affected_vms=affected,
        )


@rule(
    "ASR-CAP-002",
    Area.CAPACITY,
    "The target region has compute quota for the VMs",
    label="compute quota",
    sources=("TS-2024", "WT-PREREQ-2017"),
    code=150097,
)
def compute_quota(ctx: Context, out: Out) -> None:
    """The vCPUs of the chosen sizes per family and in total, the VMs and the availability sets
    must fit the target subscription's limits; a shortfall fails with 150097, and the finding
    gives the limit to request."""
    sizes = ctx.plan.sizes
    for vm in ctx.vms:
        if sizes[vm.key].choice is Choice.UNKNOWN:
            out.unknown(
                vm.id,
                f"the target size of {vm.name} is not known, so its quota needs cannot be counted",
                export_skus(ctx.target_region),
            )
    for check in ctx.plan.quota:
        if check.demand.provider == COMPUTE:
            _report_quota(
                out,
                check,
                f"az vm list-usage -l {check.demand.region} --subscription "
                f"{check.demand.subscription} -o json > usages-{check.demand.region}.json",
            )


@rule(
    "ASR-CAP-003",
    Area.CAPACITY,
    "Network and storage-account quotas hold for the plan",
    label="network quota",
    sources=("WT-PREREQ-2017",),
    code=150097,
)
def network_and_storage_quota(ctx: Context, out: Out) -> None:
    """The target region must have room for the VNets and NICs ASR creates, and the source
    region for any new cache storage account."""
    for check in ctx.plan.quota:
        demand = check.demand
        if demand.provider == COMPUTE:
            continue
        export = (
            f"az network list-usages -l {demand.region} -o json > "
            f"network-usages-{demand.region}.json"
            if demand.provider != "Microsoft.Storage"
            else f"az storage account show-usage -l {demand.region} -o json > "
            f"storage-usage-{demand.region}.json"
        )
        _report_quota(out, check, export)


@rule(
    "ASR-CAP-004",
    Area.CAPACITY,
    "Zones and placement carry over to the target region",
    label="zone placement",
    sources=("ARCH-2022", "SM-2025", "FAQ-2025"),
)
def zones_and_placement(ctx: Context, out: Out) -> None:
    """A zonal VM keeps its zone number when the target region has zones, else it becomes a
    single instance; capacity reservations do not follow the VM."""
    for vm, plan in zip(ctx.vms, ctx.plan.target.vms, strict=True):
        notes = []
        if vm.zones and plan.target_zone is None:
            notes.append(
                f"{display(ctx.target_region)} has no availability zones: the replica "
                "becomes a single instance"
            )
        if vm.capacity_reservation_group_id:
            where = display(ctx.target_region)
            if ctx.zone_to_zone:  # a zonal reservation holds in its zone only
                where = f"zone {ctx.target_zone} of {where}"
            notes.append(
                f"its capacity reservation does not carry over; reserve capacity in {where} "
                "for guaranteed failover"
            )
        if notes:
            out.warn(vm.id, "; ".join(notes))
        elif plan.target_zone:
            out.pass_(vm.id, f"zone {plan.target_zone} in {display(ctx.target_region)}")
        else:
            out.pass_(
                vm.id,
                f"single instance in {display(ctx.target_region)}"
                + (f", availability set {plan.availability_set}" if plan.availability_set else ""),
            )


@rule(
    "ASR-CAP-005",
    Area.CAPACITY,
    "Pairs that fail over into one region fit its quotas together",
    label="shared quota",
    sources=("TS-2024",),
    code=150097,
)
def shared_quota(ctx: Context, out: Out) -> None:
    """When several source regions fail over into the same target region and subscription,
    their VMs draw on one quota: each pair may fit alone and not together, and the second
    "Enable replication" fails with 150097. Decided when one run checks several pairs
    (pairs.py), from the needs every pair's plan adds up; a single pair has nothing to share."""
