"""Estates with one defect a script can fix, each with the rule it fails and the command its fix
block must hold: shared by the fix tests, the shellcheck test and the az parser test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asr_preflight.engine import CheckResult, run_check
from asr_preflight.fix.plan import FixPlan, build_fix_plan
from asr_preflight.fix.script import write_script
from asr_preflight.fix.simulate import simulate
from builders import PRINCIPAL, SUB, Estate, rid
from rules.test_encryption import DES_SRC, ade, cmk, des, vault
from rules.test_replication import _os_churn

OUTBOUND = "Microsoft.Network/networkSecurityGroups/securityRules"


def deny_internet(estate: Estate, priority: int = 200) -> None:
    estate.files["nsgs.json"][0]["securityRules"] = [
        {
            "name": "deny-internet",
            "priority": priority,
            "direction": "Outbound",
            "access": "Deny",
            "protocol": "*",
            "sourceAddressPrefix": "*",
            "sourcePortRange": "*",
            "destinationAddressPrefix": "Internet",
            "destinationPortRange": "*",
            "type": OUTBOUND,
        }
    ]


def route_table(estate: Estate, routes: list[dict[str, Any]] | None) -> None:
    """Route table rt1 on the VM's subnet, with these routes (None: exported without them)."""
    table = rid("rg-net", "Microsoft.Network", "routeTables/rt1")
    estate.files["route-tables.json"] = [
        {
            "id": table,
            "name": "rt1",
            "location": "eastus",
            "type": "Microsoft.Network/routeTables",
            "routes": routes,
        }
    ]
    estate.files["vnets.json"][0]["subnets"][0]["routeTable"] = {"id": table}


def drop_all(estate: Estate) -> None:
    route_table(
        estate, [{"name": "blackhole", "addressPrefix": "0.0.0.0/0", "nextHopType": "None"}]
    )


def cache_firewall(estate: Estate, **acl: Any) -> None:
    estate.files["storage-accounts.json"][0]["networkRuleSet"] = {
        "ipRules": [],
        "virtualNetworkRules": [],
        **acl,
    }


def reader_only(estate: Estate) -> None:
    reader = "acdd72a7-3385-4ef1-bbd4-8b3c6ff4e5f0"
    [assignment] = estate.files["role-assignments.json"]
    assignment["roleDefinitionId"] = (
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{reader}"
    )
    assignment["roleDefinitionName"] = "Reader"
    estate.files["role-definitions.json"].append(
        {
            "id": f"/providers/Microsoft.Authorization/roleDefinitions/{reader}",
            "name": reader,
            "roleName": "Reader",
            "roleType": "BuiltInRole",
            "type": "Microsoft.Authorization/roleDefinitions",
            "assignableScopes": ["/"],
            "permissions": [{"actions": ["*/read"], "notActions": []}],
        }
    )


def unregistered(estate: Estate) -> None:
    provider = estate.files["providers.json"][0]
    assert provider["namespace"] == "Microsoft.RecoveryServices"
    provider["registrationState"] = "NotRegistered"


def vault_in_source(estate: Estate) -> None:
    estate.files["vaults.json"]["value"][0]["location"] = "eastus"


def no_vault(estate: Estate) -> None:
    estate.files["vaults.json"]["value"] = []


def cmk_without_target_set(estate: Estate) -> None:
    cmk(estate)
    estate.files["disk-encryption-sets.json"] = [des(DES_SRC, "eastus", "kv-src")]
    estate.files["key-vaults.json"] = [vault("kv-src", "eastus")]


def ade_without_target_vault(estate: Estate) -> None:
    ade(estate)
    estate.files["key-vaults.json"] = [vault("kv-app", "eastus")]
    reader_only(estate)


def ade_without_target_vault_asr_would_create(estate: Estate) -> None:
    """The principal may create key vaults: the portal would make `<vault>-asr`, a scripted
    enablement would fail (150175, a warning): the script makes it ahead."""
    ade(estate)
    estate.files["key-vaults.json"] = [vault("kv-app", "eastus")]


def ade_without_access_policy(estate: Estate) -> None:
    ade(estate)
    estate.files["key-vaults.json"][1] = vault("kv-app-asr", "centralus", policies=[])


def closed_cache(estate: Estate) -> None:
    cache_firewall(estate, defaultAction="Deny", bypass="None")


def cache_for_an_identity_vault(estate: Estate) -> None:
    cache_firewall(
        estate,
        defaultAction="Deny",
        bypass="AzureServices",
        virtualNetworkRules=[{"action": "Allow", "virtualNetworkResourceId": estate.subnet_id}],
    )
    estate.files["vnets.json"][0]["subnets"][0]["serviceEndpoints"] = [
        {"service": "Microsoft.Storage"}
    ]
    estate.files["vaults.json"]["value"][0]["identity"] = {
        "type": "UserAssigned",
        "userAssignedIdentities": {"/x/uami": {}},
    }


def cache_settings(estate: Estate) -> None:
    estate.files["storage-accounts.json"][0]["allowSharedKeyAccess"] = False
    policy = estate.files["blob-services.json"]["value"][0]["properties"]
    policy["deleteRetentionPolicy"] = {"enabled": True, "days": 7}


def cache_of_a_wrong_kind(estate: Estate) -> None:
    estate.files["storage-accounts.json"][0]["kind"] = "BlobStorage"


def cache_elsewhere(estate: Estate) -> None:
    estate.files["storage-accounts.json"][0]["location"] = "westus"


def target_network_name_taken(estate: Estate) -> None:
    estate.files["vnets.json"][0]["addressSpace"] = {"addressPrefixes": ["10.0.0.0/16"]}
    estate.files["vnets.json"].append(
        {
            "id": rid("rg-other", "Microsoft.Network", "virtualNetworks/vnet1-asr"),
            "name": "vnet1-asr",
            "location": "westus",
            "type": "Microsoft.Network/virtualNetworks",
            "addressSpace": {"addressPrefixes": ["10.9.0.0/16"]},
            "subnets": [],
        }
    )


def high_churn(estate: Estate) -> None:
    _os_churn(estate, 9.0)


def short_quota(estate: Estate) -> None:
    for usage in estate.files["usages-centralus.json"]:
        if usage["name"]["value"] == "standardDSv5Family":
            usage["limit"] = 1


CACHE = {"cache_accounts": ("contosoasrcache",)}


@dataclass(frozen=True)
class Case:
    name: str
    defect: Callable[[Estate], None]
    rule: str
    command: str  # what the fix block must hold
    options: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("provider", unregistered, "ASR-SUB-002", "az provider register --namespace "
         "Microsoft.RecoveryServices"),
    Case("vault-in-source", vault_in_source, "ASR-VAULT-002", "az backup vault create",
         {"vault_id": "rsv-dr"}),
    Case("no-vault", no_vault, "ASR-VAULT-001", "az backup vault create"),
    Case("disk-encryption-set", cmk_without_target_set, "ASR-ENC-001",
         "az disk-encryption-set create"),
    Case("ade-target-vault", ade_without_target_vault, "ASR-ENC-003",
         "--enabled-for-disk-encryption true"),
    Case("ade-target-vault-warn", ade_without_target_vault_asr_would_create, "ASR-ENC-003",
         "az keyvault create --name \"$KEYVAULT_KV_APP_ASR\""),
    Case("ade-access-policy", ade_without_access_policy, "ASR-ENC-004",
         "az keyvault set-policy --name kv-app-asr"),
    Case("nsg", deny_internet, "ASR-NET-001", "az network nsg rule create"),
    Case("route", drop_all, "ASR-NET-002", "--address-prefix AzureSiteRecovery "
         "--next-hop-type Internet"),
    Case("cache-firewall", closed_cache, "ASR-NET-004",
         "az storage account network-rule add", CACHE),
    Case("cache-identity-vault", cache_for_an_identity_vault, "ASR-NET-004",
         "--default-action Allow", {**CACHE, "vault_id": "rsv-dr"}),
    Case("cache-settings", cache_settings, "ASR-STO-006",
         "--enable-delete-retention false", CACHE),
    Case("cache-kind", cache_of_a_wrong_kind, "ASR-STO-006",
         "az storage account create", CACHE),
    Case("cache-region", cache_elsewhere, "ASR-STO-002", "az storage account create", CACHE),
    Case("target-network", target_network_name_taken, "ASR-NET-007",
         'az network vnet subnet create --vnet-name "$VNET_VNET1_ASR" --name snet1'),
    Case("premium-cache", high_churn, "ASR-REP-002", "--kind BlockBlobStorage", CACHE),
    Case("role", reader_only, "ASR-PERM-001", "az role assignment create"),
    Case("quota", short_quota, "ASR-CAP-002", "Microsoft.Quota/quotas/standardDSv5Family"),
]  # fmt: skip


@dataclass
class Outcome:
    before: CheckResult
    plan: FixPlan
    after: CheckResult
    script: str


def fix(estate: Estate, folder: Path, **options: Any) -> Outcome:
    """Check, plan the fixes, apply them to the estate in memory and check again."""
    options.setdefault("principal_id", PRINCIPAL)
    context = estate.context(folder, **options)
    before = run_check(context)
    plan = build_fix_plan([before])
    [changed] = simulate([context], plan.actions)
    return Outcome(before, plan, run_check(changed), write_script(plan, "a test estate"))


def outcome_of(case: Case, folder: Path) -> Outcome:
    estate = Estate()
    case.defect(estate)
    return fix(estate, folder, **case.options)
