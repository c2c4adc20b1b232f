"""A Markdown summary for a pull request comment or a CI step summary: the counts, each VM's
verdict, and the blockers that stop the most VMs with how to fix them. Short on purpose: the
JSON, SARIF and HTML reports hold the rest."""

from __future__ import annotations

from collections import defaultdict

from asr_preflight.engine import CheckResult, concerns, scope_index
from asr_preflight.findings import Status
from asr_preflight.knowledge.regions import display
from asr_preflight.report.model import Report

VMS_LISTED = 50  # a PR comment holds 65,536 characters
BLOCKERS_LISTED = 10


def render(result: CheckResult, report: Report) -> str:
    s = report.summary
    counts = ", ".join(f"{verdict.value} {n}" for verdict, n in s.verdicts.items() if n)
    lines = [
        f"## ASR readiness: {display(s.source_region)} → {display(s.target_region)}",
        "",
        f"**{s.vms} VMs**: {counts}. Findings: "
        + ", ".join(f"{status.value} {n}" for status, n in s.statuses.items() if n)
        + (f"; {s.waived} waived" if s.waived else "")
        + ".",
        "",
        "| VM | resource group | verdict | because of |",
        "| --- | --- | --- | --- |",
    ]
    for entry in report.vms[:VMS_LISTED]:
        lines.append(
            f"| {_cell(entry.name)} | {_cell(entry.resource_group)} | {entry.verdict.value} | "
            f"{', '.join(entry.rules) or '-'} |"
        )
    if len(report.vms) > VMS_LISTED:
        lines.append(f"| … {len(report.vms) - VMS_LISTED} more | | | |")
    blockers = _blockers(result)
    if blockers:
        lines += ["", "### Top blockers", ""]
        titles = {r.id: r.title for r in result.rules}
        for rule, (vms, remedy) in blockers[:BLOCKERS_LISTED]:
            lines.append(f"- **{rule}** {titles.get(rule, '')}: {vms} VM(s)")
            if remedy:
                fix = f"`{remedy}`" if remedy.startswith("az ") else remedy
                lines.append(f"  - fix: {fix}")
    if s.input_problems or s.collection_errors:
        lines += [
            "",
            f"{len(s.input_problems)} input problem(s) and {len(s.collection_errors)} "
            "collection error(s): see the JSON report.",
        ]
    return "\n".join(lines) + "\n"


def _blockers(result: CheckResult) -> list[tuple[str, tuple[int, str | None]]]:
    """Failing rules by how many VMs they block, with the first remedy each gives."""
    index = scope_index(result.context.vms)
    vms: dict[str, set[str]] = defaultdict(set)
    remedy: dict[str, str | None] = {}
    for finding in result.findings:
        if finding.status is Status.FAIL and not finding.waived:
            vms[finding.rule].update(concerns(finding, index))
            remedy.setdefault(finding.rule, finding.remedy)
    ranked = sorted(vms, key=lambda rule: (-len(vms[rule]), rule))
    return [(rule, (len(vms[rule]), remedy[rule])) for rule in ranked]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
