"""The plan as data (the JSON of `asr-preflight plan`)."""

from __future__ import annotations

import msgspec


class TargetResource(msgspec.Struct):
    # vault | resource_group | virtual_network | availability_set | cache_account |
    # disk_encryption_set | key_vault
    kind: str
    name: str
    location: str
    exists: bool  # True: ASR reuses it; False: enabling replication creates it
    id: str | None = None
    note: str | None = None


class DiskPlan(msgspec.Struct):
    name: str
    role: str
    size_gib: float | None
    source_sku: str | None
    replica_sku: str | None  # None: the disk is not replicated
    note: str | None = None


class VmPlan(msgspec.Struct):
    id: str
    name: str
    source_size: str | None
    target_size: str | None
    choice: str  # same | closest | none | unknown
    reason: str
    source_zone: str | None
    target_zone: str | None
    target_resource_group: str
    target_virtual_networks: list[str]
    availability_set: str | None
    disks: list[DiskPlan]
    # when the target size is smaller than the source: by how much, and sizes that are not
    smaller: str | None = None
    larger_sizes: list[str] = msgspec.field(default_factory=list)
    churn: str | None = None  # normal | high_churn | beyond | unknown (analysis/churn.py)
    # an estimate: provisioned size at the per-VM limit of 54 MB/s, a best case
    initial_replication_hours: float | None = None


class QuotaAsk(msgspec.Struct):
    subscription: str
    region: str
    provider: str
    quota: str
    needed: int
    vms: int
    state: str  # enough | short | unknown
    current: int | None
    limit: int | None
    request_limit: int | None  # the limit to ask for, when short
    source: str = ""  # the usages export the current and limit figures came from


class TargetPlan(msgspec.Struct):
    source_region: str
    target_region: str
    vault: TargetResource
    resource_groups: list[TargetResource]
    virtual_networks: list[TargetResource]
    availability_sets: list[TargetResource]
    cache_accounts: list[TargetResource]
    vms: list[VmPlan]
    quota: list[QuotaAsk]
    notes: list[str]
    # disk encryption sets (CMK disks) and key vaults (ADE) the target region needs
    encryption: list[TargetResource] = msgspec.field(default_factory=list)
    target_zone: str | None = None  # the zone every VM fails over to, when one was chosen
