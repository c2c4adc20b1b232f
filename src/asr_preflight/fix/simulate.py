"""What the estate would look like after the fix script: each action's effect applied to a copy
of the typed estate (never to Azure), and the question asked again of that copy."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable

import msgspec

from asr_preflight.context import Context
from asr_preflight.fix.actions import (
    AddServiceEndpoint,
    AllowServiceTag,
    AllowSubnetOnCache,
    AnyAction,
    AssignRole,
    CreateCacheAccount,
    CreateEncryptionSet,
    CreateKeyVault,
    CreateResourceGroup,
    CreateVault,
    CreateVirtualNetwork,
    GrantVaultPolicy,
    RaiseQuota,
    RegisterProvider,
    RouteServiceTag,
    SetCacheOption,
)
from asr_preflight.fix.script import DES_KEY
from asr_preflight.model import Estate, ids
from asr_preflight.model.entities import (
    AccessPolicy,
    DiskEncryptionSet,
    KeyVault,
    Provider,
    ResourceGroup,
    RoleAssignment,
    Route,
    SecurityRule,
    StorageAccount,
    Subnet,
    Usage,
    Vault,
    VirtualNetwork,
)
from asr_preflight.rules.permissions import builtin_role

replace = msgspec.structs.replace


def simulate(contexts: list[Context], actions: Iterable[AnyAction]) -> list[Context]:
    """Every pair's question, asked of one estate changed by every action."""
    actions = list(actions)
    estate = changed(contexts[0].estate, actions)
    return [_reframed(ctx, estate, actions) for ctx in contexts]


def changed(estate: Estate, actions: list[AnyAction]) -> Estate:
    new = copy.copy(estate)
    for field in dataclasses.fields(Estate):
        value = getattr(estate, field.name)
        if isinstance(value, dict | list):
            setattr(new, field.name, copy.copy(value))
    # Memos derived from the old estate (network paths, resolved networks) must not carry over.
    new.analyses, new._networks, new._guests = {}, {}, {}
    for action in actions:
        _apply(new, action)
    return new


def _reframed(ctx: Context, estate: Estate, actions: list[AnyAction]) -> Context:
    """The same question, with the vault and cache accounts the script creates in place of the
    ones it replaces."""
    vault_id = ctx.vault_id
    for action in actions:
        if isinstance(action, CreateVault) and vault_id and action.location == ctx.target_region:
            vault_id = action.id
    caches = list(ctx.cache_accounts)
    for action in actions:
        if not isinstance(action, CreateCacheAccount) or action.location != ctx.source_region:
            continue
        if action.replaces:
            gone = {ids.key(action.replaces), ids.name(action.replaces).lower()}
            caches = [action.id if ids.key(c) in gone else c for c in caches]
        elif caches:
            caches.append(action.id)
    return dataclasses.replace(
        ctx, estate=estate, vault_id=vault_id, cache_accounts=tuple(dict.fromkeys(caches))
    )


def _apply(estate: Estate, action: AnyAction) -> None:
    if isinstance(action, RegisterProvider):
        key = (action.subscription, action.namespace.lower())
        known = estate.providers.get(key)
        estate.providers[key] = (
            replace(known, state="Registered")
            if known
            else Provider(action.subscription, action.namespace, "Registered", {})
        )
    elif isinstance(action, CreateResourceGroup):
        group_id = f"/subscriptions/{action.subscription}/resourceGroups/{action.name}"
        estate.resource_groups[ids.key(group_id)] = ResourceGroup(
            group_id, action.name, action.location
        )
    elif isinstance(action, CreateVault):
        estate.vaults[ids.key(action.id)] = Vault(
            action.id, action.name, action.subscription, action.location
        )
    elif isinstance(action, CreateKeyVault):
        estate.key_vaults[ids.key(action.id)] = KeyVault(
            action.id,
            action.name,
            action.location,
            rbac=False,
            sku="standard",
            soft_delete=True,
            purge_protection=True,
        )
    elif isinstance(action, CreateEncryptionSet):
        estate.disk_encryption_sets[ids.key(action.id)] = DiskEncryptionSet(
            action.id,
            action.name,
            action.location,
            key_vault_id=action.key_vault.id,
            key_url=f"https://{action.key_vault.name}.vault.azure.net/keys/{DES_KEY}",
            encryption_type=action.encryption_type,
        )
    elif isinstance(action, CreateCacheAccount):
        estate.storage_accounts[ids.key(action.id)] = StorageAccount(
            action.id,
            action.name,
            action.subscription,
            action.location,
            kind="BlockBlobStorage" if action.premium else "StorageV2",
            sku="Premium_LRS" if action.premium else "Standard_LRS",
            default_action="Allow",
            bypass="AzureServices",
            public_network_access="Enabled",
            allow_shared_key_access=True,
            blob_soft_delete=False,
        )
    elif isinstance(action, SetCacheOption):
        _set_cache_option(estate, action)
    elif isinstance(action, AllowSubnetOnCache):
        key = ids.key(action.account_id)
        account = estate.storage_accounts[key]
        estate.storage_accounts[key] = replace(
            account, virtual_network_rules=(*account.virtual_network_rules, action.subnet_id)
        )
    elif isinstance(action, AddServiceEndpoint):
        key = ids.key(action.subnet_id)
        subnet = estate.subnets[key]
        located = subnet.endpoint_locations
        if located:
            located = (*located, (action.service, (subnet.location,)))
        estate.subnets[key] = replace(
            subnet,
            service_endpoints=(*subnet.service_endpoints, action.service),
            endpoint_locations=located,
        )
    elif isinstance(action, CreateVirtualNetwork):
        estate.vnets[ids.key(action.id)] = VirtualNetwork(
            action.id, action.name, action.location, action.address_prefixes
        )
        for name, prefix in action.subnets:
            subnet_id = f"{action.id}/subnets/{name}"
            estate.subnets[ids.key(subnet_id)] = Subnet(
                subnet_id, name, action.id, action.location, address_prefixes=(prefix,)
            )
    elif isinstance(action, AllowServiceTag):
        key = ids.key(action.nsg_id)
        nsg = estate.nsgs[key]
        rule = SecurityRule(
            name=action.rule_name,
            priority=action.priority or action.before - 1,
            direction="Outbound",
            access="Allow",
            protocol="Tcp",
            destinations=(action.service_tag,),
            destination_ports=("443",),
            sources=("VirtualNetwork",),
        )
        estate.nsgs[key] = replace(nsg, rules=(*nsg.rules, rule))
    elif isinstance(action, RouteServiceTag):
        key = ids.key(action.route_table_id)
        table = estate.route_tables[key]
        route = Route(action.route_name, action.service_tag, "Internet")
        estate.route_tables[key] = replace(table, routes=(*table.routes, route))
    elif isinstance(action, AssignRole):
        _assign(estate, action)
    elif isinstance(action, GrantVaultPolicy):
        key = ids.key(action.vault_id)
        vault = estate.key_vaults[key]
        policy = AccessPolicy(
            action.object_id.lower(), frozenset(action.keys), frozenset(action.secrets)
        )
        estate.key_vaults[key] = replace(vault, access_policies=(*vault.access_policies, policy))
    elif isinstance(action, RaiseQuota):
        estate.usages = [
            replace(u, limit=max(u.limit, action.limit)) if _quota_of(u, action) else u
            for u in estate.usages
        ]


def _set_cache_option(estate: Estate, action: SetCacheOption) -> None:
    key = ids.key(action.account_id)
    account = estate.storage_accounts[key]
    if action.setting == "allow-shared-key":
        account = replace(account, allow_shared_key_access=True)
    elif action.setting == "disable-soft-delete":
        account = replace(account, blob_soft_delete=False)
    elif action.setting == "trusted-services":
        kept = [
            b for b in (account.bypass or "").replace(" ", "").split(",") if b not in ("", "None")
        ]
        account = replace(account, bypass=",".join([*kept, "AzureServices"]))
    elif action.setting == "all-networks":
        account = replace(account, default_action="Allow", public_network_access="Enabled")
    estate.storage_accounts[key] = account


def _assign(estate: Estate, action: AssignRole) -> None:
    scope = ids.key(action.scope)
    estate.role_assignments.append(
        RoleAssignment(
            id=f"{scope}/providers/microsoft.authorization/roleassignments/asr-fix-"
            f"{len(estate.role_assignments)}",
            principal_id=action.principal_id.lower(),
            role_definition_id=action.role_id.lower(),
            scope=scope,
            role_name=action.role,
            principal_type=action.principal_type,
        )
    )
    if action.role_id.lower() not in estate.role_definitions:
        role = builtin_role(action.role_id)
        if role is not None:
            estate.role_definitions[role.id] = role


def _quota_of(usage: Usage, action: RaiseQuota) -> bool:
    return (
        usage.location == action.region
        and usage.name.lower() == action.resource.lower()
        and usage.subscription_id in (action.subscription, None)
    )
