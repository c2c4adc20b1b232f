"""Typed, normalized estate objects. Ids keep Azure's spelling; `key` is the comparison form."""

from __future__ import annotations

from msgspec import Struct

from asr_preflight.errors import printable
from asr_preflight.secrets import scrub


class InputProblem(Struct, frozen=True):
    """Something in the input the model could not understand, and what that cost."""

    file: str
    path: str  # JSON path inside the file
    expected: str
    kind: str | None = None
    resource_id: str | None = None

    def describe(self) -> str:
        return scrub(f"{printable(self.file)}: {printable(self.path)}: {self.expected} (left out)")


class DiskRef(Struct, frozen=True):
    """A disk as the VM sees it, completed with the disk resource when it was exported."""

    name: str
    role: str  # "os" | "data"
    lun: int | None = None
    id: str | None = None
    size_gib: float | None = None
    size_bytes: int | None = None  # exact, when the disk resource was exported with it
    sku: str | None = None  # Premium_LRS, StandardSSD_ZRS, UltraSSD_LRS, PremiumV2_LRS …
    managed: bool = True
    ephemeral: bool = False
    write_accelerator: bool = False
    max_shares: int | None = None
    encryption_set_id: str | None = None
    # EncryptionAtRestWithPlatformKey | …WithCustomerKey | …WithPlatformAndCustomerKeys; None:
    # the disk resource was not exported
    encryption_type: str | None = None


class VirtualMachine(Struct, frozen=True):
    id: str
    key: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    size: str | None = None
    os_type: str | None = None  # "Windows" | "Linux"
    image: str | None = None  # publisher:offer:sku
    os_name: str | None = None  # from the instance view (guest agent)
    os_version: str | None = None
    vm_id: str | None = None  # the VM's unique id (properties.vmId)
    provisioning_state: str | None = None
    power_state: str | None = None
    agent_status: str | None = None  # "Ready" | "Not Ready" | None when not exported
    agent_version: str | None = None
    zones: tuple[str, ...] = ()
    availability_set_id: str | None = None
    ppg_id: str | None = None
    host_id: str | None = None
    host_group_id: str | None = None
    vmss_id: str | None = None
    # None: not exported or not understood (unknown), never the same as none
    nic_ids: tuple[str, ...] | None = ()
    disks: tuple[DiskRef, ...] | None = ()
    disk_controller: str | None = None
    security_type: str | None = None
    encryption_at_host: bool = False
    hyper_v_generation: str | None = None  # "V1" | "V2", from the OS disk or the image
    capacity_reservation_group_id: str | None = None
    time_created: str | None = None


class SecurityRule(Struct, frozen=True):
    name: str
    priority: int
    direction: str  # "Inbound" | "Outbound"
    access: str  # "Allow" | "Deny"
    protocol: str
    destinations: tuple[str, ...]
    destination_ports: tuple[str, ...]
    default: bool = False
    sources: tuple[str, ...] = ("*",)  # prefixes, tags or "asg:<id>"
    source_ports: tuple[str, ...] = ("*",)


class NetworkSecurityGroup(Struct, frozen=True):
    id: str
    name: str
    location: str
    rules: tuple[SecurityRule, ...]


class NetworkInterface(Struct, frozen=True):
    id: str
    name: str
    location: str
    subnet_ids: tuple[str, ...]
    nsg_id: str | None = None
    accelerated_networking: bool = False
    public_ip_ids: tuple[str, ...] = ()
    primary: bool | None = None  # the VM's primary NIC (the one with the default gateway)
    private_ips: tuple[str, ...] = ()  # primary IP configuration first
    asg_ids: tuple[str, ...] = ()  # application security groups of its IP configurations
    backend_pool_ids: tuple[str, ...] = ()  # load balancer backend pools it is in
    dns_servers: tuple[str, ...] = ()  # NIC-level DNS servers (override the VNet's)
    ip_configurations: int = 1


class Subnet(Struct, frozen=True):
    id: str
    name: str
    vnet_id: str
    location: str
    nsg_id: str | None = None
    route_table_id: str | None = None
    service_endpoints: tuple[str, ...] = ()
    nat_gateway_id: str | None = None
    address_prefixes: tuple[str, ...] = ()
    # (service, regions) of each service endpoint, e.g. ("Microsoft.Storage", ("eastus", "westus"))
    endpoint_locations: tuple[tuple[str, tuple[str, ...]], ...] = ()
    default_outbound_access: bool | None = None  # False: a private subnet, no implicit egress
    private_endpoint_ids: tuple[str, ...] = ()


class VirtualNetwork(Struct, frozen=True):
    id: str
    name: str
    location: str
    address_prefixes: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()  # empty: Azure-provided DNS


class LoadBalancer(Struct, frozen=True):
    id: str
    name: str
    location: str
    sku: str | None  # Basic | Standard | Gateway
    public: bool  # a frontend has a public IP
    pool_ids: tuple[str, ...] = ()
    outbound_rule_pools: tuple[tuple[str, str], ...] = ()  # (rule name, backend pool id)
    snat_pools: tuple[tuple[str, str], ...] = ()  # load-balancing rules that SNAT outbound


class NatGateway(Struct, frozen=True):
    id: str
    name: str
    public_ips: int  # public IP addresses and prefixes attached


class NetworkMapping(Struct, frozen=True):
    """An ASR network mapping (vault replicationNetworkMappings): source VNet → target VNet."""

    id: str
    name: str
    primary_network_id: str
    recovery_network_id: str
    primary_location: str | None = None
    recovery_location: str | None = None
    state: str | None = None


class ProtectedItem(Struct, frozen=True):
    """A VM that a vault already replicates (an A2A replication protected item)."""

    id: str
    vm_id: str  # the source VM
    vault_id: str
    recovery_region: str | None
    recovery_size: str | None
    # disks replicated, by id or URI; None: not exported, so drift in disks cannot be told
    disk_ids: tuple[str, ...] | None
    protection_state: str | None
    health: str | None  # Normal | Warning | Critical
    health_errors: tuple[str, ...] = ()
    rpo_seconds: int | None = None

    @property
    def vault_name(self) -> str:
        return self.vault_id.rstrip("/").rsplit("/", 1)[-1]


class MetricSeries(Struct, frozen=True):
    """One metric of one resource (and LUN) over time: hourly averages and maxima, in the unit
    Azure Monitor gives (bytes or operations per second)."""

    resource_key: str  # the VM, or the managed disk for Composite Disk metrics
    metric: str  # lower case: "data disk write bytes/sec", "composite disk write operations/sec" …
    lun: str | None  # the LUN dimension of Data Disk metrics
    averages: tuple[float, ...]
    maxima: tuple[float, ...]
    start: str | None  # the first and last hour with a value
    end: str | None


class Route(Struct, frozen=True):
    name: str
    address_prefix: str
    next_hop_type: str
    next_hop_ip: str | None = None


class RouteTable(Struct, frozen=True):
    id: str
    name: str
    routes: tuple[Route, ...]


class StorageAccount(Struct, frozen=True):
    id: str
    name: str
    subscription_id: str
    location: str
    kind: str | None
    sku: str | None
    default_action: str | None = None
    bypass: str | None = None
    public_network_access: str | None = None
    allow_shared_key_access: bool | None = None  # None: Azure's default, which allows it
    hierarchical_namespace: bool = False
    blob_soft_delete: bool | None = None  # None: blob service properties not exported
    virtual_network_rules: tuple[str, ...] = ()  # subnet ids the firewall allows
    ip_rules: tuple[str, ...] = ()
    private_endpoints: tuple[tuple[str, str], ...] = ()  # (private endpoint id, approval status)


class Vault(Struct, frozen=True):
    id: str
    name: str
    subscription_id: str
    location: str
    user_assigned_identity: bool = False  # the vault has a user-assigned managed identity


class ResourceGroup(Struct, frozen=True):
    id: str
    name: str
    location: str


class Subscription(Struct, frozen=True):
    id: str
    name: str | None
    tenant_id: str | None
    state: str | None


class Provider(Struct, frozen=True):
    subscription_id: str
    namespace: str
    state: str
    # resource type (lower) -> normalized regions where it can be created
    locations: dict[str, frozenset[str]]


class SkuRestriction(Struct, frozen=True):
    type: str  # "Location" | "Zone"
    reason: str | None
    locations: tuple[str, ...]
    zones: tuple[str, ...] = ()


class VmSku(Struct, frozen=True):
    name: str
    family: str | None
    locations: tuple[str, ...]
    zones: dict[str, tuple[str, ...]]
    capabilities: dict[str, str]
    restrictions: tuple[SkuRestriction, ...] = ()
    vcpus: float | None = None  # parsed once from capabilities: rules ask per VM
    memory_gib: float | None = None


class Usage(Struct, frozen=True):
    location: str
    name: str  # e.g. cores, standardDSv5Family
    current: int
    limit: int
    subscription_id: str | None = None
    file: str = ""  # the export it came from


class Endpoint(Struct, frozen=True):
    host: str
    port: int = 443
    resolved: bool | None = None
    connected: bool | None = None
    tls_verified: bool | None = None
    error: str | None = None


class GrubFile(Struct, frozen=True):
    path: str
    readable: bool | None = None
    device_refs: tuple[str, ...] = ()


class LvmVolume(Struct, frozen=True):
    volume: str
    exists: bool | None = None


class Grub(Struct, frozen=True):
    files: tuple[GrubFile, ...] = ()
    lvm_volumes: tuple[LvmVolume, ...] = ()


class GuestService(Struct, frozen=True):
    name: str
    start_type: str | None = None


class GuestFilesystem(Struct, frozen=True):
    path: str
    exists: bool | None = None
    device: str | None = None
    fstype: str | None = None
    disks: tuple[str, ...] = ()
    same_device_as_root: bool | None = None


class GuestFacts(Struct, frozen=True):
    vm_id: str | None
    name: str | None
    os_family: str | None = None
    distro_id: str | None = None
    os_version: str | None = None
    pretty_name: str | None = None
    agent_present: bool | None = None
    agent_running: bool | None = None
    trusted_roots: frozenset[str] | None = None  # SHA-1 thumbprints, lower-case hex
    endpoints: tuple[Endpoint, ...] = ()
    proxy_authenticated: bool | None = None
    proxy_reported: bool = False  # the facts have a proxy section (absent: proxy unknown)
    collected_at: str | None = None
    # Sections only the in-guest probe writes; None when the facts do not have them.
    grub: Grub | None = None
    services: tuple[GuestService, ...] | None = None
    filesystems: tuple[GuestFilesystem, ...] | None = None
    proxy_url: str | None = None


class ServiceTag(Struct, frozen=True):
    name: str
    address_prefixes: tuple[str, ...]


class ServiceTagSet(Struct, frozen=True):
    """One service-tags download (az network list-service-tags, or the weekly JSON file)."""

    change_number: str | None
    cloud: str | None
    tags: tuple[ServiceTag, ...]


class RoleAssignment(Struct, frozen=True):
    id: str
    principal_id: str  # lower-case object id
    role_definition_id: str  # lower-case GUID (the last segment of roleDefinitionId)
    scope: str  # lower-case, no trailing slash; "" is the root "/"
    role_name: str | None = None
    condition: str | None = None
    principal_type: str | None = None  # User | Group | ServicePrincipal …


class Permission(Struct, frozen=True):
    actions: tuple[str, ...]
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()


class RoleDefinition(Struct, frozen=True):
    id: str  # lower-case GUID
    name: str
    permissions: tuple[Permission, ...]


class DenyAssignment(Struct, frozen=True):
    id: str
    scope: str
    principals: frozenset[str]
    excluded: frozenset[str]
    permissions: tuple[Permission, ...]


class DiskEncryptionSet(Struct, frozen=True):
    id: str
    name: str
    location: str
    key_vault_id: str | None = None  # activeKey.sourceVault.id
    key_url: str | None = None
    encryption_type: str | None = None  # EncryptionAtRestWithCustomerKey | …PlatformAndCustomerKeys


class AccessPolicy(Struct, frozen=True):
    object_id: str  # lower-case
    keys: frozenset[str] = frozenset()  # lower-case permission names ("get", "all" …)
    secrets: frozenset[str] = frozenset()


class KeyVault(Struct, frozen=True):
    id: str
    name: str
    location: str
    rbac: bool | None = None  # enableRbacAuthorization; None: properties not exported
    access_policies: tuple[AccessPolicy, ...] = ()
    sku: str | None = None  # standard | premium
    soft_delete: bool | None = None
    purge_protection: bool | None = None
    hsm: bool = False  # a Managed HSM pool (Microsoft.KeyVault/managedHSMs)


class VmExtension(Struct, frozen=True):
    """A VM extension with its PUBLIC settings only; protected settings are never read."""

    id: str
    vm_key: str  # comparison key of the VM it belongs to
    name: str
    publisher: str | None = None
    type: str | None = None
    version: str | None = None
    # Public settings whose values are strings, by lower-case name (ADE reads its key vault here)
    settings: dict[str, str] = {}
