"""Every report format of one run agrees with the JSON report of the same run, and each is read
by what reads it in the field: the official SARIF schema, a JUnit consumer, a CSV reader."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from junitparser import Failure, JUnitXml, Skipped
from rich.console import Console

from asr_preflight.report import console as console_report

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "contoso"
SARIF_SCHEMA = ROOT / "tests" / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"
QUESTION = [
    "--snapshot",
    str(EXAMPLE),
    "--source-region",
    "eastus",
    "--target-region",
    "centralus",
    "--principal-id",
    "bbbbbbbb-0000-4000-8000-000000000002",
]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("asr-preflight")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    """One run, every format (--report-dir), passes listed too (--all-findings)."""
    folder = tmp_path_factory.mktemp("reports")
    done = cli("check", *QUESTION, "--report-dir", str(folder), "--all-findings")
    assert done.returncode == 1, done.stderr
    return folder


def _json(folder: Path) -> dict:
    return json.loads((folder / "report.json").read_text())


def test_report_dir_writes_every_format(reports):
    names = {p.name for p in reports.iterdir()}
    assert names == {
        "report.json",
        "report.sarif",
        "report.junit.xml",
        "report.md",
        "report.csv",
        "report.html",
        "report.txt",
    }
    assert (
        "18 VMs: ready 2   blocked 14   unknown 1   protected 1"
        in (reports / "report.txt").read_text()
    )


def test_sarif_is_valid_and_holds_each_fail_and_warning(reports):
    sarif = json.loads((reports / "report.sarif").read_text())
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    report = _json(reports)
    expected = [f for f in report["findings"] if f["status"] in ("fail", "warn")]
    [run] = sarif["runs"]
    results = run["results"]
    assert len(results) == len(expected)
    assert sorted((r["ruleId"], r["level"]) for r in results) == sorted(
        (f["rule"], "error" if f["status"] == "fail" else "warning") for f in expected
    )
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == set(report["rules"])
    assert all(r["helpUri"].startswith("https://") and r["help"]["text"] for r in rules)
    for result in results:  # the rule each result points at, and its Azure resource
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        [location] = result["locations"]
        assert location["logicalLocations"][0]["fullyQualifiedName"].startswith("/")
    fingerprints = [r["partialFingerprints"]["asrPreflightFinding/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)


def test_sarif_fingerprints_are_stable_across_runs(reports):
    again = cli("check", *QUESTION, "--output", "sarif")
    first = json.loads((reports / "report.sarif").read_text())["runs"][0]["results"]
    second = json.loads(again.stdout)["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in first] == [r["partialFingerprints"] for r in second]


def test_junit_has_a_case_per_vm_failing_exactly_when_blocked(reports):
    xml = JUnitXml.fromfile(str(reports / "report.junit.xml"))
    suites = list(xml)
    vms, estate = suites
    report = _json(reports)
    verdicts = {v["name"]: v for v in report["vms"]}
    cases = list(vms)
    assert {c.name for c in cases} == set(verdicts)
    for case in cases:
        verdict = verdicts[case.name]["verdict"]
        kinds = {type(r) for r in case.result}
        assert (Failure in kinds) == (verdict == "blocked"), case.name
        assert (Skipped in kinds) == (verdict == "unknown"), case.name
        if verdict == "blocked":
            text = case.result[0].text
            assert all(f"[{rule}]" in text for rule in verdicts[case.name]["rules"])
    assert vms.failures == report["summary"]["verdicts"]["blocked"]
    assert vms.skipped == report["summary"]["verdicts"]["unknown"]
    estate_rules = {c.name.split()[0] for c in estate}
    assert {"ASR-VAULT-001", "ASR-SUB-003"} <= estate_rules


def test_csv_has_one_row_per_finding_with_the_json_fields(reports):
    rows = list(csv.DictReader(io.StringIO((reports / "report.csv").read_text())))
    findings = _json(reports)["findings"]
    assert len(rows) == len(findings)
    for row, f in zip(rows, findings, strict=True):
        assert (row["rule"], row["status"], row["message"]) == (
            f["rule"],
            f["status"],
            f["message"],
        )
        assert row["resource_id"] == (f["resource_id"] or "")
        assert row["remedy"] == (f["remedy"] or "")
        assert row["affected_vms"].split() == list(f.get("affected_vms") or [])


def test_markdown_summarises_counts_vms_and_top_blockers(reports):
    text = (reports / "report.md").read_text()
    report = _json(reports)
    assert "**18 VMs**: ready 2, blocked 14, unknown 1, protected 1" in text
    for vm in report["vms"]:
        assert f"| {vm['name']} | {vm['resource_group']} | {vm['verdict']} |" in text
    assert "### Top blockers" in text and "ASR-CAP-002" in text
    assert len(text) < 65_536


def test_each_format_goes_to_standard_output(reports):
    for fmt, check in (
        ("markdown", lambda out: out.startswith("## ASR readiness")),
        ("csv", lambda out: out.startswith("rule,area,status")),
        ("junit", lambda out: out.startswith("<?xml")),
        ("html", lambda out: out.startswith("<!DOCTYPE html>")),
    ):
        done = cli("check", *QUESTION, "--output", fmt)
        assert done.returncode == 1 and check(done.stdout), fmt


def test_the_table_tells_500_vms_and_counts_the_rest(estate, tmp_path):
    estate.files["vms.json"] += [estate.vm(f"vm{n:03d}") for n in range(510)]
    result = estate.check(tmp_path)
    out = io.StringIO()
    console_report.render(result, Console(file=out, width=100, color_system=None))
    text = out.getvalue()
    told = [line for line in text.splitlines() if line.startswith("  vm") and "(rg-app)" in line]
    assert len(told) == 500
    assert "… and 11 more VMs, told in --output html, csv or json" in " ".join(text.split())
