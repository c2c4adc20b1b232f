"""Write the example estate's metric exports (examples/contoso/metrics/), as
`az monitor metrics list ... --interval PT1H --aggregation Average Maximum -o json` prints them:
a week of hourly points with a daily rhythm, seeded so the files are the same on every run.

    vm-web-01, vm-web-02, vm-dmz-01   normal churn
    vm-db-01                          its Ultra data disk needs High Churn (28 MB/s of 32 KB writes)
    vm-tiny-01, vm-pay-01, vm-pay-02  normal churn
    vm-files-01                       its Premium SSD v2 disk writes 70 MB/s: beyond any limit
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "examples" / "contoso" / "metrics"
SUB = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups"
START = datetime(2026, 11, 26, tzinfo=UTC)
HOURS = 168
MB = 1_000_000

# vm: (resource group, {disk: (MB/s at the busiest hour, KB per write)}); "os" or a LUN
VMS = {
    "vm-web-01": ("rg-web", {"os": (0.6, 8), "0": (1.4, 16)}),
    "vm-web-02": ("rg-web", {"os": (0.4, 8), "0": (0.9, 8)}),
    "vm-dmz-01": ("rg-web", {"os": (0.8, 8)}),
    "vm-tiny-01": ("rg-web", {"os": (0.3, 8)}),
    "vm-db-01": ("rg-db", {"os": (1.5, 8), "0": (29.0, 32)}),
    "vm-files-01": ("rg-db", {"os": (1.0, 8), "0": (74.0, 64)}),
    "vm-pay-01": ("rg-pay", {"os": (0.5, 8), "0": (1.1, 16)}),
    "vm-pay-02": ("rg-pay", {"os": (0.5, 8), "0": (0.9, 16)}),
}


def _hourly(peak_mb_s: float, rng: random.Random) -> list[tuple[float, float]]:
    """(average, maximum) bytes/s per hour: business hours near the peak, nights quieter."""
    points = []
    for hour in range(HOURS):
        rhythm = 0.55 + 0.45 * math.sin(math.pi * ((hour % 24) - 6) / 12) ** 2
        average = peak_mb_s * MB * rhythm * rng.uniform(0.93, 1.0)
        points.append((round(average, 1), round(average * rng.uniform(1.2, 1.6), 1)))
    return points


def _metric(resource: str, name: str, unit: str, series: list[tuple[str | None, list]]) -> dict:
    return {
        "id": f"{resource}/providers/Microsoft.Insights/metrics/{name}",
        "type": "Microsoft.Insights/metrics",
        "name": {"value": name, "localizedValue": name.replace("sec", "Sec")},
        "displayDescription": f"{name} over the hour",
        "unit": unit,
        "errorCode": "Success",
        "timeseries": [
            {
                "metadatavalues": [
                    {"name": {"value": "lun", "localizedValue": "LUN"}, "value": lun}
                ]
                if lun is not None
                else [],
                "data": [
                    {
                        "timeStamp": (START + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "average": average,
                        "maximum": maximum,
                    }
                    for h, (average, maximum) in enumerate(points)
                ],
            }
            for lun, points in series
        ],
    }


def _document(resource: str, metrics: list[dict], namespace: str) -> dict:
    end = START + timedelta(hours=HOURS)
    return {
        "cost": HOURS * len(metrics),
        "timespan": f"{START:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}",
        "interval": "PT1H",
        "value": metrics,
        "namespace": namespace,
        "resourceregion": "eastus",
    }


def _vm_metrics(rng: random.Random, resource: str, disks: dict) -> list[dict]:
    metrics = []
    for kind, prefix in (("os", "OS Disk"), ("data", "Data Disk")):
        chosen = {d: v for d, v in disks.items() if (d == "os") == (kind == "os")}
        if not chosen:
            continue
        written = {d: _hourly(mb, rng) for d, (mb, _) in chosen.items()}
        lun = (lambda d: None) if kind == "os" else (lambda d: d)
        metrics.append(
            _metric(
                resource,
                f"{prefix} Write Bytes/sec",
                "BytesPerSecond",
                [(lun(d), points) for d, points in written.items()],
            )
        )
        metrics.append(
            _metric(
                resource,
                f"{prefix} Write Operations/Sec",
                "CountPerSecond",
                [
                    (
                        lun(d),
                        [(round(a / (kb * 1024), 2), round(m / (kb * 1024), 2)) for a, m in pts],
                    )
                    for d, pts in written.items()
                    for kb in (chosen[d][1],)
                ],
            )
        )
    return metrics


def main() -> None:
    rng = random.Random(20261203)
    FOLDER.mkdir(exist_ok=True)
    for vm, (group, disks) in VMS.items():
        resource = f"{SUB}/{group}/providers/Microsoft.Compute/virtualMachines/{vm}"
        document = _document(
            resource, _vm_metrics(rng, resource, disks), "Microsoft.Compute/virtualMachines"
        )
        (FOLDER / f"{vm}.json").write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
