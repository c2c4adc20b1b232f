"""The console report, for a person to act on: the verdicts first, each VM's story in a few
words, then what to fix, grouped so a finding shared by many VMs is read once, then next steps
and the verdicts again. Prose wraps at the terminal's width; commands never do (they overflow,
so a copy gives the whole command). Every finding, passes included, is behind --details.
Colour only when the output is a terminal (rich decides; NO_COLOR is honoured)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.padding import Padding
from rich.text import Text

from asr_preflight.engine import CheckResult, concerns, scope_index
from asr_preflight.findings import Area, Finding, Status, Verdict
from asr_preflight.knowledge.regions import display
from asr_preflight.model import ids

_VERDICT_STYLE = {
    Verdict.READY: "green",
    Verdict.BLOCKED: "bold red",
    Verdict.UNKNOWN: "yellow",
    Verdict.PROTECTED: "cyan",
}
_STATUS_STYLE = {
    Status.FAIL: "bold red",
    Status.UNKNOWN: "yellow",
    Status.WARN: "magenta",
    Status.PASS: "green",
    Status.SKIP: "dim",
}
_MARK = {Status.FAIL: "✗", Status.UNKNOWN: "?", Status.WARN: "!"}
_WORDS = {Status.FAIL: "failing", Status.UNKNOWN: "not known", Status.WARN: "to review"}
_MESSAGE_SHOWN = 400  # characters of a message in the grouped list; --details shows it all
_SHOWN = (Status.FAIL, Status.UNKNOWN, Status.WARN)
_PROBLEMS_SHOWN = 10
_VMS_NAMED = 6  # a group names this many VMs, then counts the rest
_STORIES = 500  # VMs told one by one in the table; the other formats tell every one
_TOLD_FIRST = (Verdict.BLOCKED, Verdict.UNKNOWN, Verdict.PROTECTED, Verdict.READY)
# An az command inside a remedy: at its start, or after ": " or "; "; and where prose resumes.
_COMMAND = re.compile(r"(?:^|(?<=: )|(?<=; ))(?=az \S)")
_PROSE_AGAIN = re.compile(r", (?=(?:then|or|and) )")


def render(result: CheckResult, console: Console, details: bool = False) -> None:
    _header(result, console)
    _input_problems(result, console)
    _collection_errors(result, console)
    console.print()
    _vm_stories(result, console)
    _to_fix(result, console)
    _next_steps(result, console)
    if details:
        _details(result, console)
    console.print()
    console.print(_verdict_line(result))


# --- the top and the bottom ----------------------------------------------------------------


def _question(result: CheckResult) -> str:
    ctx = result.context
    if ctx.zone_to_zone:
        return f"{display(ctx.source_region)}, zone to zone → zone {ctx.target_zone}"
    return f"{display(ctx.source_region)} → {display(ctx.target_region)}"


def _verdict_line(result: CheckResult) -> Text:
    counts = Counter(v.verdict for v in result.verdicts)
    return Text.assemble(
        (f"{len(result.verdicts)} VMs: ", "bold"),
        (f"ready {counts[Verdict.READY]}", _VERDICT_STYLE[Verdict.READY]),
        "   ",
        (f"blocked {counts[Verdict.BLOCKED]}", _VERDICT_STYLE[Verdict.BLOCKED]),
        "   ",
        (f"unknown {counts[Verdict.UNKNOWN]}", _VERDICT_STYLE[Verdict.UNKNOWN]),
        *(
            ("   ", (f"protected {protected}", _VERDICT_STYLE[Verdict.PROTECTED]))
            if (protected := counts[Verdict.PROTECTED])
            else ()
        ),
    )


def _header(result: CheckResult, console: Console) -> None:
    ctx = result.context
    console.print(Text.assemble(("ASR readiness ", "bold"), _question(result)))
    console.print(_verdict_line(result))
    # a path is never wrapped: it is copied whole, however deep the folder
    console.print(Text(f"snapshot {ctx.estate.snapshot.origin}", style="dim"), soft_wrap=True)
    newest = max((r.docs for r in result.rules), key=lambda d: d.rsplit("(", 1)[-1])
    console.print(
        Text(
            f"rules follow the ASR docs up to {newest}; `asr-preflight rules` dates each one",
            style="dim",
        )
    )


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


def _collection_errors(result: CheckResult, console: Console) -> None:
    for error in result.context.estate.snapshot.collection_errors:  # Azure's words: no markup
        console.print(
            Text.assemble(
                ("collection error ", "yellow"),
                f"{error.scope}: {error.operation}: {error.message}",
            )
        )


# --- each VM's story -----------------------------------------------------------------------


def _vm_stories(result: CheckResult, console: Console) -> None:
    """Per VM: its verdict and, in words, what decides it (warnings for ready VMs too)."""
    titles = {r.id: r.title for r in result.rules}
    replication = {r.id for r in result.rules if r.area is Area.REPLICATION}
    by_vm: dict[str, dict[str, Status]] = defaultdict(dict)
    index = scope_index([*result.context.vms, *result.context.protected_vms])
    for finding in result.findings:
        if finding.status not in _SHOWN:
            continue
        for key in concerns(finding, index):
            worst = by_vm[key].get(finding.rule)
            if worst is None or _SHOWN.index(finding.status) < _SHOWN.index(worst):
                by_vm[key][finding.rule] = finding.status
    console.print(Text("Virtual machines", style="bold"))
    lines: list[Any] = []  # printed at once: one print per line costs seconds at 10,000 VMs
    told = sorted(result.verdicts, key=lambda v: _TOLD_FIRST.index(v.verdict))[:_STORIES]
    chosen = {id(v) for v in told}
    for item in (v for v in result.verdicts if id(v) in chosen):
        vm = item.vm
        lines.append(
            Text.assemble(
                f"  {vm.name} ",
                (f"({vm.resource_group}) ", "dim"),
                (item.verdict.value.upper(), _VERDICT_STYLE[item.verdict]),
            )
        )
        rules = by_vm.get(vm.key, {})
        if item.verdict is Verdict.PROTECTED:
            # not a new enablement: only how its replication is doing
            rules = {r: status for r, status in rules.items() if r in replication}
            for rule, status in sorted(rules.items()):
                lines.append(_story_line(status, titles.get(rule, rule), rule))
            continue
        # What decides the verdict: failures for a blocked VM, unknowns for an unknown one,
        # warnings for a ready one; the rest is counted, and listed below.
        wanted = {
            Verdict.BLOCKED: Status.FAIL,
            Verdict.UNKNOWN: Status.UNKNOWN,
            Verdict.READY: Status.WARN,
        }[item.verdict]
        for rule in sorted(r for r, status in rules.items() if status is wanted):
            lines.append(_story_line(wanted, titles.get(rule, rule), rule))
        others = Counter(status for status in rules.values() if status is not wanted)
        if others:
            words = ", ".join(f"{n} {_WORDS[status]}" for status, n in sorted(others.items()))
            lines.append(Text(f"      and {words}", style="dim"))
    console.print(Group(*lines))
    if len(result.verdicts) > len(told):
        console.print(
            Text(
                f"  … and {len(result.verdicts) - len(told)} more VMs, told in --output html, "
                "csv or json (blocked and unknown ones are told first)",
                style="dim",
            )
        )


def _story_line(status: Status, title: str, rule: str) -> Padding:
    return Padding(
        Text.assemble((_MARK[status], _STATUS_STYLE[status]), f" {title} ", (f"[{rule}]", "dim")),
        (0, 0, 0, 6),
    )


# --- what to fix, grouped ------------------------------------------------------------------


@dataclass
class _Group:
    first: Finding
    resources: list[str] = field(default_factory=list)
    alike: bool = True  # every finding of the group has the first one's message


def _groups(findings: list[Finding]) -> list[_Group]:
    """Failures that say the same thing (rule, message, fix) about several resources are read
    once; unknowns and warnings of one rule are read once whatever their details (the first
    stands for the others; --details lists each)."""
    groups: dict[tuple, _Group] = {}
    for finding in findings:
        key: tuple = (finding.rule, finding.status, finding.waiver)
        if finding.status is Status.FAIL:
            key += (finding.message, finding.remedy)
        group = groups.setdefault(key, _Group(finding))
        group.resources.append(ids.name(finding.resource_id) if finding.resource_id else "estate")
        group.alike = group.alike and finding.message == group.first.message
    return sorted(
        groups.values(),
        key=lambda g: (_SHOWN.index(g.first.status), g.first.resource_id is not None, g.first.rule),
    )


def _to_fix(result: CheckResult, console: Console) -> None:
    shown = [f for f in result.findings if f.status in _SHOWN]
    if not shown:
        return
    titles = {r.id: r.title for r in result.rules}
    console.print()
    console.rule(Text("What to fix (and, last, what to review)", style="bold"), align="left")
    for group in _groups(shown):
        finding = group.first
        code = f" [{finding.asr_error_code}]" if finding.asr_error_code else ""
        console.print(
            Padding(
                Text.assemble(
                    (f"{finding.status.value.upper():8}", _STATUS_STYLE[finding.status]),
                    (f"{finding.rule}{code} ", "bold"),
                    titles.get(finding.rule, ""),
                ),
                (0, 0, 0, 0),
            )
        )
        where = group.resources
        named = ", ".join(where[:_VMS_NAMED]) + (
            f" and {len(where) - _VMS_NAMED} more" if len(where) > _VMS_NAMED else ""
        )
        message = finding.message
        if finding.status is Status.WARN:  # to review, not to fix: one line each
            shown = message if len(message) <= 100 else message[:100].rsplit(" ", 1)[0] + " …"
            console.print(Padding(Text(f"{named}: {shown}"), (0, 0, 0, 8)))
            continue
        if len(message) > _MESSAGE_SHOWN:
            message = message[:_MESSAGE_SHOWN].rsplit(" ", 1)[0] + " … (--details has it all)"
        if not group.alike:
            message = f"{message} (for {group.resources[0]}; the others alike, in detail)"
        console.print(Padding(Text(f"{named}: {message}"), (0, 0, 0, 8)))
        _waiver(finding, console, 8)
        if finding.remedy:
            _remedy(finding.remedy, console)


def _remedy(remedy: str, console: Console) -> None:
    """Prose wrapped; every az command on a line of its own, whole."""
    label = "fix: "
    for segment in remedy.split("; "):
        parts = _COMMAND.split(segment, maxsplit=1)
        prose, command = (parts[0], parts[1]) if len(parts) == 2 else (segment, "")
        prose = prose.rstrip()
        if prose:
            console.print(Padding(Text(label + prose), (0, 0, 0, 8)))
            label = ""
        if command:
            if label:
                console.print(Padding(Text(label.rstrip()), (0, 0, 0, 8)))
                label = ""
            command, *rest = _PROSE_AGAIN.split(command, maxsplit=1)
            console.print(Text(f"          {command}"), soft_wrap=True)
            if rest:
                console.print(Padding(Text(rest[0]), (0, 0, 0, 8)))


# --- next steps ----------------------------------------------------------------------------


def _next_steps(result: CheckResult, console: Console) -> None:
    ctx = result.context
    counts = Counter(f.status for f in result.findings)
    blocked = [v for v in result.verdicts if v.verdict is Verdict.BLOCKED]
    steps = []
    if counts[Status.FAIL]:
        steps.append(
            f"Fix what blocks {len(blocked)} VMs: the FAIL entries above, estate-wide ones "
            "(subscription, vault, quota) first; each says how."
        )
    if counts[Status.UNKNOWN]:
        steps.append(
            "Export what the UNKNOWN entries name, so they can be decided; "
            "`asr-preflight export-script` writes every export at once."
        )
    question = (
        f"--snapshot {ctx.estate.snapshot.origin} --source-region {ctx.source_region} "
        f"--target-region {ctx.target_region}"
    )
    scripted = {
        f.rule for f in result.findings if f.actions and not f.waived and f.status is Status.FAIL
    }
    if scripted:
        steps.append(
            f"A script can fix {', '.join(sorted(scripted))}: write it, review it, run it, "
            "check again (--simulate shows the check it would leave):"
        )
        steps.append(f"asr-preflight fix {question} --script fix.sh")
    steps.append("See what ASR will create and the quota it needs:")
    steps.append(f"asr-preflight plan {question}")
    if any(f.area is Area.NETWORKING and f.status is Status.FAIL for f in result.findings):
        steps.append("See the network path that decides each destination:")
        steps.append(f"asr-preflight explain network {question} --vm <name>")
    steps.append("Run this check again after each change; --details lists every finding.")
    console.print()
    console.rule(Text("Next steps", style="bold"), align="left")
    number = 0
    for step in steps:
        if step.startswith("asr-preflight "):
            console.print(Text(f"     {step}"), soft_wrap=True)
        else:
            number += 1
            console.print(Padding(Text(f"{number}. {step}"), (0, 0, 0, 2)))


# --- every finding, by area (--details) ----------------------------------------------------


def _details(result: CheckResult, console: Console) -> None:
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
        order = (*_SHOWN, Status.PASS, Status.SKIP)
        for finding in sorted(findings, key=lambda f: (order.index(f.status), f.rule)):
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
    console.print(Padding(Text(f"{title}: {finding.message}"), (0, 0, 0, 10)))
    _waiver(finding, console, 10)
    if finding.remedy:
        _remedy(finding.remedy, console)


def _waiver(finding: Finding, console: Console, indent: int) -> None:
    """A waiver is shown where its finding is: it hides nothing."""
    waiver = finding.waiver
    if waiver is None:
        return
    text = (
        f"waiver EXPIRED on {waiver.expires}, so this counts again: {waiver.reason}"
        if waiver.expired
        else f"WAIVED until {waiver.expires} (decides nothing until then): {waiver.reason}"
    )
    console.print(Padding(Text(text, style="magenta"), (0, 0, 0, indent)))
