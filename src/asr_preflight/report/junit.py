"""JUnit XML for a pipeline's test tab: one test case per VM (a failure exactly when it is
blocked, listing what blocks it; skipped when unknown, saying why), and one per estate-wide rule
(the vault, the region pair, the subscription), which decide every VM at once."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from asr_preflight.engine import CheckResult, concerns, scope_index
from asr_preflight.findings import Finding, Status, Verdict
from asr_preflight.report.model import Report


def render(result: CheckResult, report: Report) -> bytes:
    by_vm: dict[str, list[Finding]] = defaultdict(list)
    estate: dict[str, list[Finding]] = defaultdict(list)
    vm_keys = {v.vm.key for v in result.verdicts}
    index = scope_index([v.vm for v in result.verdicts])
    for finding in result.findings:
        for key in concerns(finding, index):  # a VM's own, its group's, its subscription's …
            by_vm[key].append(finding)
        if finding.affected_vms is None and (finding.resource_id or "").lower() not in vm_keys:
            estate[finding.rule].append(finding)  # … and those about no one VM, once more
    pair = f"{report.summary.source_region} to {report.summary.target_region}"
    root = ET.Element("testsuites", name="asr-preflight")
    vms = ET.SubElement(root, "testsuite", name=f"VMs, {pair}")
    for verdict in result.verdicts:
        case = ET.SubElement(
            vms, "testcase", classname=f"vm.{verdict.vm.resource_group}", name=verdict.vm.name
        )
        findings = by_vm.get(verdict.vm.key, [])
        if verdict.verdict is Verdict.BLOCKED:
            failing = [f for f in findings if f.status is Status.FAIL and not f.waived]
            failure = ET.SubElement(
                case, "failure", type="blocked", message=f"blocked by {', '.join(verdict.blocking)}"
            )
            failure.text = _lines(failing)
        elif verdict.verdict is Verdict.UNKNOWN:
            unknown = [f for f in findings if f.status is Status.UNKNOWN and not f.waived]
            ET.SubElement(
                case, "skipped", message=f"unknown: {', '.join(verdict.blocking)}"
            ).text = _lines(unknown)
    count(vms)
    wide = ET.SubElement(root, "testsuite", name=f"Estate-wide checks, {pair}")
    titles = {rule.id: rule.title for rule in result.rules}
    for rule_id, findings in sorted(estate.items()):
        case = ET.SubElement(
            wide, "testcase", classname="estate", name=f"{rule_id} {titles.get(rule_id, '')}"
        )
        failing = [f for f in findings if f.status is Status.FAIL and not f.waived]
        unknown = [f for f in findings if f.status is Status.UNKNOWN and not f.waived]
        if failing:
            ET.SubElement(case, "failure", type="fail", message=failing[0].message).text = _lines(
                failing
            )
        elif unknown:
            ET.SubElement(case, "skipped", message=unknown[0].message).text = _lines(unknown)
    count(wide)
    count(root)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _lines(findings: list[Finding]) -> str:
    return "\n".join(
        f"[{f.rule}] {f.message}" + (f"\n  fix: {f.remedy}" if f.remedy else "") for f in findings
    )


def count(element: ET.Element) -> None:
    """tests, failures, skipped and errors of a suite (or of all suites), from its cases."""
    cases = element.iter("testcase")
    tests = failures = skipped = 0
    for case in cases:
        tests += 1
        failures += case.find("failure") is not None
        skipped += case.find("skipped") is not None
    element.set("tests", str(tests))
    element.set("failures", str(failures))
    element.set("skipped", str(skipped))
    element.set("errors", "0")
