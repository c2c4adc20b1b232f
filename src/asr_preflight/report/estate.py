"""Reports for a run over several pairs: one JSON report (every VM and finding with its pair,
so tools that read the single-pair schema keep working) and a console view that opens on the
estate (pairs, verdicts, the quotas pairs compete for) before each pair's own report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from html import escape

import msgspec
from rich.console import Console
from rich.text import Text

from asr_preflight.engine import CheckResult
from asr_preflight.findings import Verdict
from asr_preflight.knowledge.regions import display
from asr_preflight.model.entities import VirtualMachine
from asr_preflight.pairs import Competition, label
from asr_preflight.report import console as console_report
from asr_preflight.report import csv_rows, junit, markdown, sarif
from asr_preflight.report.formats import Format
from asr_preflight.report.model import PairSummary, Report, VmEntry, build_report

# Formats that hold several pairs in one file: SARIF runs, JUnit suites, Markdown sections and
# CSV rows, one set per pair (HTML stays one page per pair, with --report-dir).
JOINED = frozenset({Format.SARIF, Format.JUNIT, Format.MARKDOWN, Format.CSV})


def combine(
    results: list[CheckResult],
    unpaired: dict[str, tuple[str, list[VirtualMachine]]],
    competitions: list[Competition],
    include_passes: bool = False,
) -> Report:
    reports = [build_report(r, include_passes) for r in results]
    first = reports[0]
    stranded = sum(len(vms) for _, vms in unpaired.values())
    verdicts = _sum([r.summary.verdicts for r in reports])
    verdicts[Verdict.UNKNOWN] += stranded  # no target: nothing can be told of them
    summary = msgspec.structs.replace(
        first.summary,
        source_region=",".join(sorted({r.context.source_region for r in results} | set(unpaired))),
        target_region=",".join(sorted({r.context.target_region for r in results})),
        vms=sum(r.summary.vms for r in reports) + stranded,
        verdicts=verdicts,
        statuses=_sum([r.summary.statuses for r in reports]),
        areas={a: _sum([r.summary.areas[a] for r in reports]) for a in first.summary.areas},
        waived=sum(r.summary.waived for r in reports),
    )
    vms, findings, pairs = [], [], []
    for result, report in zip(results, reports, strict=True):
        pair = label(result.context.source_region, result.context.target_region)
        vms += [msgspec.structs.replace(v, pair=pair) for v in report.vms]
        findings += [msgspec.structs.replace(f, pair=pair) for f in report.findings]
        pairs.append(
            PairSummary(
                result.context.source_region,
                result.context.target_region,
                report.summary.vms,
                report.summary.verdicts,
                sorted({p for c in competitions if pair in c.needs for p in c.needs} - {pair}),
            )
        )
    for region, (why, stranded) in sorted(unpaired.items()):
        pairs.append(
            PairSummary(region, None, len(stranded), {Verdict.UNKNOWN: len(stranded)}, note=why)
        )
        vms += [
            VmEntry(
                vm.id,
                vm.name,
                vm.subscription_id,
                vm.resource_group,
                Verdict.UNKNOWN,
                ["no target region"],
                pair=f"{region}->?",
            )
            for vm in stranded
        ]
    rules = {k: v for r in reports for k, v in r.rules.items()}
    return msgspec.structs.replace(
        first, summary=summary, rules=rules, vms=vms, pairs=pairs, findings=findings
    )


def _sum(tables: list[dict]) -> dict:
    total: Counter = Counter()
    for table in tables:
        total.update(table)
    keys = tables[0].keys() if tables else ()
    return {k: total[k] for k in keys}


def render(
    results: list[CheckResult],
    unpaired: dict[str, tuple[str, list[VirtualMachine]]],
    competitions: list[Competition],
    console: Console,
    details: bool = False,
) -> None:
    """The estate first, then each pair as a single-pair check shows it."""
    report = combine(results, unpaired, competitions)
    counts = report.summary.verdicts
    line = "   ".join(f"{v.value} {n}" for v, n in counts.items() if n)
    estate_line = Text(f"{report.summary.vms} VMs in {len(report.pairs or [])} pairs: {line}")
    console.print(Text("ASR readiness, the whole estate", style="bold"))
    console.print(estate_line)
    for pair in report.pairs or []:
        where = (
            f"{display(pair.source)} → {display(pair.target)}"
            if pair.target
            else f"{display(pair.source)} → ?"
        )
        verdicts = "  ".join(f"{v.value} {n}" for v, n in pair.verdicts.items() if n)
        console.print(f"  {where}: {pair.vms} VMs ({verdicts})")
        if pair.note:
            console.print(Text(f"    {pair.note}", style="yellow"))
    for c in competitions:
        needs = ", ".join(f"{p} {n}" for p, n in c.needs.items())
        console.print(
            Text(
                f"  shared quota {c.quota} in {display(c.region)}: {needs}; together "
                f"{c.needed}, {c.free} free [ASR-CAP-005]",
                style="bold red",
            )
        )
    for result in results:
        console.print()
        console.rule(
            Text(
                f"{display(result.context.source_region)} → "
                f"{display(result.context.target_region)}",
                style="bold",
            ),
            align="left",
        )
        console_report.render(result, console, details=details)
    console.print()
    console.print(estate_line)  # the last line read is the whole estate's, as the first


def joined(
    fmt: Format,
    results: list[CheckResult],
    unpaired: dict[str, tuple[str, list[VirtualMachine]]],
    competitions: list[Competition],
    include_passes: bool = False,
) -> bytes:
    """One file for every pair: each pair rendered as its own report, then put together."""
    parts = []
    for result in results:
        pair = label(result.context.source_region, result.context.target_region)
        report = build_report(result, include_passes)
        report = msgspec.structs.replace(
            report, findings=[msgspec.structs.replace(f, pair=pair) for f in report.findings]
        )
        parts.append((result, report))
    if fmt is Format.SARIF:
        documents = [sarif.render(result, report) for result, report in parts]
        whole = {**documents[0], "runs": [run for d in documents for run in d["runs"]]}
        return json.dumps(whole, indent=1).encode() + b"\n"
    if fmt is Format.JUNIT:
        root = ET.Element("testsuites", name="asr-preflight")
        for result, report in parts:
            root.extend(ET.fromstring(junit.render(result, report)))
        junit.count(root)
        ET.indent(root)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
    if fmt is Format.MARKDOWN:
        head = combine(results, unpaired, competitions)
        lines = [f"# ASR readiness, the whole estate: {head.summary.vms} VMs", ""]
        lines += [
            f"- shared quota {c.quota} in {display(c.region)}: "
            + ", ".join(f"{p} needs {n}" for p, n in c.needs.items())
            + f"; {c.free} free (ASR-CAP-005)"
            for c in competitions
        ]
        lines += [f"- {region}: {why}" for region, (why, _) in unpaired.items()]
        body = "\n".join(markdown.render(result, report) for result, report in parts)
        return ("\n".join(lines) + "\n\n" + body).encode()
    rows = [csv_rows.render(result, report) for result, report in parts]
    return (rows[0] + "".join(r.split("\n", 1)[1] for r in rows[1:])).encode()


def index_html(report: Report, competitions: list[Competition]) -> str:
    """The estate's page in --report-dir: every pair with its verdicts, the quotas pairs
    compete for, and a link to each pair's own report."""
    rows = []
    for pair in report.pairs or []:
        verdicts = ", ".join(f"{v.value} {n}" for v, n in pair.verdicts.items() if n)
        name = (
            f'<a href="{escape(pair.source)}-{escape(pair.target)}/report.html">'
            f"{escape(display(pair.source))} → {escape(display(pair.target))}</a>"
            if pair.target
            else f"{escape(display(pair.source))} → ? ({escape(pair.note or '')})"
        )
        rows.append(
            f"<tr><td>{name}</td><td>{pair.vms}</td><td>{escape(verdicts)}</td>"
            f"<td>{escape(', '.join(pair.shares_quota_with)) or '-'}</td></tr>"
        )
    shared = "".join(
        f"<li>{escape(c.quota)} in {escape(display(c.region))}: "
        + escape(", ".join(f"{p} needs {n}" for p, n in c.needs.items()))
        + f"; {c.free} free (ASR-CAP-005)</li>"
        for c in competitions
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>ASR readiness, the whole estate</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:1000px;margin:auto;padding:1rem}"
        "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;"
        "border-bottom:1px solid #d0d7de}</style></head><body>"
        f"<h1>ASR readiness, the whole estate: {report.summary.vms} VMs</h1>"
        '<table><thead><tr><th scope="col">Pair</th><th scope="col">VMs</th>'
        '<th scope="col">Verdicts</th><th scope="col">Shares quota with</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        + (f"<h2>Quotas pairs compete for</h2><ul>{shared}</ul>" if shared else "")
        + "</body></html>\n"
    )
