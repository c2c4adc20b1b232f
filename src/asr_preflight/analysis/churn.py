"""Churn: will replication keep up with how fast each VM's disks change? The Deployment Planner's
question, for Azure-to-Azure, from Azure Monitor's hourly write metrics.

Per disk: the 95th percentile of the hourly averages (sustained churn) and the peak of the hourly
maxima, the average write size (bytes / operations), and the limits for the replica disk's type
and size at that write size, normal and High Churn (limits.toml). Per VM: the same percentile of
the sum over its disks, against 54 MB/s (normal) and 100 MB/s (High Churn). Outcome: fits normal
churn; needs High Churn (a Premium Block Blob cache account, chosen when enabling); beyond any
limit (replication falls behind, RPO will not hold); or unknown when the metrics are missing or
cover too little of the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from asr_preflight.knowledge import facts
from asr_preflight.model import ids
from asr_preflight.model.entities import DiskRef, MetricSeries, VirtualMachine
from asr_preflight.model.estate import Estate

WINDOW_HOURS = 168  # the week the export command asks for
ENOUGH_HOURS = 24  # less than a day of data decides nothing
MB = 1_000_000


class Outcome(StrEnum):
    NORMAL = "normal"
    HIGH_CHURN = "high_churn"
    BEYOND = "beyond"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class DiskChurn:
    name: str
    role: str
    p95_mb_s: float
    peak_mb_s: float
    write_kb: float | None  # None: no operation counts, so the smallest write size is assumed
    normal_limit: float
    high_limit: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class VmChurn:
    outcome: Outcome
    reason: str
    disks: tuple[DiskChurn, ...] = ()
    p95_mb_s: float = 0.0
    peak_mb_s: float = 0.0
    hours: int = 0


def export_command(vm: VirtualMachine) -> str:
    return (
        f'az monitor metrics list --resource {vm.id} --metric "OS Disk Write Bytes/sec" '
        '"OS Disk Write Operations/Sec" "Data Disk Write Bytes/sec" '
        '"Data Disk Write Operations/Sec" --filter "LUN eq \'*\'" --interval PT1H '
        "--aggregation Average Maximum --start-time \"$(date -u -d '7 days ago' "
        f'+%Y-%m-%dT%H:%MZ)" -o json > metrics-{vm.name}.json'
    )


@cache
def _limits() -> tuple[dict, tuple[dict, ...]]:
    data = facts.load("limits")
    return data["churn_vm"], tuple(data["churn_disk"])


def disk_limit(mode: str, premium: bool, size_gib: float, write_kb: float) -> tuple[float, str]:
    """The per-disk limit (MB/s) for a replica disk and write size, with a note when the
    table has no row for the size and the nearest is used."""
    kind = "premium" if premium else "standard"
    rows = [r for r in _limits()[1] if r["mode"] == mode and r["disk"] == kind]
    sizes = sorted({r["min_gib"] for r in rows})
    fitting = [s for s in sizes if s <= size_gib]
    note = ""
    if not fitting:
        fitting = sizes[:1]
        note = f"no row for a {size_gib:g} GiB premium disk; the {sizes[0]} GiB row is used"
    band = [r for r in rows if r["min_gib"] == max(fitting)]
    by_io = [r for r in band if r["io_kb"] <= write_kb] or [min(band, key=lambda r: r["io_kb"])]
    return float(max(by_io, key=lambda r: r["io_kb"])["mb_s"]), note


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def _series(
    estate: Estate, vm: VirtualMachine, disk: DiskRef
) -> tuple[MetricSeries | None, MetricSeries | None]:
    """(write bytes, write operations) of one disk: the VM's OS/Data Disk metrics (by LUN),
    else the managed disk's Composite Disk metrics."""
    own = estate.metrics.get(vm.key, [])
    if disk.role == "os":
        wanted = [s for s in own if s.metric.startswith("os disk write")]
    else:
        wanted = [
            s for s in own if s.metric.startswith("data disk write") and s.lun == str(disk.lun)
        ]
    if not wanted and disk.id:
        wanted = [
            s
            for s in estate.metrics.get(ids.key(disk.id), [])
            if s.metric.startswith("composite disk write")
        ]
    written = next((s for s in wanted if "bytes" in s.metric), None)
    ops = next((s for s in wanted if "operations" in s.metric), None)
    return written, ops


def assess(estate: Estate, vm: VirtualMachine) -> VmChurn:
    if vm.disks is None:
        return VmChurn(Outcome.UNKNOWN, "the VM's disks were not exported")
    disks = [d for d in vm.disks if d.managed and not d.ephemeral] or list(vm.disks)
    series = {d.name: _series(estate, vm, d) for d in disks}
    missing = [d.name for d in disks if series[d.name][0] is None]
    if missing:
        return VmChurn(
            Outcome.UNKNOWN, f"no write metrics for {', '.join(missing)}: churn cannot be judged"
        )
    hours = min(len(series[d.name][0].averages) for d in disks)  # type: ignore[union-attr]
    if hours < ENOUGH_HOURS:
        return VmChurn(
            Outcome.UNKNOWN,
            f"the metrics cover {hours} hour(s); at least {ENOUGH_HOURS} of the "
            f"{WINDOW_HOURS} asked for are needed",
            hours=hours,
        )
    vm_limits, _ = _limits()
    results = []
    per_hour = [0.0] * hours
    for disk in disks:
        written, ops = series[disk.name]
        assert written is not None
        averages = [v / MB for v in written.averages[-hours:]]
        for i, value in enumerate(averages):
            per_hour[i] += value
        write_kb = None
        if ops is not None and sum(ops.averages) > 0:
            write_kb = sum(written.averages) / sum(ops.averages) / 1024
        premium = (disk.sku or "").lower().startswith(("premium", "ultrassd"))
        size = disk.size_gib or 0.0
        normal, note = disk_limit("normal", premium, size, write_kb or 8)
        high, _ = disk_limit("high", premium, size, write_kb or 8)
        if write_kb is None:
            note = "; ".join(
                filter(None, (note, "no write operations metric: 8 KB writes assumed"))
            )
        results.append(
            DiskChurn(
                disk.name,
                disk.role,
                round(_p95(averages), 2),
                round(max(written.maxima[-hours:]) / MB, 2),
                round(write_kb, 1) if write_kb is not None else None,
                normal,
                high,
                note,
            )
        )
    vm_p95 = round(_p95(per_hour), 2)
    peak = round(max(d.peak_mb_s for d in results), 2)
    coverage = f" over {hours} hours" + (
        f" (of the {WINDOW_HOURS} asked for)" if hours < WINDOW_HOURS * 0.9 else ""
    )
    managed = all(d.managed for d in vm.disks)
    if vm_p95 <= vm_limits["normal_mb_s"] and all(d.p95_mb_s <= d.normal_limit for d in results):
        outcome, why = Outcome.NORMAL, f"within the normal limits (54 MB/s per VM){coverage}"
    elif (
        managed
        and vm_p95 <= vm_limits["high_mb_s"]
        and all(d.p95_mb_s <= d.high_limit for d in results)
    ):
        over = [d.name for d in results if d.p95_mb_s > d.normal_limit]
        outcome = Outcome.HIGH_CHURN
        why = (
            f"above the normal limits ({', '.join(over) or 'the VM'}), within High Churn's"
            f"{coverage}"
        )
    else:
        over = [d.name for d in results if d.p95_mb_s > d.high_limit]
        outcome = Outcome.BEYOND
        why = (
            f"beyond even High Churn's limits ({', '.join(over) or '100 MB/s per VM'})"
            f"{coverage}" + ("" if managed else "; High Churn needs managed disks")
        )
    return VmChurn(outcome, why, tuple(results), vm_p95, peak, hours)


def initial_replication_hours(vm: VirtualMachine) -> float | None:
    """Hours to copy the VM's replicated disks once, at the per-VM limit (54 MB/s): a best case,
    from provisioned sizes (Azure reports no used size for a managed disk)."""
    if vm.disks is None:
        return None
    gib = sum(d.size_gib or 0.0 for d in vm.disks if d.managed and not d.ephemeral)
    if not gib:
        return None
    rate = _limits()[0]["normal_mb_s"] * MB
    return round(gib * 2**30 / rate / 3600, 1)
