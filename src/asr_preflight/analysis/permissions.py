"""Does a principal hold an action at a scope, as Azure RBAC decides it?

Assignments apply at their scope and everything below it. A role grants an action when one of
its permission blocks lists it in `actions` (wildcards allowed, case-insensitive) and the same
block does not list it in `notActions`. A deny assignment that covers the principal overrides
every grant. An assignment with an ABAC condition cannot be decided offline: `unknown`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from asr_preflight.model.entities import (
    DenyAssignment,
    Permission,
    RoleAssignment,
    RoleDefinition,
)

EVERYONE = "00000000-0000-0000-0000-000000000000"


class Access(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"  # a deny assignment blocks it
    MISSING = "missing"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Answer:
    access: Access
    via: str = ""  # "Role Name at scope" that grants, or why it is unknown/denied


@lru_cache(maxsize=4096)
def _pattern(wildcard: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(wildcard).replace(r"\*", ".*") + "$", re.IGNORECASE)


def action_matches(wildcard: str, action: str) -> bool:
    return _pattern(wildcard).match(action) is not None


def block_grants(block: Permission, action: str) -> bool:
    return any(action_matches(a, action) for a in block.actions) and not any(
        action_matches(n, action) for n in block.not_actions
    )


def role_grants(role: RoleDefinition, action: str) -> bool:
    return any(block_grants(b, action) for b in role.permissions)


def scope_covers(assigned: str, scope: str) -> bool:
    """An assignment at `assigned` applies at `scope` and below (both lower-case)."""
    return assigned in ("", "/") or scope == assigned or scope.startswith(assigned + "/")


@dataclass
class Evaluator:
    principal_id: str
    assignments: list[RoleAssignment]
    roles: dict[str, RoleDefinition]
    denies: list[DenyAssignment] = field(default_factory=list)
    group_ids: frozenset[str] = frozenset()
    _cache: dict[tuple[str, tuple[int, ...]], Answer] = field(default_factory=dict)
    _answers: dict[tuple[str, str], Answer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        me = {self.principal_id.lower()} | set(self.group_ids)
        self.mine = [a for a in self.assignments if a.principal_id in me]
        self.my_denies = [
            d
            for d in self.denies
            if (EVERYONE in d.principals or me & d.principals) and not me & d.excluded
        ]

    def check(self, action: str, scope: str) -> Answer:
        key = (action, scope)
        if key not in self._answers:
            self._answers[key] = self._check(action, scope.rstrip("/").lower())
        return self._answers[key]

    def _check(self, action: str, scope: str) -> Answer:
        applicable = tuple(i for i, a in enumerate(self.mine) if scope_covers(a.scope, scope))
        key = (action.lower(), applicable)
        if key not in self._cache:
            self._cache[key] = self._decide(action, applicable)
        answer = self._cache[key]
        for deny in self.my_denies:
            if scope_covers(deny.scope, scope) and any(
                block_grants(b, action) for b in deny.permissions
            ):
                return Answer(Access.DENIED, f"deny assignment {deny.id}")
        return answer

    def _decide(self, action: str, applicable: tuple[int, ...]) -> Answer:
        conditional, unreadable = None, None
        for index in applicable:
            assignment = self.mine[index]
            role = self.roles.get(assignment.role_definition_id)
            if role is None:
                unreadable = assignment
                continue
            if role_grants(role, action):
                via = f"{role.name} at {assignment.scope or '/'}"
                if assignment.condition:
                    conditional = via
                    continue
                return Answer(Access.GRANTED, via)
        if conditional:
            return Answer(Access.UNKNOWN, f"only {conditional}, which has a condition")
        if unreadable:
            return Answer(
                Access.UNKNOWN,
                f"role {unreadable.role_name or unreadable.role_definition_id}"
                " was not in the role definition export",
            )
        return Answer(Access.MISSING)
