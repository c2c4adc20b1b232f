"""Findings are data: what a rule found about one resource, and what to do about it."""

from __future__ import annotations

from enum import StrEnum

import msgspec

from asr_preflight.fix.actions import AnyAction


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    UNKNOWN = "unknown"
    SKIP = "skip"


class Area(StrEnum):
    """The prerequisite areas of the "before you start" page, in the order it lists them."""

    VAULT = "vault"
    SUBSCRIPTION = "subscription"
    CAPACITY = "capacity"
    STORAGE = "storage"
    NETWORKING = "networking"
    VM = "vm"
    PERMISSIONS = "permissions"
    REPLICATION = "replication"  # VMs already replicated, and how replication will keep up


class Verdict(StrEnum):
    READY = "ready"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"
    PROTECTED = "protected"  # a vault already replicates the VM: not a new enablement


class WaiverMark(msgspec.Struct, frozen=True):
    """A waiver (--waivers) that matches a finding: shown and counted, never hidden. Until it
    expires, the finding blocks nothing; from its expiry date on, it counts again."""

    reason: str
    expires: str  # ISO date
    expired: bool = False


class Finding(msgspec.Struct, frozen=True, omit_defaults=True):
    rule: str
    area: Area
    status: Status
    resource_id: str | None
    asr_error_code: int | None
    message: str
    remedy: str | None
    references: tuple[str, ...]
    # VMs this finding decides, when its resource is not the VM itself or one of its scopes
    # (a quota family, a cache account). None: decided by resource_id (see engine.affected_vms).
    affected_vms: tuple[str, ...] | None = None
    waiver: WaiverMark | None = None
    pair: str | None = None  # "source->target", when one run checks several pairs
    # what `fix` can script to make it pass; none: it needs a person (the remedy says what)
    actions: tuple[AnyAction, ...] = ()

    @property
    def waived(self) -> bool:
        """A waiver holds it today: it decides no verdict and no exit code."""
        return self.waiver is not None and not self.waiver.expired
