"""Build the typed estate from a snapshot: each record decoded once into its schema, then
normalized into the model (regions by ARM name, ids compared case-insensitively).

Every shape Azure prints is read the same way: `settings()` is the `properties` object when there
is one, else the record itself (az flattens). Records of the same id are merged, so a VM from
`az vm list` and the same VM from a REST page with its instance view become one. What cannot be
understood is reported through the Reader (see reader.py), never raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cache
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

import msgspec
from msgspec.structs import astuple

from asr_preflight.knowledge import regions
from asr_preflight.model import ids
from asr_preflight.model import schema as raw
from asr_preflight.model.entities import (
    AccessPolicy,
    DenyAssignment,
    DiskEncryptionSet,
    DiskRef,
    Endpoint,
    Grub,
    GrubFile,
    GuestFacts,
    GuestFilesystem,
    GuestService,
    InputProblem,
    KeyVault,
    LoadBalancer,
    LvmVolume,
    MetricSeries,
    NatGateway,
    NetworkInterface,
    NetworkMapping,
    NetworkSecurityGroup,
    Permission,
    ProtectedItem,
    Provider,
    ResourceGroup,
    RoleAssignment,
    RoleDefinition,
    Route,
    RouteTable,
    SecurityRule,
    ServiceTag,
    ServiceTagSet,
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
from asr_preflight.model.reader import (
    Reader,
    Unreadable,
    name_of,
    required,
    resource_id,
)
from asr_preflight.model.schema import settings
from asr_preflight.secrets import REDACTED, scrub
from asr_preflight.snapshot import Snapshot, detect
from asr_preflight.snapshot.redact import is_secret_name

S = TypeVar("S", bound=msgspec.Struct)
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
PROTECTED_ITEM = detect.PROTECTED_ITEMS
METRICS = "microsoft.insights/metrics"

# The kinds the model reads; records of any other kind are counted and otherwise ignored.
USED_KINDS = frozenset(
    {
        VM,
        DISK,
        NIC,
        NSG,
        VNET,
        ROUTE_TABLE,
        STORAGE,
        BLOB_SERVICE,
        VAULT,
        RESOURCE_GROUP,
        ROLE_ASSIGNMENT,
        ROLE_DEFINITION,
        DENY_ASSIGNMENT,
        LOAD_BALANCER,
        NAT_GATEWAY,
        DISK_ENCRYPTION_SET,
        KEY_VAULT,
        MANAGED_HSM,
        VM_EXTENSION,
        NETWORK_MAPPING,
        PROTECTED_ITEM,
        METRICS,
        detect.SKUS,
        detect.USAGES,
        detect.LOCATIONS,
        detect.PROVIDERS,
        detect.SUBSCRIPTIONS,
        detect.GUEST_FACTS,
        detect.GROUPS,
        detect.SERVICE_TAGS,
    }
)


def build_estate(snapshot: Snapshot) -> Estate:
    """The typed estate. Nothing here raises on odd input: a record that does not fit is
    reported in `estate.problems` and left out, or kept without what could not be read."""
    reader = Reader(snapshot)
    estate = Estate(snapshot=snapshot, present=frozenset(snapshot.present))
    estate.offered_locations = _offered_locations(reader)
    estate.paired_regions = _paired_regions(reader)
    reader.exported_regions = {r for regions in estate.offered_locations.values() for r in regions}

    def every(kind: str) -> Iterator[Any]:
        schema, make = _BUILDERS[kind]
        return reader.build(kind, schema, lambda record: make(reader, record))

    disks = {ids.key(d.id): d for _, d in reader.each(DISK, raw.DiskRecord) if d.id}
    vm_records = _merged_vms(reader)
    estate.vms = {vm.key: vm for vm in (_vm(reader, i, r, disks) for i, r in vm_records) if vm}
    _extensions(estate, reader, vm_records)
    estate.disk_encryption_sets = {ids.key(d.id): d for d in every(DISK_ENCRYPTION_SET)}
    for kind in (KEY_VAULT, MANAGED_HSM):
        estate.key_vaults.update((ids.key(v.id), v) for v in every(kind))
    estate.nics = {ids.key(n.id): n for n in every(NIC)}
    estate.nsgs = {ids.key(n.id): n for n in every(NSG)}
    for vnet, subnets in every(VNET):
        estate.vnets[ids.key(vnet.id)] = vnet
        estate.subnets.update((ids.key(s.id), s) for s in subnets)
    estate.load_balancers = {ids.key(b.id): b for b in every(LOAD_BALANCER)}
    estate.nat_gateways = {ids.key(g.id): g for g in every(NAT_GATEWAY)}
    estate.network_mappings = list(every(NETWORK_MAPPING))
    for series in every(METRICS):
        for one in series:
            estate.metrics.setdefault(one.resource_key, []).append(one)
    estate.protected_items = {
        ids.key(item.vm_id): item for item in every(PROTECTED_ITEM) if item is not _NOT_A2A
    }
    estate.route_tables = {ids.key(t.id): t for t in every(ROUTE_TABLE)}
    soft_delete = {
        ids.parent(s.id): _enabled(settings(s).delete_retention_policy)
        for _, s in reader.each(BLOB_SERVICE, raw.BlobServiceRecord)
        if s.id
    }
    estate.storage_accounts = {
        ids.key(a.id): a
        for a in reader.build(
            STORAGE, raw.StorageRecord, lambda r: _storage(reader, r, soft_delete)
        )
    }
    estate.vaults = {ids.key(v.id): v for v in every(VAULT)}
    estate.resource_groups = {ids.key(g.id): g for g in every(RESOURCE_GROUP)}
    estate.subscriptions = {s.id: s for s in every(detect.SUBSCRIPTIONS)}
    estate.providers = {
        (p.subscription_id, p.namespace.lower()): p for p in every(detect.PROVIDERS)
    }
    estate.skus = _skus(every(detect.SKUS))
    estate.usages = _usages(reader, snapshot)
    estate.service_tags = list(every(detect.SERVICE_TAGS))
    guest = list(
        reader.indexed(detect.GUEST_FACTS, raw.GuestFactsRecord, lambda r: _guest(reader, r))
    )
    estate.guest_facts = [facts for _, facts in guest]
    _unmatched_guest_facts(reader, estate, guest)
    estate.role_assignments = list(every(ROLE_ASSIGNMENT))
    estate.role_definitions = {d.id: d for d in every(ROLE_DEFINITION)}
    estate.deny_assignments = list(every(DENY_ASSIGNMENT))
    _memberships(estate, reader, snapshot)
    estate.problems = _load_problems(snapshot) + reader.problems
    for problem in snapshot.problems:
        for kind in problem.kinds:
            reader.left_out[kind] = reader.left_out.get(kind, 0) + 1
    estate.left_out = reader.left_out
    estate.extensions_known = estate.has(VM_EXTENSION) or estate.extensions_known
    estate.unused_records = sum(
        len(records) for kind, records in snapshot.records.items() if kind not in USED_KINDS
    )
    estate.index()
    return estate


def one(kind: str, record: Any) -> Any:
    """One raw record through the boundary, built as the model builds it; None when it is left
    out. For tests and tools that reason about a single resource."""
    reader = Reader(Snapshot(records={kind: [record]}, present=[kind]))
    schema, make = _BUILDERS[kind]
    return next(reader.build(kind, schema, lambda typed: make(reader, typed)), None)


def _load_problems(snapshot: Snapshot) -> list[InputProblem]:
    return [
        InputProblem(p.file, p.path, scrub(p.expected), kind=p.kinds[0] if p.kinds else None)
        for p in snapshot.problems
    ]


# --- compute -----------------------------------------------------------------------------------


def _merged_vms(reader: Reader) -> list[tuple[int, raw.VmRecord]]:
    """One record per id, whatever the order of the exports: what either has fills the other
    (az prints `"instanceView": null`, which must not hide a REST instance view)."""
    by_id: dict[str, tuple[int, raw.VmRecord]] = {}
    for index, record in reader.each(VM, raw.VmRecord):
        if not record.id:
            reader.report(VM, index, "$.id", "expected an ARM resource id (/subscriptions/…)", None)
            continue
        key = ids.key(record.id)
        seen = by_id.get(key)
        by_id[key] = (index, record) if seen is None else (seen[0], _merge_vm(seen[1], record))
    return list(by_id.values())


def _merge_vm(first: raw.VmRecord, second: raw.VmRecord) -> raw.VmRecord:
    merged = _fill(first, second)
    return msgspec.structs.replace(merged, properties=_fill(settings(first), settings(second)))


def _fill(first: S, second: Any) -> S:
    """`first`, its None fields filled from `second`, nested schemas alike."""
    # Fields are read in C (astuple, attrgetter) and the few that differ picked out in one
    # comprehension: a getattr per field was a sixth of loading 50,000 VMs, each in az's flat
    # export and in REST's nested one.
    names, mine = _field_names(type(first)), astuple(first)
    if type(second) is type(first):
        theirs = astuple(second)
    else:
        names, pick, read = _shared_fields(type(first), type(second))
        mine, theirs = pick(mine), read(second)
    differ = [
        (n, a, b)
        for n, a, b in zip(names, mine, theirs, strict=True)
        if b is not None and a is not b
    ]
    updates = {}
    for name, a, b in differ:
        if a is None:
            updates[name] = b
        elif isinstance(a, raw.Schema) and type(b) is type(a) and a != b:
            updates[name] = _fill(a, b)
    return msgspec.structs.replace(first, **updates) if updates else first


@cache
def _field_names(kind: type[msgspec.Struct]) -> tuple[str, ...]:
    """A schema's field names (msgspec resolves the annotations again on every call)."""
    return kind.__struct_fields__


@cache
def _shared_fields(
    mine: type[msgspec.Struct], theirs: type[msgspec.Struct]
) -> tuple[tuple[str, ...], Callable[[tuple], tuple], Callable[[Any], tuple]]:
    """The field names `mine` shares with `theirs`, a picker of those from `mine`'s astuple,
    and a reader of those from a `theirs` record."""
    names = _field_names(mine)
    shared = tuple(i for i, name in enumerate(names) if name in _field_names(theirs))
    shared_names = tuple(names[i] for i in shared)
    if len(shared) < 2:  # itemgetter and attrgetter of one give the value, not a tuple of it
        return (
            shared_names,
            lambda values: tuple(values[i] for i in shared),
            lambda record: tuple(getattr(record, n) for n in shared_names),
        )
    return shared_names, itemgetter(*shared), attrgetter(*shared_names)


def _vm(
    reader: Reader, index: int, record: raw.VmRecord, disks: dict[str, raw.DiskRecord]
) -> VirtualMachine | None:
    """The VM, or None (reported at its first record) when it cannot be used."""
    try:
        return _vm_entity(reader, record, disks)
    except Unreadable as exc:
        reader.report(VM, index, exc.path, exc.expected, record.id)
        return None


def _vm_entity(
    reader: Reader, record: raw.VmRecord, disks: dict[str, raw.DiskRecord]
) -> VirtualMachine:
    rid = resource_id(record)
    p = settings(record)
    if p.hardware_profile is None:  # every VM Azure prints has one: this record is not a VM's
        raise Unreadable(_at(record, "hardwareProfile"), "expected the VM's hardware profile")
    storage = p.storage_profile
    image = storage.image_reference if storage else None
    view = p.instance_view or (p.extended.instance_view if p.extended else None)
    agent = view.vm_agent if view else None
    security = p.security_profile
    os_disk = storage.os_disk if storage else None
    disk_refs: tuple[DiskRef, ...] | None = None
    if storage and os_disk and storage.data_disks is not None:
        disk_refs = (
            _disk_ref(os_disk, "os", disks),
            *(_disk_ref(d, "data", disks) for d in storage.data_disks),
        )
    network = p.network_profile
    nics = network.network_interfaces if network else None
    return VirtualMachine(
        id=rid,
        key=ids.key(rid),
        name=name_of(record, rid),
        subscription_id=ids.subscription(rid) or "",
        resource_group=record.resource_group or ids.part(rid, "resourceGroups") or "",
        location=reader.region(record.location),
        size=p.hardware_profile.vm_size,
        os_type=(os_disk.os_type if os_disk else None) or _os_type_from_config(p.os_profile),
        image=":".join(str(getattr(image, k) or "") for k in ("publisher", "offer", "sku"))
        if image and image.offer
        else None,
        os_name=view.os_name if view else None,
        os_version=view.os_version if view else None,
        vm_id=p.vm_id,
        provisioning_state=p.provisioning_state,
        power_state=record.power_state or _power_state(view),
        agent_status=_agent_status(agent),
        agent_version=agent.vm_agent_version if agent else None,
        zones=tuple(record.zones or ()),
        availability_set_id=_ref(p.availability_set),
        ppg_id=_ref(p.proximity_placement_group),
        host_id=_ref(p.host),
        host_group_id=_ref(p.host_group),
        vmss_id=_ref(p.virtual_machine_scale_set),
        # a NIC named without its id cannot be looked up: the VM's network is then not known
        nic_ids=None if nics is None or not all(n.id for n in nics) else tuple(n.id for n in nics),
        disks=disk_refs,
        disk_controller=storage.disk_controller_type if storage else None,
        security_type=security.security_type if security else None,
        encryption_at_host=bool(security and security.encryption_at_host),
        hyper_v_generation=_generation(os_disk, disks, image),
        capacity_reservation_group_id=_ref(
            p.capacity_reservation.capacity_reservation_group if p.capacity_reservation else None
        ),
        time_created=p.time_created,
    )


def _at(record: Any, key: str) -> str:
    """The JSON path of a setting, as the record spells it: nested (REST) or flattened (az)."""
    return f"$.properties.{key}" if getattr(record, "properties", None) is not None else f"$.{key}"


def _ref(ref: raw.Ref | None) -> str | None:
    return ref.id if ref and ref.id else None


def _generation(
    os_disk: raw.VmDisk | None, disks: dict[str, raw.DiskRecord], image: raw.ImageReference | None
) -> str | None:
    """Hyper-V generation: the OS disk says it; marketplace images say it in the SKU name."""
    managed = os_disk.managed_disk if os_disk else None
    resource = disks.get(ids.key(managed.id)) if managed and managed.id else None
    if resource and (generation := settings(resource).hyper_v_generation):
        return generation.upper()
    sku = ((image.sku if image else None) or "").lower()
    if "gen2" in sku or "-g2" in sku:
        return "V2"
    if "gen1" in sku:
        return "V1"
    return None


def _os_type_from_config(profile: raw.OsProfile | None) -> str | None:
    if profile and profile.windows_configuration:
        return "Windows"
    if profile and profile.linux_configuration:
        return "Linux"
    return None


def _power_state(view: raw.InstanceView | None) -> str | None:
    if view is None:
        return None
    if view.power_state:  # Resource Graph's extended instance view
        return view.power_state.display_status or view.power_state.code
    for status in view.statuses or ():
        if (status.code or "").startswith("PowerState/"):
            return status.display_status or status.code
    return None


def _agent_status(agent: raw.VmAgent | None) -> str | None:
    for status in (agent.statuses if agent else None) or ():
        if status.display_status:
            return status.display_status
    return None


def _disk_ref(d: raw.VmDisk, role: str, disks: dict[str, raw.DiskRecord]) -> DiskRef:
    managed = d.managed_disk
    if managed is None and d.vhd is None and d.diff_disk_settings is None:
        # Azure prints one of the three: without them, whether the disk is managed, and its
        # encryption set, are not known.
        raise Unreadable(
            f"$.storageProfile.{'osDisk' if role == 'os' else 'dataDisks[]'}",
            f"expected the {role} disk {d.name or ''}'s managedDisk or vhd",
        )
    managed_id = managed.id if managed else None
    resource = disks.get(ids.key(managed_id)) if managed_id else None
    rp = settings(resource) if resource else None
    sku = (resource.sku.name if resource and resource.sku else None) or (
        managed.storage_account_type if managed else None
    )
    size = _first_size(rp) or _first_size(d)
    des = _ref(managed.disk_encryption_set if managed else None) or (
        rp.encryption.disk_encryption_set_id if rp and rp.encryption else None
    )
    ephemeral = d.diff_disk_settings is not None
    return DiskRef(
        name=d.name or ids.name(managed_id),
        role=role,
        lun=d.lun,
        id=managed_id,
        size_gib=size,
        size_bytes=rp.disk_size_bytes if rp else None,
        sku=sku,
        managed=managed is not None or ephemeral or d.vhd is None,
        ephemeral=ephemeral,
        write_accelerator=bool(d.write_accelerator_enabled),
        max_shares=rp.max_shares if rp else None,
        encryption_set_id=des,
        encryption_type=(rp.encryption.type if rp and rp.encryption else None),
    )


def _first_size(disk: raw.DiskProperties | raw.VmDisk | None) -> float | None:
    if disk is None:
        return None
    return disk.disk_size_gb if disk.disk_size_gb is not None else disk.disk_size_gb_az


def _extensions(estate: Estate, reader: Reader, vms: list[tuple[int, raw.VmRecord]]) -> None:
    """Extensions from `az vm extension list` and from the `resources` `az vm show` embeds.
    Only public settings are kept: protected settings are never read."""
    embedded = [
        (index, position, vm, _with_id(vm, r))
        for index, vm in vms
        for position, r in enumerate(vm.resources or ())
    ]
    exported = reader.build(VM_EXTENSION, raw.ExtensionRecord, _extension)
    built = [*exported, *(_embedded_extension(reader, *e) for e in embedded)]
    for ext in built:
        if ext is not None:
            estate.extensions.setdefault(ext.vm_key, {})[ids.key(ext.id)] = ext
    estate.extensions_known = bool(embedded)  # or an extension export: see build_estate


def _with_id(vm: raw.VmRecord, record: raw.ExtensionRecord) -> raw.ExtensionRecord:
    if record.id:
        return record
    return msgspec.structs.replace(record, id=f"{vm.id}/extensions/{record.name or ''}")


def _embedded_extension(
    reader: Reader, vm_index: int, position: int, vm: raw.VmRecord, record: raw.ExtensionRecord
) -> VmExtension | None:
    """An extension `az vm show` embeds: one that cannot be read leaves extensions incomplete.
    It is reported where it sits, inside its VM's record, whose file says where to look."""
    try:
        return _extension(record)
    except Unreadable as exc:
        reader.report(
            VM_EXTENSION,
            vm_index,
            f"$.resources[{position}]{exc.path[1:]}",
            f"{exc.expected} (embedded in VM {vm.id})",
            record.id,
            origin_kind=VM,
        )
        return None


def _extension(record: raw.ExtensionRecord) -> VmExtension:
    """Which extension it is decides ADE, so an extension without its id, publisher or type
    cannot be judged."""
    rid = record.id or ""
    if "/extensions/" not in rid.lower():
        raise Unreadable(
            "$.id", "expected the extension's id (…/virtualMachines/<vm>/extensions/…)"
        )
    p = settings(record)
    nested = record.properties is not None
    if not p.publisher or not (p.type_properties_type or (p.type if nested else None)):
        raise Unreadable(_at(record, "publisher"), "expected the extension's publisher and type")
    return VmExtension(
        id=rid,
        vm_key=ids.key(rid.rsplit("/extensions/", 1)[0]),
        name=record.name or ids.name(rid),
        publisher=p.publisher,
        type=p.type_properties_type or (p.type if nested else None),
        version=p.type_handler_version,
        # public settings can still carry secrets (a password on a command line): never kept
        settings={
            key.lower(): REDACTED if is_secret_name(key) else scrub(value)
            for key, value in (p.settings or {}).items()
            if isinstance(value, str) and value
        },
    )


def _des(reader: Reader, record: raw.DesRecord) -> DiskEncryptionSet:
    rid = resource_id(record)
    p = settings(record)
    key = p.active_key
    return DiskEncryptionSet(
        id=rid,
        name=name_of(record, rid),
        location=reader.region(record.location),
        key_vault_id=_ref(key.source_vault) if key else None,
        key_url=key.key_url if key else None,
        # Azure always returns it; without it, which target set fits is not known.
        encryption_type=required(
            p.encryption_type, _at(record, "encryptionType"), "its encryption type"
        ),
    )


def _key_vault(reader: Reader, record: raw.KeyVaultRecord, kind: str) -> KeyVault:
    rid = resource_id(record)
    p = settings(record)
    rbac = p.enable_rbac_authorization
    sku = p.sku or record.sku
    return KeyVault(
        id=rid,
        name=name_of(record, rid),
        location=reader.region(record.location),
        rbac=rbac if rbac is not None else (False if p.access_policies is not None else None),
        access_policies=tuple(
            AccessPolicy(
                object_id=(a.object_id or "").lower(),
                keys=frozenset(
                    x.lower() for x in (a.permissions.keys if a.permissions else None) or ()
                ),
                secrets=frozenset(
                    x.lower() for x in (a.permissions.secrets if a.permissions else None) or ()
                ),
            )
            for a in p.access_policies or ()
        ),
        sku=(sku.name or "").lower() or None if sku else None,
        soft_delete=p.enable_soft_delete,
        purge_protection=p.enable_purge_protection,
        hsm=kind == MANAGED_HSM,
    )


# --- network -----------------------------------------------------------------------------------


def _nic(reader: Reader, record: raw.NicRecord) -> NetworkInterface:
    rid = resource_id(record)
    p = settings(record)
    if p.ip_configurations is None:
        raise Unreadable(_at(record, "ipConfigurations"), "expected the NIC's IP configurations")
    subnets, public_ips, private_ips, asgs, pools = [], [], [], [], []
    configs = sorted(p.ip_configurations, key=lambda c: not settings(c).primary)
    for config in configs:
        cp = settings(config)
        if subnet := _ref(cp.subnet):
            subnets.append(subnet)
        if public := _ref(cp.public_ip_address):
            public_ips.append(public)
        if cp.private_ip_address:
            private_ips.append(cp.private_ip_address)
        asgs += [g.id for g in cp.application_security_groups or () if g.id]
        pools += [b.id for b in cp.load_balancer_backend_address_pools or () if b.id]
    return NetworkInterface(
        id=rid,
        name=name_of(record, rid),
        location=reader.region(record.location),
        subnet_ids=tuple(subnets),
        nsg_id=_ref(p.network_security_group),
        accelerated_networking=bool(p.enable_accelerated_networking),
        public_ip_ids=tuple(public_ips),
        primary=p.primary,
        private_ips=tuple(private_ips),
        asg_ids=tuple(asgs),
        backend_pool_ids=tuple(pools),
        dns_servers=tuple((p.dns_settings.dns_servers if p.dns_settings else None) or ()),
        ip_configurations=len(p.ip_configurations),
    )


def _nsg(reader: Reader, record: raw.NsgRecord) -> NetworkSecurityGroup:
    """An NSG whose rules were not exported or not understood is left out: its verdict is
    unknown, never "no rules"."""
    rid = resource_id(record)
    p = settings(record)
    if p.security_rules is None:
        raise Unreadable(_at(record, "securityRules"), "expected the NSG's security rules")
    rules = [
        _rule(r, False, f"{_at(record, 'securityRules')}[{i}]")
        for i, r in enumerate(p.security_rules)
    ]
    rules += [
        _rule(r, True, f"{_at(record, 'defaultSecurityRules')}[{i}]")
        for i, r in enumerate(p.default_security_rules or ())
    ]
    return NetworkSecurityGroup(
        id=rid,
        name=name_of(record, rid),
        location=reader.region(record.location),
        rules=tuple(rules),
    )


def _rule(record: raw.SecurityRuleRecord, default: bool, path: str) -> SecurityRule:
    p = settings(record)
    if p.priority is None or not p.direction or not p.access or not p.protocol:
        raise Unreadable(
            path, "expected a security rule with a priority, direction, access and protocol"
        )
    # Application security groups stand for VM NICs; keep them visible rather than as "*".
    groups = [f"asg:{g.id or ''}" for g in p.destination_application_security_groups or ()]
    destinations = groups or p.destination_address_prefixes or _one(p.destination_address_prefix)
    ports = p.destination_port_ranges or _one(p.destination_port_range)
    source_groups = [f"asg:{g.id or ''}" for g in p.source_application_security_groups or ()]
    sources = source_groups or p.source_address_prefixes or _one(p.source_address_prefix)
    source_ports = p.source_port_ranges or _one(p.source_port_range)
    if not (destinations and ports and sources and source_ports):
        # Azure always prints them ("*" for any): a rule without them cannot be matched.
        raise Unreadable(path, "expected its source and destination addresses and ports")
    return SecurityRule(
        name=record.name or "",
        priority=p.priority,
        direction=p.direction,
        access=p.access,
        protocol=p.protocol,
        destinations=tuple(destinations),
        destination_ports=tuple(ports),
        default=default,
        sources=tuple(sources),
        source_ports=tuple(source_ports),
    )


def _one(value: str | None) -> list[str]:
    return [value] if value else []


def _vnet(reader: Reader, record: raw.VnetRecord) -> tuple[VirtualNetwork, list[Subnet]]:
    rid = resource_id(record)
    p = settings(record)
    location = reader.region(record.location)
    subnets = []
    for subnet in _named(p.subnets or (), "id", _at(record, "subnets")):
        sp = settings(subnet)
        endpoints = sp.service_endpoints or ()
        subnets.append(
            Subnet(
                id=subnet.id,
                name=subnet.name or ids.name(subnet.id),
                vnet_id=rid,
                location=location,
                nsg_id=_ref(sp.network_security_group),
                route_table_id=_ref(sp.route_table),
                service_endpoints=tuple(e.service or "" for e in endpoints),
                nat_gateway_id=_ref(sp.nat_gateway),
                address_prefixes=tuple(
                    sp.address_prefixes or ([sp.address_prefix] if sp.address_prefix else ())
                ),
                endpoint_locations=tuple(
                    (e.service or "", tuple(_region(x) for x in e.locations or ()))
                    for e in endpoints
                ),
                default_outbound_access=sp.default_outbound_access,
                private_endpoint_ids=tuple(e.id for e in sp.private_endpoints or () if e.id),
            )
        )
    vnet = VirtualNetwork(
        id=rid,
        name=name_of(record, rid),
        location=location,
        address_prefixes=tuple(
            (p.address_space.address_prefixes if p.address_space else None) or ()
        ),
        dns_servers=tuple((p.dhcp_options.dns_servers if p.dhcp_options else None) or ()),
    )
    return vnet, subnets


def _region(name: str) -> str:
    """A region named inside a record (service endpoint locations): normalized when known."""
    return regions.normalize(name) or name.lower().replace(" ", "")


def _pools(rule: raw.LbRule) -> list[str]:
    """Backend pools a load-balancing or outbound rule serves (one, or a list since 2020)."""
    rp = settings(rule)
    pools = [b.id for b in rp.backend_address_pools or () if b.id]
    return pools or ([rp.backend_address_pool.id] if _ref(rp.backend_address_pool) else [])


def _lb(reader: Reader, record: raw.LbRecord) -> LoadBalancer:
    rid = resource_id(record)
    p = settings(record)
    frontends = [settings(f) for f in p.frontend_ip_configurations or ()]
    return LoadBalancer(
        id=rid,
        name=name_of(record, rid),
        location=reader.region(record.location),
        # Azure always prints it, and Basic and Standard differ in outbound access
        sku=required(record.sku.name if record.sku else None, "$.sku.name", "the SKU"),
        public=any(_ref(f.public_ip_address) or _ref(f.public_ip_prefix) for f in frontends),
        pool_ids=tuple(b.id for b in p.backend_address_pools or () if b.id),
        outbound_rule_pools=tuple(
            (r.name or "", pool) for r in p.outbound_rules or () for pool in _pools(r)
        ),
        snat_pools=tuple(
            (r.name or "", pool)
            for r in p.load_balancing_rules or ()
            if not settings(r).disable_outbound_snat
            for pool in _pools(r)
        ),
    )


def _nat(_: Reader, record: raw.NatRecord) -> NatGateway:
    rid = resource_id(record)
    p = settings(record)
    return NatGateway(
        id=rid,
        name=name_of(record, rid),
        public_ips=len(p.public_ip_addresses or ()) + len(p.public_ip_prefixes or ()),
    )


def _mapping(_: Reader, record: raw.NetworkMappingRecord) -> NetworkMapping:
    rid = resource_id(record)
    p = settings(record)
    fabric = p.fabric_specific_settings
    return NetworkMapping(
        id=rid,
        name=name_of(record, rid),
        primary_network_id=required(
            p.primary_network_id, _at(record, "primaryNetworkId"), "the source network's id"
        ),
        recovery_network_id=required(
            p.recovery_network_id, _at(record, "recoveryNetworkId"), "the target network's id"
        ),
        primary_location=_region(fabric.primary_fabric_location)
        if fabric and fabric.primary_fabric_location
        else None,
        recovery_location=_region(fabric.recovery_fabric_location)
        if fabric and fabric.recovery_fabric_location
        else None,
        state=p.state,
    )


def _metric(_: Reader, record: raw.MetricRecord) -> tuple[MetricSeries, ...]:
    """Each time series of a metric: its points in time order, missing values skipped (a gap
    shortens the hours covered, it never reads as zero)."""
    rid = resource_id(record)
    marker = "/providers/microsoft.insights/metrics"
    at = rid.lower().find(marker)
    if at < 0:
        raise Unreadable("$.id", "expected <resource id>/providers/Microsoft.Insights/metrics/…")
    if record.name is None or not record.name.value:
        raise Unreadable("$.name.value", "expected the metric's name")
    if record.timeseries is None:
        raise Unreadable("$.timeseries", "expected the metric's time series")
    out = []
    for series in record.timeseries:
        dimensions = {
            (m.name.value or "").lower(): m.value for m in series.metadatavalues or () if m.name
        }
        lun = dimensions.get("lun")
        # subscription-scope metrics name each series' resource in a dimension
        resource = dimensions.get("microsoft.resourceid") or rid[:at]
        points = [p for p in series.data or () if p.average is not None and p.time_stamp]
        stamps = [p.time_stamp for p in points]
        if stamps != sorted(stamps):  # Azure answers in time order; a hand-made file may not
            points.sort(key=lambda p: p.time_stamp or "")
        averages = tuple(p.average for p in points)
        out.append(
            MetricSeries(
                resource_key=ids.key(resource),
                metric=record.name.value.lower(),
                lun=lun,
                averages=averages,  # type: ignore[arg-type]  (None was filtered out above)
                maxima=tuple(
                    a if p.maximum is None else p.maximum
                    for p, a in zip(points, averages, strict=True)
                ),
                start=points[0].time_stamp if points else None,
                end=points[-1].time_stamp if points else None,
            )
        )
    return tuple(out)


_NOT_A2A = ProtectedItem("", "", "", None, None, None, None, None)  # another ASR scenario


def _protected_item(_: Reader, record: raw.ProtectedItemRecord) -> ProtectedItem:
    """Items of other scenarios (VMware, Hyper-V) share the type and are not estate VMs."""
    rid = resource_id(record)
    p = settings(record)
    details = p.provider_specific_details
    if details is None or not details.instance_type:
        raise Unreadable(_at(record, "providerSpecificDetails.instanceType"), "expected A2A")
    if details.instance_type.lower() != "a2a":
        return _NOT_A2A
    vm_id = required(
        details.fabric_object_id,
        _at(record, "providerSpecificDetails.fabricObjectId"),
        "the source VM's id",
    )
    managed, unmanaged = details.protected_managed_disks, details.protected_disks
    disks = None
    if managed is not None or unmanaged is not None:
        disks = tuple(d.disk_id for d in managed or () if d.disk_id) + tuple(
            d.disk_uri for d in unmanaged or () if d.disk_uri
        )
    return ProtectedItem(
        id=rid,
        vm_id=vm_id,
        vault_id=rid[: rid.lower().index("/replicationfabrics/")],
        recovery_region=_region(details.recovery_fabric_location)
        if details.recovery_fabric_location
        else None,
        recovery_size=details.recovery_azure_vm_size,
        disk_ids=disks,
        protection_state=p.protection_state,
        health=p.replication_health,
        health_errors=tuple(
            f"{e.error_code}: {e.error_message}" if e.error_code else e.error_message or ""
            for e in p.health_errors or ()
            if e.error_code or e.error_message
        ),
        rpo_seconds=details.rpo_in_seconds,
    )


def _route_table(_: Reader, record: raw.RouteTableRecord) -> RouteTable:
    """A route table whose routes were not exported or not understood is left out: the path
    through it is unknown, never "no routes"."""
    rid = resource_id(record)
    p = settings(record)
    if p.routes is None:
        raise Unreadable(_at(record, "routes"), "expected the route table's routes")
    routes = []
    for index, route in enumerate(p.routes):
        rp = settings(route)
        if not rp.address_prefix or not rp.next_hop_type:
            raise Unreadable(
                f"{_at(record, 'routes')}[{index}]", "expected a route with a prefix and a next hop"
            )
        routes.append(
            Route(
                name=route.name or "",
                address_prefix=rp.address_prefix,
                next_hop_type=rp.next_hop_type,
                next_hop_ip=rp.next_hop_ip_address,
            )
        )
    return RouteTable(id=rid, name=name_of(record, rid), routes=tuple(routes))


# --- storage, vaults, groups -------------------------------------------------------------------


def _enabled(policy: raw.RetentionPolicy | None) -> bool:
    return bool(policy and policy.enabled)


def _storage(
    reader: Reader, record: raw.StorageRecord, soft_delete: dict[str, bool]
) -> StorageAccount:
    rid = resource_id(record)
    p = settings(record)
    acl = p.network_acls or p.network_rule_set
    return StorageAccount(
        id=rid,
        name=name_of(record, rid),
        subscription_id=ids.subscription(rid) or "",
        location=reader.region(record.location),
        kind=record.kind,
        sku=record.sku.name if record.sku else None,
        default_action=acl.default_action if acl else None,
        bypass=acl.bypass if acl else None,
        public_network_access=p.public_network_access,
        allow_shared_key_access=p.allow_shared_key_access,
        hierarchical_namespace=bool(p.is_hns_enabled),
        blob_soft_delete=soft_delete.get(ids.key(rid)),
        virtual_network_rules=tuple(
            r.virtual_network_resource_id or r.id or ""
            for r in (acl.virtual_network_rules if acl else None) or ()
            if (r.action or "Allow").lower() == "allow"
        ),
        ip_rules=tuple(
            r.ip_address_or_range or r.value or "" for r in (acl.ip_rules if acl else None) or ()
        ),
        private_endpoints=tuple(
            (
                _ref(settings(c).private_endpoint) or "",
                (state.status or "")
                if (state := settings(c).private_link_service_connection_state)
                else "",
            )
            for c in p.private_endpoint_connections or ()
        ),
    )


def _vault(reader: Reader, record: raw.VaultRecord) -> Vault:
    rid = resource_id(record)
    return Vault(
        id=rid,
        name=name_of(record, rid),
        subscription_id=ids.subscription(rid) or "",
        location=reader.region(record.location),
        user_assigned_identity="userassigned"
        in ((record.identity.type if record.identity else None) or "").lower().replace(" ", ""),
    )


def _resource_group(reader: Reader, record: raw.ResourceGroupRecord) -> ResourceGroup:
    rid = resource_id(record)
    return ResourceGroup(id=rid, name=name_of(record, rid), location=reader.region(record.location))


def _subscription(_: Reader, record: raw.SubscriptionRecord) -> Subscription:
    sid = (record.subscription_id or record.id or "").rsplit("/", 1)[-1].lower()
    return Subscription(
        id=required(sid, "$.subscriptionId", "the subscription's id"),
        name=record.display_name or record.name,
        tenant_id=record.tenant_id,
        state=record.state or (record.properties.state if record.properties else None),
    )


def _provider(_: Reader, record: raw.ProviderRecord) -> Provider:
    sub = ids.subscription(record.id)
    if not sub:
        raise Unreadable("$.id", "expected the provider's id (/subscriptions/…/providers/…)")
    return Provider(
        subscription_id=sub,
        namespace=required(record.namespace, "$.namespace", "the provider's namespace"),
        state=required(record.registration_state, "$.registrationState", "a registration state"),
        locations={
            (rt.resource_type or "").lower(): frozenset(_region(x) for x in rt.locations or ())
            for rt in record.resource_types or ()
        },
    )


def _offered_locations(reader: Reader) -> dict[str, frozenset[str]]:
    """Regions each subscription lists (az account list-locations); physical regions only."""
    offered: dict[str, set[str]] = {}
    for _, record in reader.each(detect.LOCATIONS, raw.LocationRecord):
        metadata = record.metadata
        if ((metadata.region_type if metadata else None) or "Physical") != "Physical":
            continue
        if record.name:
            sub = ids.subscription(record.id) or ""
            offered.setdefault(sub, set()).add(_region(record.name))
    return {sub: frozenset(names) for sub, names in offered.items()}


def _paired_regions(reader: Reader) -> dict[str, str]:
    """Each region's Azure pair, as `az account list-locations` gives it (metadata.pairedRegion);
    never from a table of our own: pairs are Microsoft's to change."""
    paired: dict[str, str] = {}
    for _, record in reader.each(detect.LOCATIONS, raw.LocationRecord):
        pairs = record.metadata.paired_region if record.metadata else None
        if record.name and pairs and pairs[0].name:
            paired[_region(record.name)] = _region(pairs[0].name)
    return paired


def _skus(skus: Iterable[VmSku | None]) -> dict[str, dict[str, VmSku]]:
    """VM sizes by region: region -> size name (lower) -> sku."""
    by_region: dict[str, dict[str, VmSku]] = {}
    for sku in skus:
        if sku is None:
            continue
        for location in sku.locations:
            by_region.setdefault(location, {})[sku.name.lower()] = sku
    return by_region


def _sku(_: Reader, record: raw.SkuRecord) -> VmSku | None:
    if (record.resource_type or "").lower() != "virtualmachines":
        return None
    name = required(record.name, "$.name", "the size's name")
    if record.locations is None or record.capabilities is None or record.restrictions is None:
        raise Unreadable(
            "$", "expected a VM size with its locations, capabilities and restrictions"
        )
    if any(not c.name or c.value is None for c in record.capabilities):
        raise Unreadable("$.capabilities", "expected each capability's name and value")
    capabilities = {c.name: c.value for c in record.capabilities if c.name and c.value}
    return VmSku(
        name=name,
        # Azure prints it for every VM size; quota is counted per family
        family=required(record.family, "$.family", "the size's family"),
        locations=tuple(_region(x) for x in record.locations),
        zones={
            _region(info.location): tuple(info.zones or ())
            for info in record.location_info or ()
            if info.location
        },
        capabilities=capabilities,
        restrictions=tuple(
            SkuRestriction(
                type=required(r.type, "$.restrictions", "each restriction's type"),
                reason=r.reason_code,
                locations=tuple(
                    _region(x)
                    for x in (r.restriction_info.locations if r.restriction_info else None)
                    or r.values
                    or ()
                ),
                zones=tuple((r.restriction_info.zones if r.restriction_info else None) or ()),
            )
            for r in record.restrictions or ()
        ),
        vcpus=_number(capabilities.get("vCPUs")),
        memory_gib=_number(capabilities.get("MemoryGB")),
    )


_LARGEST = 2**53  # a count beyond this is not a count Azure prints


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and 0 <= number < _LARGEST else None


def _usages(reader: Reader, snapshot: Snapshot) -> list[Usage]:
    out = []
    for block in snapshot.usages:
        for _, record in reader.each(detect.USAGES, raw.UsageRecord, block.value):
            name = record.name.value if record.name else None
            current, limit = record.current_value, record.limit
            if not name or current is None or limit is None:
                continue  # a usage without its numbers says nothing: the quota rule says what
            if not (0 <= current < _LARGEST and 0 <= limit < _LARGEST):
                continue
            out.append(
                Usage(
                    location=block.location,
                    name=name,
                    current=int(current),
                    limit=int(limit),
                    subscription_id=block.subscription_id,
                    file=block.file,
                )
            )
    return out


def _unmatched_guest_facts(
    reader: Reader, estate: Estate, guest: list[tuple[int, GuestFacts]]
) -> None:
    """Facts that name no VM of the snapshot are reported, never dropped without a word: a probe
    that could not learn its VM's identity records the host name instead."""
    vm_ids = {vm.vm_id.lower() for vm in estate.vms.values() if vm.vm_id}
    names = {vm.name.lower() for vm in estate.vms.values()}
    for index, facts in guest:
        if facts.vm_id and facts.vm_id.lower() in vm_ids:
            continue
        if not facts.vm_id and facts.name and facts.name.lower() in names:
            continue
        said = f"vm.vm_id {facts.vm_id!r}" if facts.vm_id else f"vm.name {facts.name!r}"
        reader.report(
            detect.GUEST_FACTS,
            index,
            "$.vm",
            f"guest facts of a VM in the snapshot; these carry {said}, which matches no "
            "exported VM (run the probe with --vm-id <the VM's resource id or name>)",
            None,
        )


def _service_tags(_: Reader, record: raw.ServiceTagsRecord) -> ServiceTagSet:
    if record.values is None:
        raise Unreadable("$.values", "expected the service tags' values")
    return ServiceTagSet(
        change_number=str(record.change_number) if record.change_number is not None else None,
        cloud=record.cloud,
        tags=tuple(
            ServiceTag(name, tuple(settings(v).address_prefixes or ()))
            for v in record.values
            if (name := v.name or v.id)
        ),
    )


def _guest(_: Reader, record: raw.GuestFactsRecord) -> GuestFacts:
    vm, os_info, agent, proxy = record.vm, record.os, record.agent, record.proxy
    roots = record.trusted_roots
    return GuestFacts(
        vm_id=vm.vm_id if vm else None,
        name=vm.name if vm else None,
        os_family=os_info.family if os_info else None,
        distro_id=os_info.distro_id if os_info else None,
        os_version=os_info.version if os_info else None,
        pretty_name=os_info.pretty_name if os_info else None,
        agent_present=agent.present if agent else None,
        agent_running=agent.running if agent else None,
        trusted_roots=frozenset(s.lower().replace(":", "") for s in roots.sha1)
        if roots and roots.sha1 is not None
        else None,
        endpoints=tuple(
            Endpoint(
                host=e.host,
                port=e.port or 443,
                resolved=e.resolved,
                connected=e.connected,
                tls_verified=e.tls_verified,
                error=e.error,
            )
            for e in _named(record.endpoints or (), "host", "$.endpoints")
        ),
        proxy_authenticated=proxy.authenticated if proxy else None,
        proxy_reported=proxy is not None,
        collected_at=record.collected_at,
        proxy_url=scrub(proxy.url) if proxy and proxy.url else None,  # user:password@host
        grub=_grub(record.grub),
        services=tuple(
            GuestService(s.name, s.start_type)
            for s in _named(record.services, "name", "$.services")
        )
        if record.services is not None
        else None,
        filesystems=tuple(
            GuestFilesystem(
                path=f.path,
                exists=f.exists,
                device=f.device,
                fstype=f.fstype,
                disks=tuple(f.disks or ()),
                same_device_as_root=f.same_device_as_root,
            )
            for f in _named(record.filesystems, "path", "$.filesystems")
        )
        if record.filesystems is not None
        else None,
    )


def _named(items: Any, key: str, path: str) -> Any:
    """The items of a list, each of which must carry `key`: an entry without its name cannot be
    judged, and dropping it could pass a check on what it would have shown."""
    for index, item in enumerate(items):
        if not getattr(item, key):
            raise Unreadable(f"{path}[{index}]", f"expected its '{key}'")
    return items


def _grub(grub: raw.Grub | None) -> Grub | None:
    """The probe's GRUB section; without both of its lists it says nothing (None: unknown)."""
    if grub is None or grub.files is None or grub.lvm_volumes is None:
        return None
    return Grub(
        files=tuple(
            GrubFile(f.path, f.readable, tuple(f.device_refs or ()))
            for f in _named(grub.files, "path", "$.grub.files")
        ),
        lvm_volumes=tuple(
            LvmVolume(v.volume, v.exists)
            for v in _named(grub.lvm_volumes, "volume", "$.grub.lvm_volumes")
        ),
    )


# --- identity and access -----------------------------------------------------------------------


def _scope(value: str | None, path: str) -> str:
    if value is None:
        raise Unreadable(path, "expected the scope it applies at")
    return value.rstrip("/").lower()


def _permissions(blocks: list[raw.PermissionBlock] | None, path: str) -> tuple[Permission, ...]:
    if blocks is None:
        raise Unreadable(path, "expected its permissions")
    return tuple(
        Permission(
            actions=tuple(b.actions or ()),
            not_actions=tuple(b.not_actions or ()),
            data_actions=tuple(b.data_actions or ()),
            not_data_actions=tuple(b.not_data_actions or ()),
        )
        for b in blocks
    )


def _role_assignment(_: Reader, record: raw.RoleAssignmentRecord) -> RoleAssignment:
    p = settings(record)
    return RoleAssignment(
        id=record.id or "",
        principal_id=required(p.principal_id, _at(record, "principalId"), "a principal id").lower(),
        role_definition_id=ids.name(
            required(p.role_definition_id, _at(record, "roleDefinitionId"), "a role definition id")
        ).lower(),
        scope=_scope(p.scope, _at(record, "scope")),
        role_name=record.role_definition_name,
        condition=p.condition or None,
        principal_type=p.principal_type,
    )


def _role_definition(_: Reader, record: raw.RoleDefinitionRecord) -> RoleDefinition:
    p = settings(record)
    return RoleDefinition(
        id=(record.name or ids.name(record.id)).lower(),
        name=p.role_name or "",
        permissions=_permissions(p.permissions, _at(record, "permissions")),
    )


def _deny_assignment(_: Reader, record: raw.DenyAssignmentRecord) -> DenyAssignment:
    p = settings(record)
    if p.principals is None:
        raise Unreadable(_at(record, "principals"), "expected the principals it denies")
    return DenyAssignment(
        id=record.id or "",
        scope=_scope(p.scope, _at(record, "scope")),
        principals=frozenset((x.id or "").lower() for x in p.principals),
        excluded=frozenset((x.id or "").lower() for x in p.exclude_principals or ()),
        permissions=_permissions(p.permissions, _at(record, "permissions")),
    )


def _memberships(estate: Estate, reader: Reader, snapshot: Snapshot) -> None:
    for block in snapshot.memberships:
        groups = frozenset(
            g.id.lower()
            for _, g in reader.each(detect.GROUPS, raw.GroupRecord, block.value)
            if g.id
        )
        known = estate.memberships.get(block.principal_id, frozenset())
        estate.memberships[block.principal_id] = known | groups


_BUILDERS: dict[str, tuple[type[Any], Any]] = {
    DISK_ENCRYPTION_SET: (raw.DesRecord, _des),
    KEY_VAULT: (raw.KeyVaultRecord, lambda reader, r: _key_vault(reader, r, KEY_VAULT)),
    MANAGED_HSM: (raw.KeyVaultRecord, lambda reader, r: _key_vault(reader, r, MANAGED_HSM)),
    NIC: (raw.NicRecord, _nic),
    NSG: (raw.NsgRecord, _nsg),
    VNET: (raw.VnetRecord, _vnet),
    LOAD_BALANCER: (raw.LbRecord, _lb),
    NAT_GATEWAY: (raw.NatRecord, _nat),
    NETWORK_MAPPING: (raw.NetworkMappingRecord, _mapping),
    PROTECTED_ITEM: (raw.ProtectedItemRecord, _protected_item),
    METRICS: (raw.MetricRecord, _metric),
    ROUTE_TABLE: (raw.RouteTableRecord, _route_table),
    VAULT: (raw.VaultRecord, _vault),
    RESOURCE_GROUP: (raw.ResourceGroupRecord, _resource_group),
    detect.SUBSCRIPTIONS: (raw.SubscriptionRecord, _subscription),
    detect.PROVIDERS: (raw.ProviderRecord, _provider),
    detect.SKUS: (raw.SkuRecord, _sku),
    detect.SERVICE_TAGS: (raw.ServiceTagsRecord, _service_tags),
    detect.GUEST_FACTS: (raw.GuestFactsRecord, _guest),
    ROLE_ASSIGNMENT: (raw.RoleAssignmentRecord, _role_assignment),
    ROLE_DEFINITION: (raw.RoleDefinitionRecord, _role_definition),
    DENY_ASSIGNMENT: (raw.DenyAssignmentRecord, _deny_assignment),
}
