"""Does a principal hold an action at a scope, as Azure RBAC decides it?

- An assignment applies at its scope and everything below it. Assignments at a management group
  or the root (`/`) apply to every subscription in the snapshot: `az role assignment list
  --include-inherited` only returns those that reach the exported subscription.
- A role grants an action when one of its permission blocks lists it in `actions` (wildcards,
  case-insensitive) and the same block does not remove it with `notActions`. Data actions
  (`dataActions`/`notDataActions`) are a separate namespace: an action never grants a data action.
- A deny assignment that covers the principal (or everyone), unless it excludes them, overrides
  every grant.
- An assignment with an ABAC condition cannot be decided offline: the answer is `unknown`, never
  a silent yes.
- A required action may itself be a wildcard (`Microsoft.Resources/deployments/*`): it is held
  when a granted pattern covers it whole and no NotAction cuts into it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from asr_preflight.model.entities import DenyAssignment, Permission, RoleAssignment, RoleDefinition

EVERYONE = "00000000-0000-0000-0000-000000000000"
_MANAGEMENT_GROUPS = "/providers/microsoft.management/managementgroups/"


class Access(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"  # a deny assignment blocks it
    MISSING = "missing"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Answer:
    access: Access
    via: str = ""  # "Role at scope" that grants, or why it is denied or unknown


@lru_cache(maxsize=8192)
def _pattern(wildcard: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(wildcard).replace(r"\*", ".*") + "$", re.IGNORECASE)


def action_matches(wildcard: str, action: str) -> bool:
    """Whether a granted pattern covers an action; a '*' in the action is taken literally, so a
    pattern covers a wildcard action only when it covers all of it."""
    return _pattern(wildcard).match(action) is not None


def _cuts_into(not_action: str, action: str) -> bool:
    """Whether a NotAction removes any part of the action (overlap, not just coverage)."""
    return action_matches(not_action, action) or (
        "*" in action and action_matches(action, not_action)
    )


def block_grants(block: Permission, action: str, data: bool = False) -> bool:
    grants, removes = (
        (block.data_actions, block.not_data_actions) if data else (block.actions, block.not_actions)
    )
    return any(action_matches(a, action) for a in grants) and not any(
        _cuts_into(n, action) for n in removes
    )


def role_grants(role: RoleDefinition, action: str, data: bool = False) -> bool:
    return any(block_grants(b, action, data) for b in role.permissions)


@lru_cache(maxsize=1 << 16)
def ancestors(scope: str) -> tuple[str, ...]:
    """The scope and every scope above it, lower-case: '/subscriptions/s', '/subscriptions/s/
    resourcegroups/r', … (intermediate non-scopes like '…/providers' are harmless)."""
    parts = scope.rstrip("/").lower().split("/")
    return tuple("/".join(parts[:end]) for end in range(3, len(parts) + 1))


def _applies_everywhere(scope: str) -> bool:
    return scope in ("", "/") or scope.startswith(_MANAGEMENT_GROUPS)


@dataclass
class Evaluator:
    principal_id: str
    assignments: list[RoleAssignment]
    roles: dict[str, RoleDefinition]
    denies: list[DenyAssignment] = field(default_factory=list)
    group_ids: frozenset[str] = frozenset()
    # False when nobody said which groups the principal is in: a role granted to some group
    # then makes the answer unknown rather than missing.
    memberships_known: bool = True
    _by_scope: dict[str, list[RoleAssignment]] = field(default_factory=dict, init=False)
    _everywhere: list[RoleAssignment] = field(default_factory=list, init=False)
    _decided: dict[tuple[str, bool, tuple[str, ...]], Answer] = field(
        default_factory=dict, init=False
    )

    def __post_init__(self) -> None:
        me = {self.principal_id.lower()} | {g.lower() for g in self.group_ids}
        self._groups = me - {self.principal_id.lower()}
        by_scope: dict[str, list[RoleAssignment]] = defaultdict(list)
        self._other_groups = (
            []
            if self.memberships_known
            else [
                a
                for a in self.assignments
                if (a.principal_type or "").lower() == "group" and a.principal_id not in me
            ]
        )
        for assignment in self.assignments:
            if assignment.principal_id not in me:
                continue
            if _applies_everywhere(assignment.scope):
                self._everywhere.append(assignment)
            else:
                by_scope[assignment.scope].append(assignment)
        self._by_scope = dict(by_scope)
        self._denies = [
            d
            for d in self.denies
            if (EVERYONE in d.principals or me & d.principals) and not me & d.excluded
        ]

    def check(self, action: str, scope: str, data: bool = False) -> Answer:
        """The answer for one action at one scope. Indexed by scope, so 5,000 assignments cost a
        handful of dictionary lookups per question, not a scan."""
        chain = ancestors(scope)
        for deny in self._denies:
            if (_applies_everywhere(deny.scope) or deny.scope in chain) and any(
                block_grants(b, action, data) for b in deny.permissions
            ):
                return Answer(Access.DENIED, f"deny assignment {deny.id}")
        scopes = tuple(s for s in chain if s in self._by_scope)
        key = (action.lower(), data, scopes)
        answer = self._decided.get(key)
        if answer is None:
            candidates = self._everywhere + [a for s in scopes for a in self._by_scope[s]]
            answer = self._decided[key] = self._decide(action, data, candidates, chain)
        return answer

    def _decide(
        self, action: str, data: bool, candidates: list[RoleAssignment], scopes: list[str]
    ) -> Answer:
        conditional, unreadable = None, None
        for assignment in candidates:
            role = self.roles.get(assignment.role_definition_id)
            if role is None:
                unreadable = assignment
                continue
            if not role_grants(role, action, data):
                continue
            via = f"{role.name} at {assignment.scope or '/'}"
            if assignment.principal_id in self._groups:
                via += f" (through group {assignment.principal_id})"
            if assignment.condition:
                conditional = via
                continue
            return Answer(Access.GRANTED, via)
        if conditional:
            return Answer(Access.UNKNOWN, f"only {conditional}, which has a condition")
        if unreadable:
            name = unreadable.role_name or unreadable.role_definition_id
            return Answer(Access.UNKNOWN, f"role {name} is not in the role definition export")
        return self._maybe_through_a_group(action, data, scopes) or Answer(Access.MISSING)

    def _maybe_through_a_group(self, action: str, data: bool, scopes: list[str]) -> Answer | None:
        for assignment in self._other_groups:
            role = self.roles.get(assignment.role_definition_id)
            if (
                (_applies_everywhere(assignment.scope) or assignment.scope in scopes)
                and role is not None
                and role_grants(role, action, data)
            ):
                return Answer(
                    Access.UNKNOWN,
                    f"group {assignment.principal_id} holds it "
                    f"({role.name} at {assignment.scope or '/'}), and the principal's "
                    "group memberships were not exported",
                )
        return None
