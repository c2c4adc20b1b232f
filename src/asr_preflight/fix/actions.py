"""What a script can do about a finding, as data. A rule attaches the actions that would make
its failing finding pass; `fix` orders them into a script (script.py) and applies them to a copy
of the estate to check again (simulate.py). Actions only add or relax what ASR needs: none
deletes anything or removes a customer's rule."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from asr_preflight.model import ids


class Action(msgspec.Struct, frozen=True, tag_field="do"):
    # The order of the script: providers → resource groups → vault → key vaults and disk
    # encryption sets → cache accounts → networks → role assignments → quota requests.
    stage: ClassVar[int]

    @property
    def key(self) -> tuple[object, ...]:
        """Two actions with one key do the same thing: the script runs it once."""
        return (type(self).__name__, *(str(v).lower() for v in msgspec.structs.astuple(self)))

    def merge(self, other: Action) -> Action:
        """One action out of two with the same key (a quota asked for twice: the larger)."""
        return self

    @property
    def title(self) -> str:
        raise NotImplementedError


class RegisterProvider(Action, frozen=True, tag="register-provider"):
    stage = 1
    subscription: str
    namespace: str

    @property
    def title(self) -> str:
        return f"register {self.namespace} in subscription {self.subscription}"


class NewResource(Action, frozen=True):
    """A resource the script creates (when it does not exist yet), and where."""

    provider: ClassVar[str]  # "Microsoft.KeyVault/vaults" …
    subscription: str
    resource_group: str
    name: str
    location: str

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/"
            f"{self.provider}/{self.name}"
        )


class CreateResourceGroup(Action, frozen=True, tag="resource-group"):
    stage = 2
    subscription: str
    name: str
    location: str

    @property
    def title(self) -> str:
        return f"create resource group {self.name} in {self.location}"


class CreateVault(NewResource, frozen=True, tag="vault"):
    provider = "Microsoft.RecoveryServices/vaults"
    stage = 3

    @property
    def title(self) -> str:
        return f"create Recovery Services vault {self.name} in {self.location}"


class CreateKeyVault(NewResource, frozen=True, tag="key-vault"):
    """A key vault in the target region: for the keys of disk encryption sets, or for the
    secrets ASR copies for Azure Disk Encryption (`disk_encryption`)."""

    provider = "Microsoft.KeyVault/vaults"
    stage = 4
    disk_encryption: bool = False

    @property
    def title(self) -> str:
        use = "Azure Disk Encryption secrets" if self.disk_encryption else "disk encryption keys"
        return f"create key vault {self.name} in {self.location} for {use}"


class CreateEncryptionSet(NewResource, frozen=True, tag="disk-encryption-set"):
    """A disk encryption set with a new key in `key_vault` (created by a CreateKeyVault), and
    the set's identity allowed to use the key."""

    provider = "Microsoft.Compute/diskEncryptionSets"
    stage = 5
    encryption_type: str
    key_vault: CreateKeyVault

    @property
    def title(self) -> str:
        return (
            f"create disk encryption set {self.name} ({self.encryption_type}) in "
            f"{self.location} with a key in {self.key_vault.name}"
        )


class CreateCacheAccount(NewResource, frozen=True, tag="cache-account"):
    """A cache storage account as ASR needs it; it replaces the chosen one (`replaces`)."""

    provider = "Microsoft.Storage/storageAccounts"
    stage = 6
    premium: bool = False  # Premium block blob, for VMs that need High Churn
    replaces: str | None = None

    @property
    def title(self) -> str:
        kind = "premium block blob" if self.premium else "general-purpose v2"
        instead = f", instead of {ids.name(self.replaces)}" if self.replaces else ""
        return f"create {kind} cache account {self.name} in {self.location}{instead}"


CACHE_SETTINGS = {
    "allow-shared-key": "allow shared key access (ASR writes with shared-key SAS)",
    "disable-soft-delete": "turn blob soft delete off",
    "trusted-services": "let trusted Azure services through the firewall",
    "all-networks": "allow all networks (the vault uses a user-assigned identity)",
}


class SetCacheOption(Action, frozen=True, tag="cache-setting"):
    stage = 6
    account_id: str
    setting: str  # a key of CACHE_SETTINGS
    bypass: str | None = None  # trusted-services: the exceptions already set, kept

    @property
    def title(self) -> str:
        return f"on cache account {ids.name(self.account_id)}: {CACHE_SETTINGS[self.setting]}"


class AddServiceEndpoint(Action, frozen=True, tag="service-endpoint"):
    """A service endpoint on a subnet, keeping the endpoints it has (`existing`)."""

    stage = 7
    subnet_id: str
    service: str
    existing: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return f"add the {self.service} service endpoint to subnet {ids.name(self.subnet_id)}"


class AllowSubnetOnCache(Action, frozen=True, tag="cache-subnet"):
    stage = 7
    account_id: str
    subnet_id: str

    @property
    def title(self) -> str:
        return (
            f"let subnet {ids.name(self.subnet_id)} through cache account "
            f"{ids.name(self.account_id)}'s firewall"
        )


class AllowServiceTag(Action, frozen=True, tag="nsg-rule"):
    """An outbound allow rule for TCP 443 to one service tag, ahead of the rule that blocks it
    (`before`); the free priority is chosen when the script is planned."""

    stage = 7
    nsg_id: str
    service_tag: str
    before: int
    priority: int | None = None

    @property
    def key(self) -> tuple[object, ...]:
        return ("AllowServiceTag", ids.key(self.nsg_id), self.service_tag.lower())

    def merge(self, other: Action) -> Action:
        assert isinstance(other, AllowServiceTag)
        return self if self.before <= other.before else other

    @property
    def rule_name(self) -> str:
        return "Allow-ASR-" + self.service_tag.replace(".", "-")

    @property
    def title(self) -> str:
        return (
            f"in NSG {ids.name(self.nsg_id)}, allow outbound TCP 443 to {self.service_tag} "
            f"(priority {self.priority or '?'}, ahead of {self.before})"
        )


class RouteServiceTag(Action, frozen=True, tag="route"):
    """A route sending one service tag straight to the internet, so a default route that drops
    traffic no longer catches it."""

    stage = 7
    route_table_id: str
    service_tag: str

    @property
    def route_name(self) -> str:
        return "asr-" + self.service_tag.replace(".", "-").lower()

    @property
    def title(self) -> str:
        return (
            f"in route table {ids.name(self.route_table_id)}, route {self.service_tag} to the "
            "internet"
        )


class CreateVirtualNetwork(NewResource, frozen=True, tag="virtual-network"):
    """A target network in the target region, with the source network's subnets by name (ASR
    maps subnets by name); address spaces default to the source's, for a person to choose."""

    provider = "Microsoft.Network/virtualNetworks"
    stage = 7
    address_prefixes: tuple[str, ...]
    subnets: tuple[tuple[str, str], ...]  # (name, address prefix)

    @property
    def title(self) -> str:
        return f"create target network {self.name} in {self.location}"


class AssignRole(Action, frozen=True, tag="role-assignment"):
    stage = 8
    principal_id: str
    role: str
    role_id: str  # the built-in role's GUID
    scope: str
    principal_type: str | None = None  # User | Group | ServicePrincipal, when the export says

    @property
    def title(self) -> str:
        return f"assign {self.role} to {self.principal_id} at {self.scope}"


class GrantVaultPolicy(Action, frozen=True, tag="key-vault-policy"):
    """Secret (and key) permissions for a principal in a key vault's access policy; setting a
    policy adds to what the principal holds there, it never removes."""

    stage = 8
    vault_id: str
    object_id: str
    secrets: tuple[str, ...]
    keys: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        held = ", ".join([f"secrets/{p}" for p in self.secrets] + [f"keys/{p}" for p in self.keys])
        return f"in key vault {ids.name(self.vault_id)}, give {self.object_id} {held}"


class RaiseQuota(Action, frozen=True, tag="quota"):
    """A quota increase request through the Quota API: the exact new limit."""

    stage = 9
    subscription: str
    region: str
    provider: str
    resource: str
    limit: int

    @property
    def scope(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/providers/{self.provider}/locations/{self.region}"
        )

    @property
    def key(self) -> tuple[object, ...]:
        return ("RaiseQuota", self.subscription, self.region, self.provider, self.resource.lower())

    def merge(self, other: Action) -> Action:
        assert isinstance(other, RaiseQuota)
        return self if self.limit >= other.limit else other

    @property
    def title(self) -> str:
        return f"request {self.resource} in {self.region} raised to {self.limit}"


AnyAction = (
    RegisterProvider
    | CreateResourceGroup
    | CreateVault
    | CreateKeyVault
    | CreateEncryptionSet
    | CreateCacheAccount
    | SetCacheOption
    | AddServiceEndpoint
    | AllowSubnetOnCache
    | AllowServiceTag
    | RouteServiceTag
    | CreateVirtualNetwork
    | AssignRole
    | GrantVaultPolicy
    | RaiseQuota
)
