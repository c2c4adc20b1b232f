"""Run every rule over the estate and decide a verdict per VM. Rules decide; reports render."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from asr_preflight.findings import Finding, Status, Verdict
from asr_preflight.model import Estate, ids
from asr_preflight.model.entities import VirtualMachine
from asr_preflight.rules import Context, Rule, all_rules
from asr_preflight.waivers import Waiver, apply_waivers


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
        key=_order,
    )


def select_vms_anywhere(estate: Estate, scope: Scope) -> list[VirtualMachine]:
    """The VMs the filters keep, in every region (a run over several pairs)."""
    groups = {g.lower() for g in scope.resource_groups}
    names = {n.lower() for n in scope.vm_names}
    return [
        vm
        for vm in estate.vms.values()
        if (not groups or vm.resource_group.lower() in groups)
        and (not names or vm.name.lower() in names or vm.key in names)
    ]


def split_protected(
    estate: Estate, vms: list[VirtualMachine]
) -> tuple[list[VirtualMachine], tuple[VirtualMachine, ...]]:
    """The VMs to enable, and those a vault already replicates (their own verdict)."""
    protected = tuple(vm for vm in vms if vm.key in estate.protected_items)
    if not protected:
        return vms, ()
    return [vm for vm in vms if vm.key not in estate.protected_items], protected


def run_check(
    context: Context,
    rules: list[Rule] | None = None,
    waivers: list[Waiver] | None = None,
    today: date | None = None,
) -> CheckResult:
    rules = rules if rules is not None else all_rules()
    findings = [finding for rule in rules for finding in rule.run(context)]
    if waivers:
        findings = apply_waivers(findings, waivers, today or date.today())
    decided = verdicts(context.vms, findings)
    if context.protected_vms:
        decided = sorted(
            decided + _protected_verdicts(context.protected_vms, findings),
            key=lambda v: _order(v.vm),
        )
    return CheckResult(context, findings, decided, rules)


def _order(vm: VirtualMachine) -> tuple[str, str, str]:
    return (vm.subscription_id, vm.resource_group.lower(), vm.name.lower())


def _protected_verdicts(
    vms: tuple[VirtualMachine, ...], findings: list[Finding]
) -> list[VmVerdict]:
    """`protected`, with the replication rules that fail for the VM (its health) as reasons."""
    failing: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        if finding.status is Status.FAIL and finding.resource_id and not finding.waived:
            failing[ids.key(finding.resource_id)].add(finding.rule)
    return [VmVerdict(vm, Verdict.PROTECTED, tuple(sorted(failing[vm.key]))) for vm in vms]


_EVERY = ""  # the key of findings about no resource: they concern every VM


def _scopes(vm: VirtualMachine) -> tuple[str, ...]:
    """The keys a finding may name to concern this VM: the VM, its group, its subscription."""
    return (
        vm.key,
        f"/subscriptions/{vm.subscription_id}",
        f"/subscriptions/{vm.subscription_id}/resourcegroups/{vm.resource_group.lower()}",
        _EVERY,
    )


def scope_index(vms: list[VirtualMachine]) -> dict[str, list[str]]:
    """Scope key -> keys of the VMs it covers (a VM, a resource group, a subscription, all)."""
    index: dict[str, list[str]] = defaultdict(list)
    for vm in vms:
        for scope in _scopes(vm):
            index[scope].append(vm.key)
    return index


def concerns(finding: Finding, index: dict[str, list[str]]) -> list[str]:
    """Keys of the VMs a finding concerns, by the rule verdicts use (`index`: scope_index)."""
    if finding.affected_vms is not None:
        return list(finding.affected_vms)
    return index.get(_EVERY if finding.resource_id is None else ids.key(finding.resource_id), [])


def verdicts(vms: list[VirtualMachine], findings: list[Finding]) -> list[VmVerdict]:
    """Blocked if any finding that concerns the VM fails; unknown if any is unknown; else ready.

    A finding concerns a VM when it names it in `affected_vms`, or when its resource is the VM,
    its resource group or its subscription; a finding about no resource concerns every VM.
    """
    fails: dict[str, set[str]] = defaultdict(set)  # scope key -> failing rule ids
    unknowns: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        if finding.status is Status.FAIL:
            bucket = fails
        elif finding.status is Status.UNKNOWN:
            bucket = unknowns
        else:
            continue  # most findings pass: decided before anything else is read
        if finding.waived:
            continue  # shown and counted, but it decides nothing until it expires
        if finding.affected_vms is not None:
            for key in finding.affected_vms:
                bucket[key].add(finding.rule)
        else:
            bucket[_EVERY if finding.resource_id is None else ids.key(finding.resource_id)].add(
                finding.rule
            )
    out = []
    for vm in vms:
        keys = _scopes(vm)
        failing = set().union(*(fails[k] for k in keys if k in fails))
        if failing:
            out.append(VmVerdict(vm, Verdict.BLOCKED, tuple(sorted(failing))))
            continue
        unknown = set().union(*(unknowns[k] for k in keys if k in unknowns))
        out.append(
            VmVerdict(vm, Verdict.UNKNOWN, tuple(sorted(unknown)))
            if unknown
            else VmVerdict(vm, Verdict.READY, ())
        )
    return out
