"""Run every rule over the estate and decide a verdict per VM. Rules decide; reports render."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from asr_preflight.findings import Finding, Status, Verdict
from asr_preflight.model import Estate, ids
from asr_preflight.model.entities import VirtualMachine
from asr_preflight.rules import Context, Rule, all_rules


@dataclass(frozen=True)
class Scope:
    """Which VMs the check is about."""

    source_region: str
    target_region: str
    resource_groups: tuple[str, ...] = ()
    vm_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class VmVerdict:
    vm: VirtualMachine
    verdict: Verdict
    blocking: tuple[str, ...]  # rule ids that fail (blocked) or are unknown (unknown)


@dataclass(frozen=True)
class CheckResult:
    context: Context
    findings: list[Finding]
    verdicts: list[VmVerdict]
    rules: list[Rule]


def select_vms(estate: Estate, scope: Scope) -> list[VirtualMachine]:
    groups = {g.lower() for g in scope.resource_groups}
    names = {n.lower() for n in scope.vm_names}
    return sorted(
        (
            vm
            for vm in estate.vms.values()
            if vm.location == scope.source_region
            and (not groups or vm.resource_group.lower() in groups)
            and (not names or vm.name.lower() in names or vm.key in names)
        ),
        key=lambda vm: (vm.subscription_id, vm.resource_group.lower(), vm.name.lower()),
    )


def run_check(context: Context, rules: list[Rule] | None = None) -> CheckResult:
    rules = rules if rules is not None else all_rules()
    findings = [finding for rule in rules for finding in rule.run(context)]
    return CheckResult(context, findings, verdicts(context.vms, findings), rules)


def verdicts(vms: list[VirtualMachine], findings: list[Finding]) -> list[VmVerdict]:
    """Blocked if any finding that concerns the VM fails; unknown if any is unknown; else ready.

    A finding concerns a VM when it names it in `affected_vms`, or when its resource is the VM,
    its resource group or its subscription; a finding about no resource concerns every VM.
    """
    by_vm: dict[str, list[Finding]] = defaultdict(list)
    by_scope: dict[str, list[Finding]] = defaultdict(list)
    everywhere: list[Finding] = []
    for finding in findings:
        if finding.status not in (Status.FAIL, Status.UNKNOWN):
            continue
        if finding.affected_vms is not None:
            for key in finding.affected_vms:
                by_vm[key].append(finding)
        elif finding.resource_id is None:
            everywhere.append(finding)
        else:
            by_scope[ids.key(finding.resource_id)].append(finding)
    out = []
    for vm in vms:
        rg_id = ids.resource_group_id(vm.id) or ""
        sub_id = f"/subscriptions/{vm.subscription_id}"
        if not (
            everywhere
            or vm.key in by_vm
            or vm.key in by_scope
            or rg_id in by_scope
            or sub_id in by_scope
        ):
            out.append(VmVerdict(vm, Verdict.READY, ()))
            continue
        mine = (
            by_vm.get(vm.key, [])
            + by_scope.get(vm.key, [])
            + everywhere
            + by_scope.get(sub_id, [])
            + by_scope.get(rg_id, [])
        )
        failing = sorted({f.rule for f in mine if f.status == Status.FAIL})
        unknown = sorted({f.rule for f in mine if f.status == Status.UNKNOWN})
        if failing:
            out.append(VmVerdict(vm, Verdict.BLOCKED, tuple(failing)))
        elif unknown:
            out.append(VmVerdict(vm, Verdict.UNKNOWN, tuple(unknown)))
        else:
            out.append(VmVerdict(vm, Verdict.READY, ()))
    return out
