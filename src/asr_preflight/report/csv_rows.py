"""CSV: one row per finding with the JSON report's fields (lists joined by spaces), for a
spreadsheet or a quick filter."""

from __future__ import annotations

import csv
import io

from asr_preflight.engine import CheckResult
from asr_preflight.report.model import Report

COLUMNS = (
    "rule",
    "area",
    "status",
    "resource_id",
    "asr_error_code",
    "message",
    "remedy",
    "references",
    "affected_vms",
    "waiver_reason",
    "waiver_expires",
    "pair",
)


def render(result: CheckResult, report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for f in report.findings:
        writer.writerow(
            (
                f.rule,
                f.area.value,
                f.status.value,
                f.resource_id or "",
                "" if f.asr_error_code is None else f.asr_error_code,
                f.message,
                f.remedy or "",
                " ".join(f.references),
                " ".join(f.affected_vms or ()),
                f.waiver.reason if f.waiver else "",
                f.waiver.expires if f.waiver else "",
                f.pair or "",
            )
        )
    return out.getvalue()
