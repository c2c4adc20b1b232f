"""The question a check answers: which estate, which VMs, which pair, who, which targets."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from asr_preflight.model import Estate
from asr_preflight.model.entities import VirtualMachine

if TYPE_CHECKING:
    from asr_preflight.analysis.churn import VmChurn
    from asr_preflight.plan import PlanResult


@dataclass(frozen=True)
class Context:
    """What every rule may read: the estate and the question being asked of it."""

    estate: Estate
    source_region: str
    target_region: str
    vms: list[VirtualMachine]  # the VMs in scope, in the source region
    target_subscription: str | None = None  # None: each VM replicates within its subscription
    target_resource_group: str | None = None  # None: ASR's default, "<source group>-asr"
    principal_id: str | None = None
    principal_groups: tuple[str, ...] = ()  # group object ids, besides those in the snapshot
    cache_accounts: tuple[str, ...] = ()  # storage account ids or names chosen as cache
    vault_id: str | None = None
    target_zone: str | None = None  # the zone to fail over to; None: each VM keeps its own
    # VMs in scope that a vault already replicates: reported on, not checked as new enablements
    protected_vms: tuple[VirtualMachine, ...] = ()

    @property
    def zone_to_zone(self) -> bool:
        """Disaster recovery between availability zones of one region, not between regions."""
        return self.source_region == self.target_region

    def target_subscription_of(self, vm: VirtualMachine) -> str:
        return self.target_subscription or vm.subscription_id

    def target_resource_group_id(self, vm: VirtualMachine) -> str:
        name = self.target_resource_group or f"{vm.resource_group}-asr"
        return f"/subscriptions/{self.target_subscription_of(vm)}/resourceGroups/{name}"

    @property
    def subscriptions(self) -> list[str]:
        return sorted({vm.subscription_id for vm in self.vms})

    @cached_property
    def churn(self) -> dict[str, VmChurn]:
        """Each VM's churn against ASR's limits, judged once for the rules and the plan."""
        from asr_preflight.analysis.churn import assess

        return {vm.key: assess(self.estate, vm) for vm in self.vms}

    @cached_property
    def plan(self) -> PlanResult:
        """The target plan, built once and shared by the capacity rules and `plan`."""
        from asr_preflight.plan import build_plan  # the plan reads the context: import late

        return build_plan(self)
