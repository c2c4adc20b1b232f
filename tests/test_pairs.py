"""Several pairs in one run: targets from the locations export's region pairs, quotas that add
up across the pairs that fail over into one region, and one report with the pair on each VM."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from junitparser import JUnitXml

from asr_preflight.errors import InputError
from asr_preflight.model import build_estate
from asr_preflight.pairs import resolve
from asr_preflight.snapshot import load_snapshot

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "contoso"
BOB = ["--principal-id", "bbbbbbbb-0000-4000-8000-000000000002"]
ESTATE = ["--pair", "eastus=centralus", "--target-region", "paired"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("asr-preflight")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def estate():
    return build_estate(load_snapshot(EXAMPLE))


def _region(name: str, option: str) -> str:
    if name not in {"eastus", "eastus2", "centralus", "westus"}:
        raise InputError(option, "", f"unknown region {name}")
    return name


def test_paired_targets_come_from_the_locations_export(estate):
    assert estate.paired_regions["eastus2"] == "centralus"
    assert estate.paired_regions["eastus"] == "westus"
    asked = resolve(estate, "all", "paired", [], {"eastus", "eastus2"}, _region)
    assert asked.pairs == [("eastus", "westus"), ("eastus2", "centralus")]
    explicit = resolve(estate, None, "paired", ["eastus=centralus"], {"eastus", "eastus2"}, _region)
    assert explicit.pairs == [("eastus", "centralus"), ("eastus2", "centralus")]


def test_a_region_without_a_pair_is_named_with_its_choices(estate):
    estate.paired_regions.pop("eastus2")
    try:
        asked = resolve(estate, "all", "paired", [], {"eastus", "eastus2"}, _region)
    finally:
        estate.paired_regions["eastus2"] = "centralus"
    assert asked.pairs == [("eastus", "westus")]
    assert "no paired region" in asked.unpaired["eastus2"]
    assert "--pair eastus2=<target>" in asked.unpaired["eastus2"]


def test_a_pair_must_say_source_and_target(estate):
    with pytest.raises(InputError, match="expected SOURCE=TARGET"):
        resolve(estate, None, None, ["eastus"], {"eastus"}, _region)


def test_two_pairs_into_one_region_share_its_quota():
    """Each pair fits the D-family quota of Central US alone; together they do not."""
    alone = [
        json.loads(
            cli(
                "check",
                "--snapshot",
                str(EXAMPLE),
                *BOB,
                "--source-region",
                source,
                "--target-region",
                "centralus",
                "--output",
                "json",
            ).stdout
        )
        for source in ("eastus", "eastus2")
    ]
    for report in alone:
        family = [
            f for f in report["findings"] if (f["resource_id"] or "").endswith("standardDSv5Family")
        ]
        assert not [f for f in family if f["status"] == "fail"]
    done = cli("check", "--snapshot", str(EXAMPLE), *BOB, *ESTATE, "--output", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    [shared] = [f for f in report["findings"] if f["rule"] == "ASR-CAP-005"][:1]
    assert "eastus->centralus needs 16, eastus2->centralus needs 16" in shared["message"]
    assert "together 32, 28 free" in shared["message"] and "value=" in shared["remedy"]
    pairs = {(p["source"], p["target"]): p for p in report["pairs"]}
    assert set(pairs) == {("eastus", "centralus"), ("eastus2", "centralus")}
    assert pairs[("eastus2", "centralus")]["shares_quota_with"] == ["eastus->centralus"]
    assert {v["pair"] for v in report["vms"]} == {"eastus->centralus", "eastus2->centralus"}
    assert all(f["pair"] for f in report["findings"])
    assert report["summary"]["vms"] == 20 == len(report["vms"])
    pay = {v["name"]: v for v in report["vms"] if v["name"].startswith("vm-pay")}
    assert all("ASR-CAP-005" in v["rules"] for v in pay.values())


def test_the_console_opens_on_the_estate_then_each_pair():
    text = cli("check", "--snapshot", str(EXAMPLE), *BOB, *ESTATE).stdout
    flat = " ".join(text.split())
    assert flat.startswith("ASR readiness, the whole estate 20 VMs in 2 pairs")
    assert "East US 2 → Central US: 2 VMs" in flat
    assert "shared quota standardDSv5Family in Central US" in flat
    assert flat.index("East US → Central US ─") < flat.index("East US 2 → Central US ─")
    last = [line.rstrip() for line in text.splitlines() if line.strip()][-1]
    assert last == "20 VMs in 2 pairs: blocked 19   protected 1"  # the estate's, again


def test_a_source_region_without_a_target_leaves_its_vms_unknown(tmp_path):
    estate = tmp_path / "estate"
    shutil.copytree(EXAMPLE, estate)
    locations = json.loads((estate / "locations.json").read_text())
    for location in locations:
        if location["name"] == "eastus2":
            location["metadata"].pop("pairedRegion")
    (estate / "locations.json").write_text(json.dumps(locations))
    done = cli("check", "--snapshot", str(estate), *BOB, *ESTATE, "--output", "json")
    report = json.loads(done.stdout)
    stranded = [p for p in report["pairs"] if p["target"] is None]
    assert [p["source"] for p in stranded] == ["eastus2"] and "no paired region" in (
        stranded[0]["note"]
    )
    pay = [v for v in report["vms"] if v["name"].startswith("vm-pay")]
    assert {v["verdict"] for v in pay} == {"unknown"} and pay[0]["pair"] == "eastus2->?"
    # and when no region asked for has a target, the run says why and stops
    alone = cli("check", "--snapshot", str(estate), "--source-region", "eastus2",
                "--target-region", "paired")  # fmt: skip
    assert alone.returncode == 2 and "East US 2 has no paired region" in alone.stderr


def test_every_format_of_every_pair_goes_to_its_own_folder(tmp_path):
    done = cli("check", "--snapshot", str(EXAMPLE), *BOB, *ESTATE, "--report-dir", str(tmp_path))
    assert done.returncode == 1
    assert json.loads((tmp_path / "report.json").read_text())["pairs"]
    index = (tmp_path / "index.html").read_text()
    assert 'href="eastus2-centralus/report.html"' in index and "ASR-CAP-005" in index
    for pair in ("eastus-centralus", "eastus2-centralus"):
        assert {p.name for p in (tmp_path / pair).iterdir()} >= {"report.sarif", "report.html"}
    wrong = cli("check", "--snapshot", str(EXAMPLE), *BOB, *ESTATE, "--output", "html")
    assert wrong.returncode == 2 and "--report-dir" in wrong.stderr


def test_sarif_junit_markdown_and_csv_hold_every_pair_in_one_file(tmp_path):
    def run(fmt: str) -> str:
        done = cli("check", "--snapshot", str(EXAMPLE), *BOB, *ESTATE, "--output", fmt)
        assert done.returncode == 1, done.stderr
        return done.stdout

    schema = json.loads((ROOT / "tests/fixtures/sarif/sarif-schema-2.1.0.json").read_text())
    sarif = json.loads(run("sarif"))
    jsonschema.validate(sarif, schema)
    assert [r["automationDetails"]["id"] for r in sarif["runs"]] == [
        "asr-preflight/eastus-centralus/",
        "asr-preflight/eastus2-centralus/",
    ]
    (tmp_path / "junit.xml").write_text(run("junit"))
    suites = list(JUnitXml.fromfile(str(tmp_path / "junit.xml")))
    assert len(suites) == 4 and "eastus2 to centralus" in suites[2].name
    rows = list(csv.DictReader(io.StringIO(run("csv"))))
    assert {r["pair"] for r in rows} == {"eastus->centralus", "eastus2->centralus"}
    text = run("markdown")
    assert text.startswith("# ASR readiness, the whole estate: 20 VMs")
    assert text.count("## ASR readiness:") == 2


def test_plan_plans_shared_resources_once_and_sums_the_quota():
    done = cli("plan", "--snapshot", str(EXAMPLE), *ESTATE, "--output", "json")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert [(p["source_region"], p["target_region"]) for p in plan["pairs"]] == [
        ("eastus", "centralus"),
        ("eastus2", "centralus"),
    ]
    [vault] = [s for s in plan["shared"] if s["resource"]["kind"] == "vault"]
    assert vault["pairs"] == ["eastus->centralus", "eastus2->centralus"]
    family = next(q for q in plan["quota"] if q["quota"] == "standardDSv5Family")
    assert (family["needed"], family["free"], family["short"]) == (32, 28, True)
    text = " ".join(cli("plan", "--snapshot", str(EXAMPLE), *ESTATE).stdout.split())
    assert "standardDSv5Family in Central US: 16 (eastus->centralus) + 16" in text
    assert "= 32, free 28: SHORT" in text


def test_explain_answers_for_every_pair():
    network = cli("explain", "network", "--snapshot", str(EXAMPLE), *ESTATE, "--output", "json")
    answers = json.loads(network.stdout)
    assert set(answers) == {"eastus->centralus", "eastus2->centralus"}
    assert {v["vm"] for v in answers["eastus2->centralus"]} == {"vm-pay-01", "vm-pay-02"}
    rights = cli("explain", "permissions", "--snapshot", str(EXAMPLE), *BOB, *ESTATE)
    assert "eastus2->centralus" in rights.stdout and rights.returncode in (0, 1)
    one = cli("explain", "network", "--snapshot", str(EXAMPLE), "--source-region", "eastus2",
              "--target-region", "centralus", "--output", "json")  # fmt: skip
    assert [v["vm"] for v in json.loads(one.stdout)] == ["vm-pay-01", "vm-pay-02"]


def test_three_source_regions_and_only_those_into_one_region_compete(tmp_path):
    estate = tmp_path / "estate"
    shutil.copytree(EXAMPLE, estate)
    vms = json.loads((estate / "vms-prod.json").read_text())
    next(v for v in vms if v["name"] == "vm-tiny-01")["location"] = "westus"  # pair: East US
    (estate / "vms-prod.json").write_text(json.dumps(vms))
    done = cli("check", "--snapshot", str(estate), *BOB, *ESTATE, "--output", "json")
    report = json.loads(done.stdout)
    assert {(p["source"], p["target"]) for p in report["pairs"]} == {
        ("eastus", "centralus"),
        ("eastus2", "centralus"),
        ("westus", "eastus"),
    }
    west = next(p for p in report["pairs"] if p["source"] == "westus")
    assert west["vms"] == 1 and west["shares_quota_with"] == []
    shared = {f["pair"] for f in report["findings"] if f["rule"] == "ASR-CAP-005"}
    assert shared == {"eastus->centralus", "eastus2->centralus"}


def test_a_baseline_of_one_pair_shows_what_the_second_pair_brings(tmp_path):
    old = tmp_path / "old.json"
    cli("check", "--snapshot", str(EXAMPLE), *BOB, "--source-region", "eastus",
        "--target-region", "centralus", "--output", "json", "--out", str(old))  # fmt: skip
    done = cli("check", "--snapshot", str(EXAMPLE), *BOB, *ESTATE, "--output", "json",
               "--baseline", str(old))  # fmt: skip
    changes = json.loads(done.stdout)["changes"]
    assert any(c["rule"] == "ASR-CAP-005" and c["before"] is None for c in changes["new"])
    assert not changes["fixed"]
