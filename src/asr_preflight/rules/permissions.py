"""Permissions area: the person enabling replication holds every action ASR's docs list, at the
scope where ASR performs it, as Azure RBAC decides (analysis/permissions.py)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import msgspec

from asr_preflight.analysis.permissions import (
    Access,
    Answer,
    Evaluator,
    action_matches,
    role_grants,
)
from asr_preflight.findings import Area
from asr_preflight.fix.actions import AssignRole
from asr_preflight.knowledge.data import load
from asr_preflight.model import ids
from asr_preflight.model.build import (
    DENY_ASSIGNMENT,
    RESOURCE_GROUP,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
    VAULT,
)
from asr_preflight.model.entities import Permission, RoleDefinition, VirtualMachine
from asr_preflight.plan.existing import target_vault, usable_cache_accounts
from asr_preflight.rules.base import Context, Out, not_whole, rule

# Where ASR performs each kind of action; key vaults, scale sets and placement groups belong to
# the encrypted-VM and placement checks.
SCOPE_KINDS = (
    "source_vm",
    "source_resource_group",
    "target_resource_group",
    "target_vnet",
    "target_subscription",
    "cache_storage_account",
    "vault",
)


@dataclass(frozen=True, slots=True)
class Requirement:
    action: str
    kind: str  # one of SCOPE_KINDS
    data: bool
    source: str


@cache
def requirements(conditions: frozenset[str]) -> tuple[Requirement, ...]:
    """What enabling replication needs under these conditions ('always', 'new_vault', 'cmk' …),
    from both dated RBAC tables; an action both list is asked once."""
    rows = load("permissions")["required_action"]
    found: dict[tuple[str, str], Requirement] = {}
    for row in rows:
        if row["when"] in conditions and row["scope"] in SCOPE_KINDS:
            key = (row["action"].lower(), row["scope"])
            found.setdefault(
                key, Requirement(row["action"], row["scope"], bool(row.get("data")), row["source"])
            )
    return tuple(sorted(found.values(), key=lambda r: (r.kind, r.action.lower())))


@cache
def _builtin_roles() -> tuple[RoleDefinition, ...]:
    return tuple(
        RoleDefinition(
            id=r["id"],
            name=r["name"],
            permissions=(
                Permission(
                    tuple(r.get("actions", ())),
                    tuple(r.get("not_actions", ())),
                    tuple(r.get("data_actions", ())),
                    tuple(r.get("not_data_actions", ())),
                ),
            ),
        )
        for r in load("permissions")["builtin_role"]
        if r["name"] != "Owner"  # never the answer to "the least you need"
    )


def _narrowness(role: RoleDefinition, action: str, data: bool) -> tuple[int, int]:
    """How narrowly a role grants `action`: its most specific matching pattern, then the fewest
    patterns overall. 'Microsoft.Storage/storageAccounts/listKeys/action' beats '*'."""
    block = role.permissions[0]
    patterns = block.data_actions if data else block.actions
    specific = max(p.count("/") - p.count("*") for p in patterns if action_matches(p, action))
    return specific, -len(patterns)


@cache
def smallest_role(action: str, data: bool = False) -> str:
    """The built-in role that grants `action` most narrowly (from the shipped role catalog)."""
    granting = [r for r in _builtin_roles() if role_grants(r, action, data)]
    if not granting:
        return "Contributor"
    return max(granting, key=lambda r: _narrowness(r, action, data)).name


@dataclass(frozen=True)
class Plan:
    """What ASR will touch for this estate: existing resources, or ones it must create."""

    vault_id: str | None
    cache_account_id: str | None
    conditions: frozenset[str]


def estate_plan(ctx: Context) -> Plan:
    conditions = {"always"}
    vault = target_vault(ctx)
    if vault is None and ctx.estate.has(VAULT):
        conditions.add("new_vault")
    usable = usable_cache_accounts(ctx)
    if not usable:
        conditions.add("new_cache_account")
    return Plan(
        vault.id if vault else None, usable[0].id if usable else None, frozenset(conditions)
    )


def vm_conditions(ctx: Context, vm: VirtualMachine, plan: Plan) -> frozenset[str]:
    conditions = set(plan.conditions)
    # Disks not exported: assume what a CMK disk would need rather than pass without it.
    if vm.disks is None or any(d.encryption_set_id for d in vm.disks):
        conditions.add("cmk")
    target_rg = ctx.target_resource_group_id(vm)
    if ctx.estate.has(RESOURCE_GROUP) and ids.key(target_rg) not in ctx.estate.resource_groups:
        conditions.add("new_target_resource_group")
    return frozenset(conditions)


def scopes(ctx: Context, vm: VirtualMachine, plan: Plan) -> dict[str, str]:
    """Where ASR performs each kind of action for this VM, with ASR's default target names."""
    target_sub = ctx.target_subscription_of(vm)
    target_rg = ctx.target_resource_group_id(vm)
    return {
        "source_vm": vm.id,
        "source_resource_group": ids.resource_group_id(vm.id) or vm.id,
        "target_resource_group": target_rg,
        "target_vnet": target_rg,
        "target_subscription": f"/subscriptions/{target_sub}",
        "cache_storage_account": plan.cache_account_id or target_rg,
        "vault": plan.vault_id or target_rg,
    }


Gap = tuple[Requirement, str, Answer]  # what, where, why


def assess(
    evaluator: Evaluator, needed: tuple[Requirement, ...], where: dict[str, str]
) -> list[Gap]:
    """Every requirement with its scope and the evaluator's answer."""
    return [
        (req, where[req.kind], evaluator.check(req.action, where[req.kind], req.data))
        for req in needed
    ]


def _sorted_gaps(gaps: list[Gap]) -> tuple[list[Gap], list[Gap]]:
    """(missing or denied, undecidable)."""
    missing = [g for g in gaps if g[2].access in (Access.MISSING, Access.DENIED)]
    return missing, [g for g in gaps if g[2].access is Access.UNKNOWN]


def evaluator_for(ctx: Context) -> Evaluator | None:
    if not ctx.principal_id:
        return None
    estate = ctx.estate
    groups = estate.groups_of(ctx.principal_id)
    return Evaluator(
        ctx.principal_id,
        estate.role_assignments,
        estate.role_definitions,
        estate.deny_assignments,
        (groups or frozenset()) | set(ctx.principal_groups),
        memberships_known=groups is not None or bool(ctx.principal_groups),
    )


@cache  # VMs of an estate lack the same few sets of actions
def covering_role(wanted: frozenset[tuple[str, bool]]) -> str | None:
    """The narrowest built-in role that grants every (action, data) of `wanted`, if one does:
    one assignment instead of one per action. Narrowest: its patterns match the actions most
    specifically ('…/listKeys/action' beats '*'), then it has the fewest patterns."""
    granting = [r for r in _builtin_roles() if all(role_grants(r, a, data) for a, data in wanted)]
    if not granting:
        return None
    return max(
        granting,
        key=lambda r: (
            sum(_narrowness(r, a, data)[0] for a, data in wanted),
            -len(r.permissions[0].actions) - len(r.permissions[0].data_actions),
        ),
    ).name


@cache
def _grants_all(role_name: str, wanted: frozenset[tuple[str, bool]]) -> bool:
    role = next((r for r in _builtin_roles() if r.name == role_name), None)
    return role is not None and all(role_grants(role, a, data) for a, data in wanted)


def _existing_scope(ctx: Context, scope: str) -> tuple[str, bool]:
    """(where an assignment can be made now, whether that is the scope itself): a resource group
    ASR has yet to create cannot carry an assignment, its subscription can. Decided once per
    scope: every VM of a group asks."""
    memo = ctx.estate.analyses.setdefault("existing-scope", {})
    found = memo.get(scope)
    if found is None:
        found = memo[scope] = _decide_scope(ctx, scope)
    return found


def _decide_scope(ctx: Context, scope: str) -> tuple[str, bool]:
    group = ids.resource_group_id(scope)
    if (
        group
        and ids.key(scope) == group
        and ctx.estate.has(RESOURCE_GROUP)
        and group not in ctx.estate.resource_groups
    ):
        return f"/subscriptions/{ids.subscription(scope)}", False
    return scope, True


def assignments(ctx: Context, missing: list[Gap]) -> tuple[list[AssignRole], set[str]]:
    """The fewest role assignments that grant what is missing, each at a scope that exists
    before ASR creates anything: one role per scope where one covers every action there. Also
    the resource groups that do not exist yet (their roles go to the subscription)."""
    by_scope: dict[str, set[tuple[str, bool]]] = {}
    lifted: set[str] = set()
    for req, scope, why in missing:
        if why.access is Access.DENIED:
            continue  # no assignment lifts a deny assignment: its owner must
        where, itself = _existing_scope(ctx, scope)
        if not itself:
            lifted.add(ids.name(scope))
        by_scope.setdefault(where, set()).add((req.action, req.data))
    granted: dict[str, set[str]] = {}  # scope -> roles assigned there by this plan
    for scope, wanted in sorted(by_scope.items(), key=lambda kv: kv[0].count("/")):
        above = [
            role
            for where, roles in granted.items()
            if ids.key(scope).startswith(ids.key(where) + "/")
            for role in roles
        ]
        if any(_grants_all(role, frozenset(wanted)) for role in above):
            continue  # an assignment higher up already covers this scope
        one = covering_role(frozenset(wanted))
        granted[scope] = {one} if one else {smallest_role(a, data) for a, data in wanted}
    principal = (ctx.principal_id or "").lower()
    kinds = ctx.estate.analyses.get("principal-types")
    if kinds is None:  # once per estate, not once per VM
        kinds = ctx.estate.analyses["principal-types"] = {
            a.principal_id: a.principal_type for a in reversed(ctx.estate.role_assignments)
        }
    kind = kinds.get(principal)
    plan = [
        AssignRole(principal, role, role_id(role), scope, kind)
        for scope, roles in granted.items()
        for role in sorted(roles)
    ]
    return sorted(plan, key=lambda a: (a.scope, a.role)), lifted


def not_yet_created(lifted: set[str]) -> str:
    """Why some roles go to a subscription: their resource groups do not exist yet."""
    return (
        f"{', '.join(sorted(lifted))} does not exist yet: the role is given at its "
        "subscription, and can move there once ASR has created it"
    )


def assignment_command(grant: AssignRole) -> str:
    return (
        f"az role assignment create --assignee {grant.principal_id} "
        f'--role "{grant.role}" --scope {grant.scope}'
    )


def remedy(ctx: Context, missing: list[Gap]) -> tuple[str, tuple[AssignRole, ...]]:
    """The role assignments to make, as commands and as fix actions, and what to do about deny
    assignments."""
    plan, lifted = assignments(ctx, missing)
    text = "; ".join(assignment_command(a) for a in plan)
    if lifted:
        text += f"; ({not_yet_created(lifted)})"
    denied = sorted({scope for _, scope, why in missing if why.access is Access.DENIED})
    if denied:
        text += (
            f"; a deny assignment blocks it at {', '.join(denied)}: only whoever created the "
            "deny assignment (often a managed application or blueprint) can lift it"
        )
    return text.lstrip("; "), tuple(plan)


class ExplainRow(msgspec.Struct, frozen=True):
    """One required action at one scope, and how RBAC answers it for the principal."""

    action: str
    scope: str
    access: Access
    via: str  # the granting role and scope, or why it is denied or unknown
    vms: int  # how many VMs in scope need this action here
    role_to_grant: str | None  # narrowest built-in role, when missing or denied
    source: str


def _answers(
    ctx: Context,
) -> tuple[dict[tuple[str, str], tuple[Requirement, Answer]], dict[tuple[str, str], int]]:
    """Every (action, scope) the VMs in scope need, answered once, and how many VMs need it."""
    evaluator = evaluator_for(ctx)
    if evaluator is None:
        return {}, {}
    plan = estate_plan(ctx)
    answers: dict[tuple[str, str], tuple[Requirement, Answer]] = {}
    counts: dict[tuple[str, str], int] = {}
    for vm in ctx.vms:
        needed = requirements(vm_conditions(ctx, vm, plan))
        for req, scope, answer in assess(evaluator, needed, scopes(ctx, vm, plan)):
            key = (req.action, scope)
            answers[key] = (req, answer)
            counts[key] = counts.get(key, 0) + 1
    return answers, counts


def explain_rows(ctx: Context) -> list[ExplainRow]:
    """Every (action, scope) the VMs in scope need, answered once, most urgent first."""
    answers, counts = _answers(ctx)
    order = {Access.DENIED: 0, Access.MISSING: 1, Access.UNKNOWN: 2, Access.GRANTED: 3}
    rows = [
        ExplainRow(
            action=req.action,
            scope=scope,
            access=answer.access,
            via=answer.via,
            vms=counts[(req.action, scope)],
            role_to_grant=smallest_role(req.action, req.data)
            if answer.access in (Access.MISSING, Access.DENIED)
            else None,
            source=req.source,
        )
        for (_, scope), (req, answer) in answers.items()
    ]
    return sorted(rows, key=lambda r: (order[r.access], r.scope, r.action.lower()))


def fewest_grants(ctx: Context) -> tuple[list[AssignRole], set[str]]:
    """The fewest role assignments, at scopes that exist now, that grant every missing action
    of every VM in scope (what `explain permissions` closes with), and the resource groups
    ASR has yet to create, whose roles go to their subscription."""
    answers, _ = _answers(ctx)
    missing = [
        (req, scope, answer)
        for (_, scope), (req, answer) in answers.items()
        if answer.access is Access.MISSING
    ]
    return assignments(ctx, missing) if missing else ([], set())


@rule(
    "ASR-PERM-001",
    Area.PERMISSIONS,
    "The person enabling replication holds the required permissions",
    label="permissions",
    sources=("RBAC-2019", "RBAC-2025", "ARCH-2022"),
)
def required_permissions(ctx: Context, out: Out) -> None:
    """Checks every action of the RBAC tables at the scope where ASR uses it, through the
    principal's own and group role assignments (inherited from above), NotActions, data actions,
    conditions and deny assignments; when the vault, cache account or target resource group does
    not exist yet, the right to create it too."""
    evaluator = evaluator_for(ctx)
    if evaluator is None:
        out.unknown(
            None,
            "no principal given, so permissions were not checked",
            "pass --principal-id <object id of the person who enables replication>",
        )
        return
    if not (ctx.estate.has(ROLE_ASSIGNMENT) and ctx.estate.has(ROLE_DEFINITION)):
        out.unknown(
            None,
            not_whole(ctx.estate, "roles", ROLE_ASSIGNMENT, ROLE_DEFINITION),
            f"az role assignment list --all --include-inherited --include-groups "
            f"--assignee {ctx.principal_id} -o json > role-assignments.json; "
            "az role definition list -o json > role-definitions.json",
        )
        return
    plan = estate_plan(ctx)
    denies_read = ctx.estate.has(DENY_ASSIGNMENT)
    # VMs of one resource group share every scope but their own: decide those once per group.
    split: dict[frozenset[str], tuple[tuple[Requirement, ...], tuple[Requirement, ...]]] = {}
    shared: dict[tuple[str, str, frozenset[str]], tuple[list[Gap], list[Gap]]] = {}
    for vm in ctx.vms:
        conditions = vm_conditions(ctx, vm, plan)
        if conditions not in split:
            needed = requirements(conditions)
            split[conditions] = (
                tuple(r for r in needed if r.kind != "source_vm"),
                tuple(r for r in needed if r.kind == "source_vm"),
            )
        group_needs, own_needs = split[conditions]
        where = scopes(ctx, vm, plan)
        group = (vm.subscription_id, vm.resource_group.lower(), conditions)
        if group not in shared:
            shared[group] = _sorted_gaps(assess(evaluator, group_needs, where))
        own_missing, own_unknown = _sorted_gaps(assess(evaluator, own_needs, where))
        missing = shared[group][0] + own_missing
        unknown = shared[group][1] + own_unknown
        count = len(group_needs) + len(own_needs)
        if missing:
            text, grants = remedy(ctx, missing)
            out.fail(
                vm.id,
                "missing: "
                + "; ".join(
                    f"{req.action} at {scope}" + (f" ({why.via})" if why.via else "")
                    for req, scope, why in missing
                ),
                text,
                actions=grants,
            )
        elif unknown:
            out.unknown(
                vm.id,
                "; ".join(f"{req.action}: {why.via}" for req, _, why in unknown),
                "export the missing role definitions, or check the conditions by hand",
            )
        elif not denies_read:
            out.unknown(
                vm.id,
                f"its role assignments grant all {count} required actions, but deny "
                "assignments were not read: one could revoke any of them",
                'export them: az rest --method get --url "https://management.azure.com/'
                f"subscriptions/{vm.subscription_id}/providers/Microsoft.Authorization/"
                'denyAssignments?api-version=2022-04-01" > deny-assignments.json',
            )
        else:
            out.pass_(vm.id, f"holds all {count} required actions")


def builtin_role(role_id: str) -> RoleDefinition | None:
    """A built-in role of the shipped catalog, by its GUID."""
    return next((r for r in _builtin_roles() if r.id.lower() == role_id.lower()), None)


@cache
def role_id(name: str) -> str:
    """A built-in role's GUID, by its name ("" when the catalog lacks it)."""
    return next((r.id for r in _builtin_roles() if r.name == name), "")


RUN_COMMAND_ACTION = "Microsoft.Compute/virtualMachines/runCommand/action"


def run_command_rows(ctx: Context) -> list[ExplainRow]:
    """`explain permissions --guest run-command`: whether the principal may run the guest probe
    in each VM through Run Command (collect --guest run-command), VM by VM."""
    evaluator = evaluator_for(ctx)
    if evaluator is None:
        return []
    rows = []
    for vm in [*ctx.vms, *ctx.protected_vms]:
        answer = evaluator.check(RUN_COMMAND_ACTION, vm.id, False)
        rows.append(
            ExplainRow(
                action=RUN_COMMAND_ACTION,
                scope=vm.id,
                access=answer.access,
                via=answer.via,
                vms=1,
                role_to_grant=smallest_role(RUN_COMMAND_ACTION)
                if answer.access in (Access.MISSING, Access.DENIED)
                else None,
                source="RUNCMD-LINUX",
            )
        )
    return rows
