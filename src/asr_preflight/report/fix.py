"""What `fix` would do, and what it leaves to a person: a section of the JSON report (`fix`) and
of the console, beside the check it simulated."""

from __future__ import annotations

from collections import defaultdict

import msgspec
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from asr_preflight.engine import CheckResult
from asr_preflight.findings import Finding, Status
from asr_preflight.fix.actions import AnyAction
from asr_preflight.fix.plan import FixPlan
from asr_preflight.model import ids


class FixStep(msgspec.Struct):
    number: int
    title: str
    action: AnyAction
    rules: list[str]  # the rules whose findings it fixes
    findings: int


class NeedsPerson(msgspec.Struct):
    """A failing finding no script fixes: its remedy says what a person must do."""

    rule: str
    resource_id: str | None
    message: str
    remedy: str | None
    why: str | None = None  # why the script cannot, when it tried
    pair: str | None = None
    vms: int = 0  # how many VMs it blocks


class FixReport(msgspec.Struct):
    steps: list[FixStep]
    needs_person: list[NeedsPerson]
    simulated: bool  # the check in this report ran on the estate as the script would leave it
    script: str | None = None  # where the script was written


def fix_report(
    plan: FixPlan, after: list[CheckResult] | None = None, script: str | None = None
) -> FixReport:
    steps = [
        FixStep(n, s.action.title, s.action, s.rules, len(s.findings))
        for n, s in enumerate(plan.steps, 1)
    ]
    why = {(s.finding.rule, ids.key(s.finding.resource_id)): s.why for s in plan.stuck}
    failing = (
        [f for r in after for f in r.findings if f.status is Status.FAIL and not f.waived]
        if after is not None
        else [s.finding for s in plan.stuck]
    )
    people = [
        NeedsPerson(
            f.rule,
            f.resource_id,
            f.message,
            f.remedy,
            why.get((f.rule, ids.key(f.resource_id))) or None,
            f.pair,
            len(f.affected_vms) if f.affected_vms is not None else 1,
        )
        for f in _once(failing)
    ]
    return FixReport(steps, people, after is not None, script)


def _once(findings: list[Finding]) -> list[Finding]:
    seen: dict[tuple[str, str, str], Finding] = {}
    for finding in findings:
        seen.setdefault((finding.rule, ids.key(finding.resource_id), finding.message), finding)
    return sorted(seen.values(), key=lambda f: (f.rule, ids.name(f.resource_id)))


def render(report: FixReport, console: Console) -> None:
    console.print()
    done = "applied in the simulation above" if report.simulated else "to run"
    console.rule(
        Text(f"What fix does: {len(report.steps)} steps, {done}", style="bold"), align="left"
    )
    if report.script:
        console.print(Text(f"  script: {report.script}"), soft_wrap=True)
    steps = Table.grid(padding=(0, 1))  # wrapped titles stay under their own text
    steps.add_column(justify="right", no_wrap=True)
    steps.add_column()
    for step in report.steps:
        steps.add_row(
            f"{step.number}.", Text.assemble(step.title, "  ", (", ".join(step.rules), "dim"))
        )
    if report.steps:
        console.print(Padding(steps, (0, 0, 0, 2)))
    if not report.steps:
        console.print("  nothing a script can fix")
    console.print()
    console.rule(
        Text(f"Needs a person: {len(report.needs_person)} failing findings", style="bold"),
        align="left",
    )
    by_rule: dict[str, list[NeedsPerson]] = defaultdict(list)
    for item in report.needs_person:
        by_rule[item.rule].append(item)
    for rule, items in by_rule.items():
        where = ", ".join(
            sorted({ids.name(i.resource_id) if i.resource_id else "estate" for i in items})
        )
        console.print(Text.assemble("  ", (rule, "bold"), " ", (where, "cyan")))
        first = items[0]
        console.print(Padding(Text(first.message), (0, 0, 0, 6)))
        if first.why:
            console.print(Padding(Text(f"why no script: {first.why}"), (0, 0, 0, 6)))
        if first.remedy:
            console.print(Padding(Text(f"what to do: {first.remedy}"), (0, 0, 0, 6)))
    if not report.needs_person:
        console.print("  nothing")
