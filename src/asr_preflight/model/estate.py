"""The estate: every typed object of a snapshot, indexed for the lookups rules make."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asr_preflight.model import ids
from asr_preflight.model.entities import (
    DenyAssignment,
    DiskEncryptionSet,
    GuestFacts,
    InputProblem,
    KeyVault,
    LoadBalancer,
    MetricSeries,
    NatGateway,
    NetworkInterface,
    NetworkMapping,
    NetworkSecurityGroup,
    ProtectedItem,
    Provider,
    ResourceGroup,
    RoleAssignment,
    RoleDefinition,
    RouteTable,
    ServiceTagSet,
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
from asr_preflight.snapshot import Snapshot, detect


@dataclass(frozen=True, slots=True)
class VmNetwork:
    """Where a VM's traffic starts: its subnets and the NSGs on its NICs and subnets."""

    subnets: tuple[Subnet, ...]
    nsg_ids: tuple[str, ...]  # comparison keys, NIC NSGs first
    missing: tuple[str, ...]  # NICs or subnets the snapshot does not hold


@dataclass
class Estate:
    snapshot: Snapshot
    present: frozenset[str]
    vms: dict[str, VirtualMachine] = field(default_factory=dict)
    nics: dict[str, NetworkInterface] = field(default_factory=dict)
    nsgs: dict[str, NetworkSecurityGroup] = field(default_factory=dict)
    subnets: dict[str, Subnet] = field(default_factory=dict)
    route_tables: dict[str, RouteTable] = field(default_factory=dict)
    storage_accounts: dict[str, StorageAccount] = field(default_factory=dict)
    vaults: dict[str, Vault] = field(default_factory=dict)
    resource_groups: dict[str, ResourceGroup] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    providers: dict[tuple[str, str], Provider] = field(default_factory=dict)
    offered_locations: dict[str, frozenset[str]] = field(default_factory=dict)
    paired_regions: dict[str, str] = field(default_factory=dict)  # region -> its Azure pair
    skus: dict[str, dict[str, VmSku]] = field(default_factory=dict)
    usages: list[Usage] = field(default_factory=list)
    guest_facts: list[GuestFacts] = field(default_factory=list)
    service_tags: list[ServiceTagSet] = field(default_factory=list)
    role_assignments: list[RoleAssignment] = field(default_factory=list)
    role_definitions: dict[str, RoleDefinition] = field(default_factory=dict)
    deny_assignments: list[DenyAssignment] = field(default_factory=list)
    # group object ids per principal; the None key: memberships exported without saying whose
    memberships: dict[str | None, frozenset[str]] = field(default_factory=dict)
    vnets: dict[str, VirtualNetwork] = field(default_factory=dict)
    load_balancers: dict[str, LoadBalancer] = field(default_factory=dict)
    nat_gateways: dict[str, NatGateway] = field(default_factory=dict)
    network_mappings: list[NetworkMapping] = field(default_factory=list)
    protected_items: dict[str, ProtectedItem] = field(default_factory=dict)  # by source VM key
    metrics: dict[str, list[MetricSeries]] = field(default_factory=dict)  # by VM or disk key
    disk_encryption_sets: dict[str, DiskEncryptionSet] = field(default_factory=dict)
    key_vaults: dict[str, KeyVault] = field(default_factory=dict)  # and Managed HSM pools
    extensions: dict[str, dict[str, VmExtension]] = field(default_factory=dict)  # by VM key
    extensions_known: bool = False  # an extension export, or VMs with embedded `resources`
    # What the boundary could not understand, and how many records of each kind it left out.
    problems: list[InputProblem] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)
    unused_records: int = 0  # records of kinds no rule reads: counted, otherwise ignored
    # Analysis engines memoise here what they derive once per estate (e.g. network paths).
    analyses: dict[Any, Any] = field(default_factory=dict, repr=False)
    _guest_by_vm_id: dict[str, GuestFacts] = field(default_factory=dict)
    _guest_by_name: dict[str, GuestFacts] = field(default_factory=dict)
    _networks: dict[str, VmNetwork] = field(default_factory=dict)
    _guests: dict[str, GuestFacts | None] = field(default_factory=dict)
    _problems: dict[str, list[InputProblem]] = field(default_factory=dict)
    _guest_gaps: dict[str, str] | None = None

    def index(self) -> None:
        for problem in self.problems:
            if problem.resource_id:
                self._problems.setdefault(ids.key(problem.resource_id), []).append(problem)
        for facts in self.guest_facts:
            if facts.vm_id:
                self._guest_by_vm_id[facts.vm_id.lower()] = facts
            if facts.name:
                self._guest_by_name[facts.name.lower()] = facts

    def groups_of(self, principal_id: str) -> frozenset[str] | None:
        """The principal's groups, or None when no export says which groups it is in."""
        groups = self.memberships.get(principal_id.lower())
        return groups if groups is not None else self.memberships.get(None)

    def has(self, kind: str) -> bool:
        """Whether the snapshot holds this kind whole: exported (an empty export counts), its
        collection did not fail, and no record of it had to be left out."""
        return self.missing(kind) is None

    def missing(self, kind: str) -> str | None:
        """Why the estate's `kind` records are not the whole truth, or None when they are: not
        exported, a failed collection call, or records the boundary had to leave out."""
        failed = [e for e in self.snapshot.collection_errors if kind in e.kinds]
        if failed:
            error = failed[0]
            return f"collecting them failed ({error.operation} at {error.scope}: {error.message})"
        if kind not in self.present:
            return "they were not exported"
        left_out = self.left_out.get(kind, 0)
        if left_out:
            first = next(p for p in self.problems if p.kind == kind)
            return (
                f"{left_out} of them could not be read (first: {first.file}: {first.path}: "
                f"{first.expected})"
            )
        return None

    def unreadable(self, resource_id: str | None) -> str:
        """What the input problems say about one resource, for an `unknown` finding; empty
        when there is none (the resource was simply not exported)."""
        found = self._problems.get(ids.key(resource_id)) if resource_id else None
        if not found:
            return ""
        first = found[0]
        return f" (could not be read: {first.file}: {first.path}: {first.expected})"

    def guest(self, vm: VirtualMachine) -> GuestFacts | None:
        """Guest facts match a VM by its unique vmId; by name only when the facts carry no vmId
        (a namesake elsewhere must not lend its trust store). Decided once per VM."""
        if vm.key not in self._guests:
            facts = self._guest_by_vm_id.get(vm.vm_id.lower()) if vm.vm_id else None
            if facts is None:
                named = self._guest_by_name.get(vm.name.lower())
                facts = named if named is not None and not named.vm_id else None
            self._guests[vm.key] = facts
        return self._guests[vm.key]

    def guest_gap(self, vm: VirtualMachine) -> str:
        """Why collecting this VM's guest facts failed (Run Command), for an `unknown`; empty
        when nothing was tried."""
        if self._guest_gaps is None:
            self._guest_gaps = {
                ids.key(e.scope): e.message
                for e in self.snapshot.collection_errors
                if detect.GUEST_FACTS in e.kinds
            }
        reason = self._guest_gaps.get(vm.key)
        return f" (Run Command could not collect them: {reason})" if reason else ""

    def extensions_of(self, vm: VirtualMachine) -> list[VmExtension]:
        return list(self.extensions.get(vm.key, {}).values())

    def nics_of(self, vm: VirtualMachine) -> list[NetworkInterface | None]:
        return [self.nics.get(ids.key(nic_id)) for nic_id in vm.nic_ids or ()]

    def subnet(self, subnet_id: str) -> Subnet | None:
        return self.subnets.get(ids.key(subnet_id))

    def network_of(self, vm: VirtualMachine) -> VmNetwork:
        """Resolved once per VM; the networking rules all start from it."""
        known = self._networks.get(vm.key)
        if known is None:
            known = self._networks[vm.key] = self._resolve_network(vm)
        return known

    def _resolve_network(self, vm: VirtualMachine) -> VmNetwork:
        subnets, nsgs, missing = [], [], []
        if vm.nic_ids is None:
            missing.append("the VM's network profile")
        for nic_id in vm.nic_ids or ():
            nic = self.nics.get(ids.key(nic_id))
            if nic is None:
                missing.append(f"NIC {ids.name(nic_id)}")
                continue
            if nic.nsg_id:
                nsgs.append(ids.key(nic.nsg_id))
            for subnet_id in nic.subnet_ids:
                subnet = self.subnet(subnet_id)
                if subnet is None:
                    missing.append(f"subnet {ids.name(subnet_id)}")
                else:
                    subnets.append(subnet)
        nsgs += [ids.key(s.nsg_id) for s in subnets if s.nsg_id]
        return VmNetwork(tuple(subnets), tuple(nsgs), tuple(missing))

    def resource_group(self, vm: VirtualMachine) -> ResourceGroup | None:
        return self.resource_groups.get(
            f"/subscriptions/{vm.subscription_id}/resourcegroups/{vm.resource_group.lower()}"
        )

    def sku(self, location: str, size: str | None) -> VmSku | None:
        sizes = self.skus.get(location)
        return sizes.get(size.lower()) if sizes and size else None

    def usages_for(self, subscription_id: str, location: str) -> list[Usage]:
        """Usages of a subscription in a region. A usage that names no subscription (a plain
        `az vm list-usage` export) counts only when the snapshot holds one subscription: with
        several, whose quota it is cannot be told, and guessing would pass one subscription on
        another's limits (documented in docs/inputs.md)."""
        unlabelled_ok = len(self.snapshot.subscriptions) <= 1
        by_name: dict[str, Usage] = {}
        for usage in self.usages:
            if usage.location != location:
                continue
            if usage.subscription_id == subscription_id or (
                usage.subscription_id is None
                and unlabelled_ok
                and usage.name.lower() not in by_name
            ):
                by_name[usage.name.lower()] = usage
        return list(by_name.values())
