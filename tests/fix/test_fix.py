"""`fix` per defect: the script block it writes, and a simulation in which the failing rule
passes while nothing else gets worse."""

from __future__ import annotations

import pytest

from asr_preflight.findings import Finding, Status
from asr_preflight.model import ids
from builders import Estate
from fix.cases import CASES, Case, deny_internet, fix, outcome_of, route_table

RANK = {Status.PASS: 0, Status.SKIP: 0, Status.WARN: 1, Status.UNKNOWN: 2, Status.FAIL: 3}


def worst(findings: list[Finding]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for f in findings:
        key = (f.rule, ids.key(f.resource_id))
        out[key] = max(out.get(key, 0), RANK[f.status])
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_fix_turns_the_rule_pass_and_nothing_else_worse(case: Case, tmp_path):
    outcome = outcome_of(case, tmp_path)
    before = [f for f in outcome.before.findings if f.rule == case.rule]
    assert any(f.status in (Status.FAIL, Status.WARN) and f.actions for f in before), before
    after = [f for f in outcome.after.findings if f.rule == case.rule]
    assert after and all(f.status in (Status.PASS, Status.SKIP) for f in after), after
    was, now = worst(outcome.before.findings), worst(outcome.after.findings)
    worse = {k: (was.get(k, 0), v) for k, v in now.items() if v > was.get(k, 0)}
    assert not worse, worse
    assert case.command in outcome.script
    fixed_by = [s for s in outcome.plan.steps if case.rule in s.rules]
    assert fixed_by, [s.action.title for s in outcome.plan.steps]


def test_an_nsg_rule_goes_ahead_of_the_blocking_rule_at_a_free_priority(tmp_path):
    estate = Estate()
    deny_internet(estate, 200)
    estate.files["nsgs.json"][0]["securityRules"].append(
        {**estate.files["nsgs.json"][0]["securityRules"][0], "name": "taken", "priority": 199}
    )
    outcome = fix(estate, tmp_path)
    priorities = sorted(
        s.action.priority for s in outcome.plan.steps if s.action.title.startswith("in NSG")
    )
    assert priorities == [195, 196, 197, 198]  # four service tags, 199 taken
    assert "--source-address-prefixes VirtualNetwork" in outcome.script
    assert "--destination-port-ranges 443" in outcome.script


def test_a_blocking_rule_at_priority_100_leaves_the_nsg_to_a_person(tmp_path):
    estate = Estate()
    deny_internet(estate, 100)
    outcome = fix(estate, tmp_path)
    [stuck] = [s for s in outcome.plan.stuck if s.finding.rule == "ASR-NET-001"]
    assert "no free priority ahead of 100" in stuck.why
    assert "nsg rule create" not in outcome.script
    assert [f.status for f in outcome.after.findings if f.rule == "ASR-NET-001"] == [Status.FAIL]


def test_a_subnet_keeps_its_service_endpoints(tmp_path):
    estate = Estate()
    estate.files["vnets.json"][0]["subnets"][0]["serviceEndpoints"] = [
        {"service": "Microsoft.KeyVault"}
    ]
    estate.files["storage-accounts.json"][0]["networkRuleSet"] = {
        "defaultAction": "Deny",
        "bypass": "Logging, Metrics",
        "ipRules": [],
        "virtualNetworkRules": [],
    }
    outcome = fix(estate, tmp_path, cache_accounts=("contosoasrcache",))
    # the list is read when the script runs, and the update names it whole
    assert '--service-endpoints "${endpoints[@]}" Microsoft.Storage' in outcome.script
    # the firewall's other exceptions stay
    assert "--bypass Logging Metrics AzureServices" in outcome.script
    [subnet] = [s for s in outcome.after.context.estate.subnets.values()]
    assert subnet.service_endpoints == ("Microsoft.KeyVault", "Microsoft.Storage")


def test_shared_findings_are_fixed_once_and_groups_come_first(tmp_path):
    estate = Estate()
    from fix.cases import cmk_without_target_set, unregistered

    cmk_without_target_set(estate)
    unregistered(estate)
    outcome = fix(estate, tmp_path)
    kinds = [type(s.action).__name__ for s in outcome.plan.steps]
    assert kinds == [
        "RegisterProvider",
        "CreateResourceGroup",
        "CreateKeyVault",
        "CreateEncryptionSet",
    ]
    assert outcome.script.count("az provider register") == 1
    header, _ = outcome.script.split("# --- 1.", 1)
    assert 'RG_RG_APP_ASR="${RG_RG_APP_ASR:-rg-app-asr}"' in header
    assert "set -euo pipefail" in header


def test_a_healthy_estate_needs_no_fix(tmp_path):
    outcome = fix(Estate(), tmp_path)
    assert outcome.plan.steps == [] and outcome.plan.stuck == []
    assert "# --- 1." not in outcome.script


def test_forced_tunnelling_gets_the_storage_service_endpoint(tmp_path):
    """An appliance in the way stays a person's business; the cache's Storage traffic can be
    kept on Azure's backbone by a script (ASR-NET-002 warns less)."""
    estate = Estate()
    appliance = {
        "name": "to-fw",
        "addressPrefix": "0.0.0.0/0",
        "nextHopType": "VirtualAppliance",
        "nextHopIpAddress": "10.0.250.4",
    }
    route_table(estate, [appliance])
    outcome = fix(estate, tmp_path)
    [before] = [f for f in outcome.before.findings if f.rule == "ASR-NET-002"]
    [after] = [f for f in outcome.after.findings if f.rule == "ASR-NET-002"]
    assert (
        before.status is Status.WARN and "no Microsoft.Storage service endpoint" in before.message
    )
    assert after.status is Status.WARN and "Storage.EastUS" not in after.message.split(" to ")[0]
    assert "service endpoint keeps Storage.EastUS direct" in after.message
    assert '--service-endpoints "${endpoints[@]}" Microsoft.Storage' in outcome.script


def test_what_was_not_exported_is_not_fixed_nor_passed(tmp_path):
    """An NSG whose rules are null and a route table whose routes are null: unknown before,
    unknown after, and no script step guesses at them."""
    estate = Estate()
    deny_internet(estate)
    estate.files["nsgs.json"][0]["securityRules"] = None
    route_table(estate, None)
    outcome = fix(estate, tmp_path)
    for result in (outcome.before, outcome.after):
        statuses = {
            f.rule: f.status for f in result.findings if f.rule in ("ASR-NET-001", "ASR-NET-002")
        }
        assert statuses == {"ASR-NET-001": Status.UNKNOWN, "ASR-NET-002": Status.UNKNOWN}
    assert not [s for s in outcome.plan.steps if s.rules[0].startswith("ASR-NET")]
