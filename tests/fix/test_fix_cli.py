"""`asr-preflight fix` on the example estate, as a user runs it: the script, the simulated check in
every format, exit codes, and what is left to a person."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from test_cli import BOB, EXAMPLE, ROOT, cli

WHOLE = ["--snapshot", str(EXAMPLE), "--pair", "eastus=centralus", "--target-region", "paired"]
# What no script can fix: the OS, the VM's own placement and hardware, the guest, the churn.
NEEDS_A_PERSON = {
    "ASR-CAP-001",  # no size in the target region fits the VM
    "ASR-ENC-002",  # dual-pass ADE, ADE on unmanaged disks
    "ASR-ENC-005",  # confidential VM, early Linux trusted launch
    "ASR-NET-001",  # only vm-nsg-01: its NSG's blocking rule sits at priority 100
    "ASR-NET-003",  # how the subnet reaches the internet is a design choice
    "ASR-NET-005",  # the guest's proxy
    "ASR-REP-001",  # the workload's write rate
    "ASR-STO-005",  # ephemeral and unmanaged disks
    "ASR-STO-007",  # a disk over the maximum size
    "ASR-VM-001",
    "ASR-VM-002",
    "ASR-VM-003",
    "ASR-VM-004",
    "ASR-VM-005",
    "ASR-VM-006",
    "ASR-VM-007",
    "ASR-VM-008",
    "ASR-VM-101",
    "ASR-VM-102",
}


def test_simulation_of_the_example_leaves_only_what_needs_a_person(tmp_path):
    script = tmp_path / "fix.sh"
    result = cli(
        "fix", *WHOLE, "--principal-id", BOB, "--script", str(script), "--simulate",
        "--output", "json",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # the example keeps VMs a person must fix
    report = json.loads(result.stdout)
    failing = {f["rule"] for f in report["findings"] if f["status"] == "fail"}
    assert failing <= NEEDS_A_PERSON, failing - NEEDS_A_PERSON
    fixed = {"ASR-SUB-002", "ASR-CAP-002", "ASR-CAP-003", "ASR-CAP-005", "ASR-ENC-001"}
    assert not failing & fixed
    summary = report["fix"]
    tried = {(n["rule"], n["resource_id"]) for n in summary["needs_person"] if n["why"]}
    for finding in report["findings"]:  # a failure left has no fix, or one that cannot be made
        if finding["status"] == "fail" and finding.get("actions"):
            assert (finding["rule"], finding["resource_id"]) in tried, finding
    assert summary["simulated"] is True and summary["script"] == str(script)
    assert {n["rule"] for n in summary["needs_person"]} == failing
    [nsg] = [n for n in summary["needs_person"] if n["rule"] == "ASR-NET-001"]
    assert "no free priority ahead of 100" in nsg["why"]
    assert [s["number"] for s in summary["steps"]] == list(range(1, len(summary["steps"]) + 1))
    # the example's README says what the script holds
    readme = (EXAMPLE / "README.md").read_text()
    assert f"`fix.sh` holds {len(summary['steps'])} steps" in readme
    assert stat.S_IMODE(script.stat().st_mode) & stat.S_IXUSR
    # the pairs' shared quota was raised for both: the estate no longer reports it shared
    before_pairs = json.loads(cli("fix", *WHOLE, "--principal-id", BOB, "--output", "json").stdout)[
        "pairs"
    ]
    assert any(p["shares_quota_with"] for p in before_pairs)
    assert not any(p["shares_quota_with"] for p in report["pairs"])
    # the simulation blocks fewer VMs than the estate as it is
    before = json.loads(cli("check", *WHOLE, "--principal-id", BOB, "--output", "json").stdout)
    blocked = lambda r: sum(p["verdicts"]["blocked"] for p in r["pairs"])  # noqa: E731
    assert blocked(report) < blocked(before)


def test_the_table_shows_the_steps_and_who_must_act(tmp_path):
    result = cli("fix", *WHOLE, "--principal-id", BOB, "--simulate")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "What fix does:" in out and "applied in the simulation above" in out
    assert "Needs a person:" in out and "ASR-VM-003 vm-legacy-01" in out
    assert "Traceback" not in result.stderr


def test_without_simulate_fix_lists_the_plan_and_exits_as_check_does(tmp_path):
    result = cli("fix", *WHOLE, "--principal-id", BOB, "--output", "json")
    check = cli("check", *WHOLE, "--principal-id", BOB, "--output", "json")
    assert result.returncode == check.returncode == 1
    report = json.loads(result.stdout)
    assert report["fix"]["simulated"] is False and report["fix"]["steps"]
    assert report["findings"] == json.loads(check.stdout)["findings"]


def test_other_formats_carry_the_simulated_check_and_the_steps_go_to_stderr(tmp_path):
    result = cli(
        "fix", "--snapshot", str(EXAMPLE), "--source-region", "eastus", "--target-region",
        "centralus", "--principal-id", BOB, "--simulate", "--output", "sarif",
    )  # fmt: skip
    assert result.returncode == 1
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"] if r["level"] == "error"}
    assert "ASR-SUB-002" not in rules and "ASR-VM-003" in rules
    assert "What fix does:" in result.stderr


def test_fix_is_read_only_it_writes_the_script_file_only(tmp_path):
    """No write API is called: the command never reads credentials for a snapshot, and the
    only file it creates is the script."""
    before = set(os.listdir(tmp_path))
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "asr-preflight"), "fix", *WHOLE, "--script", "s.sh"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert set(os.listdir(tmp_path)) - before == {"s.sh"}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["fix", *WHOLE, "--script", "/nonexistent/dir/fix.sh"], "cannot write the script"),
        (["check", *WHOLE, "--guest", "foo"], "expected run-command, found 'foo'"),
        (["check", *WHOLE, "--guest", "run-command", "--yes-run-in-vms"], "with --live"),
        (["check", *WHOLE, "--yes-run-in-vms"], "only applies with --guest run-command"),
        (
            ["collect", "--subscription", "11111111-1111-4111-8111-111111111111",
             "--source-region", "eastus", "--target-region", "centralus", "-o", "x.json",
             "--vm", "vm-web-01"],
            "only apply with --guest run-command",
        ),
    ],
)  # fmt: skip
def test_a_wrong_option_of_fix_or_guest_gets_one_line(args, words):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
