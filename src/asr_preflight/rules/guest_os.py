"""VM area, seen from inside the guest: GRUB device names, Windows services, OS filesystems.

These rules read sections that only the in-guest probe (`asr-preflight guest`) writes: `grub`,
`services` and `filesystems`. A VM whose facts lack a section is `unknown`, and says so.
"""

from __future__ import annotations

from typing import Any

from asr_preflight.findings import Area
from asr_preflight.model.entities import GuestFacts, VirtualMachine
from asr_preflight.rules.base import Context, Out, rule

PROBE_HOWTO = (
    "run the in-guest probe (asr-preflight guest, or the script from "
    "asr-preflight guest --emit-script) in the VM and pass its output with --guest-dir"
)
SUPPORTED_FILESYSTEMS = ("ext3", "ext4", "xfs", "btrfs")  # SM-2025
_REQUIRED_SERVICES = {"COMSysApp": "COM+ System Application", "VSS": "Volume Shadow Copy"}
_STATE = {"disabled": "disabled", "missing": "not installed"}


def _family(vm: VirtualMachine, facts: GuestFacts | None) -> str | None:
    if facts is not None and facts.os_family:
        return facts.os_family.lower()
    return vm.os_type.lower() if vm.os_type else None


def _section(
    ctx: Context, out: Out, family: str, key: str, what: str
) -> list[tuple[VirtualMachine, Any]]:
    """VMs of this OS family whose guest facts hold the section; the others of that family are
    `unknown` (the probe was not run, or is older than the section); other families `skip`."""
    judged = []
    for vm in ctx.vms:
        facts = ctx.estate.guest(vm)
        if _family(vm, facts) != family:
            out.skip(vm.id, f"{what}: {family} only")
            continue
        section = getattr(facts, key) if facts is not None else None
        if section is None:
            out.unknown(
                vm.id,
                f"{what} was not collected from inside the VM{ctx.estate.guest_gap(vm)}",
                PROBE_HOWTO,
            )
        else:
            judged.append((vm, section))
    return judged


@rule(
    "ASR-VM-101",
    Area.VM,
    "GRUB refers to the root and resume devices by UUID",
    label="GRUB device names",
    sources=("TS-2024", "TSPROT-2025"),
    code=151126,
    also=(151124,),
)
def grub_by_uuid(ctx: Context, out: Out) -> None:
    """Enabling protection fails (151126) when /boot/grub/grub.cfg, /boot/grub2/grub.cfg,
    /etc/default/grub or /boot/grub/menu.lst name the root or resume partition by device name
    (root=/dev/sda2) instead of UUID, and (151124) when rd.lvm.lv / rd_LVM_LV name LVM volumes
    that do not exist. Linux only; needs guest facts from the in-guest probe."""
    judged = _section(ctx, out, "linux", "grub", "GRUB configuration")
    for vm, grub in judged:
        files = grub.files
        by_name = [f"{f.path}: {', '.join(f.device_refs)}" for f in files if f.device_refs]
        absent = [v.volume for v in grub.lvm_volumes if v.exists is False]
        unread = [f.path for f in files if not f.readable]
        unsure = [v.volume for v in grub.lvm_volumes if v.exists is None]
        if by_name:
            out.fail(
                vm.id,
                "GRUB names devices instead of UUIDs: " + "; ".join(by_name),
                "replace root=/dev/sdX and resume=/dev/sdX with root=UUID=<uuid> and "
                "resume=UUID=<uuid> (blkid prints the UUIDs) in those files, then regenerate "
                "grub.cfg (grub2-mkconfig -o /boot/grub2/grub.cfg, or update-grub)",
            )
        if absent:
            out.fail(
                vm.id,
                "GRUB names LVM volumes that do not exist: " + ", ".join(absent),
                "create the missing logical volumes, or remove those rd.lvm.lv / rd_LVM_LV "
                "parameters from the GRUB configuration and regenerate grub.cfg",
                code=151124,
            )
        if by_name or absent:
            continue
        if unread or unsure:
            what = [f"could not read {', '.join(unread)}"] if unread else []
            what += [f"could not tell whether {', '.join(unsure)} exist"] if unsure else []
            out.unknown(
                vm.id,
                "; ".join(what),
                "run the probe as root (sudo python3 probe.py ...) so it can read the GRUB "
                "configuration, and pass its output with --guest-dir",
            )
        elif not files:
            out.pass_(vm.id, "none of the GRUB files ASR checks exists, so none names a device")
        else:
            checked = ", ".join(f.path for f in files)
            out.pass_(vm.id, f"GRUB names no device by /dev name ({checked})")


@rule(
    "ASR-VM-102",
    Area.VM,
    "The COM+ System Application and Volume Shadow Copy services are not disabled",
    label="COM+ and VSS services",
    sources=("TS-2018", "TS-2024"),
    code=151025,
)
def windows_services_enabled(ctx: Context, out: Out) -> None:
    """The Site Recovery extension fails to install (151025) when the COM+ System Application
    or Volume Shadow Copy service is disabled; their startup type must be Automatic or Manual.
    Windows only; needs guest facts from the in-guest probe."""
    judged = _section(ctx, out, "windows", "services", "Windows service start modes")
    for vm, services in judged:
        seen = {s.name: s.start_type for s in services}
        disabled = [
            f"{display} ({name}) is {_STATE[mode]}"
            for name, display in _REQUIRED_SERVICES.items()
            if (mode := seen.get(name)) in _STATE
        ]
        unread = [display for name, display in _REQUIRED_SERVICES.items() if not seen.get(name)]
        if disabled:
            out.fail(
                vm.id,
                "; ".join(disabled),
                "set the startup type to Automatic or Manual, as administrator: "
                "sc config COMSysApp start= demand & sc config VSS start= demand "
                "(or in services.msc)",
            )
        elif unread:
            out.unknown(
                vm.id,
                f"startup type not read for: {', '.join(unread)}",
                "run the probe as administrator (it reads the start modes with sc qc) and pass "
                "its output with --guest-dir",
            )
        else:
            modes = ", ".join(
                f"{display}: {seen[name]}" for name, display in _REQUIRED_SERVICES.items()
            )
            out.pass_(vm.id, modes)


@rule(
    "ASR-VM-104",
    Area.VM,
    "Storage Replica is not in use on the VM",
    label="Storage Replica",
    sources=("SM-2026",),
)
def storage_replica(ctx: Context, out: Out) -> None:
    """The 2026 support matrix does not support Storage Replica, Windows Server's own volume
    replication. The in-guest probe reads whether its service is installed (sc qc
    StorageReplica). Windows only; needs guest facts."""
    judged = _section(ctx, out, "windows", "services", "Windows services")
    for vm, services in judged:
        mode = {s.name: s.start_type for s in services}.get("StorageReplica")
        if mode is None:
            out.unknown(
                vm.id,
                "whether Storage Replica is installed was not read (guest facts from a probe "
                "older than this check)",
                PROBE_HOWTO,
            )
        elif mode in _STATE:
            out.pass_(vm.id, f"Storage Replica is {_STATE[mode]}")
        else:
            out.fail(
                vm.id,
                f"the Storage Replica service is installed (start type {mode}), which ASR does "
                "not support",
                "protect the volumes Storage Replica replicates another way, or remove the "
                "feature (Uninstall-WindowsFeature Storage-Replica) before enabling replication",
            )


@rule(
    "ASR-VM-103",
    Area.VM,
    "The Linux OS filesystems sit on the OS disk, on supported filesystem types",
    label="Linux filesystems",
    sources=("SM-2026", "SM-2025", "SM-2017a"),
)
def os_filesystems_on_os_disk(ctx: Context, out: Out) -> None:
    """The support matrix supports ext3, ext4, XFS and BTRFS. The 2017 matrix also required /,
    /boot, /usr, /usr/local, /var and /etc, when separate partitions, to be on the OS disk; the
    2025 and 2026 matrices no longer say so, so a filesystem elsewhere is only a warning. Linux
    only; needs guest facts from the in-guest probe."""
    judged = _section(ctx, out, "linux", "filesystems", "OS filesystem layout")
    for vm, entries in judged:
        present = [e for e in entries if e.exists]
        root = next((e for e in present if e.path == "/"), None)
        undecided = [e.path for e in entries if e.exists is None]
        if undecided:
            out.unknown(
                vm.id,
                f"the probe could not tell whether {', '.join(undecided)} exist",
                PROBE_HOWTO,
            )
            continue
        if root is None:
            out.unknown(vm.id, "the probe could not describe the / filesystem", PROBE_HOWTO)
            continue
        os_disks = set(root.disks)
        separate = [e for e in present if e is not root and e.same_device_as_root is False]
        elsewhere = [
            f"{e.path} ({e.device}) is on {', '.join(e.disks)}"
            for e in separate
            if e.disks and os_disks and not set(e.disks) <= os_disks
        ]
        unsure = [
            f"{e.path} ({e.device or 'unknown device'})"
            for e in present
            if e is not root
            and (e.same_device_as_root is None or (e in separate and (not e.disks or not os_disks)))
        ]
        odd = sorted(
            {
                f"{e.fstype} ({e.path})"
                for e in present
                if e.fstype and e.fstype.lower() not in SUPPORTED_FILESYSTEMS
            }
        )
        where = ", ".join(sorted(os_disks)) or "unknown"
        if elsewhere:
            out.warn(
                vm.id,
                f"not on the OS disk ({where}): " + "; ".join(elsewhere) + ": the 2017 "
                "support matrix (SM-2017a) required the OS filesystems on the OS disk; the "
                "matrices of 2025 and 2026 no longer state it",
                "replicate every disk that holds an OS filesystem, and test a failover",
            )
        elif unsure:
            out.unknown(
                vm.id,
                "cannot tell which disk holds " + ", ".join(unsure),
                "check with lsblk that these filesystems are on the OS disk, or run the probe "
                "where it can read /proc/mounts and /sys/block",
            )
        elif odd:
            out.warn(
                vm.id,
                "filesystem type not on the support matrix (ext3, ext4, XFS, BTRFS): "
                + ", ".join(odd),
                "use a supported filesystem for the OS partitions",
            )
        elif untyped := [e.path for e in present if not e.fstype]:
            out.unknown(
                vm.id,
                f"the filesystem type of {', '.join(untyped)} was not reported",
                PROBE_HOWTO,
            )
        else:
            paths = ", ".join(e.path for e in present)
            out.pass_(vm.id, f"{paths} on the OS disk ({where})")
