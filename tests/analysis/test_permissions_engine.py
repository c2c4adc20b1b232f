"""The RBAC engine decides as Azure does, on role JSON as `az role definition list` prints it."""

from __future__ import annotations

import pytest

from asr_preflight.analysis.permissions import Access, Evaluator, action_matches
from asr_preflight.model.build import DENY_ASSIGNMENT, ROLE_ASSIGNMENT, ROLE_DEFINITION, one

ME, GROUP, OTHER = "u-1", "g-1", "u-2"
SUB = "/subscriptions/s1"
RG = f"{SUB}/resourceGroups/rg-app"
VM = f"{RG}/providers/Microsoft.Compute/virtualMachines/vm1"


def role(role_id, actions, not_actions=(), data_actions=(), not_data_actions=(), name=None):
    return one(
        ROLE_DEFINITION,
        {
            "assignableScopes": ["/"],
            "description": "",
            "id": f"/providers/Microsoft.Authorization/roleDefinitions/{role_id}",
            "name": role_id,
            "roleName": name or role_id,
            "roleType": "CustomRole",
            "type": "Microsoft.Authorization/roleDefinitions",
            "permissions": [
                {
                    "actions": list(actions),
                    "notActions": list(not_actions),
                    "dataActions": list(data_actions),
                    "notDataActions": list(not_data_actions),
                }
            ],
        },
    )


def assign(role_id, scope, principal=ME, condition=None):
    return one(
        ROLE_ASSIGNMENT,
        {
            "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{role_id}{principal}",
            "principalId": principal,
            "principalType": "User",
            "scope": scope,
            "roleDefinitionId": f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
            f"{role_id}",
            "condition": condition,
            "conditionVersion": "2.0" if condition else None,
            "type": "Microsoft.Authorization/roleAssignments",
        },
    )


def engine(roles, assignments, denies=(), groups=frozenset()):
    return Evaluator(ME, list(assignments), {r.id: r for r in roles}, list(denies), groups)


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("*", "Microsoft.Compute/virtualMachines/write", True),
        ("Microsoft.Compute/*", "Microsoft.Compute/virtualMachines/write", True),
        ("Microsoft.Compute/*", "Microsoft.Network/networkInterfaces/write", False),
        ("*/read", "Microsoft.Compute/virtualMachines/read", True),
        ("*/read", "Microsoft.Compute/virtualMachines/write", False),
        ("Microsoft.Authorization/*/read", "Microsoft.Authorization/roleAssignments/read", True),
        ("Microsoft.Authorization/*/read", "Microsoft.Authorization/roleAssignments/write", False),
        (
            "microsoft.storage/storageaccounts/listkeys/action",
            "Microsoft.Storage/storageAccounts/listKeys/action",
            True,
        ),  # case-insensitive
        (
            "Microsoft.Compute/virtualMachines/read",
            "Microsoft.Compute/virtualMachines/readx",
            False,
        ),
    ],
)
def test_wildcards(pattern, action, expected):
    assert action_matches(pattern, action) is expected


def test_inherited_downward_not_upward_nor_sideways():
    r = role("reader", ["*/read"])
    e = engine([r], [assign("reader", RG)])
    assert e.check("Microsoft.Compute/virtualMachines/read", VM).access is Access.GRANTED
    assert e.check("Microsoft.Compute/virtualMachines/read", SUB).access is Access.MISSING
    assert (
        e.check("Microsoft.Compute/virtualMachines/read", f"{SUB}/resourceGroups/rg-app2").access
        is Access.MISSING
    )


def test_not_actions_subtract_within_their_own_role_only():
    limited = role("limited", ["*"], ["Microsoft.Storage/storageAccounts/listKeys/action"])
    keys = role("keys", ["Microsoft.Storage/storageAccounts/listkeys/action"])
    action = "Microsoft.Storage/storageAccounts/listKeys/action"
    assert engine([limited], [assign("limited", SUB)]).check(action, RG).access is Access.MISSING
    both = engine([limited, keys], [assign("limited", SUB), assign("keys", RG)])
    answer = both.check(action, RG)
    assert answer.access is Access.GRANTED and answer.via == f"keys at {RG.lower()}"


def test_group_assignments_count_for_members_only():
    r = role("contrib", ["*"])
    assignments = [assign("contrib", SUB, principal=GROUP)]
    assert engine([r], assignments).check("a/b/write", RG).access is Access.MISSING
    answer = engine([r], assignments, groups=frozenset({GROUP})).check("a/b/write", RG)
    assert answer.access is Access.GRANTED and "through group g-1" in answer.via


def test_other_principals_assignments_do_not_count():
    assert (
        engine([role("o", ["*"])], [assign("o", SUB, principal=OTHER)])
        .check("a/b/write", RG)
        .access
        is Access.MISSING
    )


def _deny(scope, principals, excluded=(), actions=("*",)):
    return one(
        DENY_ASSIGNMENT,
        {
            "id": f"{scope}/providers/Microsoft.Authorization/denyAssignments/d",
            "type": "Microsoft.Authorization/denyAssignments",
            "properties": {
                "scope": scope,
                "principals": [{"id": p} for p in principals],
                "excludePrincipals": [{"id": p} for p in excluded],
                "permissions": [{"actions": list(actions), "notActions": []}],
            },
        },
    )


def test_deny_overrides_owner_unless_excluded():
    owner = role("owner", ["*"])
    everyone = "00000000-0000-0000-0000-000000000000"
    denied = engine([owner], [assign("owner", SUB)], [_deny(RG, [everyone], actions=["*/write"])])
    assert denied.check("a/b/write", VM).access is Access.DENIED
    assert denied.check("a/b/read", VM).access is Access.GRANTED  # deny covers writes only
    assert denied.check("a/b/write", SUB).access is Access.GRANTED  # deny sits lower
    excluded = engine([owner], [assign("owner", SUB)], [_deny(RG, [everyone], excluded=[ME])])
    assert excluded.check("a/b/write", VM).access is Access.GRANTED


def test_condition_makes_the_answer_unknown_never_yes():
    r = role("blob", ["*"])
    answer = engine([r], [assign("blob", SUB, condition="@Resource[x] StringEquals 'y'")]).check(
        "a/b/write", RG
    )
    assert answer.access is Access.UNKNOWN and "condition" in answer.via


def test_unconditional_grant_wins_over_conditional():
    r = role("c", ["*"])
    e = engine([r], [assign("c", SUB, condition="x"), assign("c", RG)])
    assert e.check("a/b/write", VM).access is Access.GRANTED


def test_role_missing_from_export_is_unknown():
    answer = engine([], [assign("ghost", SUB)]).check("a/b/read", RG)
    assert answer.access is Access.UNKNOWN and "not in the role definition export" in answer.via


def test_data_actions_are_a_separate_namespace():
    owner = role("owner", ["*"])
    secrets = role(
        "secrets",
        [],
        data_actions=["Microsoft.KeyVault/vaults/secrets/*"],
        not_data_actions=["Microsoft.KeyVault/vaults/secrets/setSecret/action"],
    )
    get = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
    assert engine([owner], [assign("owner", SUB)]).check(get, RG, data=True).access is (
        Access.MISSING
    )
    e = engine([secrets], [assign("secrets", SUB)])
    assert e.check(get, RG, data=True).access is Access.GRANTED
    assert e.check(get, RG).access is Access.MISSING
    assert (
        e.check("Microsoft.KeyVault/vaults/secrets/setSecret/action", RG, data=True).access
        is Access.MISSING
    )


def test_management_group_and_root_assignments_reach_the_subscription():
    r = role("c", ["*"])
    mg = "/providers/Microsoft.Management/managementGroups/contoso"
    assert engine([r], [assign("c", mg)]).check("a/b/write", VM).access is Access.GRANTED
    assert engine([r], [assign("c", "/")]).check("a/b/write", VM).access is Access.GRANTED


def test_wildcard_requirement_needs_whole_coverage():
    deployments = "Microsoft.Resources/deployments/*"
    assert (
        engine([role("r", ["Microsoft.Resources/*"])], [assign("r", SUB)])
        .check(deployments, RG)
        .access
        is Access.GRANTED
    )
    assert (
        engine([role("w", ["Microsoft.Resources/deployments/write"])], [assign("w", SUB)])
        .check(deployments, RG)
        .access
        is Access.MISSING
    )
    cut = role("cut", ["*"], ["Microsoft.Resources/deployments/delete"])
    assert engine([cut], [assign("cut", SUB)]).check(deployments, RG).access is Access.MISSING
