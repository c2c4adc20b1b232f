"""Quota arithmetic: what the plan consumes against each usage's limit, per subscription and
region. Compute quotas (vCPUs per family, regional vCPUs, VMs, availability sets) in the target
region; network quotas (VNets, NICs) in the target region; storage accounts in the source
region, where ASR creates cache accounts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from asr_preflight.model.entities import Usage, VirtualMachine


class QuotaState(StrEnum):
    ENOUGH = "enough"
    SHORT = "short"
    UNKNOWN = "unknown"  # the usage was not exported


@dataclass
class Demand:
    """How much of one quota the plan needs, and for which VMs."""

    subscription: str
    region: str
    quota: str  # the usage name: standardDSv5Family, cores, virtualMachines, VirtualNetworks …
    provider: str  # Microsoft.Compute | Microsoft.Network | Microsoft.Storage
    needed: int = 0
    vms: list[str] = field(default_factory=list)  # VM keys

    def add(self, vm: VirtualMachine, amount: int) -> None:
        self.needed += amount
        self.vms.append(vm.key)


@dataclass(frozen=True)
class QuotaCheck:
    demand: Demand
    state: QuotaState
    current: int | None = None
    limit: int | None = None
    source: str = ""  # the usages export the figures came from

    @property
    def free(self) -> int | None:
        return None if self.limit is None or self.current is None else self.limit - self.current

    @property
    def new_limit(self) -> int | None:
        """The limit to request so the plan fits: what is used plus what the plan needs."""
        return None if self.current is None else self.current + self.demand.needed


class DemandBook:
    """Collects demand per (subscription, region, quota) while the plan is built."""

    def __init__(self) -> None:
        self._book: dict[tuple[str, str, str], Demand] = {}

    def add(
        self,
        subscription: str,
        region: str,
        quota: str,
        provider: str,
        vm: VirtualMachine,
        amount: int,
    ) -> None:
        key = (subscription, region, quota.lower())
        if key not in self._book:
            self._book[key] = Demand(subscription, region, quota, provider)
        self._book[key].add(vm, amount)

    def check(self, usages_for: Callable[[str, str], list[Usage]]) -> list[QuotaCheck]:
        """Compare every demand with its usage (`usages_for(subscription, region)`)."""
        tables: dict[tuple[str, str], dict[str, Usage]] = defaultdict(dict)
        checks = []
        for (sub, region, name), demand in sorted(self._book.items()):
            if (sub, region) not in tables:
                tables[(sub, region)] = {u.name.lower(): u for u in usages_for(sub, region)}
            usage = tables[(sub, region)].get(name)
            if usage is None:
                checks.append(QuotaCheck(demand, QuotaState.UNKNOWN))
                continue
            short = demand.needed > usage.limit - usage.current
            checks.append(
                QuotaCheck(
                    demand,
                    QuotaState.SHORT if short else QuotaState.ENOUGH,
                    usage.current,
                    usage.limit,
                    usage.file,
                )
            )
        return checks
