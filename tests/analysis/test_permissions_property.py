"""Property: the engine agrees with a brute-force reference evaluator written independently
(fnmatch for wildcards, segment lists for scopes, no indexes, no caches)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from hypothesis import given, settings
from hypothesis import strategies as st

from asr_preflight.analysis.permissions import EVERYONE, Access, Evaluator
from asr_preflight.model.entities import DenyAssignment, Permission, RoleAssignment, RoleDefinition

ME, GROUP, OTHER = "me", "grp", "other"
SCOPES = [
    "/",
    "/subscriptions/s1",
    "/subscriptions/s2",
    "/subscriptions/s1/resourcegroups/rg1",
    "/subscriptions/s1/resourcegroups/rg2",
    "/subscriptions/s1/resourcegroups/rg1/providers/a/x/r1",
    "/subscriptions/s1/resourcegroups/rg1/providers/a/x/r2",
]
ACTIONS = [
    f"{p}/{t}/{op}"
    for p in ("A", "B")
    for t in ("x", "y")
    for op in ("read", "write", "delete", "k/action")
]
PATTERNS = [*ACTIONS, "*", "A/*", "B/*", "*/read", "A/*/read", "A/x/*", "*/action", "a/X/WRITE"]


def _covers(assigned: str, scope: str) -> bool:
    if assigned == "/":
        return True
    a, s = assigned.split("/"), scope.split("/")
    return s[: len(a)] == a


def _matches(pattern: str, action: str) -> bool:
    return fnmatchcase(action.lower(), pattern.lower())


def reference(roles, assignments, denies, groups, action, scope) -> Access:
    me = {ME} | groups
    for deny in denies:
        if (
            (EVERYONE in deny.principals or me & deny.principals)
            and not me & deny.excluded
            and _covers(deny.scope or "/", scope)
            and any(_matches(p, action) for b in deny.permissions for p in b.actions)
        ):
            return Access.DENIED
    mine = [a for a in assignments if a.principal_id in me and _covers(a.scope or "/", scope)]
    granted, conditional, unknown_role = False, False, False
    for a in mine:
        role = roles.get(a.role_definition_id)
        if role is None:
            unknown_role = True
            continue
        holds = any(
            any(_matches(p, action) for p in b.actions)
            and not any(_matches(n, action) for n in b.not_actions)
            for b in role.permissions
        )
        if holds and a.condition:
            conditional = True
        elif holds:
            granted = True
    if granted:
        return Access.GRANTED
    if conditional or unknown_role:
        return Access.UNKNOWN
    return Access.MISSING


patterns = st.lists(st.sampled_from(PATTERNS), min_size=0, max_size=3)
role_st = st.builds(
    lambda i, acts, nots: RoleDefinition(
        id=f"r{i}", name=f"r{i}", permissions=(Permission(tuple(acts), tuple(nots)),)
    ),
    st.integers(0, 3),
    st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3),
    patterns,
)
assignment_st = st.builds(
    lambda n, role, scope, who, cond: RoleAssignment(
        id=f"a{n}",
        principal_id=who,
        role_definition_id=f"r{role}",
        scope="" if scope == "/" else scope,
        condition="x" if cond else None,
    ),
    st.integers(),
    st.integers(0, 4),
    st.sampled_from(SCOPES),
    st.sampled_from([ME, GROUP, OTHER]),
    st.booleans(),
)
deny_st = st.builds(
    lambda scope, who, excluded, acts: DenyAssignment(
        id="d",
        scope="" if scope == "/" else scope,
        principals=frozenset(who),
        excluded=frozenset(excluded),
        permissions=(Permission(tuple(acts)),),
    ),
    st.sampled_from(SCOPES),
    st.sets(st.sampled_from([ME, GROUP, OTHER, EVERYONE]), min_size=1),
    st.sets(st.sampled_from([ME, GROUP])),
    st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(
    roles=st.lists(role_st, max_size=4),
    assignments=st.lists(assignment_st, max_size=6),
    denies=st.lists(deny_st, max_size=2),
    in_group=st.booleans(),
    action=st.sampled_from(ACTIONS),
    scope=st.sampled_from(SCOPES[1:]),
)
def test_engine_agrees_with_brute_force(roles, assignments, denies, in_group, action, scope):
    role_map = {r.id: r for r in roles}
    groups = frozenset({GROUP}) if in_group else frozenset()
    engine = Evaluator(ME, assignments, role_map, denies, groups)
    expected = reference(role_map, assignments, denies, groups, action, scope)
    assert engine.check(action, scope).access is expected
