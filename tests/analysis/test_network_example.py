"""Each blocked network path of the Contoso example, and `explain network` on it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from asr_preflight.engine import Scope, run_check, select_vms
from asr_preflight.model import build_estate
from asr_preflight.rules import Context
from asr_preflight.snapshot import load_snapshot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "contoso"
PAIR = ["--source-region", "eastus", "--target-region", "centralus"]


def _findings(folder: Path, **options):
    estate = build_estate(load_snapshot(folder))
    vms = select_vms(estate, Scope("eastus", "centralus"))
    ctx = Context(estate, "eastus", "centralus", vms, **options)
    result = run_check(ctx)
    return {
        (f.rule, (f.resource_id or "").rsplit("/", 1)[-1]): f
        for f in result.findings
        if f.rule.startswith("ASR-NET")
    }


@pytest.fixture(scope="module")
def findings():
    return _findings(EXAMPLE)


@pytest.mark.parametrize(
    ("rule", "resource", "status", "code", "words"),
    [
        # NIC NSG denies everything before the subnet NSG's allows
        ("ASR-NET-001", "vm-nsg-01", "fail", 151196, "nsg-lockdown/DenyAllOutbound-Custom"),
        # 2017-style IP allow lists, decided with service-tags.json: what they miss is blocked
        ("ASR-NET-001", "vm-eph-01", "fail", 151196, "nsg-eph-2017/Deny-Internet-Out"),
        # forced tunnelling through the NVA, no storage service endpoint
        ("ASR-NET-002", "vm-dmz-01", "warn", None, "rt-dmz/default-via-nva"),
        # Standard internal load balancer, no NAT gateway or outbound rule
        ("ASR-NET-003", "vm-files-01", "fail", 151196, "lb-files-ilb"),
        ("ASR-NET-003", "vm-web-01", "pass", None, "the VM reached"),
        ("ASR-NET-003", "vm-web-02", "pass", None, "lb-web-pub outbound rule outbound-web"),
        ("ASR-NET-003", "vm-app-02", "pass", None, "NAT gateway ngw-app"),
        ("ASR-NET-003", "vm-dmz-01", "pass", None, "no ASR traffic leaves"),
        # the legacy cache account: not chosen, so a warning
        ("ASR-NET-004", "contosolegacyasrcache", "warn", 151037, "bypass None"),
        ("ASR-NET-004", "contosoeusasrcache", "pass", None, "all networks"),
        ("ASR-NET-005", "vm-db-01", "fail", 151072, "asks for credentials"),
        ("ASR-NET-006", "vnet-dev-eus", "warn", 151037, "10.20.0.4, 10.20.0.5"),
        ("ASR-NET-006", "vnet-prod-eus", "pass", None, "Azure-provided DNS"),
        ("ASR-NET-007", "vnet-dev-eus", "warn", None, "vnet-dev-eus-asr is taken"),
        ("ASR-NET-007", "vnet-prod-eus", "pass", None, "creates vnet-prod-eus-asr"),
    ],
)
def test_example_paths(findings, rule, resource, status, code, words):
    finding = findings[(rule, resource)]
    assert (finding.status, finding.asr_error_code) == (status, code)
    assert words in finding.message


def test_ip_allow_list_shares_come_from_the_ranges(findings):
    message = findings[("ASR-NET-001", "vm-eph-01")].message
    assert "AzureSiteRecovery (40 of 42 addresses)" in message
    assert "decided with the exported service-tag ranges" in message


def test_without_the_service_tag_export_the_ip_lists_are_unknown(tmp_path):
    folder = tmp_path / "contoso"
    shutil.copytree(EXAMPLE, folder)
    (folder / "service-tags.json").unlink()
    finding = _findings(folder)[("ASR-NET-001", "vm-eph-01")]
    assert finding.status == "unknown" and "IP-based allow lists" in finding.remedy


def test_choosing_the_legacy_cache_account_blocks_every_prod_vm():
    estate = build_estate(load_snapshot(EXAMPLE))
    vms = select_vms(estate, Scope("eastus", "centralus"))
    ctx = Context(estate, "eastus", "centralus", vms, cache_accounts=("contosolegacyasrcache",))
    findings = [f for f in run_check(ctx).findings if f.rule == "ASR-NET-004"]
    assert {f.status for f in findings} == {"fail"}
    assert all("bypass None" in f.message for f in findings)
    # every prod VM (vm-erp-01 too: this context does not set the protected ones apart)
    assert sum(len(f.affected_vms) for f in findings) == 16
    # snet-app's VMs: their subnet is allowed, but trusted Azure services still are not
    [only_bypass] = [f for f in findings if "not among" not in f.message]
    assert len(only_bypass.affected_vms) == 5


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("asr-preflight")
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "80"},
    )


def test_explain_network_json_names_each_hop_and_the_deciding_rule():
    result = cli(
        "explain", "network", "--snapshot", str(EXAMPLE), *PAIR, "--vm", "vm-nsg-01",
        "--output", "json",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    [row] = json.loads(result.stdout)
    assert (row["vm"], row["nic"], row["subnet"]) == ("vm-nsg-01", "vm-nsg-01-nic", "snet-app")
    paths = {p["service_tag"]: p for p in row["paths"]}
    identity = paths["AzureActiveDirectory"]
    assert identity["decision"] == "blocked" and identity["asr_error_code"] == 151196
    assert identity["decided_by"].startswith("NSG rule nsg-lockdown/DenyAllOutbound-Custom")
    hops = [s["hop"] for s in identity["steps"]]
    assert hops[:4] == ["NIC NSG", "subnet NSG", "route", "exit"]
    assert identity["steps"][1]["rule"] == "Allow-AzureAD-Out"
    storage = paths["Storage.EastUS"]
    assert any(s["hop"] == "cache firewall" for s in storage["steps"])
    assert not paths["AzureKeyVault"]["required"]
    assert "service tag ranges" in row["service_tag_ranges"]


def test_explain_network_table_and_exit_code_for_a_clean_vm():
    result = cli("explain", "network", "--snapshot", str(EXAMPLE), *PAIR, "--vm", "vm-web-01")
    assert result.returncode == 0, result.stderr
    assert "vm-web-01" in result.stdout and "NIC NSG" in result.stdout
    assert "target network:" in result.stdout


def test_explain_network_shows_the_blocking_rule_in_the_table():
    result = cli("explain", "network", "--snapshot", str(EXAMPLE), *PAIR, "--vm", "vm-files-01")
    assert result.returncode == 1
    assert "Standard internal load balancer lb-files-ilb" in result.stdout


def test_explain_network_opens_with_a_summary_of_every_vm():
    result = cli("explain", "network", "--snapshot", str(EXAMPLE), *PAIR)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].rstrip() == "17 VMs: 14 reach every destination   3 blocked   0 not decided"
    head = " ".join(line.strip() for line in lines[:12])
    assert "vm-nsg-01: blocked to AzureActiveDirectory" in head
    assert "by NSG rule nsg-lockdown/DenyAllOutbound-Custom" in head
    assert "vm-files-01: blocked" in head and "lb-files-ilb" in head
