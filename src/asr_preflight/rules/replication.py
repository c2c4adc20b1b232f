"""Replication area, churn: will ASR keep up once replication is enabled (analysis/churn.py)?
A VM that writes faster than ASR ships falls behind, raises "High churn" events and misses its
RPO; High Churn lifts the limits, if it is chosen when replication is enabled."""

from __future__ import annotations

from asr_preflight.analysis.churn import Outcome, VmChurn, export_command
from asr_preflight.findings import Area
from asr_preflight.model.build import STORAGE
from asr_preflight.plan.existing import cache_accounts
from asr_preflight.rules.base import Context, Out, not_whole, rule
from asr_preflight.rules.storage import new_cache_account


def _disks(churn: VmChurn) -> str:
    return "; ".join(
        f"{d.name}: p95 {d.p95_mb_s:g} MB/s, peak {d.peak_mb_s:g}"
        + (f", {d.write_kb:g} KB writes" if d.write_kb is not None else "")
        + f" (limit {d.normal_limit:g}, High Churn {d.high_limit:g})"
        + (f" [{d.note}]" if d.note else "")
        for d in churn.disks
    )


@rule(
    "ASR-REP-001",
    Area.REPLICATION,
    "Replication can keep up with the VM's disk churn",
    label="disk churn",
    sources=("SM-2026", "SM-2025", "CHURN-2026", "TSREP-2025"),
    code=153007,
)
def churn_fits(ctx: Context, out: Out) -> None:
    """From a week of hourly write metrics: the 95th percentile of each disk's write rate and of
    the VM's total, against ASR's per-disk limits (replica disk type and size, write size) and its
    per-VM limit of 54 MB/s, else High Churn's (100 MB/s per VM, Premium Block Blob cache)."""
    for vm in ctx.vms:
        churn = ctx.churn[vm.key]
        detail = f"VM p95 {churn.p95_mb_s:g} MB/s, peak {churn.peak_mb_s:g}; {_disks(churn)}"
        if churn.outcome is Outcome.NORMAL:
            out.pass_(vm.id, f"{churn.reason}: {detail}")
        elif churn.outcome is Outcome.HIGH_CHURN:
            out.warn(
                vm.id,
                f"{churn.reason}: {detail}",
                "choose High Churn when you enable replication (it cannot be switched later "
                "without disabling replication), with a Premium Block Blob cache account",
            )
        elif churn.outcome is Outcome.BEYOND:
            out.fail(
                vm.id,
                f"{churn.reason}: {detail}; replication would fall behind and the RPO not hold",
                "lower the write rate (move logs or scratch data to a disk you exclude from "
                "replication), spread it over more disks, or use larger premium replica disks",
            )
        else:
            out.unknown(
                vm.id, churn.reason, f"export a week of write metrics: {export_command(vm)}"
            )


@rule(
    "ASR-REP-002",
    Area.REPLICATION,
    "VMs that need High Churn have a Premium Block Blob cache account",
    label="High Churn cache",
    sources=("CHURN-2026", "SM-2025"),
)
def high_churn_cache(ctx: Context, out: Out) -> None:
    """High Churn replicates through a Premium Block Blob (BlockBlobStorage) cache account in
    the source region. A cache account chosen with --cache-storage-account must be one; without
    a choice, ASR creates it when High Churn is selected (plan lists it)."""
    needing = tuple(vm.key for vm in ctx.vms if ctx.churn[vm.key].outcome is Outcome.HIGH_CHURN)
    if not needing:
        return
    if not ctx.cache_accounts:
        out.pass_(
            None,
            "no cache account chosen: ASR creates a Premium Block Blob one",
            affected_vms=needing,
        )
        return
    if not ctx.estate.has(STORAGE):
        out.unknown(
            None,
            not_whole(ctx.estate, "storage accounts", STORAGE),
            "az storage account list -o json",
            affected_vms=needing,
        )
        return
    accounts, missing, _ = cache_accounts(ctx)
    block_blob = [a for a in accounts if (a.kind or "").lower() == "blockblobstorage"]
    if block_blob:
        out.pass_(
            block_blob[0].id,
            f"{block_blob[0].name} is a Premium Block Blob account",
            affected_vms=needing,
        )
    elif missing:
        out.unknown(
            None,
            f"cache account {missing[0]} is not in the storage export",
            "az storage account list -o json",
            affected_vms=needing,
        )
    else:
        names = ", ".join(a.name for a in accounts)
        out.fail(
            accounts[0].id if accounts else None,
            f"the chosen cache account(s) {names}: not Premium Block Blob, as High Churn needs",
            f"az storage account create -n <name>asrcache -g <group> -l {ctx.source_region} "
            "--kind BlockBlobStorage --sku Premium_LRS --allow-shared-key-access true",
            affected_vms=needing,
            actions=(new_cache_account(ctx, None, premium=True),),
        )
