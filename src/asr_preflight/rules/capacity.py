"""Capacity area (first rules): the VM's size exists in the target region, and vCPU quota holds.

The full sizing engine (closest size, zones, placement) is the "Target capacity and sizing"
issue; until then a size that is not offered is a warning, since ASR would pick another one.
"""

from __future__ import annotations

from collections import defaultdict

from asr_preflight.findings import Area
from asr_preflight.knowledge.regions import display
from asr_preflight.model.entities import VirtualMachine, VmSku
from asr_preflight.rules.base import Context, Out, rule


def export_skus(region: str) -> str:
    """The export that feeds size checks; --all keeps the sizes restricted for the subscription."""
    return (
        f"az vm list-skus -l {region} --resource-type virtualMachines --all -o json > "
        f"skus-{region}.json"
    )


def location_restriction(sku: VmSku, region: str) -> str | None:
    for restriction in sku.restrictions:
        if restriction.type == "Location" and region in restriction.locations:
            return restriction.reason or "restricted"
    return None


@rule(
    "ASR-CAP-001",
    Area.CAPACITY,
    "The VM's size is offered in the target region",
    sources=("TS-2024", "ARCH-2022"),
    code=150097,
)
def size_offered(ctx: Context, out: Out) -> None:
    """ASR keeps the source size when the target region offers it to the subscription; otherwise
    it has to choose another size, or fails with 150097 when none fits."""
    if not ctx.estate.skus.get(ctx.target_region):
        out.unknown(
            None,
            f"no VM sizes were exported for {display(ctx.target_region)}",
            export_skus(ctx.target_region),
        )
        return
    region = display(ctx.target_region)
    for vm in ctx.vms:
        sku = ctx.estate.sku(ctx.target_region, vm.size)
        if vm.size is None:
            out.unknown(
                vm.id, "the VM's size is not in the export", "export the VM with az vm list -o json"
            )
        elif sku is None:
            out.warn(
                vm.id,
                f"{vm.size} is not offered in {region}; ASR will choose another "
                "size or fail with 150097",
                "pick a target size offered in the region",
            )
        elif reason := location_restriction(sku, ctx.target_region):
            out.warn(
                vm.id,
                f"{vm.size} is restricted in {region} for this subscription "
                f"({reason}); ASR will choose another size or fail with 150097",
                f"request access to {vm.size} in {region} (a quota/region access request) "
                "or pick another target size",
            )
        else:
            out.pass_(vm.id, f"{vm.size} is offered in {region}")


@rule(
    "ASR-CAP-002",
    Area.CAPACITY,
    "The target region has vCPU quota for the VMs",
    sources=("TS-2024", "WT-PREREQ-2017"),
    code=150097,
)
def vcpu_quota(ctx: Context, out: Out) -> None:
    """The target subscription needs free vCPUs in each VM family and in the regional total, and
    room for the VMs themselves; a shortfall fails enabling replication with 150097."""
    region = display(ctx.target_region)
    demand: dict[tuple[str, str], list[tuple[VirtualMachine, int]]] = defaultdict(list)
    for vm in ctx.vms:
        sku = ctx.estate.sku(ctx.target_region, vm.size)
        vcpus = sku.vcpus if sku else None
        if sku is None or vcpus is None or location_restriction(sku, ctx.target_region):
            exported = bool(ctx.estate.skus.get(ctx.target_region))
            out.unknown(
                vm.id,
                f"{vm.size} is not available in {region}, so the size ASR picks instead, and "
                "the quota it needs, are not known yet",
                f"choose a target size offered in {region} (or get access to {vm.size})"
                if exported
                else export_skus(ctx.target_region),
            )
            continue
        sub = ctx.target_subscription_of(vm)
        demand[(sub, sku.family or "unknown family")].append((vm, int(vcpus)))
        demand[(sub, "cores")].append((vm, int(vcpus)))
        demand[(sub, "virtualMachines")].append((vm, 1))
    for (sub, quota), needs in sorted(demand.items()):
        usages = {u.name.lower(): u for u in ctx.estate.usages_for(sub, ctx.target_region)}
        scope = (
            f"/subscriptions/{sub}/providers/Microsoft.Compute/locations/"
            f"{ctx.target_region}/usages/{quota}"
        )
        affected = tuple(vm.key for vm, _ in needs)
        needed = sum(n for _, n in needs)
        usage = usages.get(quota.lower())
        if usage is None:
            out.unknown(
                scope,
                f"no usage for {quota} in {region} was exported",
                f"az vm list-usage -l {ctx.target_region} --subscription {sub} -o json > "
                f"usages-{ctx.target_region}.json",
                affected_vms=affected,
            )
            continue
        free = usage.limit - usage.current
        unit = "VMs" if quota == "virtualMachines" else "vCPUs"
        if needed > free:
            new_limit = usage.current + needed
            out.fail(
                scope,
                f"{quota} in {region}: {len(needs)} VMs need {needed} {unit}, "
                f"{free} free (limit {usage.limit}, used {usage.current})",
                f"request {quota} in {region} raised to {new_limit}: az quota update "
                f"--resource-name {quota} --scope /subscriptions/{sub}/providers/"
                f"Microsoft.Compute/locations/{ctx.target_region} --limit-object "
                f"value={new_limit}",
                affected_vms=affected,
            )
        else:
            out.pass_(
                scope,
                f"{quota} in {region}: {needed} {unit} needed, {free} free",
                affected_vms=affected,
            )
