"""`--guest run-command` against the local ARM double: the real compute SDK posts the Run Command
action, polls its Azure-AsyncOperation, reads the result; on Linux VMs the script it sent really
runs here (`sh`, the probe on a fake root per VM), on Windows VMs a recorded PowerShell answer
comes back. The facts fill the snapshot and the in-guest rules turn from unknown to pass/fail;
a VM that cannot run it is unknown with the reason."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from arm_double import ArmData, ArmDouble, Guest
from live_support import BOB, DEV, EXAMPLE, PROD
from typer.testing import CliRunner

from asr_preflight import cli
from asr_preflight.collect.pipeline import ReadOnlyPolicy, ReadOnlyViolation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "guest"))
from guest_support import TlsServer, layout, real_required_roots_pem, write

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "run-command"
PAIR = ["--source-region", "eastus", "--target-region", "centralus"]
WINDOWS = {"vm-app-01", "vm-app-02", "vm-dh-01", "vm-files-01", "vm-legacy-01"}


pytestmark = pytest.mark.usefixtures("cli_credential")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def recorded(name: str) -> list:
    return json.loads((RECORDED / name).read_text())["value"]


@pytest.fixture
def estate(ca, tmp_path_factory, example_data: ArmData):
    """The example behind the double, one VM deallocated since the export, a TLS endpoint for
    the probes to reach, and what each VM does with a Run Command."""
    data = copy.deepcopy(example_data)
    for view in data.status[DEV]:
        if view["name"] == "vm-dev-02":
            statuses = view["properties"]["instanceView"]["statuses"]
            for status in statuses:
                if status["code"].startswith("PowerState/"):
                    status["code"], status["displayStatus"] = (
                        "PowerState/deallocated",
                        "VM deallocated",
                    )
    double = ArmDouble(data, ca.issue_cert("localhost", "127.0.0.1"), page_size=5)
    endpoint = TlsServer(ca)  # what every probe connects to, trusted by the probes' stores
    roots = tmp_path_factory.mktemp("roots")
    with double.running():
        linux = "db-01 db-02 dmz-01 eph-01 erp-01 nsg-01 nva-01 tiny-01 web-01 web-02 dev-01"
        for name in (f"vm-{n}" for n in linux.split()):
            # vm-web-02 lacks the ASR roots; the others have them; vm-db-02 names /dev/sda2
            extra = "" if name == "vm-web-02" else real_required_roots_pem()
            root = layout(roots / name, "rhel", ca, extra_pem=extra)
            if name == "vm-db-02":
                write(root, "/boot/grub2/grub.cfg", "linux /vmlinuz root=/dev/sda2 ro\n")
            double.guests[name] = Guest(
                options=f"--root {root} --no-imds --endpoint localhost:{endpoint.port} "
                "--timeout 5 --deadline 20"
            )
        double.guests["vm-app-02"] = Guest(recorded=recorded("windows-2022.json"))
        double.guests["vm-legacy-01"] = Guest(recorded=recorded("windows-2008-legacy.json"))
        double.guests["vm-files-01"] = Guest(recorded=recorded("windows-cut.json"))
        double.guests["vm-dh-01"] = Guest(status=403)
        double.guests["vm-app-01"] = Guest(status=409)
        yield double
    endpoint.close()


def collect(double: ArmDouble, out: Path, *extra: str) -> tuple[int, str]:
    code, _, err = run(
        "collect", "--subscription", PROD, "--subscription", DEV, *PAIR, "--principal-id", BOB,
        "--arm-endpoint", double.url, "-o", str(out), "--quiet",
        "--guest", "run-command", "--yes-run-in-vms", "--guest-poll-interval", "0.05", *extra,
    )  # fmt: skip
    return code, err


def findings(snapshot: Path, *vms: str) -> dict[tuple[str, str], dict]:
    code, out, err = run(
        "check", "--snapshot", str(snapshot), *PAIR, "--principal-id", BOB, "--output", "json",
        "--all-findings",
    )  # fmt: skip
    assert code in (0, 1), err
    found = {}
    for f in json.loads(out)["findings"]:
        vm = (f["resource_id"] or "").rsplit("/", 1)[-1]
        if vm in vms:
            found[(f["rule"], vm)] = f
    return found


def test_run_command_fills_the_guest_facts_and_the_in_guest_rules_decide(estate, tmp_path):
    snapshot = tmp_path / "snap.json"
    before = findings(EXAMPLE, "vm-eph-01", "vm-dev-01")
    assert before[("ASR-VM-005", "vm-eph-01")]["status"] == "unknown"
    assert before[("ASR-VM-101", "vm-dev-01")]["status"] == "unknown"
    code, err = collect(estate, snapshot)
    assert code == 0, err
    assert "the read-only guest probe runs in" in err  # said what runs where, before running
    snap = json.loads(snapshot.read_text())
    facts = {f["vm"]["name"]: f for f in snap["records"]["guest_facts"]}
    linux = {n for n, g in estate.guests.items() if g.options}
    assert set(facts) == linux | {"vm-app-02", "vm-legacy-01"}
    # the real SDK call: POST runCommand, then the async operation and the Location polled
    posts = estate.requests("run-command")
    assert {p.body["commandId"] for p in posts} == {"RunShellScript", "RunPowerShellScript"}
    assert all(p.method == "POST" for p in posts)
    assert len(estate.requests("compute-operation")) >= 2 * len(facts)
    after = findings(snapshot, *facts, "vm-dev-02", "vm-dh-01", "vm-app-01", "vm-files-01",
                     "vm-app-03")  # fmt: skip
    # in-guest rules moved from unknown to pass/fail
    trusted = ("pass", "warn")  # warn: the recommended ECC roots are not in these stores
    assert after[("ASR-VM-005", "vm-dmz-01")]["status"] in trusted
    assert after[("ASR-VM-005", "vm-web-02")]["status"] == "fail"
    assert after[("ASR-VM-005", "vm-eph-01")]["status"] in trusted
    assert after[("ASR-VM-101", "vm-dev-01")]["status"] == "pass"
    assert after[("ASR-VM-101", "vm-db-02")]["status"] == "fail"
    assert after[("ASR-VM-101", "vm-dmz-01")]["status"] == "pass"
    assert after[("ASR-VM-005", "vm-app-02")]["status"] == "pass"
    assert after[("ASR-VM-102", "vm-legacy-01")]["status"] == "fail"  # VSS disabled, recorded
    # and a VM that could not run it says why
    reasons = {
        "vm-dev-02": "not running",
        "vm-dh-01": "Microsoft.Compute/virtualMachines/runCommand/action",
        "vm-app-01": "OperationNotAllowed",
        "vm-files-01": "cut",
        "vm-app-03": "guest agent is not ready",
    }
    for vm, words in reasons.items():
        finding = after[("ASR-VM-005", vm)]
        assert finding["status"] == "unknown" and words in finding["message"], finding


def test_a_vm_that_never_answers_costs_its_time_limit_only(estate, tmp_path):
    for name in list(estate.guests):
        if name != "vm-dmz-01":
            del estate.guests[name]
    estate.guests["vm-web-01"] = Guest(hang=True)
    snapshot = tmp_path / "snap.json"
    code, err = collect(estate, snapshot, "--guest-timeout", "2")
    assert code == 0, err
    snap = json.loads(snapshot.read_text())
    errors = {e["scope"].rsplit("/", 1)[-1]: e["message"] for e in snap["collection_errors"]}
    assert "no result within 2 s" in errors["vm-web-01"]
    assert [f["vm"]["name"] for f in snap["records"]["guest_facts"]] == ["vm-dmz-01"]


def test_without_agreement_nothing_runs_and_a_pipeline_is_told_how(estate, tmp_path):
    exe = Path(sys.executable).with_name("asr-preflight")
    result = subprocess.run(
        [str(exe), "collect", "--subscription", PROD, *PAIR, "--arm-endpoint", estate.url,
         "-o", str(tmp_path / "s.json"), "--guest", "run-command"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "--yes-run-in-vms" in result.stderr and "Traceback" not in result.stderr
    assert estate.requests() == []  # refused before anything was read


def test_only_run_command_clients_may_post_and_only_the_run_command_action():
    from azure.core.pipeline import PipelineRequest
    from azure.core.pipeline.transport import HttpRequest

    vm = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v"
    allowed = PipelineRequest(HttpRequest("POST", f"https://arm{vm}/runCommand"), None)
    ReadOnlyPolicy(run_command=True).on_request(allowed)
    for policy, url in (
        (ReadOnlyPolicy(), f"https://arm{vm}/runCommand"),
        (ReadOnlyPolicy(run_command=True), f"https://arm{vm}/start"),
        (ReadOnlyPolicy(run_command=True), f"https://arm{vm}/runCommands/x"),
    ):
        with pytest.raises(ReadOnlyViolation):
            policy.on_request(PipelineRequest(HttpRequest("POST", url), None))


def test_a_linux_vm_without_python_answers_through_the_sh_probe(estate, tmp_path):
    """The same script, on a VM whose PATH has sh, openssl and the base tools but no Python."""
    tools = tmp_path / "bin"
    tools.mkdir()
    base = "sh openssl awk sed grep tr sort wc head tail cut mktemp rm date readlink cat"
    for tool in (*base.split(), "timeout", "getent", "sleep", "base64", "gzip", "dirname"):
        found = shutil.which(tool)
        if found:
            (tools / tool).symlink_to(found)
    keep = estate.guests["vm-dmz-01"]
    estate.guests.clear()
    estate.guests["vm-dmz-01"] = Guest(options=keep.options, path=str(tools))
    snapshot = tmp_path / "snap.json"
    code, err = collect(estate, snapshot)
    assert code == 0, err
    snap = json.loads(snapshot.read_text())
    assert snap["records"]["guest_facts"], snap["collection_errors"]
    [facts] = snap["records"]["guest_facts"]
    assert facts["probe"]["version"] == "1.0-sh" and facts["collected_via"] == "run-command"
    after = findings(snapshot, "vm-dmz-01")
    assert after[("ASR-VM-005", "vm-dmz-01")]["status"] in ("pass", "warn")


def test_check_live_runs_the_probe_in_the_vms_it_checks_only(estate, tmp_path):
    code, out, err = run(
        "check", "--live", "--subscription", PROD, "--subscription", DEV, *PAIR,
        "--arm-endpoint", estate.url, "--vm", "vm-dmz-01", "--output", "json",
        "--guest", "run-command", "--yes-run-in-vms", "--guest-poll-interval", "0.05",
    )  # fmt: skip
    assert code in (0, 1), err
    assert {p.path.rsplit("/", 2)[-2] for p in estate.requests("run-command")} == {"vm-dmz-01"}
    [vm005] = [f for f in json.loads(out)["findings"] if f["rule"] == "ASR-VM-005"]
    assert vm005["status"] in ("pass", "warn"), vm005


def test_collect_runs_the_probe_only_where_asked(estate, tmp_path):
    snapshot = tmp_path / "snap.json"
    code, err = collect(estate, snapshot, "--vm", "vm-dmz-01", "--vm", "vm-app-02")
    assert code == 0, err
    names = {p.path.rsplit("/", 2)[-2] for p in estate.requests("run-command")}
    assert names == {"vm-dmz-01", "vm-app-02"}
    snap = json.loads(snapshot.read_text())
    assert {f["vm"]["name"] for f in snap["records"]["guest_facts"]} == names


def test_odd_facts_from_a_guest_cost_only_that_guests_findings(estate, tmp_path):
    """A guest that prints a facts line of the wrong shapes (a list for its VM, a string for its
    roots, null endpoints): the run goes on, the VM is still named, and what needed the odd
    fields is unknown, naming them."""
    from arm_double import linux_value

    from asr_preflight.guest import wire

    odd = {
        "schema": "asr-preflight/guest-facts",
        "vm": ["not", "an", "object"],
        "trusted_roots": {"sha1": "df3c24f9bfd666761b268073fe06d1cc8d4f82a4"},
        "endpoints": None,
    }
    keep = estate.guests["vm-dmz-01"]
    estate.guests.clear()
    estate.guests["vm-dmz-01"] = keep
    estate.guests["vm-web-01"] = Guest(recorded=linux_value(wire.encode(odd), ""))
    snapshot = tmp_path / "snap.json"
    code, err = collect(estate, snapshot, "--vm", "vm-web-01", "--vm", "vm-dmz-01")
    assert code == 0, err
    code, out, err = run(
        "check", "--snapshot", str(snapshot), *PAIR, "--principal-id", BOB, "--output", "json",
        "--vm", "vm-web-01", "--vm", "vm-dmz-01",
    )  # fmt: skip
    assert code in (0, 1), err
    report = json.loads(out)
    problems = report["summary"]["input_problems"]
    assert any(p["path"].endswith("trusted_roots.sha1") for p in problems), problems
    statuses = {
        f["resource_id"].rsplit("/", 1)[-1]: f["status"]
        for f in report["findings"]
        if f["rule"] == "ASR-VM-005"
    }
    assert statuses["vm-web-01"] == "unknown" and statuses["vm-dmz-01"] in ("pass", "warn")
