"""The example estate, served by the HTTPS double and read with the real SDK clients, gives the
same findings as the offline check of its export folder.

Guest facts have no Azure source (the in-guest probe writes them), so the live check is given
the same `examples/contoso/guest` folder with `--guest-dir`. Group memberships have no Resource
Manager source either; the collector derives them from `assignedTo()`, which returns the
principal's assignments and those of its groups, and the double answers it from the example's
member-group files, so the two runs see the same groups.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from arm_double import Fault
from live_support import ALICE, BOB, DEV, EXAMPLE, PROD
from typer.testing import CliRunner

from asr_preflight import cli

PAIR = ["--source-region", "eastus", "--target-region", "centralus"]
# What the example holds no export of: answered 403, so it is a collection error live and
# "not exported" offline, and both leave the same findings.
GAPS = {
    (f"/subscriptions/{DEV}", "list locations"),
    (f"/subscriptions/{PROD}/locations/eastus", "list storage usages"),
    (f"/subscriptions/{DEV}/locations/eastus", "list storage usages"),
    (f"/subscriptions/{DEV}/locations/centralus", "list compute usages"),
}


pytestmark = pytest.mark.usefixtures("cli_credential")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def findings(stdout: str) -> tuple[set[tuple[str, str, str]], dict[str, str]]:
    report = json.loads(stdout)
    found = {(f["rule"], f["status"], (f["resource_id"] or "").lower()) for f in report["findings"]}
    verdicts = {v["name"]: v["verdict"] for v in report["vms"]}
    return found, verdicts


def offline(*options: str, pair: list[str] = PAIR) -> tuple[set, dict]:
    code, out, _ = run(
        "check", "--snapshot", str(EXAMPLE), *pair, "--output", "json", "--all-findings", *options
    )
    assert code in (0, 1)
    return findings(out)


def test_collect_then_check_gives_the_offline_findings(double, tmp_path: Path, credential):
    out = tmp_path / "snapshot.json"
    code, _, err = run(
        "collect",
        "--subscription", PROD, "--subscription", DEV, *PAIR,
        "--principal-id", BOB, "--arm-endpoint", double.url, "-o", str(out), "--quiet",
    )  # fmt: skip
    assert code == 0, err
    snap = json.loads(out.read_bytes())
    assert {(e["scope"], e["operation"]) for e in snap["collection_errors"]} == GAPS
    assert snap["origin"] == f"live: {double.url}" and snap["tenant_id"].endswith("c0de")
    code, live_out, err = run(
        "check", "--snapshot", str(out), "--guest-dir", str(EXAMPLE / "guest"), *PAIR,
        "--principal-id", BOB, "--output", "json", "--all-findings",
    )  # fmt: skip
    assert code == 1, err  # the example blocks VMs, live as offline
    live, live_verdicts = findings(live_out)
    expected, expected_verdicts = offline("--principal-id", BOB)
    assert live - expected == set() and expected - live == set()
    assert live_verdicts == expected_verdicts
    assert len(expected) > 200
    # one token, for the audience the endpoint's metadata named, shared by every client
    assert credential.scopes == [("https://management.azure.com/.default",)]


def test_check_live_for_alice_gives_the_offline_findings(double):
    options = [
        "--principal-id", ALICE, "--target-resource-group", "rg-dr-cus",
        "--cache-storage-account", "contosoeusasrcache",
    ]  # fmt: skip
    code, out, err = run(
        "check", "--live", "--subscription", PROD, "--subscription", DEV,
        "--arm-endpoint", double.url, "--guest-dir", str(EXAMPLE / "guest"), *PAIR,
        "--output", "json", "--all-findings", *options,
    )  # fmt: skip
    assert code == 1, err
    live, verdicts = findings(out)
    expected, expected_verdicts = offline(*options)
    assert live == expected and verdicts == expected_verdicts
    # she lacks exactly listKeys on the cache account, live as offline
    assert ("ASR-PERM-001", "fail") in {(r, s) for r, s, _ in live}
    # only her assignments were asked for
    queries = [e.query.get("$filter") for e in double.requests("role-assignments")]
    assert queries and all(q == [f"assignedTo('{ALICE}')"] for q in queries)


def test_zone_to_zone_live_gives_the_offline_findings(double):
    """One region, source and target: the collector reads it once, the zone rules answer."""
    pair = ["--source-region", "eastus", "--target-region", "eastus", "--target-zone", "2"]
    code, out, err = run(
        "check", "--live", "--subscription", PROD, "--subscription", DEV,
        "--arm-endpoint", double.url, "--guest-dir", str(EXAMPLE / "guest"), *pair,
        "--principal-id", BOB, "--output", "json", "--all-findings",
    )  # fmt: skip
    assert code == 1, err
    live, verdicts = findings(out)
    expected, expected_verdicts = offline("--principal-id", BOB, pair=pair)
    assert (live - expected, expected - live) == (set(), set())
    assert verdicts == expected_verdicts
    zone_rules = {(rule, status) for rule, status, _ in live if rule.startswith("ASR-Z2Z")}
    assert {("ASR-Z2Z-001", "fail"), ("ASR-Z2Z-001", "pass"), ("ASR-Z2Z-002", "fail")} <= zone_rules
    assert ("ASR-SUB-003", "pass") in {(rule, status) for rule, status, _ in live}


def test_unreadable_deny_assignments_are_named_everywhere_and_pass_nothing(double):
    """A 403 on deny assignments: the error is in the console report, the JSON and on stderr,
    and no VM holds its permissions on the strength of a deny list nobody read."""
    double.faults.append(Fault(path="denyassignments", status=403, times=10))
    live = ["check", "--live", "--subscription", PROD, "--arm-endpoint", double.url, *PAIR]
    code, out, err = run(*live, "--principal-id", BOB)
    assert code == 1
    text = " ".join(out.split())  # rich wraps at the terminal width
    assert f"snapshot live: {double.url}" in text
    assert f"collection error /subscriptions/{PROD}: list deny assignments: HTTP 403" in text
    assert "list deny assignments" in err and "microsoft.authorization/denyassignments" in err
    double.faults.append(Fault(path="denyassignments", status=403, times=10))
    code, out, _ = run(*live, "--principal-id", BOB, "--output", "json", "--all-findings")
    report = json.loads(out)
    errors = report["summary"]["collection_errors"]
    [error] = [e for e in errors if e["call"] == "list deny assignments"]
    assert (error["call"], error["status"], error["kinds"]) == (
        "list deny assignments",
        403,
        ["microsoft.authorization/denyassignments"],
    )
    permissions = [f for f in report["findings"] if f["rule"] == "ASR-PERM-001"]
    assert permissions and not [f for f in permissions if f["status"] == "pass"]
    assert any("deny assignments were not read" in f["message"] for f in permissions)


def test_live_options_are_checked_before_anything_is_read(double):
    with pytest.raises(Exception, match="either --snapshot or --live"):
        run("check", "--live", "--snapshot", str(EXAMPLE), "--subscription", PROD, *PAIR)
    with pytest.raises(Exception, match="at least one subscription"):
        run("check", "--live", *PAIR)
    with pytest.raises(Exception, match="only apply with --live"):
        run("check", "--snapshot", str(EXAMPLE), "--subscription", PROD, *PAIR)
    with pytest.raises(Exception, match="expected a GUID"):
        run("check", "--live", "--subscription", "prod", *PAIR)
    with pytest.raises(Exception, match="expected one of AzureCloud"):
        run("check", "--live", "--subscription", PROD, "--cloud", "Mars", *PAIR)
    assert double.requests() == []


def test_no_readable_subscription_is_an_error_naming_why(double, tmp_path: Path):
    double.forbidden.update({PROD, DEV})
    with pytest.raises(Exception, match=r"could not read any of the subscriptions: .*HTTP 403"):
        run(
            "collect", "--subscription", PROD, "--subscription", DEV, *PAIR,
            "--arm-endpoint", double.url, "-o", str(tmp_path / "s.json"), "--quiet",
        )  # fmt: skip
    assert not (tmp_path / "s.json").exists()


def test_several_pairs_live_give_the_offline_findings(double):
    pairs = ["--pair", "eastus=centralus", "--pair", "eastus2=centralus"]
    code, out, err = run(
        "check", "--live", "--subscription", PROD, "--subscription", DEV,
        "--arm-endpoint", double.url, "--guest-dir", str(EXAMPLE / "guest"), *pairs,
        "--principal-id", BOB, "--output", "json", "--all-findings",
    )  # fmt: skip
    assert code == 1, err
    live = json.loads(out)
    code, out, _ = run(
        "check", "--snapshot", str(EXAMPLE), *pairs, "--principal-id", BOB,
        "--output", "json", "--all-findings",
    )  # fmt: skip
    offline = json.loads(out)

    def seen(report):
        return {
            (f["pair"], f["rule"], f["status"], (f["resource_id"] or "").lower())
            for f in report["findings"]
        }

    assert seen(live) == seen(offline)
    assert any(f["rule"] == "ASR-CAP-005" for f in live["findings"])
    storage = [e for e in double.requests() if "microsoft.storage/locations" in e.path.lower()]
    assert {e.path.lower().split("/locations/")[1].split("/")[0] for e in storage} == {
        "eastus",
        "eastus2",
    }
    with pytest.raises(Exception, match="named with --pair"):
        run("check", "--live", "--subscription", PROD, "--arm-endpoint", double.url,
            "--source-region", "all", "--target-region", "paired")  # fmt: skip


def test_fix_reads_live_and_writes_nothing_to_azure(double, tmp_path: Path):
    """fix --live plans from what Azure says now; the only request methods are reads."""
    script = tmp_path / "fix.sh"
    code, out, err = run(
        "fix", "--live", "--subscription", PROD, "--subscription", DEV, *PAIR,
        "--principal-id", BOB, "--arm-endpoint", double.url, "--script", str(script),
        "--simulate", "--output", "json",
    )  # fmt: skip
    assert code == 1, err
    summary = json.loads(out)["fix"]
    assert summary["simulated"] and summary["steps"] and script.read_text().startswith("#!")
    assert {e.method for e in double.requests()} <= {"GET", "POST"}
    assert {e.route for e in double.requests() if e.method == "POST"} == {"graph"}
