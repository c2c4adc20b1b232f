"""Build small, realistic estates (raw az/REST JSON) for tests, write them as export files and
run the real loader, model and rules over them."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from asr_preflight.engine import CheckResult, Scope, run_check, select_vms, split_protected
from asr_preflight.findings import Finding
from asr_preflight.model import build_estate
from asr_preflight.rules import REGISTRY, Context
from asr_preflight.snapshot import load_snapshot

SUB = "11111111-1111-4111-8111-111111111111"
TENANT = "72f988bf-0000-4000-8000-00000000c0de"
PRINCIPAL = "aaaaaaaa-0000-4000-8000-000000000001"
OWNER_ROLE = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
G2 = "df3c24f9bfd666761b268073fe06d1cc8d4f82a4"


def rid(rg: str, provider: str, name: str, sub: str = SUB) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{provider}/{name}"


def sku(
    name: str, family: str, vcpus: int, memory: float, region: str, restricted: bool = False
) -> dict[str, Any]:
    caps = {
        "vCPUs": vcpus,
        "MemoryGB": memory,
        "MaxDataDiskCount": 16,
        "PremiumIO": "True",
        "MaxNetworkInterfaces": 4,
        "HyperVGenerations": "V1,V2",
        "CpuArchitectureType": "x64",
    }
    restrictions = [
        {
            "type": "Location",
            "values": [region],
            "reasonCode": "NotAvailableForSubscription",
            "restrictionInfo": {"locations": [region]},
        }
    ]
    return {
        "resourceType": "virtualMachines",
        "name": name,
        "tier": "Standard",
        "size": name.removeprefix("Standard_"),
        "family": family,
        "locations": [region],
        "locationInfo": [{"location": region, "zones": ["1", "2", "3"], "zoneDetails": []}],
        "capabilities": [{"name": k, "value": str(v)} for k, v in caps.items()],
        "restrictions": restrictions if restricted else [],
    }


class Estate:
    """A healthy one-VM estate, East US → Central US; tests break one thing at a time."""

    def __init__(self) -> None:
        self.files: dict[str, Any] = {}
        net = "rg-net"
        self.subnet_id = rid(net, "Microsoft.Network", "virtualNetworks/vnet1/subnets/snet1")
        self.nsg_id = rid(net, "Microsoft.Network", "networkSecurityGroups/nsg1")
        self.files["accounts.json"] = [
            {
                "cloudName": "AzureCloud",
                "id": SUB,
                "isDefault": True,
                "name": "prod",
                "state": "Enabled",
                "tenantId": TENANT,
                "homeTenantId": TENANT,
            }
        ]
        self.files["locations.json"] = [
            {
                "id": f"/subscriptions/{SUB}/locations/{name}",
                "name": name,
                "displayName": display,
                "type": "Region",
                "metadata": {"regionType": "Physical"},
            }
            for name, display in (("eastus", "East US"), ("centralus", "Central US"))
        ]
        self.files["providers.json"] = [
            {
                "id": f"/subscriptions/{SUB}/providers/{ns}",
                "namespace": ns,
                "registrationState": "Registered",
                "resourceTypes": types,
            }
            for ns, types in (
                (
                    "Microsoft.RecoveryServices",
                    [{"resourceType": "vaults", "locations": ["East US", "Central US"]}],
                ),
                (
                    "Microsoft.Compute",
                    [{"resourceType": "virtualMachines", "locations": ["East US", "Central US"]}],
                ),
                ("Microsoft.Network", []),
                ("Microsoft.Storage", []),
            )
        ]
        self.files["resource-groups.json"] = [
            {
                "id": f"/subscriptions/{SUB}/resourceGroups/{n}",
                "name": n,
                "location": loc,
                "type": "Microsoft.Resources/resourceGroups",
            }
            for n, loc in (("rg-app", "eastus"), ("rg-net", "eastus"), ("rg-dr", "centralus"))
        ]
        self.files["vaults.json"] = {
            "value": [
                {
                    "id": rid("rg-dr", "Microsoft.RecoveryServices", "vaults/rsv-dr"),
                    "name": "rsv-dr",
                    "type": "Microsoft.RecoveryServices/vaults",
                    "location": "centralus",
                    "sku": {"name": "RS0", "tier": "Standard"},
                    "properties": {},
                }
            ]
        }
        self.files["skus-eastus.json"] = [
            sku("Standard_D2s_v5", "standardDSv5Family", 2, 8, "eastus")
        ]
        self.files["skus-centralus.json"] = [
            sku("Standard_D2s_v5", "standardDSv5Family", 2, 8, "centralus")
        ]
        self.files["usages-centralus.json"] = [
            {
                "currentValue": current,
                "limit": limit,
                "localName": name,
                "name": {"localizedValue": name, "value": name},
            }
            for name, current, limit in (
                ("cores", 0, 100),
                ("virtualMachines", 0, 1000),
                ("standardDSv5Family", 0, 50),
            )
        ]
        self.files["vms.json"] = [self.vm("vm1")]
        self.files["disks.json"] = [self.disk("vm1-osdisk", 30, "Premium_LRS")]
        self.files["nics.json"] = [
            {
                "id": rid("rg-app", "Microsoft.Network", "networkInterfaces/vm1-nic"),
                "name": "vm1-nic",
                "location": "eastus",
                "type": "Microsoft.Network/networkInterfaces",
                "ipConfigurations": [{"name": "ipconfig1", "subnet": {"id": self.subnet_id}}],
            }
        ]
        self.files["vnets.json"] = [
            {
                "id": rid(net, "Microsoft.Network", "virtualNetworks/vnet1"),
                "name": "vnet1",
                "location": "eastus",
                "type": "Microsoft.Network/virtualNetworks",
                "subnets": [
                    {
                        "id": self.subnet_id,
                        "name": "snet1",
                        "addressPrefix": "10.0.0.0/24",
                        "networkSecurityGroup": {"id": self.nsg_id},
                    }
                ],
            }
        ]
        self.files["nsgs.json"] = [
            {
                "id": self.nsg_id,
                "name": "nsg1",
                "location": "eastus",
                "type": "Microsoft.Network/networkSecurityGroups",
                "securityRules": [],
                "defaultSecurityRules": DEFAULT_RULES,
            }
        ]
        self.files["route-tables.json"] = []
        self.files["storage-accounts.json"] = [self.storage("contosoasrcache", "eastus")]
        self.files["blob-services.json"] = {
            "value": [
                {
                    "id": rid(
                        "rg-app",
                        "Microsoft.Storage",
                        "storageAccounts/contosoasrcache/blobServices/default",
                    ),
                    "name": "default",
                    "type": "Microsoft.Storage/storageAccounts/blobServices",
                    "properties": {"deleteRetentionPolicy": {"enabled": False}},
                }
            ]
        }
        self.files["deny-assignments.json"] = []  # read, and none
        self.files["role-assignments.json"] = [
            {
                "id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments/r1",
                "name": "r1",
                "principalId": PRINCIPAL,
                "principalType": "User",
                "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
                f"roleDefinitions/{OWNER_ROLE}",
                "roleDefinitionName": "Owner",
                "scope": f"/subscriptions/{SUB}",
                "condition": None,
                "type": "Microsoft.Authorization/roleAssignments",
            }
        ]
        self.files["role-definitions.json"] = [
            {
                "id": f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER_ROLE}",
                "name": OWNER_ROLE,
                "roleName": "Owner",
                "roleType": "BuiltInRole",
                "type": "Microsoft.Authorization/roleDefinitions",
                "assignableScopes": ["/"],
                "permissions": [
                    {"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}
                ],
            }
        ]
        self.files["guest/vm1.json"] = self.guest("vm1")

    # --- record makers -----------------------------------------------------------------
    def vm(self, name: str, rg: str = "rg-app", size: str = "Standard_D2s_v5") -> dict[str, Any]:
        return {
            "id": rid(rg, "Microsoft.Compute", f"virtualMachines/{name}"),
            "name": name,
            "type": "Microsoft.Compute/virtualMachines",
            "location": "eastus",
            "resourceGroup": rg,
            "vmId": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
            "provisioningState": "Succeeded",
            "powerState": "VM running",
            "zones": None,
            "hardwareProfile": {"vmSize": size},
            "storageProfile": {
                "imageReference": {
                    "publisher": "Canonical",
                    "offer": "0001-com-ubuntu-server-jammy",
                    "sku": "22_04-lts-gen2",
                    "version": "latest",
                },
                "osDisk": {
                    "osType": "Linux",
                    "name": f"{name}-osdisk",
                    "createOption": "FromImage",
                    "diskSizeGb": 30,
                    "managedDisk": {
                        "id": rid(rg, "Microsoft.Compute", f"disks/{name}-osdisk"),
                        "storageAccountType": "Premium_LRS",
                    },
                },
                "dataDisks": [],
            },
            "osProfile": {
                "computerName": name,
                "adminUsername": "azureuser",
                "linuxConfiguration": {"disablePasswordAuthentication": True},
            },
            "networkProfile": {
                "networkInterfaces": [
                    {"id": rid(rg, "Microsoft.Network", f"networkInterfaces/{name}-nic")}
                ]
            },
        }

    def protected_item(
        self, vm: dict[str, Any], size: str = "Standard_D2s_v5", health: str = "Normal"
    ) -> dict[str, Any]:
        """An A2A replication protected item of the REST list, as the vault rsv-dr holds it."""
        disks = [vm["storageProfile"]["osDisk"], *vm["storageProfile"]["dataDisks"]]
        container = (
            "vaults/rsv-dr/replicationFabrics/asr-a2a-default-eastus/"
            "replicationProtectionContainers/asr-a2a-default-eastus-container"
        )
        return {
            "id": rid("rg-dr", "Microsoft.RecoveryServices", container)
            + f"/replicationProtectedItems/{vm['vmId']}",
            "name": vm["vmId"],
            "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/"
            "replicationProtectionContainers/replicationProtectedItems",
            "properties": {
                "friendlyName": vm["name"],
                "protectedItemType": "A2AReplicationProtectedItem",
                "protectionState": "Protected",
                "replicationHealth": health,
                "healthErrors": [],
                "providerSpecificDetails": {
                    "instanceType": "A2A",
                    "fabricObjectId": vm["id"],
                    "primaryFabricLocation": "eastus",
                    "recoveryFabricLocation": "centralus",
                    "recoveryAzureVMSize": size,
                    "rpoInSeconds": 41,
                    "protectedManagedDisks": [
                        {"diskId": d["managedDisk"]["id"], "diskName": d["name"]} for d in disks
                    ],
                },
            },
        }

    def disk(self, name: str, size: int, sku_name: str, rg: str = "rg-app") -> dict[str, Any]:
        return {
            "id": rid(rg, "Microsoft.Compute", f"disks/{name}"),
            "name": name,
            "type": "Microsoft.Compute/disks",
            "location": "eastus",
            "diskSizeGb": size,
            "sku": {"name": sku_name},
            "diskState": "Attached",
            "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
        }

    def storage(self, name: str, location: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": rid("rg-app", "Microsoft.Storage", f"storageAccounts/{name}"),
            "name": name,
            "type": "Microsoft.Storage/storageAccounts",
            "location": location,
            "kind": "StorageV2",
            "sku": {"name": "Standard_LRS", "tier": "Standard"},
            "networkRuleSet": {"defaultAction": "Allow", "bypass": "AzureServices"},
            "allowSharedKeyAccess": None,
            "isHnsEnabled": False,
            **extra,
        }

    def guest(self, name: str) -> dict[str, Any]:
        vm = self.files["vms.json"][0] if name == "vm1" else None
        return {
            "schema": "asr-preflight/guest-facts",
            "version": 1,
            "vm": {"vm_id": vm["vmId"] if vm else None, "name": name},
            "os": {"family": "linux", "distro_id": "ubuntu", "version": "22.04"},
            "agent": {"present": True, "running": True},
            "trusted_roots": {
                "sha1": [
                    G2,
                    "a8985d3a65e5e5c4b2d7d66d40c6dd2fb19c5436",
                    "73a5e64a3bff8316ff0edccc618a906e4eae4d74",
                    "999a64c37ff47d9fab95f14769891460eec4c3c5",
                    "7e04de896a3e666d00e687d33ffad93be83d349e",
                ]
            },
            "endpoints": [],
        }

    # --- mutation helpers -----------------------------------------------------------------
    @property
    def vm1(self) -> dict[str, Any]:
        return self.files["vms.json"][0]

    def drop(self, *names: str) -> Estate:
        for name in names:
            del self.files[name]
        return self

    def write(self, folder: Path) -> Path:
        for name, content in self.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(content))
        return folder

    def copy(self) -> Estate:
        return copy.deepcopy(self)

    def check(self, folder: Path, **options: Any) -> CheckResult:
        return run_check(self.context(folder, **options))

    def context(self, folder: Path, **options: Any) -> Context:
        """The question a check asks of the written estate (East US → Central US)."""
        estate = build_estate(load_snapshot(self.write(folder)))
        options.setdefault("principal_id", PRINCIPAL)
        vms = select_vms(estate, Scope("eastus", options.get("target", "centralus")))
        options.pop("target", None)
        vms, protected = split_protected(estate, vms)
        return Context(
            estate=estate,
            source_region="eastus",
            target_region=options.pop("target_region", "centralus"),
            vms=vms,
            protected_vms=protected,
            **options,
        )

    def run(self, folder: Path, rule_id: str, **options: Any) -> list[Finding]:
        """Run one rule (checkov-style) over the written estate."""
        assert rule_id in REGISTRY, f"no rule {rule_id}"
        return [f for f in self.check(folder, **options).findings if f.rule == rule_id]


def statuses(findings: list[Finding]) -> list[str]:
    return [f.status.value for f in findings]


DEFAULT_RULES = [
    {
        "name": name,
        "priority": priority,
        "direction": direction,
        "access": access,
        "protocol": "*",
        "sourceAddressPrefix": src,
        "sourcePortRange": "*",
        "destinationAddressPrefix": dst,
        "destinationPortRange": "*",
    }
    for name, priority, direction, access, src, dst in (
        ("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
        ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*"),
        ("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*"),
        ("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
        ("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet"),
        ("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*"),
    )
]
