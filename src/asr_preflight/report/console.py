"""The console report: a verdict per VM, then what is wrong grouped by area, in 80 columns.
Colour only when the output is a terminal (rich decides; NO_COLOR is honoured)."""

from __future__ import annotations

from collections import Counter, defaultdict

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from asr_preflight.engine import CheckResult
from asr_preflight.findings import Area, Finding, Status, Verdict
from asr_preflight.knowledge.regions import display
from asr_preflight.model import ids

_VERDICT_STYLE = {Verdict.READY: "green", Verdict.BLOCKED: "bold red", Verdict.UNKNOWN: "yellow"}
_STATUS_STYLE = {
    Status.FAIL: "bold red",
    Status.UNKNOWN: "yellow",
    Status.WARN: "magenta",
    Status.PASS: "green",
    Status.SKIP: "dim",
}
_SHOWN = (Status.FAIL, Status.UNKNOWN, Status.WARN)


def render(result: CheckResult, console: Console) -> None:
    ctx = result.context
    counts = Counter(v.verdict for v in result.verdicts)
    console.print(
        Text.assemble(
            ("ASR readiness ", "bold"),
            f"{display(ctx.source_region)}, zone to zone → zone {ctx.target_zone}"
            if ctx.zone_to_zone
            else f"{display(ctx.source_region)} → {display(ctx.target_region)}",
            f"  ·  {len(result.verdicts)} VMs  ·  snapshot {ctx.estate.snapshot.origin}",
        )
    )
    console.print(
        Text.assemble(
            (f"ready {counts[Verdict.READY]}", _VERDICT_STYLE[Verdict.READY]),
            "   ",
            (f"blocked {counts[Verdict.BLOCKED]}", _VERDICT_STYLE[Verdict.BLOCKED]),
            "   ",
            (f"unknown {counts[Verdict.UNKNOWN]}", _VERDICT_STYLE[Verdict.UNKNOWN]),
        )
    )
    for error in ctx.estate.snapshot.collection_errors:  # Azure's words: no markup
        console.print(
            Text.assemble(
                ("collection error ", "yellow"),
                f"{error.scope}: {error.operation}: {error.message}",
            )
        )
    _input_problems(result, console)
    console.print()
    _vm_table(result, console)
    _findings(result, console)


_PROBLEMS_SHOWN = 10


def _input_problems(result: CheckResult, console: Console) -> None:
    """What the input did not let us read: each one costs the findings that needed it."""
    problems = result.context.estate.problems
    if not problems:
        return
    console.print(
        Text.assemble(
            (f"input problems {len(problems)}", "yellow"),
            " (the findings that needed these records are unknown; --strict makes them fatal)",
        )
    )
    for problem in problems[:_PROBLEMS_SHOWN]:  # names and paths from the input: no markup
        console.print(Text(f"  {problem.describe()}"), soft_wrap=True)
    if len(problems) > _PROBLEMS_SHOWN:
        console.print(f"  … and {len(problems) - _PROBLEMS_SHOWN} more (--output json lists all)")


def _vm_table(result: CheckResult, console: Console) -> None:
    table = Table(title="Virtual machines", title_justify="left", expand=False, pad_edge=False)
    table.add_column("VM", no_wrap=True)
    table.add_column("resource group", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("because of")
    for item in result.verdicts:
        table.add_row(
            item.vm.name,
            item.vm.resource_group,
            Text(item.verdict.value, _VERDICT_STYLE[item.verdict]),
            ", ".join(item.blocking),
        )
    console.print(table)


def _findings(result: CheckResult, console: Console) -> None:
    by_area: dict[Area, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_area[finding.area].append(finding)
    titles = {r.id: r.title for r in result.rules}
    for area in Area:
        findings = by_area.get(area, [])
        tally = Counter(f.status for f in findings)
        summary = "  ".join(f"{s.value} {tally[s]}" for s in Status if tally[s])
        console.print()
        console.rule(Text.assemble((area.value, "bold"), f"  {summary}"), align="left")
        shown = [f for f in findings if f.status in _SHOWN]
        if not shown:
            console.print("  nothing to fix")
        for finding in sorted(shown, key=lambda f: (_SHOWN.index(f.status), f.rule)):
            _finding(finding, titles.get(finding.rule, ""), console)


def _finding(finding: Finding, title: str, console: Console) -> None:
    code = f" [{finding.asr_error_code}]" if finding.asr_error_code else ""
    where = ids.name(finding.resource_id) if finding.resource_id else "estate"
    console.print(
        Text.assemble(
            "  ",
            (f"{finding.status.value.upper():8}", _STATUS_STYLE[finding.status]),
            (f"{finding.rule}{code} ", "bold"),
            (where, "cyan"),
        )
    )
    body = Text(f"{title}: {finding.message}")
    if finding.remedy:
        body.append("\nfix: ", style="bold").append(finding.remedy)
    console.print(Padding(body, (0, 0, 0, 10), expand=False))
