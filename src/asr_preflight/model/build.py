"""Normalize raw Azure JSON (az flattened, REST with `properties`, Resource Graph) into the model.

Every shape is read the same way: `props()` is the `properties` object when there is one, else
the record itself (az prints many resources flattened). Records of the same id are merged, so a
VM from `az vm list` and the same VM from a REST page with its instance view become one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from asr_preflight.errors import InputError
from asr_preflight.knowledge import regions
from asr_preflight.model import ids
from asr_preflight.model.entities import (
    AccessPolicy,
    DenyAssignment,
    DiskEncryptionSet,
    DiskRef,
    Endpoint,
    GuestFacts,
    KeyVault,
    LoadBalancer,
    NatGateway,
    NetworkInterface,
    NetworkMapping,
    NetworkSecurityGroup,
    Permission,
    Provider,
    ResourceGroup,
    RoleAssignment,
    RoleDefinition,
    Route,
    RouteTable,
    SecurityRule,
    SkuRestriction,
    StorageAccount,
    Subnet,
    Subscription,
    Usage,
    Vault,
    VirtualMachine,
    VirtualNetwork,
    VmExtension,
    VmSku,
)
from asr_preflight.model.estate import Estate
from asr_preflight.snapshot import Snapshot, detect

VM = "microsoft.compute/virtualmachines"
DISK = "microsoft.compute/disks"
NIC = "microsoft.network/networkinterfaces"
NSG = "microsoft.network/networksecuritygroups"
VNET = "microsoft.network/virtualnetworks"
ROUTE_TABLE = "microsoft.network/routetables"
STORAGE = "microsoft.storage/storageaccounts"
BLOB_SERVICE = "microsoft.storage/storageaccounts/blobservices"
VAULT = "microsoft.recoveryservices/vaults"
RESOURCE_GROUP = "microsoft.resources/resourcegroups"
ROLE_ASSIGNMENT = "microsoft.authorization/roleassignments"
ROLE_DEFINITION = "microsoft.authorization/roledefinitions"
DENY_ASSIGNMENT = "microsoft.authorization/denyassignments"
LOAD_BALANCER = "microsoft.network/loadbalancers"
NAT_GATEWAY = "microsoft.network/natgateways"
DISK_ENCRYPTION_SET = "microsoft.compute/diskencryptionsets"
KEY_VAULT = "microsoft.keyvault/vaults"
MANAGED_HSM = "microsoft.keyvault/managedhsms"
VM_EXTENSION = "microsoft.compute/virtualmachines/extensions"
NETWORK_MAPPING = (
    "microsoft.recoveryservices/vaults/replicationfabrics/replicationnetworks/"
    "replicationnetworkmappings"
)


def props(record: dict[str, Any]) -> dict[str, Any]:
    inner = record.get("properties")
    return inner if isinstance(inner, dict) else record


@lru_cache(maxsize=512)
def region(name: str | None) -> str:
    """Normalized region; names the KB does not know stay as given, lower-cased."""
    if not name:
        return ""
    return regions.normalize(name) or name.lower().replace(" ", "")


def _id(obj: Any) -> str | None:
    value = obj.get("id") if isinstance(obj, dict) else None
    return value if isinstance(value, str) and value else None


class _Cursor:
    """The record being normalized, so a malformed one is reported, not a traceback."""

    kind = ""
    index = -1
    record: Any = None
    merged = False  # VMs are merged across files first: their index is not a file position


def _each(snapshot: Snapshot, kind: str, records: list[Any] | None = None) -> Iterator[Any]:
    _Cursor.kind, _Cursor.merged = kind, records is not None
    for _Cursor.index, _Cursor.record in enumerate(
        snapshot.of(kind) if records is None else records
    ):
        yield _Cursor.record


def build_estate(snapshot: Snapshot) -> Estate:
    """The typed estate; a record whose fields have the wrong JSON types is an InputError that
    names its file, its place in it and what was expected."""
    try:
        return _build(snapshot)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        file, index = (
            (snapshot.origin, _Cursor.index)
            if _Cursor.merged
            else snapshot.origin_of(_Cursor.kind, _Cursor.index)
        )
        record = _Cursor.record if isinstance(_Cursor.record, dict) else {}
        name = record.get("name") or record.get("id") or "?"
        raise InputError(
            file,
            f"{_Cursor.kind} record #{index} ({name})",
            f"expected the shape az and the REST API print; {type(exc).__name__}: {exc}",
        ) from None


def _build(snapshot: Snapshot) -> Estate:
    estate = Estate(snapshot=snapshot, present=frozenset(snapshot.present))
    disks = {ids.key(d.get("id")): d for d in _each(snapshot, DISK)}
    vm_records = _merged(snapshot.of(VM))
    estate.vms = {vm.key: vm for vm in (_vm(r, disks) for r in _each(snapshot, VM, vm_records))}
    _extensions(estate, snapshot, vm_records)
    estate.disk_encryption_sets = {
        ids.key(d.id): d for d in map(_des, _each(snapshot, DISK_ENCRYPTION_SET))
    }
    key_vaults = _each(snapshot, KEY_VAULT, _merged(snapshot.of(KEY_VAULT)))
    estate.key_vaults = {ids.key(v.id): v for v in map(_key_vault, key_vaults)}
    for hsm in map(_key_vault, _each(snapshot, MANAGED_HSM)):
        estate.key_vaults[ids.key(hsm.id)] = hsm
    estate.nics = {ids.key(n.id): n for n in map(_nic, _each(snapshot, NIC))}
    estate.nsgs = {ids.key(n.id): n for n in map(_nsg, _each(snapshot, NSG))}
    for vnet in _each(snapshot, VNET):
        for subnet in _subnets(vnet):
            estate.subnets[ids.key(subnet.id)] = subnet
        estate.vnets[ids.key(vnet.get("id"))] = _vnet(vnet)
    estate.load_balancers = {ids.key(b.id): b for b in map(_lb, _each(snapshot, LOAD_BALANCER))}
    estate.nat_gateways = {ids.key(g.id): g for g in map(_nat, _each(snapshot, NAT_GATEWAY))}
    estate.network_mappings = [_mapping(m) for m in _each(snapshot, NETWORK_MAPPING)]
    estate.route_tables = {
        ids.key(t.id): t for t in map(_route_table, _each(snapshot, ROUTE_TABLE))
    }
    soft_delete = _soft_delete(_each(snapshot, BLOB_SERVICE))
    estate.storage_accounts = {
        ids.key(a.id): a for a in (_storage(r, soft_delete) for r in _each(snapshot, STORAGE))
    }
    estate.vaults = {ids.key(v.id): v for v in map(_vault, _each(snapshot, VAULT))}
    estate.resource_groups = {
        ids.key(g.id): g for g in map(_resource_group, _each(snapshot, RESOURCE_GROUP))
    }
    estate.subscriptions = {
        s.id: s for s in map(_subscription, _each(snapshot, detect.SUBSCRIPTIONS))
    }
    estate.providers = {
        (p.subscription_id, p.namespace.lower()): p
        for p in map(_provider, _each(snapshot, detect.PROVIDERS))
        if p
    }
    estate.offered_locations = _offered_locations(_each(snapshot, detect.LOCATIONS))
    estate.skus = _skus(_each(snapshot, detect.SKUS))
    estate.usages = [u for block in snapshot.usages for u in _usages(block)]
    estate.guest_facts = [_guest(g) for g in _each(snapshot, detect.GUEST_FACTS)]
    estate.role_assignments = [_role_assignment(r) for r in _each(snapshot, ROLE_ASSIGNMENT)]
    estate.role_definitions = {
        d.id: d for d in map(_role_definition, _each(snapshot, ROLE_DEFINITION))
    }
    estate.deny_assignments = [_deny_assignment(r) for r in _each(snapshot, DENY_ASSIGNMENT)]
    for block in snapshot.memberships:
        groups = frozenset(str(g.get("id", "")).lower() for g in block.value if g.get("id"))
        known = estate.memberships.get(block.principal_id, frozenset())
        estate.memberships[block.principal_id] = known | groups
    estate.index()
    return estate


def _merged(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per id, whatever the order of the exports: values present in either fill the
    other (az prints `"instanceView": null`, which must not hide a REST instance view)."""
    by_id: dict[str, dict[str, Any]] = {}
    for record in records:
        k = ids.key(record.get("id"))
        seen = by_id.get(k)
        if seen is None:
            by_id[k] = record
            continue
        merged = {**_present(record), **_present(seen)}
        merged["properties"] = {**_present(props(record)), **_present(props(seen))}
        by_id[k] = merged
    return list(by_id.values())


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _vm(record: dict[str, Any], disks: dict[str, dict[str, Any]]) -> VirtualMachine:
    p = props(record)
    rid = record.get("id") or ""
    hardware = p.get("hardwareProfile") or {}
    storage = p.get("storageProfile") or {}
    image = storage.get("imageReference") or {}
    view = p.get("instanceView") or (p.get("extended") or {}).get("instanceView") or {}
    agent = view.get("vmAgent") or {}
    security = p.get("securityProfile") or {}
    os_disk = storage.get("osDisk") or {}
    disk_refs = [_disk_ref(os_disk, "os", disks)] if os_disk else []
    disk_refs += [_disk_ref(d, "data", disks) for d in storage.get("dataDisks") or []]
    host = p.get("host") or {}
    return VirtualMachine(
        id=rid,
        key=ids.key(rid),
        name=record.get("name") or ids.name(rid),
        subscription_id=ids.subscription(rid) or "",
        resource_group=(record.get("resourceGroup") or ids.part(rid, "resourceGroups") or ""),
        location=region(record.get("location")),
        size=hardware.get("vmSize"),
        os_type=os_disk.get("osType") or _os_type_from_config(p),
        image=":".join(str(image.get(k, "")) for k in ("publisher", "offer", "sku"))
        if image.get("offer")
        else None,
        os_name=view.get("osName"),
        os_version=view.get("osVersion"),
        vm_id=p.get("vmId"),
        provisioning_state=p.get("provisioningState"),
        power_state=_power_state(record, view),
        agent_status=_agent_status(agent),
        agent_version=agent.get("vmAgentVersion"),
        zones=tuple(record.get("zones") or ()),
        availability_set_id=_id(p.get("availabilitySet")),
        ppg_id=_id(p.get("proximityPlacementGroup")),
        host_id=_id(host),
        host_group_id=_id(p.get("hostGroup")),
        vmss_id=_id(p.get("virtualMachineScaleSet")),
        nic_ids=tuple(
            n["id"]
            for n in (p.get("networkProfile") or {}).get("networkInterfaces") or ()
            if _id(n)
        ),
        disks=tuple(disk_refs),
        disk_controller=storage.get("diskControllerType"),
        security_type=security.get("securityType"),
        encryption_at_host=bool(security.get("encryptionAtHost")),
        hyper_v_generation=_generation(os_disk, disks, image),
        capacity_reservation_group_id=_id(
            (p.get("capacityReservation") or {}).get("capacityReservationGroup")
        ),
    )


def _generation(
    os_disk: dict[str, Any], disks: dict[str, dict[str, Any]], image: dict[str, Any]
) -> str | None:
    """Hyper-V generation: the OS disk says it; marketplace images say it in the SKU name."""
    resource = disks.get(ids.key((os_disk.get("managedDisk") or {}).get("id")))
    if resource and (generation := props(resource).get("hyperVGeneration")):
        return str(generation).upper()
    sku = str(image.get("sku", "")).lower()
    if "gen2" in sku or "-g2" in sku:
        return "V2"
    if "gen1" in sku:
        return "V1"
    return None


def _os_type_from_config(p: dict[str, Any]) -> str | None:
    os_profile = p.get("osProfile") or {}
    if os_profile.get("windowsConfiguration"):
        return "Windows"
    if os_profile.get("linuxConfiguration"):
        return "Linux"
    return None


def _power_state(record: dict[str, Any], view: dict[str, Any]) -> str | None:
    if isinstance(record.get("powerState"), str):  # az vm list -d
        return record["powerState"]
    if isinstance(view.get("powerState"), dict):  # Resource Graph's extended instance view
        return view["powerState"].get("displayStatus") or view["powerState"].get("code")
    for status in view.get("statuses") or ():
        if str(status.get("code", "")).startswith("PowerState/"):
            return status.get("displayStatus") or status["code"]
    return None


def _agent_status(agent: dict[str, Any]) -> str | None:
    for status in agent.get("statuses") or ():
        if status.get("displayStatus"):
            return status["displayStatus"]
    return None


def _disk_ref(d: dict[str, Any], role: str, disks: dict[str, dict[str, Any]]) -> DiskRef:
    managed = d.get("managedDisk") or {}
    resource = disks.get(ids.key(managed.get("id"))) or {}
    rp = props(resource)
    sku = (resource.get("sku") or {}).get("name") or managed.get("storageAccountType")
    size = rp.get("diskSizeGB", rp.get("diskSizeGb")) or d.get("diskSizeGB") or d.get("diskSizeGb")
    des = (managed.get("diskEncryptionSet") or {}).get("id") or (rp.get("encryption") or {}).get(
        "diskEncryptionSetId"
    )
    ephemeral = bool(d.get("diffDiskSettings"))
    return DiskRef(
        name=d.get("name") or ids.name(managed.get("id")),
        role=role,
        lun=d.get("lun"),
        id=managed.get("id"),
        size_gib=float(size) if size is not None else None,
        sku=sku,
        managed=bool(managed) or ephemeral or not d.get("vhd"),
        ephemeral=ephemeral,
        write_accelerator=bool(d.get("writeAcceleratorEnabled")),
        max_shares=rp.get("maxShares"),
        encryption_set_id=des,
        encryption_type=(rp.get("encryption") or {}).get("type") if resource else None,
    )


def _extensions(estate: Estate, snapshot: Snapshot, vms: list[dict[str, Any]]) -> None:
    """Extensions from `az vm extension list` and from the `resources` `az vm show` embeds.
    Only public settings are kept: protected settings are never read."""
    embedded = [
        {"id": f"{vm.get('id', '')}/extensions/{r.get('name', '')}", **r} if not r.get("id") else r
        for vm in vms
        for r in vm.get("resources") or ()
        if isinstance(r, dict)
    ]
    for record in _each(snapshot, VM_EXTENSION, snapshot.of(VM_EXTENSION) + embedded):
        ext = _extension(record)
        estate.extensions.setdefault(ext.vm_key, {})[ids.key(ext.id)] = ext
    estate.extensions_known = VM_EXTENSION in snapshot.present or bool(embedded)


def _extension(record: dict[str, Any]) -> VmExtension:
    rid = str(record.get("id") or "")
    nested = isinstance(record.get("properties"), dict)
    p = props(record)
    settings = p.get("settings")
    return VmExtension(
        id=rid,
        vm_key=ids.key(rid.rsplit("/extensions/", 1)[0]) if "/extensions/" in rid.lower() else "",
        name=str(record.get("name") or ids.name(rid)),
        publisher=p.get("publisher"),
        type=p.get("typePropertiesType") or (p.get("type") if nested else None),
        version=p.get("typeHandlerVersion"),
        settings=dict(settings) if isinstance(settings, dict) else {},
    )


def _des(record: dict[str, Any]) -> DiskEncryptionSet:
    p = props(record)
    key = p.get("activeKey") or {}
    return DiskEncryptionSet(
        id=record.get("id", ""),
        name=record.get("name", ""),
        location=region(record.get("location")),
        key_vault_id=_id(key.get("sourceVault")),
        key_url=key.get("keyUrl"),
        encryption_type=p.get("encryptionType"),
    )


def _key_vault(record: dict[str, Any]) -> KeyVault:
    p = props(record)
    rbac = p.get("enableRbacAuthorization")
    return KeyVault(
        id=record.get("id", ""),
        name=record.get("name", ""),
        location=region(record.get("location")),
        rbac=bool(rbac) if rbac is not None else (False if "accessPolicies" in p else None),
        access_policies=tuple(
            AccessPolicy(
                object_id=str(a.get("objectId", "")).lower(),
                keys=frozenset(
                    str(x).lower() for x in (a.get("permissions") or {}).get("keys") or ()
                ),
                secrets=frozenset(
                    str(x).lower() for x in (a.get("permissions") or {}).get("secrets") or ()
                ),
            )
            for a in p.get("accessPolicies") or ()
            if isinstance(a, dict)
        ),
        sku=str((p.get("sku") or record.get("sku") or {}).get("name") or "").lower() or None,
        soft_delete=p.get("enableSoftDelete"),
        purge_protection=p.get("enablePurgeProtection"),
        hsm=str(record.get("type", "")).lower() == MANAGED_HSM,
    )


def _nic(record: dict[str, Any]) -> NetworkInterface:
    p = props(record)
    subnets, public_ips, private_ips, asgs, pools = [], [], [], [], []
    configs = sorted(p.get("ipConfigurations") or (), key=lambda c: not props(c).get("primary"))
    for config in configs:
        cp = props(config)
        if _id(cp.get("subnet")):
            subnets.append(cp["subnet"]["id"])
        if _id(cp.get("publicIPAddress")):
            public_ips.append(cp["publicIPAddress"]["id"])
        if cp.get("privateIPAddress"):
            private_ips.append(str(cp["privateIPAddress"]))
        asgs += [g["id"] for g in cp.get("applicationSecurityGroups") or () if _id(g)]
        pools += [b["id"] for b in cp.get("loadBalancerBackendAddressPools") or () if _id(b)]
    return NetworkInterface(
        id=record.get("id", ""),
        name=record.get("name", ""),
        location=region(record.get("location")),
        subnet_ids=tuple(subnets),
        nsg_id=_id(p.get("networkSecurityGroup")),
        accelerated_networking=bool(p.get("enableAcceleratedNetworking")),
        public_ip_ids=tuple(public_ips),
        primary=p.get("primary"),
        private_ips=tuple(private_ips),
        asg_ids=tuple(asgs),
        backend_pool_ids=tuple(pools),
        dns_servers=tuple((p.get("dnsSettings") or {}).get("dnsServers") or ()),
    )


def _nsg(record: dict[str, Any]) -> NetworkSecurityGroup:
    p = props(record)
    rules = [_rule(r, False) for r in p.get("securityRules") or ()]
    rules += [_rule(r, True) for r in p.get("defaultSecurityRules") or ()]
    return NetworkSecurityGroup(
        id=record.get("id", ""),
        name=record.get("name", ""),
        location=region(record.get("location")),
        rules=tuple(rules),
    )


def _rule(record: dict[str, Any], default: bool) -> SecurityRule:
    p = props(record)
    # Application security groups stand for VM NICs; keep them visible rather than as "*".
    groups = [f"asg:{g.get('id', '')}" for g in p.get("destinationApplicationSecurityGroups") or ()]
    destinations = (
        groups or p.get("destinationAddressPrefixes") or [p.get("destinationAddressPrefix") or "*"]
    )
    ports = p.get("destinationPortRanges") or [p.get("destinationPortRange") or "*"]
    source_groups = [
        f"asg:{g.get('id', '')}" for g in p.get("sourceApplicationSecurityGroups") or ()
    ]
    sources = (
        source_groups or p.get("sourceAddressPrefixes") or [p.get("sourceAddressPrefix") or "*"]
    )
    source_ports = p.get("sourcePortRanges") or [p.get("sourcePortRange") or "*"]
    return SecurityRule(
        name=record.get("name", ""),
        priority=int(p.get("priority") or 65000),
        direction=p.get("direction", ""),
        access=p.get("access", ""),
        protocol=p.get("protocol", "*"),
        destinations=tuple(destinations),
        destination_ports=tuple(str(x) for x in ports),
        default=default,
        sources=tuple(sources),
        source_ports=tuple(str(x) for x in source_ports),
    )


def _subnets(vnet: dict[str, Any]) -> list[Subnet]:
    vp = props(vnet)
    out = []
    for subnet in vp.get("subnets") or ():
        sp = props(subnet)
        out.append(
            Subnet(
                id=subnet.get("id", ""),
                name=subnet.get("name", ""),
                vnet_id=vnet.get("id", ""),
                location=region(vnet.get("location")),
                nsg_id=_id(sp.get("networkSecurityGroup")),
                route_table_id=_id(sp.get("routeTable")),
                service_endpoints=tuple(
                    e.get("service", "") for e in sp.get("serviceEndpoints") or ()
                ),
                nat_gateway_id=_id(sp.get("natGateway")),
                address_prefixes=tuple(
                    sp.get("addressPrefixes")
                    or ([sp["addressPrefix"]] if sp.get("addressPrefix") else ())
                ),
                endpoint_locations=tuple(
                    (e.get("service", ""), tuple(region(x) for x in e.get("locations") or ()))
                    for e in sp.get("serviceEndpoints") or ()
                ),
                default_outbound_access=sp.get("defaultOutboundAccess"),
                private_endpoint_ids=tuple(
                    e["id"] for e in sp.get("privateEndpoints") or () if _id(e)
                ),
            )
        )
    return out


def _vnet(record: dict[str, Any]) -> VirtualNetwork:
    p = props(record)
    return VirtualNetwork(
        id=record.get("id", ""),
        name=record.get("name", ""),
        location=region(record.get("location")),
        address_prefixes=tuple((p.get("addressSpace") or {}).get("addressPrefixes") or ()),
        dns_servers=tuple((p.get("dhcpOptions") or {}).get("dnsServers") or ()),
    )


def _pools(rule: dict[str, Any]) -> list[str]:
    """Backend pools a load-balancing or outbound rule serves (one, or a list since 2020)."""
    rp = props(rule)
    pools = [b["id"] for b in rp.get("backendAddressPools") or () if _id(b)]
    return pools or ([rp["backendAddressPool"]["id"]] if _id(rp.get("backendAddressPool")) else [])


def _lb(record: dict[str, Any]) -> LoadBalancer:
    p = props(record)
    frontends = [props(f) for f in p.get("frontendIPConfigurations") or ()]
    return LoadBalancer(
        id=record.get("id", ""),
        name=record.get("name", ""),
        location=region(record.get("location")),
        sku=(record.get("sku") or {}).get("name"),
        public=any(
            _id(f.get("publicIPAddress")) or _id(f.get("publicIPPrefix")) for f in frontends
        ),
        pool_ids=tuple(b["id"] for b in p.get("backendAddressPools") or () if _id(b)),
        outbound_rule_pools=tuple(
            (r.get("name", ""), pool) for r in p.get("outboundRules") or () for pool in _pools(r)
        ),
        snat_pools=tuple(
            (r.get("name", ""), pool)
            for r in p.get("loadBalancingRules") or ()
            if not props(r).get("disableOutboundSnat")
            for pool in _pools(r)
        ),
    )


def _nat(record: dict[str, Any]) -> NatGateway:
    p = props(record)
    return NatGateway(
        id=record.get("id", ""),
        name=record.get("name", ""),
        public_ips=len(p.get("publicIpAddresses") or ()) + len(p.get("publicIpPrefixes") or ()),
    )


def _mapping(record: dict[str, Any]) -> NetworkMapping:
    p = props(record)
    fabric = p.get("fabricSpecificSettings") or {}
    return NetworkMapping(
        id=record.get("id", ""),
        name=record.get("name", ""),
        primary_network_id=p.get("primaryNetworkId") or "",
        recovery_network_id=p.get("recoveryNetworkId") or "",
        primary_location=region(fabric.get("primaryFabricLocation")) or None,
        recovery_location=region(fabric.get("recoveryFabricLocation")) or None,
        state=p.get("state"),
    )


def _route_table(record: dict[str, Any]) -> RouteTable:
    routes = []
    for route in props(record).get("routes") or ():
        rp = props(route)
        routes.append(
            Route(
                name=route.get("name", ""),
                address_prefix=rp.get("addressPrefix", ""),
                next_hop_type=rp.get("nextHopType", ""),
                next_hop_ip=rp.get("nextHopIpAddress"),
            )
        )
    return RouteTable(id=record.get("id", ""), name=record.get("name", ""), routes=tuple(routes))


def _soft_delete(services: Iterable[dict[str, Any]]) -> dict[str, bool]:
    return {
        ids.parent(s.get("id")): bool((props(s).get("deleteRetentionPolicy") or {}).get("enabled"))
        for s in services
    }


def _storage(record: dict[str, Any], soft_delete: dict[str, bool]) -> StorageAccount:
    p = props(record)
    acl = p.get("networkAcls") or p.get("networkRuleSet") or {}
    rid = record.get("id", "")
    return StorageAccount(
        id=rid,
        name=record.get("name", ""),
        subscription_id=ids.subscription(rid) or "",
        location=region(record.get("location")),
        kind=record.get("kind"),
        sku=(record.get("sku") or {}).get("name"),
        default_action=acl.get("defaultAction"),
        bypass=acl.get("bypass"),
        public_network_access=p.get("publicNetworkAccess"),
        allow_shared_key_access=p.get("allowSharedKeyAccess"),
        hierarchical_namespace=bool(p.get("isHnsEnabled")),
        blob_soft_delete=soft_delete.get(ids.key(rid)),
        virtual_network_rules=tuple(
            str(r.get("virtualNetworkResourceId") or r.get("id") or "")
            for r in acl.get("virtualNetworkRules") or ()
            if str(r.get("action") or "Allow").lower() == "allow"
        ),
        ip_rules=tuple(
            str(r.get("ipAddressOrRange") or r.get("value") or "") for r in acl.get("ipRules") or ()
        ),
        private_endpoints=tuple(
            (
                _id(props(c).get("privateEndpoint")) or "",
                str((props(c).get("privateLinkServiceConnectionState") or {}).get("status") or ""),
            )
            for c in p.get("privateEndpointConnections") or ()
        ),
    )


def _vault(record: dict[str, Any]) -> Vault:
    rid = record.get("id", "")
    return Vault(
        id=rid,
        name=record.get("name", ""),
        subscription_id=ids.subscription(rid) or "",
        location=region(record.get("location")),
    )


def _resource_group(record: dict[str, Any]) -> ResourceGroup:
    return ResourceGroup(
        id=record.get("id", ""),
        name=record.get("name", ""),
        location=region(record.get("location")),
    )


def _subscription(record: dict[str, Any]) -> Subscription:
    sid = str(record.get("subscriptionId") or record.get("id") or "").rsplit("/", 1)[-1].lower()
    return Subscription(
        id=sid,
        name=record.get("displayName") or record.get("name"),
        tenant_id=record.get("tenantId"),
        state=record.get("state") or props(record).get("state"),  # Resource Graph: in properties
    )


def _provider(record: dict[str, Any]) -> Provider | None:
    sub = ids.subscription(record.get("id"))
    if not sub:
        return None
    locations = {
        str(rt.get("resourceType", "")).lower(): frozenset(
            region(x) for x in rt.get("locations") or ()
        )
        for rt in record.get("resourceTypes") or ()
    }
    return Provider(
        subscription_id=sub,
        namespace=record.get("namespace", ""),
        state=record.get("registrationState", ""),
        locations=locations,
    )


def _offered_locations(records: Iterable[dict[str, Any]]) -> dict[str, frozenset[str]]:
    """Regions each subscription lists (az account list-locations); physical regions only."""
    offered: dict[str, set[str]] = {}
    for record in records:
        if (record.get("metadata") or {}).get("regionType", "Physical") != "Physical":
            continue
        sub = ids.subscription(record.get("id")) or ""
        offered.setdefault(sub, set()).add(region(record.get("name")))
    return {sub: frozenset(names) for sub, names in offered.items()}


def _skus(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, VmSku]]:
    """VM sizes by region: region -> size name (lower) -> sku."""
    by_region: dict[str, dict[str, VmSku]] = {}
    for record in records:
        if str(record.get("resourceType", "")).lower() != "virtualmachines":
            continue
        sku = _sku(record)
        for location in sku.locations:
            by_region.setdefault(location, {})[sku.name.lower()] = sku
    return by_region


def _sku(record: dict[str, Any]) -> VmSku:
    locations = tuple(region(x) for x in record.get("locations") or ())
    zones = {
        region(info.get("location")): tuple(info.get("zones") or ())
        for info in record.get("locationInfo") or ()
    }
    restrictions = tuple(
        SkuRestriction(
            type=r.get("type", ""),
            reason=r.get("reasonCode"),
            locations=tuple(
                region(x)
                for x in (r.get("restrictionInfo") or {}).get("locations") or r.get("values") or ()
            ),
            zones=tuple((r.get("restrictionInfo") or {}).get("zones") or ()),
        )
        for r in record.get("restrictions") or ()
    )
    capabilities = {
        str(c.get("name")): str(c.get("value")) for c in record.get("capabilities") or ()
    }
    return VmSku(
        name=record.get("name", ""),
        family=record.get("family"),
        locations=locations,
        zones=zones,
        capabilities=capabilities,
        restrictions=restrictions,
        vcpus=_number(capabilities.get("vCPUs")),
        memory_gib=_number(capabilities.get("MemoryGB")),
    )


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _usages(block: Any) -> list[Usage]:
    out = []
    for record in block.value:
        name = record.get("name") or {}
        try:
            out.append(
                Usage(
                    location=block.location,
                    name=str(name.get("value", "")),
                    # az prints "40" for compute usages and 4.0 for network ones
                    current=int(float(record.get("currentValue"))),
                    limit=int(float(record.get("limit"))),
                    subscription_id=block.subscription_id,
                )
            )
        except (TypeError, ValueError):
            continue  # a usage without numbers says nothing; the quota rule reports what's missing
    return out


def _guest(record: dict[str, Any]) -> GuestFacts:
    vm = record.get("vm") or {}
    os_info = record.get("os") or {}
    agent = record.get("agent") or {}
    roots = record.get("trusted_roots")
    proxy = record.get("proxy") or {}
    return GuestFacts(
        vm_id=vm.get("vm_id"),
        name=vm.get("name"),
        os_family=os_info.get("family"),
        distro_id=os_info.get("distro_id"),
        os_version=os_info.get("version"),
        pretty_name=os_info.get("pretty_name"),
        agent_present=agent.get("present"),
        agent_running=agent.get("running"),
        trusted_roots=frozenset(s.lower().replace(":", "") for s in roots.get("sha1") or ())
        if isinstance(roots, dict)
        else None,
        endpoints=tuple(
            Endpoint(
                host=e.get("host", ""),
                port=int(e.get("port") or 443),
                resolved=e.get("resolved"),
                connected=e.get("connected"),
                tls_verified=e.get("tls_verified"),
                error=e.get("error"),
            )
            for e in record.get("endpoints") or ()
        ),
        proxy_authenticated=proxy.get("authenticated"),
        collected_at=record.get("collected_at"),
        proxy_url=proxy.get("url"),
        grub=_typed(record.get("grub"), dict),
        services=_typed(record.get("services"), list),
        filesystems=_typed(record.get("filesystems"), list),
    )


def _typed(value: Any, kind: type) -> Any:
    """A probe section as written, or None when it is absent or not the expected JSON type."""
    return value if isinstance(value, kind) else None


def _scope(value: Any) -> str:
    return str(value or "").rstrip("/").lower()


def _permissions(blocks: Any) -> tuple[Permission, ...]:
    return tuple(
        Permission(
            actions=tuple(b.get("actions") or ()),
            not_actions=tuple(b.get("notActions") or ()),
            data_actions=tuple(b.get("dataActions") or ()),
            not_data_actions=tuple(b.get("notDataActions") or ()),
        )
        for b in blocks or ()
        if isinstance(b, dict)
    )


def _role_assignment(record: dict[str, Any]) -> RoleAssignment:
    p = props(record)
    return RoleAssignment(
        id=record.get("id", ""),
        principal_id=str(p.get("principalId", "")).lower(),
        role_definition_id=ids.name(p.get("roleDefinitionId")).lower(),
        scope=_scope(p.get("scope")),
        role_name=record.get("roleDefinitionName"),
        condition=p.get("condition") or None,
        principal_type=p.get("principalType"),
    )


def _role_definition(record: dict[str, Any]) -> RoleDefinition:
    p = props(record)
    return RoleDefinition(
        id=str(record.get("name") or ids.name(record.get("id"))).lower(),
        name=p.get("roleName") or record.get("roleName") or "",
        permissions=_permissions(p.get("permissions")),
    )


def _deny_assignment(record: dict[str, Any]) -> DenyAssignment:
    p = props(record)
    return DenyAssignment(
        id=record.get("id", ""),
        scope=_scope(p.get("scope")),
        principals=frozenset(str(x.get("id", "")).lower() for x in p.get("principals") or ()),
        excluded=frozenset(str(x.get("id", "")).lower() for x in p.get("excludePrincipals") or ()),
        permissions=_permissions(p.get("permissions")),
    )
