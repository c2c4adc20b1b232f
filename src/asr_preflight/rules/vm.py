"""VM area: state, guest agent, operating system, placement, size and root certificates."""

from __future__ import annotations

from asr_preflight.findings import Area
from asr_preflight.knowledge import facts
from asr_preflight.knowledge.os_support import (
    OsAssessment,
    assess_linux,
    assess_windows,
    from_image,
)
from asr_preflight.model.build import RESOURCE_GROUP
from asr_preflight.model.entities import VirtualMachine
from asr_preflight.model.estate import Estate
from asr_preflight.rules.base import Context, Out, not_whole, rule
from asr_preflight.rules.capacity import export_skus

GUEST_HOWTO = (
    "collect guest facts from inside the VM (trusted roots, endpoints, OS; format in "
    "docs/inputs.md) and pass them with --guest-dir, or let Run Command collect them: "
    "collect --guest run-command"
)
_STOPPED = ("deallocated", "stopped")


@rule(
    "ASR-VM-001",
    Area.VM,
    "The VM's provisioning state is Succeeded",
    label="provisioning state",
    sources=("TS-2024", "TSVM-2025"),
    code=150019,
)
def provisioning_succeeded(ctx: Context, out: Out) -> None:
    """ASR installs its extension only on a VM whose last operation succeeded."""
    for vm in ctx.vms:
        state = vm.provisioning_state
        if state is None:
            out.unknown(vm.id, "provisioning state not in the export", "az vm list -o json")
        elif state.lower() == "succeeded":
            out.pass_(vm.id, "provisioning state Succeeded")
        elif state.lower() in ("updating", "creating"):
            out.fail(vm.id, f"provisioning state is {state}", "wait for the operation to finish")
        else:
            out.fail(
                vm.id,
                f"provisioning state is {state}",
                "redeploy or reapply the VM (az vm reapply), or contact Azure support",
            )


@rule(
    "ASR-VM-002",
    Area.VM,
    "The VM is running and its guest agent is ready",
    label="guest agent",
    sources=("EXT-2018",),
    code=151099,
    also=(151095,),
)
def agent_ready(ctx: Context, out: Out) -> None:
    """The Site Recovery extension is installed through the Azure guest agent, which must report
    Ready on a running VM."""
    for vm in ctx.vms:
        code = 151095 if vm.os_type == "Linux" else 151099
        guest = ctx.estate.guest(vm)
        remedy = (
            "Linux: update waagent from the distribution's repository and restart it"
            if vm.os_type == "Linux"
            else "restart or reinstall the Windows Azure Guest Agent (needs .NET 4.5 or later)"
        )
        power = (vm.power_state or "").lower()
        if any(word in power for word in _STOPPED):
            out.fail(vm.id, f"the VM is {vm.power_state}", "start the VM", code=code)
        elif vm.agent_status == "Ready" or (guest and guest.agent_running):
            out.pass_(vm.id, "guest agent is ready")
        elif vm.agent_status or (guest and guest.agent_running is False):
            status = vm.agent_status or "not running (guest facts)"
            out.fail(vm.id, f"guest agent status: {status}", remedy, code=code)
        else:
            out.unknown(
                vm.id,
                "guest agent status not in the export",
                f"az vm get-instance-view -g {vm.resource_group} -n {vm.name} -o json, "
                "or az vm list with the REST $expand=instanceView",
            )


def os_assessment(vm: VirtualMachine, estate: Estate) -> OsAssessment:
    """Guest facts first (exact), then the agent's instance view, then the marketplace image."""
    guest = estate.guest(vm)
    windows = vm.os_type == "Windows" or (guest is not None and guest.os_family == "windows")
    if guest and (guest.pretty_name or guest.os_version):
        if windows:
            return assess_windows(guest.pretty_name or guest.os_version or "")
        return assess_linux(guest.distro_id, guest.os_version)
    if vm.os_name:
        if windows:
            return assess_windows(f"{vm.os_name} {vm.os_version or ''}")
        return assess_linux(vm.os_name, vm.os_version)
    if vm.image:
        if windows:
            return assess_windows(vm.image.split(":")[-1])
        return assess_linux(*from_image(vm.image))
    return OsAssessment("unknown", vm.os_type or "unknown OS")


@rule(
    "ASR-VM-003",
    Area.VM,
    "The operating system is on the support matrix",
    label="OS support",
    sources=("SM-2025", "SM-2026"),
)
def os_supported(ctx: Context, out: Out) -> None:
    """ASR's Mobility service runs on the Windows and Linux versions the support matrix lists,
    with stock kernels only."""
    for vm in ctx.vms:
        result = os_assessment(vm, ctx.estate)
        cited = f" ({result.source})" if result.source else ""
        note = f"; {result.note}" if result.note else ""
        if result.status == "supported":
            out.pass_(vm.id, f"{result.label} is supported{cited}{note}")
        elif result.status == "unsupported":
            out.fail(
                vm.id,
                f"{result.label} is not supported{cited}{note}",
                "upgrade the operating system to a supported version before replicating",
            )
        elif result.status == "unverified":
            out.warn(
                vm.id,
                f"{result.label} is no longer listed{cited}, and the docs do not say it was "
                f"dropped{note}",
                "confirm support with Microsoft, or upgrade to a listed version",
            )
        else:
            out.unknown(vm.id, f"cannot tell the OS version ({result.label})", GUEST_HOWTO)


@rule(
    "ASR-VM-004",
    Area.VM,
    "The VM's placement is supported",
    label="dedicated host",
    sources=("SM-2025",),
)
def placement_supported(ctx: Context, out: Out) -> None:
    """VMs on Azure Dedicated Hosts cannot be replicated; VMs in a Flexible scale set replicate
    for availability only."""
    source = facts.feature("vm_feature", "dedicated_host").source
    for vm in ctx.vms:
        if vm.host_id or vm.host_group_id:
            out.fail(
                vm.id,
                f"the VM runs on a dedicated host ({source})",
                "move the VM off the dedicated host, or protect it another way",
            )
        elif vm.vmss_id:
            out.warn(
                vm.id,
                "the VM belongs to a scale set: ASR protects it as a single VM, not "
                "the scale set's scaling",
            )
        else:
            out.pass_(vm.id, "placement supported")


@rule(
    "ASR-VM-005",
    Area.VM,
    "The VM trusts the root certificates ASR's endpoints use",
    label="root certificates",
    sources=("TS-2024", "AZ-CA-2023"),
    code=151066,
)
def root_certificates(ctx: Context, out: Out) -> None:
    """Without current roots the VM cannot authenticate to Site Recovery and registration fails
    with 151066. Only the guest knows its trust store, so this needs guest facts."""
    required = [ca for ca in facts.root_cas() if ca.required]
    recommended = [ca for ca in facts.root_cas() if ca.recommended]
    for vm in ctx.vms:
        guest = ctx.estate.guest(vm)
        if guest is None or guest.trusted_roots is None:
            out.unknown(
                vm.id,
                "no guest facts for this VM, so its trust store is unknown"
                + ctx.estate.guest_gap(vm),
                GUEST_HOWTO,
            )
            continue
        missing = [ca.name for ca in required if ca.sha1 not in guest.trusted_roots]
        untrusted = [e.host for e in guest.endpoints if e.tls_verified is False]
        remedy = (
            "install the latest Windows updates (or the organisation's certificate update "
            "process in disconnected networks)"
            if vm.os_type == "Windows"
            else facts.root_remedy(guest.distro_id)
        )
        if missing or untrusted:
            parts = [f"missing roots: {', '.join(missing)}"] if missing else []
            parts += [f"TLS not trusted for {', '.join(untrusted)}"] if untrusted else []
            out.fail(vm.id, "; ".join(parts), remedy)
        elif absent := [ca.name for ca in recommended if ca.sha1 not in guest.trusted_roots]:
            out.warn(
                vm.id,
                f"required roots present; missing current ECC roots: {', '.join(absent)}",
                remedy,
            )
        else:
            out.pass_(vm.id, f"all {len(required)} required roots are trusted")


@rule(
    "ASR-VM-006",
    Area.VM,
    "The VM size has at least 2 vCPUs and 1 GiB of memory",
    label="size too small",
    sources=("SM-2025",),
)
def minimum_size(ctx: Context, out: Out) -> None:
    """The support matrix asks for at least two CPU cores and 1 GB of RAM."""
    min_vcpus, min_memory = facts.vm_minimums().value
    for vm in ctx.vms:
        sku = ctx.estate.sku(vm.location, vm.size)
        vcpus = sku.vcpus if sku else None
        memory = sku.memory_gib if sku else None
        if vcpus is None or memory is None:
            out.unknown(
                vm.id,
                f"no SKU data for {vm.size} in {vm.location}",
                export_skus(vm.location),
            )
        elif vcpus < min_vcpus or memory < min_memory:
            out.fail(
                vm.id,
                f"{vm.size} has {vcpus:g} vCPU and {memory:g} GiB",
                f"resize to a size with at least {min_vcpus:g} vCPUs and {min_memory:g} GiB",
            )
        else:
            out.pass_(vm.id, f"{vm.size}: {vcpus:g} vCPUs, {memory:g} GiB")


@rule(
    "ASR-VM-007",
    Area.VM,
    "The VM is in the same region as its resource group",
    label="resource group region",
    sources=("TS-2024",),
)
def resource_group_location(ctx: Context, out: Out) -> None:
    """The portal cannot list a VM for replication when its resource group is in another region."""
    if not ctx.estate.has(RESOURCE_GROUP):
        out.unknown(
            None,
            not_whole(ctx.estate, "resource groups", RESOURCE_GROUP),
            "az group list -o json > resource-groups.json",
        )
        return
    for vm in ctx.vms:
        group = ctx.estate.resource_group(vm)
        if group is None:
            out.unknown(
                vm.id,
                f"resource group {vm.resource_group} not in the export",
                "az group list -o json > resource-groups.json",
            )
        elif group.location != vm.location:
            out.fail(
                vm.id,
                f"resource group {group.name} is in {group.location}, the VM in "
                f"{vm.location}; ASR will not offer the VM",
                "move the VM to a resource group in its own region",
            )
        else:
            out.pass_(vm.id, "resource group in the VM's region")


@rule(
    "ASR-VM-008",
    Area.VM,
    "The VM is not built on the ARM64 CPU architecture",
    label="ARM64",
    sources=("SM-2026",),
)
def not_arm64(ctx: Context, out: Out) -> None:
    """Site Recovery does not support VMs created on ARM64 (the Dps/Eps and other Cobalt and
    Ampere sizes); the size's CpuArchitectureType tells."""
    status = facts.feature("vm_feature", "arm64")
    for vm in ctx.vms:
        sku = ctx.estate.sku(vm.location, vm.size)
        architecture = sku.capabilities.get("CpuArchitectureType") if sku else None
        if architecture is None:
            out.unknown(
                vm.id,
                f"the CPU architecture of {vm.size} in {vm.location} is not in the SKU export",
                export_skus(vm.location),
            )
        elif architecture.lower() == "arm64":
            out.fail(
                vm.id,
                f"{vm.size} is an ARM64 size: {status.value} per {status.source} ({status.as_of})",
                "protect this VM another way (backups), or redeploy it on an x64 size",
            )
        else:
            out.pass_(vm.id, f"{vm.size} is {architecture}")
