"""The installed command, run as a user runs it: exit codes, outputs, and clean errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "contoso"
BOB = "bbbbbbbb-0000-4000-8000-000000000002"
PAIR = ["--source-region", "eastus", "--target-region", "centralus"]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("asr-preflight")
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "80", **(env or {})},
    )


def test_version():
    result = cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("asr-preflight 0.")


def test_rules_lists_every_area():
    result = cli("rules")
    assert result.returncode == 0
    for area in ("vault", "subscription", "capacity", "storage", "networking", "vm", "permissions"):
        assert f" {area} " in result.stdout


def test_json_report_validates_against_the_documented_schema():
    result = cli(
        "check", "--snapshot", str(EXAMPLE), *PAIR, "--principal-id", BOB, "--output", "json"
    )
    assert result.returncode == 1, result.stderr  # the example has blocked VMs
    report = json.loads(result.stdout)
    schema = json.loads((ROOT / "docs" / "report-schema.json").read_text())
    jsonschema.validate(report, schema)
    finding = report["findings"][0]
    assert set(finding) >= {
        "rule",
        "area",
        "status",
        "resource_id",
        "asr_error_code",
        "message",
        "remedy",
        "references",
    }
    assert {vm["verdict"] for vm in report["vms"]} == {"ready", "blocked", "unknown", "protected"}
    assert report["summary"]["verdicts"] == {
        v: sum(1 for vm in report["vms"] if vm["verdict"] == v)
        for v in ("ready", "blocked", "unknown", "protected")
    }


def test_json_lists_passes_only_when_asked():
    args = ["check", "--snapshot", str(EXAMPLE), *PAIR, "--principal-id", BOB, "--output", "json"]
    default = json.loads(cli(*args).stdout)
    everything = json.loads(cli(*args, "--all-findings").stdout)
    assert {f["status"] for f in default["findings"]} <= {"fail", "warn", "unknown", "skip"}
    assert "pass" in {f["status"] for f in everything["findings"]}
    assert default["summary"] == {**everything["summary"]}  # passes are counted either way
    assert (
        len(everything["findings"]) - len(default["findings"])
        == (default["summary"]["statuses"]["pass"])
    )


@pytest.mark.parametrize("columns", [80, 100])
def test_table_wraps_prose_at_the_width_and_never_a_command(columns):
    result = cli(
        "check", "--snapshot", str(EXAMPLE), *PAIR, "--principal-id", BOB,
        env={"COLUMNS": str(columns)},
    )  # fmt: skip
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    commands = [
        line.strip()
        for line in lines
        if line.lstrip().startswith(("az ", "asr-preflight ", "snapshot "))
    ]
    assert max(len(line) for line in lines if line.strip() not in commands) <= columns
    # no token of a command is cut at the end of a line (…/Micros + oft.Compute, --encry + ption)
    assert not [line for line in lines if re.search(r"(/Micros|--encry|--resource-gro)$", line)]
    assert "\x1b[" not in result.stdout
    # a command of the report, whole on its own line: copy-paste gives it all
    assert (
        "az provider register --namespace Microsoft.RecoveryServices --subscription "
        "22222222-2222-4222-8222-222222222222"
    ) in commands
    assert any(c.startswith("az quota update --resource-name standardESv5Family") for c in commands)


def test_table_tells_the_verdicts_first_and_last_and_each_vm_in_words():
    result = cli("check", "--snapshot", str(EXAMPLE), *PAIR, "--principal-id", BOB)
    lines = [line.rstrip() for line in result.stdout.splitlines() if line.strip()]
    verdicts = "18 VMs: ready 2   blocked 14   unknown 1   protected 1"
    assert lines[1] == verdicts and lines[-1] == verdicts
    text = result.stdout
    # one line per VM (wrapped only when the story is long): verdict, then what decides it
    story = re.search(r"^  vm-tiny-01 \(rg-web\) +BLOCKED +(.*)$", text, re.M)
    assert story and story.group(1).strip() == "size too small; 2 to review"
    legacy = re.search(r"^  vm-legacy-01 \(rg-legacy\) +BLOCKED +(.*)$", text, re.M)
    assert legacy and legacy.group(1).startswith("ADE configuration, COM+ and VSS services")
    ready = re.search(r"^  vm-web-01 \(rg-web\) +READY +(.*)$", text, re.M)
    assert ready and ready.group(1).startswith("to review: Linux filesystems")  # not clean
    sections = ["What to fix", "Not known until exported", "To review", "Next steps"]
    assert [text.index(s) for s in sections] == sorted(text.index(s) for s in sections)
    assert text.index("Next steps") < text.rindex(verdicts)
    assert "asr-preflight plan --snapshot" in text
    assert len(lines) < 300  # was 403 (564 before the report was told by VM)


def test_a_deep_snapshot_folder_is_printed_whole_and_moves_nothing(tmp_path):
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 6, "contoso")
    shutil.copytree(EXAMPLE, deep)
    result = cli("check", "--snapshot", str(deep), *PAIR, "--principal-id", BOB)
    lines = [line.rstrip() for line in result.stdout.splitlines() if line.strip()]
    assert lines[1] == "18 VMs: ready 2   blocked 14   unknown 1   protected 1"
    assert lines[2] == f"snapshot {deep}"


def test_details_lists_every_area_and_the_passes():
    result = cli("check", "--snapshot", str(EXAMPLE), *PAIR, "--principal-id", BOB, "--details")
    lines = result.stdout.splitlines()
    for area in ("vault", "subscription", "capacity", "storage", "networking", "vm", "permissions"):
        assert any(line.startswith(area) for line in lines), area
    assert "PASS" in result.stdout


def test_findings_shared_by_vms_are_read_once():
    result = cli("check", "--snapshot", str(EXAMPLE), *PAIR, "--principal-id", BOB)
    fix = result.stdout[result.stdout.index("What to fix") :]
    headers = [line for line in fix.splitlines() if not line.startswith(" ")]

    def read(rule: str) -> int:
        return sum(bool(re.search(rf"\b{rule}\b", h)) for h in headers)

    assert read("ASR-VM-101") == 2  # one failure; five unknowns, once
    assert read("ASR-VM-005") == 2  # two VMs fail alike; unknowns once
    assert read("ASR-REP-001") == 3  # a failure, eleven unknowns once, a warning
    # one export decides both rules for the same VMs: read together
    assert any(h.startswith("? ASR-VM-101, ASR-VM-103 vm-eph-01") for h in headers)
    # two VMs, one fix: the role assignment is printed once
    assert fix.count("az role assignment create") == 1
    assert "vm-app-01, vm-legacy-01: missing roots" in fix


def test_scope_filter_to_a_ready_vm_exits_0():
    result = cli(
        "check",
        "--snapshot",
        str(EXAMPLE),
        *PAIR,
        "--principal-id",
        BOB,
        "--vm",
        "vm-web-01",
        "--output",
        "json",
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert [vm["name"] for vm in json.loads(result.stdout)["vms"]] == ["vm-web-01"]


def test_fail_on_unknown_turns_unknown_into_exit_1():
    args = ["check", "--snapshot", str(EXAMPLE), *PAIR, "--principal-id", BOB, "--vm", "vm-web-02"]
    assert cli(*args).returncode == 0
    assert cli(*args, "--fail-on", "unknown").returncode == 1


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({"vms.json": '[{"id": 1,'}, PAIR, "expected valid JSON"),
        ({"vms.json": '[{"foo": 1}'}, PAIR, "vms.json: $: expected valid JSON"),
        ({}, PAIR, "no *.json files"),
        (
            {"vms.json": "[]"},
            ["--source-region", "atlantis", "--target-region", "centralus"],
            "--source-region: expected an Azure region name",
        ),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(tmp_path, files, args, message):
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    result = cli("check", "--snapshot", str(tmp_path), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_source_region_without_vms_is_a_usage_error():
    result = cli(
        "check",
        "--snapshot",
        str(EXAMPLE),
        "--source-region",
        "westus",
        "--target-region",
        "centralus",
    )
    assert result.returncode == 2 and "the snapshot's VMs are in: eastus" in result.stderr


def test_snapshot_command_bundles_a_folder_that_checks_the_same(tmp_path):
    out = tmp_path / "contoso.json"
    assert cli("snapshot", str(EXAMPLE), "-o", str(out)).returncode == 0
    args = [*PAIR, "--principal-id", BOB, "--output", "json"]
    from_folder = json.loads(cli("check", "--snapshot", str(EXAMPLE), *args).stdout)
    from_file = json.loads(cli("check", "--snapshot", str(out), *args).stdout)
    assert from_file["findings"] == from_folder["findings"]
    assert from_file["vms"] == from_folder["vms"]


def test_streamed_report_is_byte_for_byte_the_encoded_report(tmp_path):
    import io

    from asr_preflight.engine import Scope, run_check, select_vms
    from asr_preflight.model import build_estate
    from asr_preflight.report.model import build_report, encode, write
    from asr_preflight.rules import Context
    from asr_preflight.snapshot import load_snapshot

    estate = build_estate(load_snapshot(EXAMPLE))
    vms = select_vms(estate, Scope("eastus", "centralus"))
    report = build_report(
        run_check(
            Context(estate=estate, source_region="eastus", target_region="centralus", vms=vms)
        )
    )
    stream = io.BytesIO()
    write(report, stream, chunk=7)  # several chunks, one of them partial
    assert stream.getvalue() == encode(report) + b"\n"


def test_explain_permissions_names_the_one_missing_action():
    alice = "aaaaaaaa-0000-4000-8000-000000000001"
    args = [
        "explain",
        "permissions",
        "--snapshot",
        str(EXAMPLE),
        *PAIR,
        "--principal-id",
        alice,
        "--resource-group",
        "rg-web",
        "--target-resource-group",
        "rg-dr-cus",
        "--cache-storage-account",
        "contosoeusasrcache",
    ]
    result = cli(*args, "--output", "json")
    assert result.returncode == 1, result.stderr
    rows = json.loads(result.stdout)
    missing = [r for r in rows if r["access"] != "granted"]
    assert [(r["action"], r["role_to_grant"]) for r in missing] == [
        ("Microsoft.Storage/storageAccounts/listkeys/action", "Virtual Machine Contributor")
    ]
    assert missing[0]["scope"].endswith("/storageAccounts/contosoeusasrcache")
    granted = {r["action"]: r["via"] for r in rows if r["access"] == "granted"}
    assert granted["Microsoft.Compute/virtualMachines/write"].startswith("Contoso DR Operator at")
    table = cli(*args)
    assert "MISSING" in table.stdout
    assert "the narrowest built-in role with it: Virtual Machine Contributor" in table.stdout
    # and it closes with the one assignment that grants it, whole on its line
    lines = table.stdout.splitlines()
    plan = lines[lines.index("The fewest role assignments that grant every missing action:") + 1 :]
    assert (
        plan[0]
        .strip()
        .startswith(
            f'az role assignment create --assignee {alice} --role "Virtual Machine Contributor" '
            "--scope /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/"
        )
    )
    assert plan[0].endswith("/providers/Microsoft.Storage/storageAccounts/contosoeusasrcache")
    # --guest run-command adds, per VM, the right to run the probe through Run Command
    rows = json.loads(cli(*args, "--guest", "run-command", "--output", "json").stdout)
    run = [r for r in rows if r["action"] == "Microsoft.Compute/virtualMachines/runCommand/action"]
    assert run and {(r["access"], r["role_to_grant"]) for r in run} == {
        ("missing", "Virtual Machine Contributor")
    }
    assert all("/virtualMachines/" in r["scope"] for r in run)


def test_plan_names_targets_sizes_and_the_quota_request():
    result = cli("plan", "--snapshot", str(EXAMPLE), *PAIR, "--output", "json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["vault"] == {
        "kind": "vault",
        "name": "rsv-contoso-dr-cus",
        "location": "centralus",
        "exists": True,
        "id": plan["vault"]["id"],
        "note": None,
    }
    assert {g["name"] for g in plan["resource_groups"]} >= {"rg-web-asr", "rg-app-asr"}
    assert [n["name"] for n in plan["virtual_networks"]] == [
        "vnet-prod-eus-asr",
        "vnet-dev-eus-asr",
    ]
    vms = {vm["name"]: vm for vm in plan["vms"]}
    assert (vms["vm-db-02"]["choice"], vms["vm-db-02"]["target_size"]) == (
        "closest",
        "Standard_E8s_v5",
    )
    assert vms["vm-nva-01"]["choice"] == "none" and "8 NICs" in vms["vm-nva-01"]["reason"]
    assert vms["vm-web-01"]["target_zone"] == "1"
    short = {q["quota"]: q for q in plan["quota"] if q["state"] == "short"}
    assert set(short) == {"standardESv5Family", "VirtualNetworks"}  # prod vCPUs, dev VNets
    ask = short["standardESv5Family"]
    assert (ask["needed"], ask["limit"], ask["request_limit"]) == (20, 10, 20)
    table = cli("plan", "--snapshot", str(EXAMPLE), *PAIR)
    assert "request a limit of 20" in table.stdout and "create rg-web-asr" in table.stdout


@pytest.mark.parametrize(
    ("name", "edit", "path", "rule"),
    [
        (
            "nsgs.json",
            lambda d: d[0]["securityRules"].append(
                {"name": "x", "priority": "high", "direction": "Outbound"}
            ),
            "$[0].securityRules[",
            "ASR-NET-001",
        ),
        (
            "vms-prod.json",
            lambda d: d[0]["storageProfile"].update(dataDisks=[None]),
            "$[0].storageProfile.dataDisks[0]",
            None,
        ),
        ("skus-centralus.json", lambda d: d[0].update(name=None), "$[0].name", None),
        (
            "guest/vm-web-01.json",
            lambda d: d["endpoints"].append({"host": "x", "port": "https"}),
            "$.endpoints[",
            None,
        ),
        ("guest/vm-web-01.json", lambda d: d.update(vm="vm-web-01"), "$.vm", None),
    ],
)
def test_malformed_records_are_reported_and_cost_only_their_findings(
    tmp_path, name, edit, path, rule
):
    import shutil

    folder = tmp_path / "contoso"
    shutil.copytree(EXAMPLE, folder)
    data = json.loads((folder / name).read_text())
    edit(data)
    (folder / name).write_text(json.dumps(data))
    result = cli("check", "--snapshot", str(folder), *PAIR, "--output", "json")
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    problems = [p for p in report["summary"]["input_problems"] if p["file"].endswith(name)]
    assert any(p["path"].startswith(path) for p in problems), problems
    left_out = {p["resource_id"] for p in problems if p["resource_id"]}
    assert not left_out & {vm["id"] for vm in report["vms"]}, "a left-out VM is not checked"
    if rule:  # the findings that needed the record say unknown (and name it), not pass
        statuses = {f["status"] for f in report["findings"] if f["rule"] == rule}
        assert "unknown" in statuses, statuses
    strict = cli("check", "--snapshot", str(folder), *PAIR, "--strict")
    assert strict.returncode == 2 and "Traceback" not in strict.stderr
    assert name in strict.stderr and "--strict" in strict.stderr


def test_filters_that_match_no_vm_say_which_filter():
    result = cli("check", "--snapshot", str(EXAMPLE), *PAIR, "--vm", "vm-nosuch")
    assert result.returncode == 2
    assert "matching --vm vm-nosuch; none do" in result.stderr


def test_zone_to_zone_needs_a_valid_target_zone_and_then_answers():
    same = ["--source-region", "eastus", "--target-region", "eastus"]
    missing = cli("check", "--snapshot", str(EXAMPLE), *same)
    assert missing.returncode == 2 and "--target-zone: expected the zone to fail over to" in (
        missing.stderr
    )
    wrong = cli("check", "--snapshot", str(EXAMPLE), *same, "--target-zone", "4")
    assert wrong.returncode == 2 and "expected 1, 2 or 3, found '4'" in wrong.stderr
    result = cli("check", "--snapshot", str(EXAMPLE), *same, "--target-zone", "2")
    assert result.returncode == 1 and "East US, zone to zone → zone 2" in result.stdout
    plan = json.loads(
        cli(
            "plan", "--snapshot", str(EXAMPLE), *same, "--target-zone", "2", "--output", "json"
        ).stdout
    )
    assert plan["target_zone"] == "2" and {vm["target_zone"] for vm in plan["vms"]} == {"2"}
    assert all(n["exists"] for n in plan["virtual_networks"])  # its own network


@pytest.mark.parametrize(
    ("option", "value"),
    [("--principal-id", "bob"), ("--principal-id", "bob@contoso.com"), ("--group-id", "ops")],
)
def test_principals_are_object_ids_and_the_error_says_how_to_find_one(option, value):
    result = cli("check", "--snapshot", str(EXAMPLE), *PAIR, option, value)
    assert result.returncode == 2 and f"{option}: expected an object id (a GUID)" in result.stderr
    assert "az ad signed-in-user show --query id -o tsv" in result.stderr


@pytest.mark.parametrize("command", [["check"], ["plan"], ["collect"], ["explain", "network"]])
def test_help_is_readable_at_80_columns(command):
    result = cli(*command, "--help", env={"COLUMNS": "80"})
    assert result.returncode == 0
    text = result.stdout
    assert "…" not in text and "<str>" not in text and "<list[" not in text
    assert "╭" not in text  # plain help, no boxes
    assert max(len(line) for line in text.splitlines()) <= 80
    if command == ["check"]:
        assert "--resource-group GROUP" in text and "--cache-storage-account ACCOUNT" in text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["check", "--bogus"], "No such option: --bogus"),
        (["check", "--source-region", "eastus"], "--target-region: expected a target region"),
        (["check", *PAIR, "--snapshot", str(EXAMPLE), "--output", "xml"], "'xml' is not one of"),
    ],
)
def test_usage_errors_are_one_line_like_every_other_error(args, expected):
    result = cli(*args)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("asr-preflight: error: ") and expected in line


def test_check_writes_its_report_with_o_like_the_other_commands(tmp_path):
    out = tmp_path / "report.json"
    result = cli("check", "--snapshot", str(EXAMPLE), *PAIR, "--output", "json", "-o", str(out))
    assert result.returncode == 1 and result.stdout == ""
    assert json.loads(out.read_text())["summary"]["vms"] == 18


def test_rules_and_the_report_say_which_docs_version_they_follow():
    rules = json.loads(cli("rules", "--output", "json").stdout)
    by_id = {r["id"]: r for r in rules}
    assert by_id["ASR-VM-008"]["docs"] == "SM-2026 (2026-01-01)"
    assert all("(20" in r["docs"] for r in rules), "every rule's docs are dated"
    table = cli("check", "--snapshot", str(EXAMPLE), *PAIR, "--principal-id", BOB).stdout
    assert "rules follow the ASR docs up to CHURN-2026 (2026-01-06)" in table


def test_each_quota_figure_names_the_export_it_came_from():
    plan = json.loads(cli("plan", "--snapshot", str(EXAMPLE), *PAIR, "--output", "json").stdout)
    cores = {(q["subscription"], q["quota"]): q for q in plan["quota"]}
    prod, dev = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
    assert cores[(prod, "cores")]["source"].endswith("usages-centralus.json")
    assert cores[(dev, "cores")]["state"] == "unknown" and cores[(dev, "cores")]["source"] == ""


def test_explain_permissions_ends_with_the_plan_at_scopes_that_exist():
    """Bob lacks 19 actions in contoso-dev, most at rg-dev-asr, which ASR has yet to create:
    one Contributor assignment on the subscription grants them all."""
    result = cli("explain", "permissions", "--snapshot", str(EXAMPLE), *PAIR, "--principal-id", BOB)
    assert result.returncode == 1
    tail = result.stdout[result.stdout.index("The fewest role assignments") :].splitlines()
    assert tail[1].strip() == (
        f'az role assignment create --assignee {BOB} --role "Contributor" '
        "--scope /subscriptions/22222222-2222-4222-8222-222222222222"
    )
    assert " ".join(tail[2:]).startswith("(rg-dev-asr does not exist yet")
