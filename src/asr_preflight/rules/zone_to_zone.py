"""Zone-to-zone disaster recovery: what differs when a VM fails over to another availability
zone of its own region. Each rule skips region-to-region questions."""

from __future__ import annotations

import ipaddress
from collections import Counter

from asr_preflight.findings import Area
from asr_preflight.model import ids
from asr_preflight.model.build import NIC
from asr_preflight.model.entities import Subnet, VirtualMachine
from asr_preflight.rules.base import Context, Out, rule, vms_with

EXPORT_NICS = "az network nic list -o json > nics.json"
AZURE_RESERVED = 5  # addresses Azure keeps in every subnet


def _region_to_region(ctx: Context, out: Out) -> bool:
    if not ctx.zone_to_zone:
        out.skip(None, "a region-to-region question: zone-to-zone rules do not apply")
    return not ctx.zone_to_zone


@rule(
    "ASR-Z2Z-001",
    Area.VM,
    "The VM is zonal, in another zone than the target zone",
    label="source zone",
    sources=("FAQ-2025", "Z2Z-2023"),
)
def zonal_source(ctx: Context, out: Out) -> None:
    """Zone to zone protects zonal VMs only: a regional (non-zonal) VM cannot fail over to a
    zone of its own region, and a VM cannot fail over into the zone it runs in."""
    if _region_to_region(ctx, out):
        return
    for vm in ctx.vms:
        if not vm.zones:
            out.fail(
                vm.id,
                f"{vm.name} is not in an availability zone; zone to zone protects zonal VMs only",
                "protect it to another region instead, or redeploy it into a zone first",
            )
        elif ctx.target_zone in vm.zones:
            out.fail(
                vm.id,
                f"{vm.name} already runs in zone {ctx.target_zone}, the target zone",
                "choose another --target-zone for this VM",
            )
        else:
            out.pass_(vm.id, f"zone {vm.zones[0]} → zone {ctx.target_zone}")


def _unsupported_disks(vm: VirtualMachine) -> list[str]:
    problems = []
    for disk in vm.disks or ():
        sku = (disk.sku or "").lower()
        if not disk.managed:
            problems.append(f"{disk.name} is unmanaged")
        elif sku.endswith("_zrs"):
            problems.append(f"{disk.name} is zone-redundant ({disk.sku})")
        elif sku.startswith("ultrassd"):
            problems.append(f"{disk.name} is an Ultra disk")
    return problems


@rule(
    "ASR-Z2Z-002",
    Area.STORAGE,
    "No disk is zone-redundant, unmanaged or Ultra",
    label="disks between zones",
    sources=("Z2Z-2023", "Z2Z-2022"),
)
def zone_to_zone_disks(ctx: Context, out: Out) -> None:
    """Zone to zone does not support VMs with zone-redundant (ZRS) managed disks or unmanaged
    disks, and Ultra disks cannot be protected between zones."""
    if _region_to_region(ctx, out):
        return
    for vm in vms_with(ctx, out, "disks"):
        problems = _unsupported_disks(vm)
        if any(d.managed and d.sku is None for d in vm.disks or ()):
            out.unknown(
                vm.id,
                "the redundancy of some disks is not known",
                "az disk list -o json > disks.json",
            )
        elif problems:
            out.fail(
                vm.id,
                "; ".join(problems),
                "protect this VM to another region (region to region supports them), or move "
                "the data to locally redundant managed disks",
            )
        else:
            out.pass_(vm.id, f"all {len(vm.disks or ())} disks are locally redundant managed disks")


@rule(
    "ASR-Z2Z-003",
    Area.NETWORKING,
    "Each NIC has a single IP configuration",
    label="IP configurations",
    sources=("Z2Z-2023",),
)
def single_ip_configuration(ctx: Context, out: Out) -> None:
    """Multiple IP addresses per NIC are supported region to region, not zone to zone."""
    if _region_to_region(ctx, out):
        return
    for vm in vms_with(ctx, out, "nic_ids"):
        nics = ctx.estate.nics_of(vm)
        if any(n is None for n in nics):
            out.unknown(
                vm.id,
                f"some NICs of {vm.name} are not in the NIC export"
                f"{ctx.estate.unreadable((vm.nic_ids or ('',))[0])}",
                EXPORT_NICS,
            )
            continue
        multi = [f"{n.name} ({n.ip_configurations})" for n in nics if n and n.ip_configurations > 1]
        if multi:
            out.fail(
                vm.id,
                "NICs with more than one IP configuration: " + ", ".join(multi),
                "remove the secondary IP configurations, or protect this VM to another region",
            )
        else:
            out.pass_(vm.id, "one IP configuration per NIC")


@rule(
    "ASR-Z2Z-004",
    Area.CAPACITY,
    "Source and target resource groups differ",
    label="target resource group",
    sources=("Z2Z-2023",),
)
def distinct_resource_group(ctx: Context, out: Out) -> None:
    """The failed-over VM is a new VM in the same region: it cannot be created in the source
    VM's own resource group."""
    if _region_to_region(ctx, out):
        return
    for vm in ctx.vms:
        target = ctx.target_resource_group_id(vm)
        source = f"/subscriptions/{vm.subscription_id}/resourceGroups/{vm.resource_group}"
        if ids.key(target) == ids.key(source):
            out.fail(
                vm.id,
                f"the target resource group is {vm.resource_group}, the VM's own",
                "choose another --target-resource-group (by default ASR uses '<group>-asr')",
            )
        else:
            out.pass_(vm.id, f"fails over into resource group {ids.name(target)}")


def _subnet_size(subnet: Subnet) -> int | None:
    total = 0
    for prefix in subnet.address_prefixes:
        try:
            network = ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            return None
        if network.version == 4:
            total += max(network.num_addresses - AZURE_RESERVED, 0)
    return total or None


@rule(
    "ASR-Z2Z-005",
    Area.NETWORKING,
    "The subnet has a free address for each VM that keeps its IP",
    label="free addresses",
    sources=("Z2Z-2023",),
)
def free_addresses_for_same_ip(ctx: Context, out: Out) -> None:
    """To keep its IP address in the target zone, a VM needs a free address in its subnet while
    both copies exist; without one, the failed-over VM gets another address."""
    if _region_to_region(ctx, out):
        return
    if not ctx.estate.has(NIC):
        out.unknown(None, f"NICs are not whole: {ctx.estate.missing(NIC)}", EXPORT_NICS)
        return
    used: Counter[str] = Counter()
    for nic in ctx.estate.nics.values():
        used.update(ids.key(s) for s in nic.subnet_ids)
    wanted: dict[str, list[VirtualMachine]] = {}
    for vm in ctx.vms:
        for subnet in ctx.estate.network_of(vm).subnets[:1]:  # the primary NIC's subnet
            wanted.setdefault(ids.key(subnet.id), []).append(vm)
    for key, vms in sorted(wanted.items()):
        subnet = ctx.estate.subnets[key]
        size = _subnet_size(subnet)
        affected = tuple(vm.key for vm in vms)
        if size is None:
            out.unknown(
                subnet.id,
                f"the size of subnet {subnet.name} is not known",
                "az network vnet list -o json > vnets.json",
                affected_vms=affected,
            )
            continue
        free = size - used[key] - len(subnet.private_endpoint_ids)
        if free < len(vms):
            out.warn(
                subnet.id,
                f"subnet {subnet.name} has {max(free, 0)} free addresses (of {size}, counted "
                f"from the exported NICs) for {len(vms)} VMs that would keep their IP",
                f"free addresses in {subnet.name} or widen it, or let these VMs take new "
                "addresses in the target zone",
                affected_vms=affected,
            )
        else:
            out.pass_(
                subnet.id,
                f"subnet {subnet.name}: {free} free addresses for {len(vms)} VMs",
                affected_vms=affected,
            )
