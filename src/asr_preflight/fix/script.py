"""The fix plan as one bash script of `az` commands: strict mode, variables at the top for what a
person chooses (names of new resources), each step looking before it changes anything, in the
order of the plan, commented with the findings it fixes and the docs behind them."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from asr_preflight import __version__
from asr_preflight.fix.actions import (
    CACHE_SETTINGS,
    AddServiceEndpoint,
    AllowServiceTag,
    AllowSubnetOnCache,
    AnyAction,
    AssignRole,
    CreateCacheAccount,
    CreateEncryptionSet,
    CreateKeyVault,
    CreateResourceGroup,
    CreateVault,
    CreateVirtualNetwork,
    GrantVaultPolicy,
    NewResource,
    RaiseQuota,
    RegisterProvider,
    RouteServiceTag,
    SetCacheOption,
)
from asr_preflight.fix.plan import FixPlan, Step
from asr_preflight.model import ids

QUOTA_API = "2023-02-01"  # Microsoft.Quota REST API version (learn.microsoft.com/rest/api/quota)
DES_KEY = "asr-des-key"


@dataclass(frozen=True)
class Var:
    """A shell variable a person may set; `default` is what the plan and simulation assume."""

    name: str
    default: str


@dataclass(frozen=True)
class Sub:
    """A command substitution, "$(az …)", with an example of what it prints (for checks)."""

    argv: tuple[Token, ...]
    example: str


@dataclass(frozen=True)
class Words:
    """Words known only when the script runs, from a bash array ("${name[@]}")."""

    array: str
    example: tuple[str, ...]


Token = str | Var | Sub | Words


def render(tokens: tuple[Token, ...] | list[Token]) -> str:
    out = []
    for token in tokens:
        if isinstance(token, Var):
            out.append(f'"${token.name}"')
        elif isinstance(token, Sub):
            out.append(f'"$({render(token.argv)})"')
        elif isinstance(token, Words):
            out.append(f'"${{{token.array}[@]}}"')
        else:
            out.append(shlex.quote(token))
    return " ".join(out)


def resolve(tokens: tuple[Token, ...] | list[Token]) -> list[str]:
    """The command line as it would run with the defaults: what the az parser check reads."""
    out: list[str] = []
    for token in tokens:
        if isinstance(token, Var):
            out.append(token.default)
        elif isinstance(token, Sub):
            out.append(token.example)
        elif isinstance(token, Words):
            out.extend(token.example)
        else:
            out.append(token)
    return out


@dataclass
class Block:
    """One step's bash lines, and every az command line in it (guards included)."""

    lines: list[str]
    commands: list[list[Token]]


class _Writer:
    def __init__(self, plan: FixPlan) -> None:
        self.vars: dict[tuple[str, str], Var] = {}  # (kind, default name) -> variable
        for step in plan.steps:
            for kind, name in _named(step.action):
                self.var(kind, name)

    def var(self, kind: str, name: str) -> Var:
        """A variable for a name, or for "label=default" (an address prefix to choose)."""
        key = (kind, name.lower())
        if key not in self.vars:
            label, _, default = name.partition("=") if "=" in name else (name, "", name)
            stem = re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_").upper()
            self.vars[key] = Var(f"{kind}_{stem}", default)
        return self.vars[key]

    def group(self, name: str) -> Token:
        """A new resource group's variable; an existing group's name as it is."""
        return self.vars.get(("RG", name.lower()), name)


def _named(action: AnyAction) -> Iterator[tuple[str, str]]:
    """The names a person may choose, by variable kind."""
    if isinstance(action, CreateResourceGroup):
        yield "RG", action.name
    elif isinstance(action, CreateVault):
        yield "VAULT", action.name
    elif isinstance(action, CreateKeyVault):
        yield "KEYVAULT", action.name
    elif isinstance(action, CreateEncryptionSet):
        yield "DES", action.name
    elif isinstance(action, CreateCacheAccount):
        yield "CACHE", action.name
    elif isinstance(action, CreateVirtualNetwork):
        yield "VNET", action.name
        for number, prefix in enumerate(action.address_prefixes, 1):
            yield "SPACE", f"{action.name}_{number}={prefix}"
        for subnet, prefix in action.subnets:
            yield "SUBNET", f"{action.name}_{subnet}={prefix}"


def _az(*words: Token) -> list[Token]:
    return ["az", *words]


def _block(w: _Writer, action: AnyAction) -> Block:
    if isinstance(action, RegisterProvider):
        state = _az(
            "provider",
            "show",
            "--namespace",
            action.namespace,
            "--subscription",
            action.subscription,
            "--query",
            "registrationState",
            "--output",
            "tsv",
        )
        register = _az(
            "provider",
            "register",
            "--namespace",
            action.namespace,
            "--subscription",
            action.subscription,
            "--wait",
        )
        return Block(
            [f'if [ "$({render(state)})" != "Registered" ]; then', f"  {render(register)}", "fi"],
            [state, register],
        )
    if isinstance(action, CreateResourceGroup):
        name = w.var("RG", action.name)
        exists = _az("group", "exists", "--name", name, "--subscription", action.subscription)
        create = _az(
            "group",
            "create",
            "--name",
            name,
            "--location",
            action.location,
            "--subscription",
            action.subscription,
        )
        return Block(
            [f'if [ "$({render(exists)})" != "true" ]; then', f"  {render(create)}", "fi"],
            [exists, create],
        )
    if isinstance(action, CreateVault):
        where = _to_create(w, "VAULT", action)
        show = _az("backup", "vault", "show", *where, "--output", "none")
        create = _az("backup", "vault", "create", *where, "--location", action.location)
        return _unless(show, create)
    if isinstance(action, CreateKeyVault):
        name = w.var("KEYVAULT", action.name)
        show = _az(
            "keyvault",
            "show",
            "--name",
            name,
            "--subscription",
            action.subscription,
            "--output",
            "none",
        )
        # Access policies, not RBAC: whoever creates it may then create keys and grant them.
        create = _az(
            "keyvault",
            "create",
            "--name",
            name,
            "--resource-group",
            w.group(action.resource_group),
            "--location",
            action.location,
            "--subscription",
            action.subscription,
            "--enable-purge-protection",
            "true",
            "--enable-rbac-authorization",
            "false",
        )
        if action.disk_encryption:
            create += ["--enabled-for-disk-encryption", "true"]
        return _unless(show, create)
    if isinstance(action, CreateEncryptionSet):
        return _encryption_set(w, action)
    if isinstance(action, CreateCacheAccount):
        where = _to_create(w, "CACHE", action)
        show = _az("storage", "account", "show", *where, "--output", "none")
        kind = (
            ("BlockBlobStorage", "Premium_LRS") if action.premium else ("StorageV2", "Standard_LRS")
        )
        create = _az(
            "storage",
            "account",
            "create",
            *where,
            "--location",
            action.location,
            "--kind",
            kind[0],
            "--sku",
            kind[1],
            "--allow-shared-key-access",
            "true",
            "--min-tls-version",
            "TLS1_2",
        )
        block = _unless(show, create)
        block.lines.append(
            f'echo "Pass --cache-storage-account ${w.var("CACHE", action.name).name} when '
            'enabling replication."'
        )
        return block
    if isinstance(action, SetCacheOption):
        return _cache_setting(action)
    if isinstance(action, AddServiceEndpoint):
        listed = _az(
            "network",
            "vnet",
            "subnet",
            "show",
            "--ids",
            action.subnet_id,
            "--query",
            "serviceEndpoints[].service",
            "--output",
            "tsv",
        )
        update = _az(
            "network",
            "vnet",
            "subnet",
            "update",
            "--ids",
            action.subnet_id,
            "--service-endpoints",
            Words("endpoints", action.existing),
            action.service,
        )
        return Block(
            [
                "# the subnet's current endpoints are kept: the update replaces the whole list",
                f"mapfile -t endpoints < <({render(listed)})",
                "if ! printf '%s\\n' \"${endpoints[@]}\" | grep -qix "
                f"{shlex.quote(action.service)}; then",
                f"  {render(update)}",
                "fi",
            ],
            [listed, update],
        )
    if isinstance(action, AllowSubnetOnCache):
        account = _located(action.account_id, "--account-name")
        listed = _az(
            "storage",
            "account",
            "network-rule",
            "list",
            *account,
            "--query",
            "virtualNetworkRules[].virtualNetworkResourceId",
            "--output",
            "tsv",
        )
        add = _az(
            "storage", "account", "network-rule", "add", *account, "--subnet", action.subnet_id
        )
        return Block(
            [
                f"if ! {render(listed)} | grep -qix {shlex.quote(action.subnet_id)}; then",
                f"  {render(add)}",
                "fi",
            ],
            [listed, add],
        )
    if isinstance(action, AllowServiceTag):
        return _nsg_rule(action)
    if isinstance(action, RouteServiceTag):
        table = _located(action.route_table_id, "--route-table-name")
        where = (*table, "--name", action.route_name)
        show = _az("network", "route-table", "route", "show", *where, "--output", "none")
        create = _az(
            "network",
            "route-table",
            "route",
            "create",
            *where,
            "--address-prefix",
            action.service_tag,
            "--next-hop-type",
            "Internet",
        )
        return _unless(show, create)
    if isinstance(action, CreateVirtualNetwork):
        return _network(w, action)
    if isinstance(action, AssignRole):
        return _role(w, action)
    if isinstance(action, GrantVaultPolicy):
        grant = _az(
            "keyvault", "set-policy", *_located(action.vault_id), "--object-id", action.object_id,
            "--secret-permissions", *action.secrets,
        )  # fmt: skip
        if action.keys:
            grant += ["--key-permissions", *action.keys]
        return Block([render(grant)], [grant])
    if isinstance(action, RaiseQuota):
        return _quota(action)
    raise TypeError(f"no script for {type(action).__name__}")


def _unless(show: list[Token], create: list[Token]) -> Block:
    """Create only what does not exist yet: the script can run again."""
    return Block(
        [f"if ! {render(show)} 2>/dev/null; then", f"  {render(create)}", "fi"], [show, create]
    )


def _to_create(w: _Writer, variable: str, action: NewResource) -> tuple[Token, ...]:
    """The arguments that name a resource the script creates: its name and group come from the
    variables at the top of the script, so the person running it can change them."""
    return (
        "--name",
        w.var(variable, action.name),
        "--resource-group",
        w.group(action.resource_group),
        "--subscription",
        action.subscription,
    )


def _located(resource_id: str, name_flag: str = "--name") -> tuple[str, ...]:
    """The arguments that name an existing resource: its name, group and subscription."""
    return (
        name_flag,
        ids.name(resource_id),
        "--resource-group",
        ids.part(resource_id, "resourceGroups") or "",
        "--subscription",
        ids.subscription(resource_id) or "",
    )


def _encryption_set(w: _Writer, action: CreateEncryptionSet) -> Block:
    vault = w.var("KEYVAULT", action.key_vault.name)
    name = w.var("DES", action.name)
    group = w.group(action.resource_group)
    sub = action.subscription
    key = ("--vault-name", vault, "--name", DES_KEY, "--subscription", sub)
    where = ("--name", name, "--resource-group", group, "--subscription", sub)
    key_show = _az("keyvault", "key", "show", *key, "--output", "none")
    key_create = _az("keyvault", "key", "create", *key, "--kty", "RSA", "--size", "3072")
    key_url = Sub(
        tuple(_az("keyvault", "key", "show", *key, "--query", "key.kid", "--output", "tsv")),
        f"https://{action.key_vault.name}.vault.azure.net/keys/{DES_KEY}/0123456789abcdef",
    )
    des_show = _az("disk-encryption-set", "show", *where, "--output", "none")
    des_create = _az(
        "disk-encryption-set",
        "create",
        *where,
        "--location",
        action.location,
        "--encryption-type",
        action.encryption_type,
        "--source-vault",
        vault,
        "--key-url",
        key_url,
    )
    identity = Sub(
        tuple(
            _az(
                "disk-encryption-set",
                "show",
                *where,
                "--query",
                "identity.principalId",
                "--output",
                "tsv",
            )
        ),
        "00000000-0000-4000-8000-000000000000",
    )
    grant = _az(
        "keyvault",
        "set-policy",
        "--name",
        vault,
        "--subscription",
        sub,
        "--object-id",
        identity,
        "--key-permissions",
        "get",
        "wrapKey",
        "unwrapKey",
    )
    lines = _unless(key_show, key_create).lines + _unless(des_show, des_create).lines
    lines += [
        "# the set's managed identity must use the key (setting the policy again is harmless)"
    ]
    lines += [render(grant)]
    return Block(lines, [key_show, key_create, des_show, des_create, grant])


def _cache_setting(action: SetCacheOption) -> Block:
    account = ("--ids", action.account_id)
    if action.setting == "allow-shared-key":
        command = _az("storage", "account", "update", *account, "--allow-shared-key-access", "true")
    elif action.setting == "disable-soft-delete":
        command = _az(
            "storage",
            "account",
            "blob-service-properties",
            "update",
            *_located(action.account_id, "--account-name"),
            "--enable-delete-retention",
            "false",
        )
    elif action.setting == "trusted-services":
        kept = [b for b in re.split(r"[,\s]+", action.bypass or "") if b and b.lower() != "none"]
        command = _az("storage", "account", "update", *account, "--bypass", *kept, "AzureServices")
    elif action.setting == "all-networks":
        command = _az(
            "storage",
            "account",
            "update",
            *account,
            "--public-network-access",
            "Enabled",
            "--default-action",
            "Allow",
        )
    else:
        raise ValueError(
            f"no cache setting {action.setting} (expected one of {list(CACHE_SETTINGS)})"
        )
    return Block([render(command)], [command])


def _nsg_rule(action: AllowServiceTag) -> Block:
    where = (*_located(action.nsg_id, "--nsg-name"), "--name", action.rule_name)
    show = _az("network", "nsg", "rule", "show", *where, "--output", "none")
    create = _az(
        "network",
        "nsg",
        "rule",
        "create",
        *where,
        "--priority",
        str(action.priority),
        "--direction",
        "Outbound",
        "--access",
        "Allow",
        "--protocol",
        "Tcp",
        "--source-address-prefixes",
        "VirtualNetwork",
        "--source-port-ranges",
        "*",
        "--destination-address-prefixes",
        action.service_tag,
        "--destination-port-ranges",
        "443",
        "--description",
        f"Azure Site Recovery: outbound HTTPS to {action.service_tag}",
    )
    return _unless(show, create)


def _network(w: _Writer, action: CreateVirtualNetwork) -> Block:
    name = w.var("VNET", action.name)
    group = w.group(action.resource_group)
    where = ("--resource-group", group, "--subscription", action.subscription)
    spaces = [
        w.var("SPACE", f"{action.name}_{n}={p}") for n, p in enumerate(action.address_prefixes, 1)
    ]
    show = _az("network", "vnet", "show", "--name", name, *where, "--output", "none")
    create = _az("network", "vnet", "create", "--name", name, *where, "--location",
                 action.location, "--address-prefixes", *spaces)  # fmt: skip
    block = _unless(show, create)
    block.lines.insert(0, "# ASR maps subnets by name: the source network's, with its prefixes")
    for subnet, prefix in action.subnets:
        space = w.var("SUBNET", f"{action.name}_{subnet}={prefix}")
        at = ("--vnet-name", name, "--name", subnet, *where)
        show_subnet = _az("network", "vnet", "subnet", "show", *at, "--output", "none")
        add = _az("network", "vnet", "subnet", "create", *at, "--address-prefixes", space)
        more = _unless(show_subnet, add)
        block.lines += more.lines
        block.commands += more.commands
    block.lines.append(
        f'echo "Choose ${name.name} as the target network when enabling replication."'
    )
    return block


def _role(w: _Writer, action: AssignRole) -> Block:
    who = (
        (
            "--assignee-object-id",
            action.principal_id,
            "--assignee-principal-type",
            action.principal_type,
        )
        if action.principal_type
        else ("--assignee", action.principal_id)
    )
    listed = _az(
        "role",
        "assignment",
        "list",
        "--assignee",
        action.principal_id,
        "--role",
        action.role,
        "--scope",
        action.scope,
        "--query",
        "[0].id",
        "--output",
        "tsv",
    )
    create = _az(
        "role", "assignment", "create", *who, "--role", action.role, "--scope", action.scope
    )
    refusal = (
        f"{action.role} could not be assigned at {action.scope}: assigning roles needs Owner, "
        "User Access Administrator or Role Based Access Control Administrator there; ask one "
        "of them to run this step"
    )
    return Block(
        [
            f'if [ -z "$({render(listed)})" ]; then',
            f"  {render(create)} || {{ echo {shlex.quote(refusal)} >&2; exit 1; }}",
            "fi",
        ],
        [listed, create],
    )


def _quota(action: RaiseQuota) -> Block:
    url = (
        f"https://management.azure.com{action.scope}/providers/Microsoft.Quota/quotas/"
        f"{action.resource}?api-version={QUOTA_API}"
    )
    body = {
        "properties": {
            "limit": {"limitObjectType": "LimitValue", "value": action.limit},
            "name": {"value": action.resource},
        }
    }
    current = _az(
        "rest",
        "--method",
        "get",
        "--url",
        url,
        "--query",
        "properties.limit.value",
        "--output",
        "tsv",
    )
    request = _az("rest", "--method", "put", "--url", url, "--body", json.dumps(body))
    return Block(
        [
            f'limit_now="$({render(current)})"',
            f'if [ "${{limit_now%.*}}" -lt {action.limit} ]; then',
            "  # a request: Azure may grant it at once, or open a support case to review it",
            f"  {render(request)}",
            "fi",
        ],
        [current, request],
    )


def blocks(plan: FixPlan) -> list[tuple[Step, Block]]:
    w = _Writer(plan)
    return [(step, _block(w, step.action)) for step in plan.steps]


def write_script(plan: FixPlan, question: str) -> str:
    """The whole script. `question`: the command line options the plan answers."""
    w = _Writer(plan)
    lines = [
        "#!/usr/bin/env bash",
        f"# Written by asr-preflight {__version__} fix for: {question}",
        "# Review it, then run it signed in with az (az login) as someone allowed to make these",
        "# changes. It only adds or relaxes what Azure Site Recovery needs: it deletes nothing and",
        "# removes no rule. Each step looks before it changes anything, so it can run again.",
        "set -euo pipefail",
        "",
    ]
    if w.vars:
        lines += ["# Names and address spaces of new resources: set (or export) them to choose."]
        lines += [f'{v.name}="${{{v.name}:-{_echo(v.default)}}}"' for v in w.vars.values()]
        lines += [""]
    stuck = len(plan.stuck)
    for number, step in enumerate(plan.steps, 1):
        block = _block(w, step.action)
        lines.append(f"# --- {number}. {step.action.title}")
        for finding in _first(step):
            where = f" ({ids.name(finding.resource_id)})" if finding.resource_id else ""
            lines.append(f"# fixes {finding.rule}{where}: {_one_line(finding.message)}")
        more = len(step.findings) - len(_first(step))
        if more > 0:
            lines.append(f"# and {more} more finding(s) of {', '.join(step.rules)}")
        for reference in sorted({r for f in step.findings for r in f.references})[:3]:
            lines.append(f"# docs: {reference}")
        lines += [f'echo "{number}/{len(plan.steps)}: {_echo(step.action.title)}"']
        lines += [*block.lines, ""]
    if stuck:
        lines.append(f"# {stuck} failing finding(s) need a person; `asr-preflight fix` lists them.")
    lines.append('echo "Done. Check again: asr-preflight check ..."')
    return "\n".join(lines) + "\n"


def _first(step: Step) -> list:
    return step.findings[:3]


def _one_line(text: str, limit: int = 150) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _echo(text: str) -> str:
    return re.sub(r'["$`\\]', "", text)
