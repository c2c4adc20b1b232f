"""Replication area: VMs a vault already replicates are not new enablements. They get the verdict
`protected`, and these rules say how their replication is doing and where it drifted from the VM
(resized since, disks added since). A VM that carries the Site Recovery extension while no
protected item names it is flagged: it may be replicated by a vault the snapshot lacks."""

from __future__ import annotations

from asr_preflight.findings import Area
from asr_preflight.knowledge.regions import display
from asr_preflight.model import ids
from asr_preflight.model.build import PROTECTED_ITEM
from asr_preflight.model.entities import DiskRef, ProtectedItem, VirtualMachine
from asr_preflight.rules.base import Context, Out, not_whole, rule

EXPORT_ITEMS = (
    "az graph query -q \"recoveryservicesresources | where type =~ 'microsoft.recoveryservices/"
    "vaults/replicationfabrics/replicationprotectioncontainers/replicationprotecteditems'\" "
    "--first 1000 -o json > protected-items.json"
)
_SITE_RECOVERY_PUBLISHER = "microsoft.azure.recoveryservices.siterecovery"


def _protected(ctx: Context) -> list[tuple[VirtualMachine, ProtectedItem]]:
    return [(vm, ctx.estate.protected_items[vm.key]) for vm in ctx.protected_vms]


@rule(
    "ASR-PROT-001",
    Area.REPLICATION,
    "A protected VM replicates in good health",
    label="replication health",
    sources=("TSREP-2025", "TSPROT-2025"),
)
def replication_health(ctx: Context, out: Out) -> None:
    """A VM already replicated is not enabled again; its replicated item's health is reported
    instead: Normal passes, Warning warns, Critical fails with the health errors ASR gives."""
    for vm, item in _protected(ctx):
        where = f"by vault {item.vault_name}"
        if item.recovery_region:
            where += f" to {display(item.recovery_region)}"
        if item.recovery_region and item.recovery_region != ctx.target_region:
            where += f" (not {display(ctx.target_region)}: a VM is replicated to one region only)"
        errors = "; ".join(item.health_errors)
        health = (item.health or "").lower()
        if health == "normal":
            out.pass_(vm.id, f"replicated {where}; health Normal")
        elif health in ("warning", "critical"):
            report = out.warn if health == "warning" else out.fail
            report(
                vm.id,
                f"replicated {where}; health {item.health}" + (f": {errors}" if errors else ""),
                "open the replicated item in the vault and resolve its health errors",
            )
        else:
            out.unknown(
                vm.id,
                f"replicated {where}; its replication health was not exported",
                f"export the protected items with their properties: {EXPORT_ITEMS}",
            )


@rule(
    "ASR-PROT-002",
    Area.REPLICATION,
    "A protected VM's replica keeps the VM's size",
    label="replica size",
    sources=("TSREP-2025",),
)
def recovery_size(ctx: Context, out: Out) -> None:
    """ASR records the replica's size when replication is enabled and does not follow a resize
    of the source VM: a VM resized since fails over to its old size."""
    for vm, item in _protected(ctx):
        if not item.recovery_size or not vm.size:
            out.unknown(
                vm.id,
                "the replica's size (recoveryAzureVMSize) or the VM's size was not exported",
                EXPORT_ITEMS,
            )
        elif item.recovery_size.lower() == vm.size.lower():
            out.pass_(vm.id, f"the replica's size is {item.recovery_size}, the VM's size")
        else:
            out.warn(
                vm.id,
                f"the VM is {vm.size} but its replica is still {item.recovery_size}"
                f"{_compare(ctx, vm, item.recovery_size)}",
                f"set the target VM size of the replicated item to {vm.size} (Compute and "
                "Network settings of the item in the vault), or confirm the old size on purpose",
            )


def _compare(ctx: Context, vm: VirtualMachine, recovery_size: str) -> str:
    now, then = ctx.estate.sku(vm.location, vm.size), ctx.estate.sku(vm.location, recovery_size)
    if not (now and then and now.vcpus and then.vcpus):
        return ""
    return f" ({then.vcpus:g} vCPUs where the VM now has {now.vcpus:g})"


@rule(
    "ASR-PROT-003",
    Area.REPLICATION,
    "Every disk of a protected VM is replicated",
    label="unreplicated disks",
    sources=("TSPROT-2025", "SM-2025"),
    code=153039,
)
def disks_replicated(ctx: Context, out: Out) -> None:
    """Disks attached after replication was enabled are not replicated until they are added to
    the replicated item (ASR warns with 153039); a failover would come up without them."""
    for vm, item in _protected(ctx):
        if item.disk_ids is None or vm.disks is None:
            out.unknown(
                vm.id,
                "the replicated disks (protectedManagedDisks) or the VM's disks were not exported",
                EXPORT_ITEMS,
            )
            continue
        replicated = {ids.key(d) for d in item.disk_ids}
        missing = [d for d in vm.disks if _disk_key(d) not in replicated]
        if missing:
            out.warn(
                vm.id,
                "not replicated: " + ", ".join(f"{d.role} disk {d.name}" for d in missing),
                "add the disks to the replicated item (Disks > Enable replication in the vault), "
                "one at a time",
            )
        else:
            out.pass_(vm.id, f"all {len(vm.disks)} disks are replicated")


def _disk_key(disk: DiskRef) -> str:
    return ids.key(disk.id) if disk.id else disk.name.lower()


@rule(
    "ASR-PROT-004",
    Area.REPLICATION,
    "A VM with the Site Recovery extension is known to the snapshot's vaults",
    label="unknown protection",
    sources=("EXT-2018", "TSPROT-2025"),
)
def leftover_extension(ctx: Context, out: Out) -> None:
    """The Site Recovery (Mobility) extension is installed when replication is enabled. On a VM
    that no exported protected item names, either a vault outside the snapshot replicates it, or
    the extension was left behind when replication was disabled."""
    if not ctx.estate.extensions_known:
        return
    exported = ctx.estate.has(PROTECTED_ITEM)
    for vm in ctx.vms:
        extensions = ctx.estate.extensions.get(vm.key, {}).values()
        if not any((e.publisher or "").lower() == _SITE_RECOVERY_PUBLISHER for e in extensions):
            continue
        if not exported:
            out.unknown(
                vm.id,
                "the VM has the Site Recovery extension, so a vault may already replicate it; "
                + not_whole(ctx.estate, "the vaults' protected items", PROTECTED_ITEM),
                EXPORT_ITEMS,
            )
        else:
            out.warn(
                vm.id,
                "the VM has the Site Recovery extension but no exported vault replicates it: "
                "a vault outside the snapshot may, or the extension was left by an earlier "
                "replication",
                "check the VM's Disaster recovery blade; remove a leftover extension before "
                "enabling replication",
            )
