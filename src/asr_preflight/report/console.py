"""The console report, for a person to act on: the verdicts first, each VM's story in a few
words, then what to fix, grouped so a finding shared by many VMs is read once, then next steps
and the verdicts again. Prose wraps at the terminal's width; commands never do (they overflow,
so a copy gives the whole command). Every finding, passes included, is behind --details.
Colour only when the output is a terminal (rich decides; NO_COLOR is honoured)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.console import Console, Group
from rich.padding import Padding
from rich.table import Table
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
# characters of a message or a fix's prose shown in the lists; --details shows them whole
_MESSAGE_SHOWN = 200
_UNKNOWN_SHOWN = 120
_REMEDY_SHOWN = 240
_WARNING_SHOWN = 110
_SHOWN = (Status.FAIL, Status.UNKNOWN, Status.WARN)
_PROBLEMS_SHOWN = 10
_VMS_NAMED = 6  # a group names this many VMs, then counts the rest
_STORIES = 500  # VMs told one by one in the table; the other formats tell every one
_TOLD_FIRST = (Verdict.BLOCKED, Verdict.UNKNOWN, Verdict.PROTECTED, Verdict.READY)
_DECIDES = {Verdict.BLOCKED: Status.FAIL, Verdict.UNKNOWN: Status.UNKNOWN}
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
    _to_export(result, console)
    _to_review(result, console)
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
    """A line per VM: its verdict and, in a few words, what decides it (the failures of a
    blocked VM, the unknowns of an unknown one, the warnings of a ready one); the rest counted."""
    labels = {r.id: r.label for r in result.rules}
    replication = {r.id for r in result.rules if r.area is Area.REPLICATION}
    by_vm: dict[str, dict[str, Status]] = defaultdict(dict)
    index = scope_index([*result.context.vms, *result.context.protected_vms])
    for finding in result.findings:
        if finding.status not in _SHOWN or finding.waived:
            continue
        for key in concerns(finding, index):
            worst = by_vm[key].get(finding.rule)
            if worst is None or _SHOWN.index(finding.status) < _SHOWN.index(worst):
                by_vm[key][finding.rule] = finding.status
    console.print(Text("Virtual machines", style="bold"))
    told = sorted(result.verdicts, key=lambda v: _TOLD_FIRST.index(v.verdict))[:_STORIES]
    chosen = {id(v) for v in told}
    # one grid, printed at once: one print per line costs seconds at 10,000 VMs
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column()
    for item in (v for v in result.verdicts if id(v) in chosen):
        vm = item.vm
        statuses = by_vm.get(vm.key, {})
        if item.verdict is Verdict.PROTECTED:  # not a new enablement: how replication is doing
            statuses = {r: s for r, s in statuses.items() if r in replication}
        wanted = _DECIDES.get(item.verdict, Status.WARN)
        words = ", ".join(sorted(labels.get(r, r) for r, s in statuses.items() if s is wanted))
        if words and wanted is Status.WARN:
            words = f"to review: {words}"
        others = Counter(status for status in statuses.values() if status is not wanted)
        rest = ", ".join(f"{n} {_WORDS[status]}" for status, n in sorted(others.items()))
        grid.add_row(
            Text.assemble(f"  {vm.name} ", (f"({vm.resource_group})", "dim")),
            Text(item.verdict.value.upper(), style=_VERDICT_STYLE[item.verdict]),
            Text.assemble(words, ("; " if words and rest else "") + rest),
        )
    console.print(grid)
    if len(result.verdicts) > len(told):
        console.print(
            Text(
                f"  … and {len(result.verdicts) - len(told)} more VMs, told in --output html, "
                "csv or json (blocked and unknown ones are told first)",
                style="dim",
            )
        )


# --- what to fix, what to export, what to review -------------------------------------------


@dataclass
class _Group:
    first: Finding
    resources: list[str] = field(default_factory=list)
    alike: bool = True  # every finding of the group has the first one's message
    same_remedy: bool = True  # and its remedy


def _groups(findings: list[Finding], key: Callable[[Finding], tuple]) -> list[_Group]:
    """Findings with the same `key` are read once, the first standing for the others (with
    their resources named); --details lists each."""
    groups: dict[tuple, _Group] = {}
    for finding in findings:
        group = groups.setdefault(key(finding), _Group(finding))
        group.resources.append(ids.name(finding.resource_id) if finding.resource_id else "estate")
        group.alike = group.alike and finding.message == group.first.message
        group.same_remedy = group.same_remedy and finding.remedy == group.first.remedy
    return sorted(groups.values(), key=lambda g: (g.first.resource_id is not None, g.first.rule))


def _named(resources: list[str]) -> str:
    unique = list(dict.fromkeys(resources))
    more = len(unique) - _VMS_NAMED
    return ", ".join(unique[:_VMS_NAMED]) + (f" and {more} more" if more > 0 else "")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def _to_fix(result: CheckResult, console: Console) -> None:
    """Failures by rule: what, where, and the fix once for the resources it fixes."""
    failing = [f for f in result.findings if f.status is Status.FAIL]
    if not failing:
        return
    titles = {r.id: r.title for r in result.rules}
    console.print()
    console.rule(Text("What to fix", style="bold"), align="left")
    groups = _groups(failing, lambda f: (f.rule, f.waiver, f.message, f.remedy))
    for number, group in enumerate(groups):
        finding = group.first
        if number == 0 or groups[number - 1].first.rule != finding.rule:
            code = f" [{finding.asr_error_code}]" if finding.asr_error_code else ""
            console.print(
                Text.assemble(
                    (_MARK[Status.FAIL], _STATUS_STYLE[Status.FAIL]),
                    (f" {finding.rule}{code} ", "bold"),
                    titles.get(finding.rule, ""),
                )
            )
        message = _cut(finding.message, _MESSAGE_SHOWN)
        console.print(Padding(Text(f"{_named(group.resources)}: {message}"), (0, 0, 0, 2)))
        _waiver(finding, console, 2)
        following = groups[number + 1].first if number + 1 < len(groups) else None
        shared = following and (following.rule, following.remedy) == (
            finding.rule,
            finding.remedy,
        )
        if finding.remedy and not shared:  # several groups with one fix: said once, after them
            _remedy(finding.remedy, console, 2)


def _to_export(result: CheckResult, console: Console) -> None:
    """Unknowns by rule, the first standing for the others (its export command shows the
    shape); rules that one export decides for the same resources are read together."""
    unknown = [f for f in result.findings if f.status is Status.UNKNOWN]
    if not unknown:
        return
    console.print()
    console.rule(Text("Not known until exported", style="bold"), align="left")
    for group in _merge_rules(_groups(unknown, lambda f: (f.rule, f.waiver))):
        finding = group.first
        message = _cut(finding.message, _UNKNOWN_SHOWN)
        if not group.alike:  # the first stands for the others: say so
            message += f" (that is {group.resources[0]}; the others alike)"
        console.print(
            Text.assemble(
                (_MARK[Status.UNKNOWN], _STATUS_STYLE[Status.UNKNOWN]),
                (f" {group.rules} ", "bold"),
                f"{_named(group.resources)}: {message}",
            )
        )
        _waiver(finding, console, 2)
        if finding.remedy:
            _remedy(finding.remedy, console, 2)


@dataclass
class _Merged:
    first: Finding
    resources: list[str]
    alike: bool  # every finding has the first one's message and remedy
    rules: str


def _merge_rules(groups: list[_Group]) -> list[_Merged]:
    """Groups of several rules that one export decides for the same resources (the guest
    probe decides five rules)."""
    merged: dict[tuple, _Merged] = {}
    for group in groups:
        finding = group.first
        key = (finding.remedy, finding.waiver, tuple(dict.fromkeys(group.resources)))
        into = merged.get(key)
        if into is None:
            alike = group.alike and group.same_remedy
            merged[key] = _Merged(finding, group.resources, alike, finding.rule)
        else:
            into.rules += f", {finding.rule}"
    return list(merged.values())


def _to_review(result: CheckResult, console: Console) -> None:
    """Warnings: each rule's first in two lines at most (--details has them whole)."""
    warnings = [f for f in result.findings if f.status is Status.WARN]
    if not warnings:
        return
    console.print()
    console.rule(Text("To review", style="bold"), align="left")
    lines = []
    for group in _groups(warnings, lambda f: (f.rule, f.waiver)):
        finding = group.first
        code = f" [{finding.asr_error_code}]" if finding.asr_error_code else ""
        waived = " (waived)" if finding.waived else ""
        lines.append(
            Text.assemble(
                (_MARK[Status.WARN], _STATUS_STYLE[Status.WARN]),
                (f" {finding.rule}{code}{waived} ", "bold"),
                f"{_named(group.resources)}: {_cut(finding.message, _WARNING_SHOWN)}",
            )
        )
    console.print(Group(*lines))


def _remedy(remedy: str, console: Console, indent: int, limit: int | None = _REMEDY_SHOWN) -> None:
    """Prose wrapped (and cut, --details has it whole); every az command whole on a line of
    its own, so a copy gives all of it."""
    label = "fix: "
    for prose, command in _remedy_parts(remedy):
        if prose:
            console.print(
                Padding(Text(label + (_cut(prose, limit) if limit else prose)), (0, 0, 0, indent))
            )
            label = ""
        if command:
            if label:
                console.print(Padding(Text(label.rstrip()), (0, 0, 0, indent)))
                label = ""
            console.print(Text(" " * (indent + 2) + command), soft_wrap=True)


def _remedy_parts(remedy: str) -> list[tuple[str, str]]:
    """(prose, command) pairs: a command starts a remedy or follows ": " or "; " outside
    parentheses, and runs to where prose resumes; a command elided with "…" is prose."""
    parts: list[tuple[str, str]] = []
    for segment in _segments(remedy):
        found = _COMMAND.split(segment, maxsplit=1)
        if len(found) == 2 and "…" not in found[1]:
            command, *rest = _PROSE_AGAIN.split(found[1], maxsplit=1)
            parts.append((found[0].rstrip(), command))
            if rest:
                parts.append((rest[0], ""))
        else:
            parts.append((segment, ""))
    return parts


def _segments(text: str) -> list[str]:
    """`text` split at "; " outside parentheses."""
    segments, depth, start = [], 0, 0
    for at, char in enumerate(text):
        depth = max(depth + {"(": 1, ")": -1}.get(char, 0), 0)  # names may hold a lone ")"
        if depth == 0 and text.startswith("; ", at):
            segments.append(text[start:at])
            start = at + 2
    segments.append(text[start:])
    return segments


# --- next steps ----------------------------------------------------------------------------


def _next_steps(result: CheckResult, console: Console) -> None:
    ctx = result.context
    counts = Counter(f.status for f in result.findings)
    blocked = [v for v in result.verdicts if v.verdict is Verdict.BLOCKED]
    steps = []
    if counts[Status.FAIL]:
        steps.append(
            f"Fix what blocks {len(blocked)} VMs: what to fix above, estate-wide entries "
            "(subscription, vault, quota) first; each says how."
        )
    if counts[Status.UNKNOWN]:
        steps.append(
            "Export what is not known yet, so it can be decided; "
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
        _remedy(finding.remedy, console, 10, limit=None)


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
