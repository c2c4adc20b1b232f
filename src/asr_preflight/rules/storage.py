"""Storage area: where the cache and target storage live, which disks ASR can replicate, and the
cache account's settings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from asr_preflight.findings import Area, Status
from asr_preflight.fix.actions import CreateCacheAccount, SetCacheOption
from asr_preflight.knowledge import facts
from asr_preflight.knowledge.regions import display, premium_target_blocked
from asr_preflight.model import ids
from asr_preflight.model.build import STORAGE, VAULT
from asr_preflight.model.entities import DiskRef, StorageAccount, VirtualMachine
from asr_preflight.plan.existing import cache_accounts, candidate_vaults
from asr_preflight.rules.base import Context, Out, not_whole, rule, vms_with
from asr_preflight.rules.vault import EXPORT_VAULTS

EXPORT_DISKS = "az disk list -o json > disks.json"
EXPORT_STORAGE = "az storage account list -o json > storage-accounts.json"


def new_cache_account(
    ctx: Context, near: StorageAccount | None, *, premium: bool = False
) -> CreateCacheAccount:
    """A cache account `fix` can create in the source region: beside the account it replaces
    (`near`), else in the first VM's resource group. Storage names are global: the script lets
    a person choose another."""
    vm = ctx.vms[0] if ctx.vms else None
    sub = near.subscription_id if near else (vm.subscription_id if vm else "")
    group = ids.part(near.id, "resourceGroups") if near else (vm.resource_group if vm else "")
    stem = "asrcachep" if premium else "asrcache"
    suffix = hashlib.sha1(f"{sub}/{ctx.source_region}".encode()).hexdigest()[:6]
    name = (stem + ctx.source_region)[: 24 - len(suffix)] + suffix
    return CreateCacheAccount(
        sub,
        group or "",
        name,
        ctx.source_region,
        premium=premium,
        replaces=near.id if near and not premium else None,
    )


def _vms_of(ctx: Context, account: StorageAccount) -> tuple[str, ...]:
    return tuple(vm.key for vm in ctx.vms if vm.subscription_id == account.subscription_id)


@rule(
    "ASR-STO-001",
    Area.STORAGE,
    "Target storage is in the vault's region",
    label="target storage",
    sources=("WT-PREREQ-2017", "TUT-2023"),
)
def target_storage_in_vault_region(ctx: Context, out: Out) -> None:
    """The 2017 page asks for storage (and network) accounts in the vault's region. Replica disks
    are created in the target region, so the vault belongs there too."""
    if not ctx.estate.has(VAULT):
        out.unknown(None, not_whole(ctx.estate, "vaults", VAULT), EXPORT_VAULTS)
        return
    vaults = [v for v in candidate_vaults(ctx) if v.location != ctx.source_region]
    if not vaults or any(v.location == ctx.target_region for v in vaults):
        out.pass_(
            None, f"replica storage and the vault would both be in {display(ctx.target_region)}"
        )
        return
    vault = vaults[0]
    out.warn(
        vault.id,
        f"vault {vault.name} is in {display(vault.location)} while replica storage "
        f"goes to {display(ctx.target_region)}; the 2017 prerequisites wanted them together, "
        "current docs accept any vault region but the source",
        f"prefer a vault in {display(ctx.target_region)}",
    )


@rule(
    "ASR-STO-002",
    Area.STORAGE,
    "The cache storage account is in the source region",
    label="cache region",
    sources=("SM-2025",),
)
def cache_in_source_region(ctx: Context, out: Out) -> None:
    """The cache account receives the VM's writes before they go to the target; it must be in the
    VM's region and, in the portal flow, in the VM's subscription."""
    if not ctx.estate.has(STORAGE):
        out.unknown(None, not_whole(ctx.estate, "storage accounts", STORAGE), EXPORT_STORAGE)
        return
    accounts, missing, chosen = cache_accounts(ctx)
    for name in missing:
        out.unknown(None, f"cache account {name} is not in the storage export", EXPORT_STORAGE)
    if not accounts and not missing:
        out.skip(None, f"no cache account chosen; ASR creates one in {display(ctx.source_region)}")
    source_subs = set(ctx.subscriptions)
    for account in accounts:
        status = Status.FAIL if chosen else Status.WARN
        if account.location != ctx.source_region:
            out.add(
                status,
                account.id,
                f"cache account {account.name} is in "
                f"{display(account.location)}, not the source region "
                f"{display(ctx.source_region)}",
                f"use or create a cache account in {display(ctx.source_region)}",
                affected_vms=_vms_of(ctx, account) if chosen else (),
                actions=(new_cache_account(ctx, account),) if chosen else (),
            )
        elif account.subscription_id not in source_subs:
            out.warn(
                account.id,
                f"cache account {account.name} is in another subscription than "
                "the VMs; the portal only offers the source subscription's accounts",
                "enable replication with PowerShell, or use an account in the VMs' subscription",
                affected_vms=(),
            )
        else:
            out.pass_(
                account.id,
                f"cache account {account.name} is in {display(ctx.source_region)}",
                affected_vms=(),
            )


@rule(
    "ASR-STO-003",
    Area.STORAGE,
    "No premium replica storage in Central or South India",
    label="premium in India",
    sources=("WT-PREREQ-2017",),
)
def premium_target_india(ctx: Context, out: Out) -> None:
    """The 2017 prerequisites barred premium replication targets in Central and South India.
    Later support matrices no longer repeat the rule, so it is a warning to confirm."""
    source = premium_target_blocked(ctx.target_region)
    if source is None:
        out.pass_(None, f"{display(ctx.target_region)} has no premium-target restriction")
        return
    for vm in vms_with(ctx, out, "disks"):
        premium = [d.name for d in vm.disks if (d.sku or "").lower().startswith("premium")]
        untyped = _untyped(vm)
        if premium:
            out.warn(
                vm.id,
                f"premium disks ({', '.join(premium)}) would replicate to premium "
                f"storage in {display(ctx.target_region)}, which the {source} prerequisites "
                "did not allow",
                "confirm with current docs or choose standard replica disks",
            )
        elif untyped:
            out.unknown(vm.id, f"disk type unknown for {', '.join(untyped)}", EXPORT_DISKS)
        else:
            out.pass_(vm.id, "no premium disks")


@dataclass(frozen=True, slots=True)
class DiskLimits:
    min_mib: float
    os_max: float
    data_max: float
    data_max_unmanaged: float
    max_data_disks: int

    @classmethod
    def current(cls) -> DiskLimits:
        def value(name: str) -> Any:
            return facts.latest("disk_limit", name).value

        return cls(
            value("disk_min_mib"),
            value("os_disk_max_gib"),
            value("data_disk_max_gib_managed"),
            value("data_disk_max_gib_unmanaged"),
            value("data_disks_max"),
        )


def _too_small(vm: VirtualMachine, limits: DiskLimits) -> tuple[list[str], list[str]]:
    """(disks under the minimum, disks without a size)."""
    small, unsized = [], []
    for disk in vm.disks or ():
        if disk.ephemeral:
            continue
        if disk.size_bytes is not None:  # exact: an uploaded disk need not be whole GiB
            mib = disk.size_bytes / 2**20
            if mib < limits.min_mib:
                small.append(
                    f"{disk.name} is {mib:g} MiB (diskSizeBytes {disk.size_bytes}), under the "
                    f"{limits.min_mib:g} MiB minimum"
                )
        elif disk.size_gib is None:
            unsized.append(disk.name)
        elif disk.size_gib * 1024 < limits.min_mib:
            small.append(
                f"{disk.name} is {disk.size_gib:g} GiB (diskSizeGB, rounded), under the "
                f"{limits.min_mib:g} MiB minimum"
            )
    return small, unsized


def _too_large(vm: VirtualMachine, limits: DiskLimits) -> list[str]:
    problems = []
    for disk in vm.disks:
        if disk.size_gib is None or disk.ephemeral:
            continue
        if disk.role == "os" and disk.size_gib > limits.os_max:
            problems.append(
                f"OS disk {disk.name} is {disk.size_gib:g} GiB, over {limits.os_max} GiB"
            )
        limit = limits.data_max if disk.managed else limits.data_max_unmanaged
        if disk.role == "data" and disk.size_gib > limit:
            problems.append(f"data disk {disk.name} is {disk.size_gib:g} GiB, over {limit} GiB")
    data_disks = sum(1 for d in vm.disks if d.role == "data")
    if data_disks > limits.max_data_disks:
        problems.append(f"{data_disks} data disks, over the {limits.max_data_disks} ASR protects")
    return problems


def _untyped(vm: VirtualMachine) -> list[str]:
    """Managed disks whose SKU neither the VM nor the disk export gives."""
    return [d.name for d in vm.disks if d.managed and not d.ephemeral and not d.sku]


def _unsized(out: Out, vm: VirtualMachine, unsized: list[str]) -> None:
    out.unknown(
        vm.id, f"size unknown for {', '.join(unsized)}", "az disk list -o json > disks.json"
    )


@rule(
    "ASR-STO-004",
    Area.STORAGE,
    "Every disk is at least 1 GiB",
    label="disk under 1 GiB",
    sources=("TS-2024", "SM-2025"),
    code=150172,
)
def disk_minimum(ctx: Context, out: Out) -> None:
    """Protection cannot be enabled on a VM with a disk under 1,024 MiB (150172)."""
    limits = DiskLimits.current()
    for vm in vms_with(ctx, out, "disks"):
        small, unsized = _too_small(vm, limits)
        if small:
            out.fail(
                vm.id,
                "; ".join(small),
                "resize the disk to at least 1 GiB, or exclude it from replication",
            )
        elif unsized:
            _unsized(out, vm, unsized)
        else:
            exact = sum(1 for d in vm.disks if d.size_bytes is not None)
            out.pass_(
                vm.id,
                f"all {len(vm.disks)} disks are at least 1 GiB ({exact} by exact size in bytes, "
                f"{len(vm.disks) - exact} by diskSizeGB)",
            )


@rule(
    "ASR-STO-007",
    Area.STORAGE,
    "Disk sizes and counts are within ASR's maximums",
    label="disk size limits",
    sources=("SM-2025",),
)
def disk_maximums(ctx: Context, out: Out) -> None:
    """OS disks up to 4,095 GiB, data disks up to 32 TiB (managed) or 4 TiB (unmanaged), and up
    to 64 data disks per VM; larger disks are outside the support matrix."""
    limits = DiskLimits.current()
    for vm in vms_with(ctx, out, "disks"):
        problems = _too_large(vm, limits)
        unsized = [d.name for d in vm.disks if d.size_gib is None and not d.ephemeral]
        if problems:
            out.fail(
                vm.id,
                "; ".join(problems),
                "shrink or split the disk, or exclude it from replication",
            )
        elif unsized:
            _unsized(out, vm, unsized)
        else:
            out.pass_(vm.id, f"{len(vm.disks)} disks within the maximums")


# Ultra and Premium SSD v2 disks need Block Blob cache accounts, which these regions lack.
_NO_BLOCK_BLOB = frozenset({"chinanorth", "chinaeast"})


def _unsupported(
    disk: DiskRef, vm: VirtualMachine, unmanaged_retired: bool, regions: frozenset[str]
) -> tuple[str, str] | None:
    """(feature id, plain description) when the disk cannot replicate, else None."""
    sku = (disk.sku or "").lower()
    for prefix, feature, words in (
        ("ultrassd", "ultra_disk", "an Ultra disk"),
        ("premiumv2", "premium_ssd_v2", "a Premium SSD v2 disk"),
    ):
        if sku.startswith(prefix) and regions & _NO_BLOCK_BLOB:
            where = ", ".join(sorted(regions & _NO_BLOCK_BLOB))
            return feature, f"{disk.name} is {words}, not supported in {where}"
    if disk.ephemeral:
        return "ephemeral_os_disk", f"{disk.name} is an ephemeral OS disk"
    if disk.write_accelerator:
        return "write_accelerator", f"{disk.name} has Write Accelerator enabled"
    if not disk.managed and unmanaged_retired:
        return "unmanaged_disk", f"{disk.name} is an unmanaged (VHD) disk"
    if (vm.disk_controller or "").lower() == "nvme" and disk.role == "os":
        return "nvme_interface", f"{vm.name} uses the NVMe disk controller"
    return None


@rule(
    "ASR-STO-005",
    Area.STORAGE,
    "Every disk is of a kind ASR can replicate",
    label="disk kind",
    sources=("SM-2026", "SM-2025"),
)
def disk_kinds(ctx: Context, out: Out) -> None:
    """Ephemeral OS disks, Write Accelerator, the NVMe interface and, since their retirement,
    unmanaged disks cannot be replicated. Ultra and Premium SSD v2 disks can (since the 2026
    support matrix), except to or from China North and China East; Ultra disks not zone to zone
    (ASR-Z2Z-002)."""
    retired = date.today() >= date.fromisoformat(facts.unmanaged_retired_on().value)
    regions = frozenset({ctx.source_region, ctx.target_region})
    for vm in vms_with(ctx, out, "disks"):
        blocked = [hit for d in vm.disks if (hit := _unsupported(d, vm, retired, regions))]
        if blocked:
            cited = {facts.feature("disk_feature", fid).source for fid, _ in blocked}
            out.fail(
                vm.id,
                "; ".join(text for _, text in blocked) + f" ({', '.join(sorted(cited))})",
                "exclude these disks from replication, or convert them (managed Premium or "
                "Standard SSD)",
            )
        elif untyped := _untyped(vm):
            out.unknown(vm.id, f"disk type unknown for {', '.join(untyped)}", EXPORT_DISKS)
        else:
            out.pass_(vm.id, "all disks can be replicated")


def _cache_setting_problems(account: StorageAccount) -> tuple[list[str], list[str], list[str]]:
    """(blocking problems, advisories, settings not exported)."""
    kind, sku = (account.kind or ""), (account.sku or "")
    blocking, advice, unknown = [], [], []
    if kind in ("BlobStorage", "FileStorage") or (
        kind == "BlockBlobStorage" and not sku.startswith("Premium")
    ):
        blocking.append(f"kind {kind} cannot hold the cache (use StorageV2)")
    elif kind == "Storage":
        advice.append("general-purpose v1; v2 is recommended (v1 has no ZRS)")
    elif not kind:
        unknown.append("kind")
    if account.allow_shared_key_access is False:
        blocking.append("shared key access is disabled; ASR writes with shared-key SAS")
    if account.blob_soft_delete:
        blocking.append("blob soft delete is on, which ASR does not support for cache accounts")
    elif account.blob_soft_delete is None:
        unknown.append("blob soft delete")
    if account.hierarchical_namespace:
        advice.append("hierarchical namespace is on; ASR documents no support for it")
    return blocking, advice, unknown


def _cache_fix(account: StorageAccount) -> str:
    """Commands for exactly the settings that block this account."""
    fixes = []
    if account.allow_shared_key_access is False:
        fixes.append(
            f"az storage account update --name {account.name} --allow-shared-key-access true"
        )
    if account.blob_soft_delete:
        fixes.append(
            f"az storage account blob-service-properties update --account-name "
            f"{account.name} --enable-delete-retention false"
        )
    if not fixes:  # the kind itself is wrong: no setting fixes it
        return "use a general-purpose v2 (StorageV2) account as the cache"
    return "use another cache account, or fix this one: " + "; ".join(fixes)


def _cache_actions(
    ctx: Context, account: StorageAccount
) -> tuple[SetCacheOption | CreateCacheAccount, ...]:
    """Settings a script can change; a kind that cannot hold the cache needs a new account."""
    fixes: list[SetCacheOption | CreateCacheAccount] = []
    if account.allow_shared_key_access is False:
        fixes.append(SetCacheOption(account.id, "allow-shared-key"))
    if account.blob_soft_delete:
        fixes.append(SetCacheOption(account.id, "disable-soft-delete"))
    wrong_kind = any(p.startswith("kind ") for p in _cache_setting_problems(account)[0])
    return (new_cache_account(ctx, account),) if wrong_kind else tuple(fixes)


@rule(
    "ASR-STO-006",
    Area.STORAGE,
    "The cache storage account has settings ASR supports",
    label="cache settings",
    sources=("SM-2025",),
)
def cache_settings(ctx: Context, out: Out) -> None:
    """Cache accounts must be general-purpose v2 (or premium block blob for high churn), allow
    shared key access, and have blob soft delete off."""
    if not ctx.estate.has(STORAGE):
        out.unknown(None, not_whole(ctx.estate, "storage accounts", STORAGE), EXPORT_STORAGE)
        return
    accounts, _, chosen = cache_accounts(ctx)
    if not accounts:
        out.skip(None, "no cache account chosen; ASR creates one with supported settings")
    for account in accounts:
        blocking, advice, unknown = _cache_setting_problems(account)
        affected = _vms_of(ctx, account) if chosen else ()
        if blocking:
            out.add(
                Status.FAIL if chosen else Status.WARN,
                account.id,
                f"cache account {account.name}: " + "; ".join(blocking + advice),
                _cache_fix(account),
                affected_vms=affected,
                actions=_cache_actions(ctx, account) if chosen else (),
            )
        elif unknown:
            out.unknown(
                account.id,
                f"cache account {account.name}: not exported: {', '.join(unknown)}",
                f"az storage account blob-service-properties show --account-name "
                f"{account.name} -o json > blob-services-{account.name}.json",
                affected_vms=affected,
            )
        elif advice:
            out.warn(
                account.id,
                f"cache account {account.name}: " + "; ".join(advice),
                affected_vms=affected,
            )
        else:
            out.pass_(
                account.id,
                f"cache account {account.name} settings are supported",
                affected_vms=affected,
            )
