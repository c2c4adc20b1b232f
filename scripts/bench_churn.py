"""The cost of churn (`make bench`): 10,000 VMs × 3 disks × 168 hourly points of write metrics,
as `az monitor metrics list` prints them, read, decoded and judged. Figures depend on the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bench import synthetic, write_exports

from asr_preflight.analysis.churn import assess
from asr_preflight.model import build_estate
from asr_preflight.perf import batch_gc
from asr_preflight.snapshot import load_snapshot
from builders import rid

HOURS = 168


def _series(values: list[float], lun: str | None) -> dict:
    return {
        "metadatavalues": []
        if lun is None
        else [{"name": {"value": "lun", "localizedValue": "LUN"}, "value": lun}],
        "data": [
            {
                "timeStamp": f"2026-11-{26 + h // 24:02d}T{h % 24:02d}:00:00Z",
                "average": v,
                "maximum": v * 1.4,
            }
            for h, v in enumerate(values)
        ],
    }


def _metrics(vm_id: str, n: int) -> dict:
    week = [(200_000 + (n * 7919 + h * 104_729) % 1_800_000) * 1.0 for h in range(HOURS)]
    value = []
    for prefix, luns in (("OS Disk", [None]), ("Data Disk", ["0", "1"])):
        for what, scale in (("Write Bytes/sec", 1.0), ("Write Operations/Sec", 1 / 16384)):
            name = f"{prefix} {what}"
            value.append(
                {
                    "id": f"{vm_id}/providers/Microsoft.Insights/metrics/{name}",
                    "type": "Microsoft.Insights/metrics",
                    "name": {"value": name, "localizedValue": name},
                    "unit": "BytesPerSecond",
                    "timeseries": [_series([v * scale for v in week], lun) for lun in luns],
                    "errorCode": "Success",
                }
            )
    return {"interval": "PT1H", "value": value}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    args = parser.parse_args()
    estate = synthetic(args.vms)
    for vm in estate.files["vms.json"]:  # a third disk, so each VM has three
        name, rg = vm["name"], vm["resourceGroup"]
        vm["storageProfile"]["dataDisks"].append(
            {
                "lun": 1,
                "name": f"{name}-data1",
                "diskSizeGB": 512,
                "managedDisk": {
                    "id": rid(rg, "Microsoft.Compute", f"disks/{name}-data1"),
                    "storageAccountType": "Premium_LRS",
                },
            }
        )
    for n, vm in enumerate(estate.files["vms.json"]):
        estate.files[f"metrics/{vm['name']}.json"] = _metrics(vm["id"], n)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "estate"
        write_exports(estate, folder)
        megabytes = sum(p.stat().st_size for p in (folder / "metrics").glob("*.json")) / 1e6
        with batch_gc():
            start = time.perf_counter()
            model = build_estate(load_snapshot(folder))
            loaded = time.perf_counter()
            outcomes = [assess(model, vm).outcome for vm in model.vms.values()]
            judged = time.perf_counter()
    points = args.vms * 3 * HOURS * 2
    print(
        f"\nchurn: {args.vms:,} VMs × 3 disks × {HOURS} hours ({points:,} points, "
        f"{megabytes:.0f} MB of metrics): load and decode {loaded - start:.2f} s "
        f"(the whole estate), judge {judged - loaded:.2f} s, "
        f"{len(outcomes):,} VMs judged"
    )


if __name__ == "__main__":
    main()
