"""From findings to a fix plan: the actions their rules attached, each once, in dependency order,
with what they need first (resource groups) and what only a person can do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec

from asr_preflight.engine import CheckResult
from asr_preflight.findings import Finding, Status
from asr_preflight.fix.actions import (
    AllowServiceTag,
    AnyAction,
    AssignRole,
    CreateEncryptionSet,
    CreateResourceGroup,
    NewResource,
)
from asr_preflight.model import Estate, ids
from asr_preflight.model.build import RESOURCE_GROUP

# NSG rule priorities run from 100 (first) to 4096; a new rule must come before the blocking one.
FIRST_PRIORITY = 100


@dataclass
class Step:
    action: AnyAction
    findings: list[Finding] = field(default_factory=list)  # what it fixes, with the others
    _known: set[int] = field(default_factory=set, repr=False)

    @property
    def rules(self) -> list[str]:
        return sorted({f.rule for f in self.findings})

    def add(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            if id(finding) not in self._known:
                self._known.add(id(finding))
                self.findings.append(finding)


@dataclass(frozen=True)
class Stuck:
    """A finding no script can fix: a person must act, as its remedy says (and `why`)."""

    finding: Finding
    why: str = ""


@dataclass
class FixPlan:
    steps: list[Step]
    stuck: list[Stuck]

    @property
    def actions(self) -> list[AnyAction]:
        return [s.action for s in self.steps]


def build_fix_plan(results: Iterable[CheckResult]) -> FixPlan:
    results = list(results)
    estate = results[0].context.estate
    steps: dict[tuple[object, ...], Step] = {}
    stuck: list[Stuck] = []
    acted_on = (
        f
        for r in results
        for f in r.findings
        if f.status in (Status.FAIL, Status.WARN) and not f.waived
    )
    for finding in _unique(acted_on):
        if not finding.actions:
            if finding.status is Status.FAIL:
                stuck.append(Stuck(finding))
            continue
        for action in _with_dependencies(finding.actions):
            step = steps.get(action.key)
            if step is None:
                step = steps[action.key] = Step(action)
            else:
                step.action = step.action.merge(action)
            step.add([finding])
    ordered = [*_resource_groups(estate, steps.values()), *_covered(list(steps.values()))]
    placed, unplaced = _prioritise(estate, ordered)
    stuck += unplaced
    placed.sort(key=lambda s: (s.action.stage, s.action.title))
    return FixPlan(placed, stuck)


def _with_dependencies(actions: Iterable[AnyAction]) -> Iterable[AnyAction]:
    """A disk encryption set's key vault is a step of its own: several sets may share it."""
    for action in actions:
        if isinstance(action, CreateEncryptionSet):
            yield action.key_vault
        yield action


def _unique(findings: Iterable[Finding]) -> Iterable[Finding]:
    """A finding several pairs share (a provider, a subscription's quota) is fixed once."""
    seen: set[tuple[object, ...]] = set()
    for finding in findings:
        key = (finding.rule, finding.resource_id, finding.status, finding.message)
        if key not in seen:
            seen.add(key)
            yield finding


def _covered(steps: list[Step]) -> list[Step]:
    """A role assigned at a scope covers every scope below it: one assignment, not two."""
    roles = [s for s in steps if isinstance(s.action, AssignRole)]
    kept = []
    for step in steps:
        action = step.action
        above = (
            next(
                (
                    other
                    for other in roles
                    if other is not step
                    and isinstance(other.action, AssignRole)
                    and (other.action.principal_id, other.action.role)
                    == (action.principal_id, action.role)
                    and ids.key(action.scope).startswith(ids.key(other.action.scope) + "/")
                ),
                None,
            )
            if isinstance(action, AssignRole)
            else None
        )
        if above is None:
            kept.append(step)
        else:
            above.add(step.findings)
    return kept


def _resource_groups(estate: Estate, steps: Iterable[Step]) -> list[Step]:
    """A resource group for each new resource whose group the estate does not hold."""
    needed: dict[str, Step] = {}
    for step in steps:
        action = step.action
        if not isinstance(action, NewResource):
            continue
        group_id = f"/subscriptions/{action.subscription}/resourcegroups/{action.resource_group}"
        exists = estate.has(RESOURCE_GROUP) and ids.key(group_id) in estate.resource_groups
        if exists:
            continue
        created = needed.setdefault(
            ids.key(group_id),
            Step(CreateResourceGroup(action.subscription, action.resource_group, action.location)),
        )
        created.add(step.findings)
    return list(needed.values())


def _prioritise(estate: Estate, steps: list[Step]) -> tuple[list[Step], list[Stuck]]:
    """Give each new NSG rule the highest free priority ahead of the rule it must beat; when
    there is none (the blocking rule sits at 100), renumbering rules is a person's call."""
    taken: dict[str, set[int]] = {}
    placed, unplaced = [], []
    nsg_steps = sorted(
        (s for s in steps if isinstance(s.action, AllowServiceTag)),
        key=lambda s: (s.action.nsg_id.lower(), s.action.before, s.action.service_tag),  # type: ignore[union-attr]
    )
    for step in nsg_steps:
        action = step.action
        assert isinstance(action, AllowServiceTag)
        nsg = estate.nsgs.get(ids.key(action.nsg_id))
        used = taken.setdefault(
            ids.key(action.nsg_id),
            {r.priority for r in nsg.rules if not r.default} if nsg else set(),
        )
        free = next(
            (p for p in range(action.before - 1, FIRST_PRIORITY - 1, -1) if p not in used), None
        )
        if free is None:
            why = (
                f"NSG {ids.name(action.nsg_id)} has no free priority ahead of {action.before} for "
                f"a rule allowing {action.service_tag}: renumbering its rules is a person's call"
            )
            unplaced += [Stuck(f, why) for f in step.findings if f.status is Status.FAIL]
            continue
        used.add(free)
        step.action = msgspec.structs.replace(action, priority=free)
        placed.append(step)
    placed += [s for s in steps if not isinstance(s.action, AllowServiceTag)]
    return placed, _once(unplaced)


def _once(stuck: list[Stuck]) -> list[Stuck]:
    seen: set[int] = set()
    out = []
    for item in stuck:
        if id(item.finding) not in seen:
            seen.add(id(item.finding))
            out.append(item)
    return out
