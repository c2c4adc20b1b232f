"""The shapes of the raw Azure JSON the model reads, one schema per kind: the boundary's contract.

Every field is optional: absent and null both decode to None, which the model reads as "not
exported" (unknown), never as "empty". Azure prints most resources two ways: REST and Resource
Graph nest their settings in `properties`, `az` flattens them to the top level. A record schema
therefore inherits its properties schema (the flattened fields) and also holds `properties`;
`settings()` picks whichever the record used (properties schemas derive from `Record` only
because msgspec structs take a single line of inheritance). Only the fields a rule, analysis or
the plan reads are declared: everything else is skipped by the decoder, which is what makes it
fast.
"""

from __future__ import annotations

from typing import Any, TypeVar

from msgspec import Struct, field


class Schema(Struct, rename="camel"):
    """Base of every schema: camelCase names, as Azure spells them."""


class Ref(Schema):
    """`{"id": ...}`: how ARM points at another resource."""

    id: str | None = None


class Named(Schema):
    """`{"name": ...}`: SKUs and similar name-only objects."""

    name: str | None = None


class Record(Schema):
    """What every ARM resource has at the top level, whatever printed it."""

    id: str | None = None
    name: str | None = None
    type: str | None = None
    location: str | None = None
    resource_group: str | None = None  # az and Resource Graph
    sku: Named | None = None
    kind: str | None = None
    zones: list[str] | None = None


S = TypeVar("S", bound=Schema)


def settings(record: S) -> S:
    """The record's `properties` when it has them (REST, Resource Graph), else the record (az)."""
    inner = getattr(record, "properties", None)
    return inner if inner is not None else record


# --- compute -----------------------------------------------------------------------------------


class ManagedDiskParameters(Schema):
    id: str | None = None
    storage_account_type: str | None = None
    disk_encryption_set: Ref | None = None


class VmDisk(Schema):
    """A disk as the VM's storage profile lists it."""

    name: str | None = None
    lun: int | None = None
    os_type: str | None = None
    disk_size_gb: float | None = field(default=None, name="diskSizeGB")
    disk_size_gb_az: float | None = field(default=None, name="diskSizeGb")  # az's spelling
    managed_disk: ManagedDiskParameters | None = None
    diff_disk_settings: Any = None  # present: an ephemeral OS disk
    vhd: Any = None  # present: an unmanaged disk
    write_accelerator_enabled: bool | None = None


class ImageReference(Schema):
    publisher: str | None = None
    offer: str | None = None
    sku: str | None = None


class StorageProfile(Schema):
    image_reference: ImageReference | None = None
    os_disk: VmDisk | None = None
    data_disks: list[VmDisk] | None = None
    disk_controller_type: str | None = None


class Status(Schema):
    code: str | None = None
    display_status: str | None = None


class VmAgent(Schema):
    vm_agent_version: str | None = None
    statuses: list[Status] | None = None


class InstanceView(Schema):
    os_name: str | None = None
    os_version: str | None = None
    vm_agent: VmAgent | None = None
    statuses: list[Status] | None = None
    power_state: Status | None = None  # Resource Graph's extended instance view


class Extended(Schema):
    instance_view: InstanceView | None = None


class OsProfile(Schema):
    windows_configuration: Any = None
    linux_configuration: Any = None


class SecurityProfile(Schema):
    security_type: str | None = None
    encryption_at_host: bool | None = None


class NicReference(Schema):
    id: str | None = None


class NetworkProfile(Schema):
    network_interfaces: list[NicReference] | None = None


class HardwareProfile(Schema):
    vm_size: str | None = None


class CapacityReservation(Schema):
    capacity_reservation_group: Ref | None = None


class VmProperties(Record):
    vm_id: str | None = None
    provisioning_state: str | None = None
    time_created: str | None = None
    hardware_profile: HardwareProfile | None = None
    storage_profile: StorageProfile | None = None
    os_profile: OsProfile | None = None
    network_profile: NetworkProfile | None = None
    security_profile: SecurityProfile | None = None
    instance_view: InstanceView | None = None
    extended: Extended | None = None
    availability_set: Ref | None = None
    proximity_placement_group: Ref | None = None
    host: Ref | None = None
    host_group: Ref | None = None
    virtual_machine_scale_set: Ref | None = None
    capacity_reservation: CapacityReservation | None = None


class ExtensionProperties(Record):
    publisher: str | None = None
    type: str | None = None
    type_properties_type: str | None = None  # az's name for the handler type
    type_handler_version: str | None = None
    settings: dict[str, Any] | None = None  # public settings only; protected ones are never read


class ExtensionRecord(ExtensionProperties):
    properties: ExtensionProperties | None = None


class VmRecord(VmProperties):
    power_state: str | None = None  # az vm list -d
    properties: VmProperties | None = None
    resources: list[ExtensionRecord] | None = None  # extensions `az vm show` embeds


class DiskEncryption(Schema):
    type: str | None = None
    disk_encryption_set_id: str | None = None


class DiskProperties(Record):
    disk_size_gb: float | None = field(default=None, name="diskSizeGB")
    disk_size_gb_az: float | None = field(default=None, name="diskSizeGb")  # az's spelling
    disk_size_bytes: int | None = None
    hyper_v_generation: str | None = None
    max_shares: int | None = None
    encryption: DiskEncryption | None = None
    time_created: str | None = None
    os_type: str | None = None
    encryption_settings_collection: Any = None


class DiskRecord(DiskProperties):
    properties: DiskProperties | None = None


class ActiveKey(Schema):
    source_vault: Ref | None = None
    key_url: str | None = None


class DesProperties(Record):
    active_key: ActiveKey | None = None
    encryption_type: str | None = None


class DesRecord(DesProperties):
    properties: DesProperties | None = None


class SkuCapability(Schema):
    name: str | None = None
    value: str | None = None


class SkuLocationInfo(Schema):
    location: str | None = None
    zones: list[str] | None = None


class RestrictionInfo(Schema):
    locations: list[str] | None = None
    zones: list[str] | None = None


class SkuRestriction(Schema):
    type: str | None = None
    reason_code: str | None = None
    values: list[str] | None = None
    restriction_info: RestrictionInfo | None = None


class SkuRecord(Schema):
    """A VM size from `az vm list-skus` / Resource SKUs - List."""

    name: str | None = None
    resource_type: str | None = None
    family: str | None = None
    locations: list[str] | None = None
    location_info: list[SkuLocationInfo] | None = None
    capabilities: list[SkuCapability] | None = None
    restrictions: list[SkuRestriction] | None = None


class UsageName(Schema):
    value: str | None = None


class UsageRecord(Schema):
    """A usage from `az vm list-usage` / Usage - List: numbers may be strings in az's output."""

    id: str | None = None
    name: UsageName | None = None
    current_value: float | None = None
    limit: float | None = None


# --- network -----------------------------------------------------------------------------------


class IpConfigurationProperties(Schema):
    subnet: Ref | None = None
    public_ip_address: Ref | None = field(default=None, name="publicIPAddress")
    private_ip_address: str | None = field(default=None, name="privateIPAddress")
    primary: bool | None = None
    application_security_groups: list[Ref] | None = None
    load_balancer_backend_address_pools: list[Ref] | None = None


class IpConfiguration(IpConfigurationProperties):
    name: str | None = None
    properties: IpConfigurationProperties | None = None


class DnsSettings(Schema):
    dns_servers: list[str] | None = None


class NicProperties(Record):
    ip_configurations: list[IpConfiguration] | None = None
    network_security_group: Ref | None = None
    enable_accelerated_networking: bool | None = None
    primary: bool | None = None
    dns_settings: DnsSettings | None = None


class NicRecord(NicProperties):
    properties: NicProperties | None = None


class SecurityRuleProperties(Schema):
    priority: int | None = None
    direction: str | None = None
    access: str | None = None
    protocol: str | None = None
    source_address_prefix: str | None = None
    source_address_prefixes: list[str] | None = None
    source_port_range: str | None = None
    source_port_ranges: list[str] | None = None
    destination_address_prefix: str | None = None
    destination_address_prefixes: list[str] | None = None
    destination_port_range: str | None = None
    destination_port_ranges: list[str] | None = None
    source_application_security_groups: list[Ref] | None = None
    destination_application_security_groups: list[Ref] | None = None


class SecurityRuleRecord(SecurityRuleProperties):
    name: str | None = None
    properties: SecurityRuleProperties | None = None


class NsgProperties(Record):
    security_rules: list[SecurityRuleRecord] | None = None
    default_security_rules: list[SecurityRuleRecord] | None = None


class NsgRecord(NsgProperties):
    properties: NsgProperties | None = None


class ServiceEndpoint(Schema):
    service: str | None = None
    locations: list[str] | None = None


class SubnetProperties(Schema):
    address_prefix: str | None = None
    address_prefixes: list[str] | None = None
    network_security_group: Ref | None = None
    route_table: Ref | None = None
    nat_gateway: Ref | None = None
    service_endpoints: list[ServiceEndpoint] | None = None
    default_outbound_access: bool | None = None
    private_endpoints: list[Ref] | None = None


class SubnetRecord(SubnetProperties):
    id: str | None = None
    name: str | None = None
    properties: SubnetProperties | None = None


class AddressSpace(Schema):
    address_prefixes: list[str] | None = None


class DhcpOptions(Schema):
    dns_servers: list[str] | None = None


class VnetProperties(Record):
    address_space: AddressSpace | None = None
    subnets: list[SubnetRecord] | None = None
    dhcp_options: DhcpOptions | None = None


class VnetRecord(VnetProperties):
    properties: VnetProperties | None = None


class RouteProperties(Schema):
    address_prefix: str | None = None
    next_hop_type: str | None = None
    next_hop_ip_address: str | None = None


class RouteRecord(RouteProperties):
    name: str | None = None
    properties: RouteProperties | None = None


class RouteTableProperties(Record):
    routes: list[RouteRecord] | None = None


class RouteTableRecord(RouteTableProperties):
    properties: RouteTableProperties | None = None


class FrontendProperties(Schema):
    public_ip_address: Ref | None = field(default=None, name="publicIPAddress")
    public_ip_prefix: Ref | None = field(default=None, name="publicIPPrefix")


class Frontend(FrontendProperties):
    properties: FrontendProperties | None = None


class LbRuleProperties(Schema):
    backend_address_pool: Ref | None = None
    backend_address_pools: list[Ref] | None = None
    disable_outbound_snat: bool | None = None


class LbRule(LbRuleProperties):
    name: str | None = None
    properties: LbRuleProperties | None = None


class LbProperties(Record):
    frontend_ip_configurations: list[Frontend] | None = field(
        default=None, name="frontendIPConfigurations"
    )
    backend_address_pools: list[Ref] | None = None
    outbound_rules: list[LbRule] | None = None
    load_balancing_rules: list[LbRule] | None = None


class LbRecord(LbProperties):
    properties: LbProperties | None = None


class NatProperties(Record):
    public_ip_addresses: list[Ref] | None = None
    public_ip_prefixes: list[Ref] | None = None


class NatRecord(NatProperties):
    properties: NatProperties | None = None


# --- storage, vaults, keys ---------------------------------------------------------------------


class VirtualNetworkRule(Schema):
    virtual_network_resource_id: str | None = None
    id: str | None = None
    action: str | None = None


class IpRule(Schema):
    ip_address_or_range: str | None = None
    value: str | None = None


class NetworkAcls(Schema):
    default_action: str | None = None
    bypass: str | None = None
    virtual_network_rules: list[VirtualNetworkRule] | None = None
    ip_rules: list[IpRule] | None = None


class ConnectionState(Schema):
    status: str | None = None


class PrivateEndpointConnectionProperties(Schema):
    private_endpoint: Ref | None = None
    private_link_service_connection_state: ConnectionState | None = None


class PrivateEndpointConnection(PrivateEndpointConnectionProperties):
    properties: PrivateEndpointConnectionProperties | None = None


class StorageProperties(Record):
    network_acls: NetworkAcls | None = None
    network_rule_set: NetworkAcls | None = None  # az's older name
    public_network_access: str | None = None
    allow_shared_key_access: bool | None = None
    is_hns_enabled: bool | None = None
    private_endpoint_connections: list[PrivateEndpointConnection] | None = None


class StorageRecord(StorageProperties):
    properties: StorageProperties | None = None


class RetentionPolicy(Schema):
    enabled: bool | None = None


class BlobServiceProperties(Record):
    delete_retention_policy: RetentionPolicy | None = None


class BlobServiceRecord(BlobServiceProperties):
    properties: BlobServiceProperties | None = None


class ManagedIdentity(Schema):
    type: str | None = None  # SystemAssigned | UserAssigned | "SystemAssigned, UserAssigned" | None


class VaultRecord(Record):
    identity: ManagedIdentity | None = None  # Azure omits it when the vault has none


class AccessPolicyPermissions(Schema):
    keys: list[str] | None = None
    secrets: list[str] | None = None


class AccessPolicy(Schema):
    object_id: str | None = None
    permissions: AccessPolicyPermissions | None = None


class KeyVaultProperties(Record):
    enable_rbac_authorization: bool | None = None
    access_policies: list[AccessPolicy] | None = None
    sku: Named | None = None
    enable_soft_delete: bool | None = None
    enable_purge_protection: bool | None = None


class KeyVaultRecord(KeyVaultProperties):
    properties: KeyVaultProperties | None = None


class FabricSettings(Schema):
    primary_fabric_location: str | None = None
    recovery_fabric_location: str | None = None


class NetworkMappingProperties(Record):
    primary_network_id: str | None = None
    recovery_network_id: str | None = None
    state: str | None = None
    fabric_specific_settings: FabricSettings | None = None


class NetworkMappingRecord(NetworkMappingProperties):
    properties: NetworkMappingProperties | None = None


class ProtectedDisk(Schema):
    disk_id: str | None = None  # managed disks
    disk_uri: str | None = None  # unmanaged disks


class HealthError(Schema):
    error_code: str | None = None
    error_message: str | None = None


class ReplicationDetails(Schema):
    """`providerSpecificDetails`; only A2A (Azure to Azure) items are Azure VMs of an estate."""

    instance_type: str | None = None
    fabric_object_id: str | None = None  # the source VM's ARM id
    recovery_azure_vm_size: str | None = field(default=None, name="recoveryAzureVMSize")
    primary_fabric_location: str | None = None
    recovery_fabric_location: str | None = None
    protected_managed_disks: list[ProtectedDisk] | None = None
    protected_disks: list[ProtectedDisk] | None = None
    rpo_in_seconds: int | None = None


class ProtectedItemProperties(Record):
    friendly_name: str | None = None
    protection_state: str | None = None
    replication_health: str | None = None
    health_errors: list[HealthError] | None = None
    provider_specific_details: ReplicationDetails | None = None


class ProtectedItemRecord(ProtectedItemProperties):
    properties: ProtectedItemProperties | None = None


# --- Azure Monitor metrics (REST Metrics - List, `az monitor metrics list`) ----------------------


class MetricName(Schema):
    value: str | None = None


class MetadataValue(Schema):
    name: MetricName | None = None
    value: str | None = None


class MetricPoint(Schema):
    time_stamp: str | None = None
    average: float | None = None
    maximum: float | None = None


class TimeSeries(Schema):
    metadatavalues: list[MetadataValue] | None = None
    data: list[MetricPoint] | None = None


class MetricRecord(Schema):
    """One metric of one resource; its `name` is an object, so it is no `Record`."""

    id: str | None = None
    type: str | None = None
    name: MetricName | None = None
    unit: str | None = None
    timeseries: list[TimeSeries] | None = None
    error_code: str | None = None


# --- subscriptions, providers, locations -------------------------------------------------------


class ResourceGroupRecord(Record):
    pass


class SubscriptionProperties(Schema):
    state: str | None = None


class SubscriptionRecord(Schema):
    id: str | None = None
    subscription_id: str | None = None
    display_name: str | None = None
    name: str | None = None
    tenant_id: str | None = None
    state: str | None = None
    cloud_name: str | None = None
    properties: SubscriptionProperties | None = None  # Resource Graph


class ProviderResourceType(Schema):
    resource_type: str | None = None
    locations: list[str] | None = None


class ProviderRecord(Schema):
    id: str | None = None
    namespace: str | None = None
    registration_state: str | None = None
    resource_types: list[ProviderResourceType] | None = None


class LocationMetadata(Schema):
    region_type: str | None = None
    paired_region: list[Named] | None = None


class LocationRecord(Schema):
    id: str | None = None
    name: str | None = None
    display_name: str | None = None
    metadata: LocationMetadata | None = None


# --- identity and access -----------------------------------------------------------------------


class RoleAssignmentProperties(Record):
    principal_id: str | None = None
    principal_type: str | None = None
    role_definition_id: str | None = None
    scope: str | None = None
    condition: str | None = None


class RoleAssignmentRecord(RoleAssignmentProperties):
    role_definition_name: str | None = None  # az role assignment list
    properties: RoleAssignmentProperties | None = None


class PermissionBlock(Schema):
    actions: list[str] | None = None
    not_actions: list[str] | None = None
    data_actions: list[str] | None = None
    not_data_actions: list[str] | None = None


class RoleDefinitionProperties(Record):
    role_name: str | None = None
    permissions: list[PermissionBlock] | None = None


class RoleDefinitionRecord(RoleDefinitionProperties):
    properties: RoleDefinitionProperties | None = None


class DenyPrincipal(Schema):
    id: str | None = None


class DenyAssignmentProperties(Record):
    scope: str | None = None
    principals: list[DenyPrincipal] | None = None
    exclude_principals: list[DenyPrincipal] | None = None
    permissions: list[PermissionBlock] | None = None


class DenyAssignmentRecord(DenyAssignmentProperties):
    properties: DenyAssignmentProperties | None = None


class GroupRecord(Schema):
    id: str | None = None


# --- service tags and guest facts --------------------------------------------------------------


class ServiceTagProperties(Schema):
    address_prefixes: list[str] | None = None


class ServiceTagValue(ServiceTagProperties):
    name: str | None = None
    id: str | None = None
    properties: ServiceTagProperties | None = None


class ServiceTagsRecord(Schema):
    change_number: str | int | None = None
    cloud: str | None = None
    values: list[ServiceTagValue] | None = None


class GuestVm(Struct):
    vm_id: str | None = None
    name: str | None = None


class GuestOs(Struct):
    family: str | None = None
    distro_id: str | None = None
    version: str | None = None
    pretty_name: str | None = None


class GuestAgent(Struct):
    present: bool | None = None
    running: bool | None = None


class GuestRoots(Struct):
    sha1: list[str] | None = None


class GuestEndpoint(Struct):
    host: str | None = None
    port: int | None = None
    resolved: bool | None = None
    connected: bool | None = None
    tls_verified: bool | None = None
    error: str | None = None


class GuestProxy(Struct):
    url: str | None = None
    authenticated: bool | None = None


class GrubFile(Struct):
    path: str | None = None
    readable: bool | None = None
    device_refs: list[str] | None = None


class LvmVolume(Struct):
    volume: str | None = None
    exists: bool | None = None


class Grub(Struct):
    files: list[GrubFile] | None = None
    lvm_volumes: list[LvmVolume] | None = None


class GuestService(Struct):
    name: str | None = None
    start_type: str | None = None


class GuestFilesystem(Struct):
    path: str | None = None
    exists: bool | None = None
    device: str | None = None
    fstype: str | None = None
    disks: list[str] | None = None
    same_device_as_root: bool | None = None


class GuestFactsRecord(Struct):
    """The in-guest probe's document (`"schema": "asr-preflight/guest-facts"`), snake_case."""

    schema: str | None = None
    vm: GuestVm | None = None
    os: GuestOs | None = None
    agent: GuestAgent | None = None
    trusted_roots: GuestRoots | None = None
    endpoints: list[GuestEndpoint] | None = None
    proxy: GuestProxy | None = None
    collected_at: str | None = None
    grub: Grub | None = None
    services: list[GuestService] | None = None
    filesystems: list[GuestFilesystem] | None = None
