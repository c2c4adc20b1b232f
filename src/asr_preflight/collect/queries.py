"""The Resource Graph queries: one per kind, so a failed kind leaves the others present.

Every query projects the columns of the `Resources` table that the model reads (the same row
shape `az graph query` prints) and orders by id, which `$skipToken` paging needs to be stable.
The resources there are one or more of per VM (VMs, disks, NICs, public IPs) are limited to the
source and target regions, where a VM and all of these are; networks, NSGs, route tables, load
balancers, NAT gateways, storage accounts, vaults and resource groups are read in every region
(checks look for name clashes and existing target networks anywhere).
"""

from __future__ import annotations

from dataclasses import dataclass

from asr_preflight.snapshot.detect import PROTECTED_ITEMS

COLUMNS = (
    "id, name, type, tenantId, kind, location, resourceGroup, subscriptionId, managedBy, sku, "
    "plan, properties, tags, identity, zones, extendedLocation"
)


@dataclass(frozen=True)
class GraphQuery:
    kind: str  # the snapshot kind its rows become
    table: str
    arm_type: str
    regional: bool

    def text(self, regions: tuple[str, ...]) -> str:
        lines = [self.table, f"| where type =~ '{self.arm_type}'"]
        if self.regional and regions:
            quoted = ", ".join(f"'{r}'" for r in regions)
            lines.append(f"| where location in~ ({quoted})")
        lines += [f"| project {COLUMNS}", "| order by id asc"]
        return "\n".join(lines)


def _resources(arm_type: str, regional: bool = True) -> GraphQuery:
    return GraphQuery(arm_type, "Resources", arm_type, regional)


QUERIES: tuple[GraphQuery, ...] = (
    _resources("microsoft.compute/virtualmachines"),
    _resources("microsoft.compute/disks"),
    _resources("microsoft.network/networkinterfaces"),
    _resources("microsoft.network/networksecuritygroups", regional=False),
    _resources("microsoft.network/virtualnetworks", regional=False),
    _resources("microsoft.network/routetables", regional=False),
    _resources("microsoft.network/loadbalancers", regional=False),
    _resources("microsoft.network/natgateways", regional=False),
    _resources("microsoft.network/publicipaddresses"),
    _resources("microsoft.storage/storageaccounts", regional=False),
    _resources("microsoft.recoveryservices/vaults", regional=False),
    _resources("microsoft.compute/diskencryptionsets"),
    _resources("microsoft.keyvault/vaults"),
    _resources("microsoft.compute/virtualmachines/extensions"),
    # VMs a vault replicates already (their own verdict); Azure keeps these in their own table
    GraphQuery(PROTECTED_ITEMS, "RecoveryServicesResources", PROTECTED_ITEMS, regional=False),
    GraphQuery(
        "microsoft.resources/resourcegroups",
        "ResourceContainers",
        "microsoft.resources/subscriptions/resourcegroups",
        regional=False,
    ),
)
