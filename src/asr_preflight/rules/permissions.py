"""Permissions area (first rule): the person enabling replication holds the actions the RBAC
docs list, at the scopes ASR touches. The full explain/remedy workflow is the "Permissions
prerequisite" issue."""

from __future__ import annotations

from functools import cache

from asr_preflight.analysis.permissions import (
    Access,
    Answer,
    Evaluator,
    action_matches,
    role_grants,
)
from asr_preflight.findings import Area
from asr_preflight.knowledge.data import load
from asr_preflight.model import ids
from asr_preflight.model.build import ROLE_ASSIGNMENT, ROLE_DEFINITION
from asr_preflight.model.entities import Permission, RoleDefinition, VirtualMachine
from asr_preflight.rules.base import Context, Out, rule
from asr_preflight.rules.storage import cache_accounts


@cache
def _required_actions() -> tuple[tuple[str, str], ...]:
    """(action, scope kind) that every enablement needs, from both dated RBAC tables. Kinds this
    rule cannot place yet (scale sets, key vaults…) belong to the conditional checks."""
    rows = load("permissions")["required_action"]
    return tuple(
        sorted(
            {
                (r["action"], r["scope"])
                for r in rows
                if r["when"] == "always" and r["scope"] in SCOPE_KINDS
            }
        )
    )


@cache
def _builtin_roles() -> tuple[RoleDefinition, ...]:
    return tuple(
        RoleDefinition(
            id=r["id"],
            name=r["name"],
            permissions=(Permission(tuple(r.get("actions", ())), tuple(r.get("not_actions", ()))),),
        )
        for r in load("permissions")["builtin_role"]
        if r["name"] != "Owner"  # never the answer to "the least you need"
    )


def _narrowness(role: RoleDefinition, action: str) -> tuple[int, int]:
    """How narrowly a role grants `action`: the most specific matching pattern, then the fewest
    actions overall. 'Microsoft.Storage/storageAccounts/*' beats '*'."""
    actions = role.permissions[0].actions
    specific = max(a.count("/") - a.count("*") for a in actions if action_matches(a, action))
    return specific, -len(actions)


def smallest_role(action: str) -> str:
    """The built-in role that grants `action` most narrowly."""
    granting = [r for r in _builtin_roles() if role_grants(r, action)]
    return max(granting, key=lambda r: _narrowness(r, action)).name if granting else "Contributor"


SCOPE_KINDS = (
    "source_vm",
    "source_resource_group",
    "target_resource_group",
    "target_vnet",
    "target_subscription",
    "cache_storage_account",
    "vault",
)


def _scopes(ctx: Context, vm: VirtualMachine, cache_account: str | None) -> dict[str, str]:
    """Where ASR performs each kind of action for this VM, with ASR's default target names."""
    target_sub = ctx.target_subscription_of(vm)
    target_rg = ctx.target_resource_group_id(vm)
    return {
        "source_vm": vm.id,
        "source_resource_group": ids.resource_group_id(vm.id) or vm.id,
        "target_resource_group": target_rg,
        "target_vnet": target_rg,
        "target_subscription": f"/subscriptions/{target_sub}",
        "cache_storage_account": cache_account or target_rg,
        "vault": ctx.vault_id or target_rg,
    }


Gap = tuple[str, str, Answer]  # (action, scope, why)


def _gaps(
    evaluator: Evaluator, actions: list[tuple[str, str]], scopes: dict[str, str]
) -> tuple[list[Gap], list[tuple[str, str]]]:
    """(actions missing or denied at their scope, actions that cannot be decided)."""
    missing, unknown = [], []
    for action, kind in actions:
        answer = evaluator.check(action, scopes[kind])
        if answer.access in (Access.MISSING, Access.DENIED):
            missing.append((action, scopes[kind], answer))
        elif answer.access is Access.UNKNOWN:
            unknown.append((action, answer.via))
    return missing, unknown


@rule(
    "ASR-PERM-001",
    Area.PERMISSIONS,
    "The person enabling replication holds the required permissions",
    sources=("RBAC-2019", "RBAC-2025"),
)
def required_permissions(ctx: Context, out: Out) -> None:
    """Checks every action of the RBAC tables at the scope ASR uses it, through the principal's
    role assignments (inherited from above), NotActions and deny assignments."""
    if not ctx.principal_id:
        out.unknown(
            None,
            "no principal given, so permissions were not checked",
            "pass --principal-id <object id of the person who enables replication>",
        )
        return
    if not (ctx.estate.has(ROLE_ASSIGNMENT) and ctx.estate.has(ROLE_DEFINITION)):
        out.unknown(
            None,
            "role assignments or role definitions were not exported",
            f"az role assignment list --all --include-inherited --assignee "
            f"{ctx.principal_id} -o json > role-assignments.json; az role definition "
            "list -o json > role-definitions.json",
        )
        return
    evaluator = Evaluator(
        ctx.principal_id,
        ctx.estate.role_assignments,
        ctx.estate.role_definitions,
        ctx.estate.deny_assignments,
    )
    accounts, _, chosen = cache_accounts(ctx)
    cache_account = accounts[0].id if chosen and accounts else None
    required = _required_actions()
    per_vm = [(a, k) for a, k in required if k == "source_vm"]
    shared = [(a, k) for a, k in required if k != "source_vm"]
    # VMs of one resource group share every scope but their own: decide those once per group.
    by_group: dict[tuple[str, str], tuple[list[Gap], list[tuple[str, str]]]] = {}
    for vm in ctx.vms:
        group = (vm.subscription_id, vm.resource_group.lower())  # all scopes but the VM's
        scopes = _scopes(ctx, vm, cache_account)
        if group not in by_group:
            by_group[group] = _gaps(evaluator, shared, scopes)
        own_missing, own_unknown = _gaps(evaluator, per_vm, scopes)
        missing = by_group[group][0] + own_missing
        unknown = by_group[group][1] + own_unknown
        if missing:
            out.fail(
                vm.id,
                "missing: "
                + "; ".join(
                    f"{a} at {s}" + (f" ({ans.via})" if ans.via else "") for a, s, ans in missing
                ),
                "; ".join(
                    sorted(
                        {
                            f"az role assignment create --assignee {ctx.principal_id} "
                            f'--role "{smallest_role(a)}" --scope {s}'
                            for a, s, _ in missing
                        }
                    )
                ),
            )
        elif unknown:
            out.unknown(
                vm.id,
                "; ".join(f"{a}: {why}" for a, why in unknown),
                "export the missing role definitions, or check the conditions by hand",
            )
        else:
            out.pass_(vm.id, f"holds all {len(_required_actions())} required actions")
