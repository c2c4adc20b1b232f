"""Encrypted and hardened VMs: customer-managed keys (150353), Azure Disk Encryption (150175),
Key Vault permissions, security types and disk redundancy."""

from __future__ import annotations

import hashlib
from datetime import date

from asr_preflight.analysis import encryption as enc
from asr_preflight.analysis.permissions import Access
from asr_preflight.findings import Area
from asr_preflight.fix.actions import (
    AssignRole,
    CreateEncryptionSet,
    CreateKeyVault,
    GrantVaultPolicy,
)
from asr_preflight.knowledge import facts
from asr_preflight.knowledge.data import load
from asr_preflight.knowledge.regions import display
from asr_preflight.model import ids
from asr_preflight.model.build import (
    DISK,
    DISK_ENCRYPTION_SET,
    KEY_VAULT,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
)
from asr_preflight.model.entities import KeyVault, VirtualMachine
from asr_preflight.rules.base import Context, Out, not_whole, rule, vms_with
from asr_preflight.rules.permissions import evaluator_for, role_id, smallest_role

EXPORT_DES = "az disk-encryption-set list -o json > disk-encryption-sets.json"
EXPORT_KV = (
    "az keyvault list --query '[].id' -o tsv | while read -r id; do "
    'az keyvault show --ids "$id"; done | jq -s . > key-vaults.json'
)
EXPORT_EXT = (
    "az vm list --query '[].[resourceGroup,name]' -o tsv | while read -r rg name; do "
    'az vm extension list -g "$rg" --vm-name "$name"; done | jq -s add > vm-extensions.json'
)
EXPORT_DISKS = "az disk list -o json > disks.json"


def _status(kind: str, feature: str) -> str:
    d = facts.feature(kind, feature)
    return f"{d.value} per {d.source} ({d.as_of})"


def des_key_vault(ctx: Context, vm: VirtualMachine) -> CreateKeyVault:
    """The key vault `fix` creates for the target disk encryption sets of a target resource
    group: key vault names are global, so a person may choose another in the script."""
    sub = ctx.target_subscription_of(vm)
    group = ids.name(ctx.target_resource_group_id(vm))
    suffix = hashlib.sha1(f"{sub}/{group}".encode()).hexdigest()[:6]
    return CreateKeyVault(sub, group, f"kv-des-{ctx.target_region[:9]}-{suffix}", ctx.target_region)


@rule(
    "ASR-ENC-001",
    Area.STORAGE,
    "Disks encrypted with customer-managed keys have a disk encryption set in the target region",
    label="disk encryption set",
    sources=("TF-11769", "SM-2025"),
    code=150353,
)
def cmk_target_des(ctx: Context, out: Out) -> None:
    """A disk with a disk encryption set (SSE with a customer-managed key, or double encryption)
    needs a disk encryption set of the same encryption type in the target region, with its key
    vault there too; without one, enabling replication fails with 150353. Platform-managed keys
    need nothing."""
    estate = ctx.estate
    for vm in vms_with(ctx, out, "disks"):
        sets = enc.cmk_sets(vm)
        if not sets:
            # The VM names a disk's encryption set whenever it has one: no disk export needed.
            kinds = {enc.encryption_label(d.encryption_type) for d in vm.disks if d.encryption_type}
            label = ", ".join(sorted(kinds)) or "platform-managed key"
            out.pass_(vm.id, f"no disk uses a disk encryption set ({label})")
            continue
        if not estate.has(DISK_ENCRYPTION_SET):
            out.unknown(
                vm.id,
                f"disks use disk encryption sets ({', '.join(map(ids.name, sets))}); "
                + not_whole(estate, "disk encryption sets", DISK_ENCRYPTION_SET),
                EXPORT_DES,
            )
            continue
        problems, unknowns, found = [], [], []
        remedies: list[str] = []
        actions: list[CreateEncryptionSet] = []
        for des_id, disks in sets.items():
            source = estate.disk_encryption_sets.get(ids.key(des_id))
            if source is None:  # its encryption type decides which target set fits
                unknowns.append(
                    f"{ids.name(des_id)} is not in the disk encryption set export"
                    f"{estate.unreadable(des_id)}"
                )
                continue
            kind = source.encryption_type or enc.CUSTOMER
            label = enc.encryption_label(kind)
            target = enc.target_des(estate, source, des_id, ctx.target_region)
            if target is None:
                name = enc.target_des_name(des_id)
                problems.append(
                    f"{', '.join(disks)} ({label}, {ids.name(des_id)}): no disk encryption set "
                    f"of that type in {display(ctx.target_region)}"
                )
                group = ids.name(ctx.target_resource_group_id(vm))
                actions.append(
                    CreateEncryptionSet(
                        ctx.target_subscription_of(vm),
                        group,
                        name,
                        ctx.target_region,
                        kind,
                        des_key_vault(ctx, vm),
                    )
                )
                remedies.append(
                    f"az disk-encryption-set create -n {name} -g "
                    f"{group} -l {ctx.target_region} "
                    f"--encryption-type {kind} --source-vault <key vault in "
                    f"{ctx.target_region}> --key-url <its key URL>"
                )
                continue
            vault = estate.key_vaults.get(ids.key(target.key_vault_id or ""))
            if vault is None:
                unknowns.append(f"{target.name}: its key vault is not in the key vault export")
            elif vault.location != ctx.target_region:
                problems.append(
                    f"{target.name}'s key vault {vault.name} is in {display(vault.location)}, "
                    f"not {display(ctx.target_region)}"
                )
                remedies.append(f"point {target.name} at a key vault in {ctx.target_region}")
            else:
                found.append(f"{target.name} ({label}, key vault {vault.name})")
        if problems:
            out.fail(
                vm.id,
                "; ".join(problems),
                "create the disk encryption set(s), grant each its key vault access, and pass "
                "them as the target disk encryption sets: " + "; ".join(remedies),
                actions=tuple(actions),
            )
        elif unknowns:
            out.unknown(vm.id, "; ".join(unknowns), EXPORT_KV)
        else:
            out.pass_(vm.id, "target disk encryption set(s): " + ", ".join(found))


@rule(
    "ASR-ENC-002",
    Area.VM,
    "Azure Disk Encryption is in a configuration ASR supports",
    label="ADE configuration",
    sources=("SM-2025", "ADE-2019"),
)
def ade_supported(ctx: Context, out: Out) -> None:
    """ASR replicates ADE VMs only with single-pass ADE (no Entra ID app), on managed disks,
    and without HSM-protected keys."""
    estate = ctx.estate
    for vm in vms_with(ctx, out, "disks"):
        if not estate.extensions_known:
            out.unknown(vm.id, "VM extensions were not exported: ADE unknown", EXPORT_EXT)
            continue
        ade = enc.ade_of(estate, vm)
        if ade is None:
            out.pass_(vm.id, "no Azure Disk Encryption extension")
            continue
        problems = []
        if ade.dual_pass:
            problems.append(
                f"dual-pass ADE ({ade.extension.type} {ade.extension.version}, with an Entra ID "
                "app) is not supported"
            )
        unmanaged = [d.name for d in vm.disks if not d.managed]
        if unmanaged:
            problems.append(f"ADE on unmanaged disks ({', '.join(unmanaged)}) is not supported")
        if hsm := enc.hsm_key(estate, ade):
            problems.append(f"HSM-protected keys are not supported: {hsm}")
        if problems:
            out.fail(
                vm.id,
                "; ".join(problems),
                "migrate to single-pass ADE on managed disks with a software-protected key "
                "encryption key (or to SSE with customer-managed keys), then enable replication",
            )
            continue
        vault = enc.source_vault(estate, ade)
        if ade.kek_url and vault is not None and vault.sku == "premium":
            out.unknown(
                vm.id,
                f"the key encryption key is in premium vault {vault.name}, which can hold "
                "HSM-protected keys (unsupported)",
                f"az keyvault key show --id {ade.kek_url} --query key.kty  (RSA is supported; "
                "RSA-HSM is not)",
            )
            continue
        kek = "with a key encryption key" if ade.kek_url else "without a key encryption key"
        out.pass_(vm.id, f"single-pass ADE ({ade.extension.type}) on managed disks, {kek}")


@rule(
    "ASR-ENC-003",
    Area.VM,
    "ADE VMs have a key vault in the target region",
    label="ADE key vault",
    sources=("AD-10030", "ADE-2019"),
    code=150175,
)
def ade_target_vault(ctx: Context, out: Out) -> None:
    """For an ADE VM ASR copies the disk encryption secret (and key encryption key) to a key vault
    in the target region. With default settings (the portal) ASR creates `<source vault>-asr`
    itself, which needs the right to create key vaults there; PowerShell, CLI and templates never
    create it and fail with 150175 without one. Existing vaults there are named."""
    estate = ctx.estate
    for vm in ctx.vms:
        ade = enc.ade_of(estate, vm) if estate.extensions_known else None
        if ade is None:
            if estate.extensions_known:
                out.pass_(vm.id, "not encrypted with Azure Disk Encryption")
            else:
                out.unknown(vm.id, "VM extensions were not exported: ADE unknown", EXPORT_EXT)
            continue
        if not estate.has(KEY_VAULT):
            out.unknown(vm.id, "ADE VM; " + not_whole(estate, "key vaults", KEY_VAULT), EXPORT_KV)
            continue
        target = enc.target_key_vault(estate, ade, ctx.target_region)
        if target is not None:
            out.pass_(vm.id, f"target key vault {target.name} in {display(ctx.target_region)}")
            continue
        name = enc.target_vault_name(ade)
        kek = " and its key encryption key" if ade.kek_url else ""
        others = enc.other_vaults(estate, ctx.target_region)
        also = f" (other vaults there: {', '.join(others)})" if others else ""
        missing = (
            f"no target key vault {name} in {display(ctx.target_region)} for the disk "
            f"encryption secret{kek}{also}"
        )
        create = (
            f"az keyvault create -n {name} -g {ids.name(ctx.target_resource_group_id(vm))} "
            f"-l {ctx.target_region}, then copy the secret{kek} to it and pass it as the target "
            "key vault"
        )
        # With default settings ASR creates `<source vault>-asr` itself: only API, PowerShell
        # and CLI calls that name none fail with 150175. What it needs is the right to create it.
        allowed = _may_create_key_vault(ctx, vm)
        vault = CreateKeyVault(
            ctx.target_subscription_of(vm),
            ids.name(ctx.target_resource_group_id(vm)),
            name,
            ctx.target_region,
            disk_encryption=True,
        )
        if allowed is False:
            out.fail(
                vm.id,
                f"{missing}; ASR would create it, but {ctx.principal_id} may not create key "
                "vaults there",
                "grant Key Vault Contributor at the target resource group's subscription, or "
                + create,
                actions=(vault, *_target_vault_access(ctx, vault, bool(ade.kek_url))),
            )
        elif allowed is None:
            out.unknown(
                vm.id,
                f"{missing}; ASR creates it with default settings if the person enabling "
                "replication may create key vaults, which is not known (no --principal-id or "
                "no role export)",
                "pass --principal-id with the role exports, or " + create,
            )
        else:
            out.warn(
                vm.id,
                f"{missing}; enabling replication with default settings (the portal) creates "
                "it; API, PowerShell and CLI calls must name one or fail with 150175",
                "none with the portal's defaults; for scripted enablement: " + create,
                code=150175,
                actions=(vault, *_target_vault_access(ctx, vault, bool(ade.kek_url))),
            )


def _may_create_key_vault(ctx: Context, vm: VirtualMachine) -> bool | None:
    """Whether the principal may create the target key vault where ASR puts it (the target
    resource group, or its subscription while the group does not exist); None: not known."""
    evaluator = evaluator_for(ctx)
    if evaluator is None or not (
        ctx.estate.has(ROLE_ASSIGNMENT) and ctx.estate.has(ROLE_DEFINITION)
    ):
        return None
    answer = evaluator.check("Microsoft.KeyVault/vaults/write", ctx.target_resource_group_id(vm))
    if answer.access is Access.GRANTED:
        return True
    return None if answer.access is Access.UNKNOWN else False


# Access-policy permissions for ADE (ADE-2019): secrets always, keys only with a KEK.
_POLICY = {
    "key_vault_source": ({"get", "list"}, {"get", "list", "decrypt"}),
    "key_vault_target": ({"get", "list", "set"}, {"get", "list", "create", "encrypt"}),
}


def _policy_gaps(vault: KeyVault, members: set[str], kind: str, with_kek: bool) -> list[str]:
    secrets, keys = _POLICY[kind]
    held_s: set[str] = set()
    held_k: set[str] = set()
    for policy in vault.access_policies:
        if policy.object_id in members:
            held_s |= policy.secrets
            held_k |= policy.keys
    gaps = [] if "all" in held_s else [f"secrets/{p}" for p in sorted(secrets - held_s)]
    if with_kek and "all" not in held_k:
        gaps += [f"keys/{p}" for p in sorted(keys - held_k)]
    return gaps


@rule(
    "ASR-ENC-004",
    Area.PERMISSIONS,
    "The person enabling replication can use the source and target key vaults of ADE VMs",
    label="key vault access",
    sources=("ADE-2019",),
)
def ade_vault_permissions(ctx: Context, out: Out) -> None:
    """On both key vaults of an ADE VM: read the source vault and write the target one (Azure
    RBAC), and the secret (and key) permissions, from the vault's access policies or, in RBAC
    mode, from Key Vault data actions."""
    estate = ctx.estate
    ade_vms = [(vm, a) for vm in ctx.vms if (a := enc.ade_of(estate, vm))]
    if not ade_vms:
        if estate.extensions_known:
            out.skip(None, "no VM in scope uses Azure Disk Encryption")
        else:
            out.unknown(None, "VM extensions were not exported: ADE unknown", EXPORT_EXT)
        return
    evaluator = evaluator_for(ctx)
    if evaluator is None:
        out.unknown(None, "no principal given: key vault permissions not checked", "--principal-id")
        return
    if not (estate.has(ROLE_ASSIGNMENT) and estate.has(ROLE_DEFINITION) and estate.has(KEY_VAULT)):
        out.unknown(
            None,
            not_whole(estate, "roles or key vaults", ROLE_ASSIGNMENT, ROLE_DEFINITION, KEY_VAULT),
            EXPORT_KV,
        )
        return
    members = (
        {ctx.principal_id.lower()} | {g.lower() for g in evaluator.group_ids}
        if ctx.principal_id
        else set()
    )
    rows = [r for r in load("permissions")["required_action"] if r["when"] == "ade"]
    for vm, ade in ade_vms:
        target = enc.target_key_vault(estate, ade, ctx.target_region)
        vaults = {"key_vault_source": enc.source_vault(estate, ade), "key_vault_target": target}
        missing: list[tuple[str, str, bool]] = []  # (action, scope, data)
        unknown: list[str] = []
        policy_gaps: list[str] = []
        policy_vaults: list[str] = []
        grants: list[GrantVaultPolicy] = []
        for kind, vault in vaults.items():
            if vault is None and kind == "key_vault_source":
                unknown.append(f"source vault {ade.vault_name} is not in the key vault export")
                continue
            # A vault ASR will create: the right to create it in the target group.
            scope = vault.id if vault else ctx.target_resource_group_id(vm)
            data_by_rbac = vault is not None and vault.rbac
            if vault is not None and vault.rbac is None:
                unknown.append(f"{vault.name}: permission model not exported (az keyvault show)")
                continue
            for row in rows:
                if row["scope"] != kind or (row.get("data") and not data_by_rbac):
                    continue
                if "/keys/" in row["action"] and not ade.kek_url:
                    continue
                answer = evaluator.check(row["action"], scope, bool(row.get("data")))
                if answer.access in (Access.MISSING, Access.DENIED):
                    missing.append((row["action"], scope, bool(row.get("data"))))
                elif answer.access is Access.UNKNOWN:
                    unknown.append(f"{row['action']}: {answer.via}")
            if vault is not None and not vault.rbac:
                gaps = _policy_gaps(vault, members, kind, bool(ade.kek_url))
                if gaps:
                    policy_gaps.append(f"{vault.name} access policy lacks {', '.join(gaps)}")
                    policy_vaults.append(vault.name)
                    grants.append(
                        GrantVaultPolicy(
                            vault.id,
                            (ctx.principal_id or "").lower(),
                            tuple(g.split("/", 1)[1] for g in gaps if g.startswith("secrets/")),
                            tuple(g.split("/", 1)[1] for g in gaps if g.startswith("keys/")),
                        )
                    )
        if missing or policy_gaps:
            fixes = sorted(
                {
                    f"az role assignment create --assignee {ctx.principal_id} --role "
                    f'"{smallest_role(a, d)}" --scope {s}'
                    for a, s, d in missing
                }
            )
            keys = " --key-permissions get list create decrypt encrypt" if ade.kek_url else ""
            fixes += [
                f"az keyvault set-policy -n {name} --object-id {ctx.principal_id} "
                f"--secret-permissions get list set{keys}"
                for name in policy_vaults
            ]
            out.fail(
                vm.id,
                "; ".join([f"missing {a} at {s}" for a, s, _ in missing] + policy_gaps),
                "; ".join(fixes),
                actions=(*_role_grants(ctx, missing), *grants),
            )
        elif unknown:
            out.unknown(vm.id, "; ".join(unknown), EXPORT_KV)
        else:
            out.pass_(vm.id, "holds the ADE permissions on the source and target key vaults")


def _target_vault_access(
    ctx: Context, vault: CreateKeyVault, with_kek: bool
) -> tuple[GrantVaultPolicy, ...]:
    """What the person enabling replication needs in a target vault the script creates."""
    if not ctx.principal_id:
        return ()
    secrets, keys = _POLICY["key_vault_target"]
    return (
        GrantVaultPolicy(
            vault.id,
            ctx.principal_id.lower(),
            tuple(sorted(secrets)),
            tuple(sorted(keys)) if with_kek else (),
        ),
    )


def _role_grants(ctx: Context, missing: list[tuple[str, str, bool]]) -> list[AssignRole]:
    """The narrowest built-in role for each missing action, at its key vault or group."""
    wanted = {(smallest_role(a, d), s) for a, s, d in missing}
    return [
        AssignRole((ctx.principal_id or "").lower(), role, role_id(role), scope)
        for role, scope in sorted(wanted)
    ]


_LINUX_TL_SINCE = date(2024, 4, 1)


def _security_problems(
    vm: VirtualMachine, created: str | None
) -> tuple[list[str], list[str], list[str]]:
    """(blocking, unknown, warnings) for the VM's security type."""
    blocking: list[str] = []
    unknown: list[str] = []
    warnings: list[str] = []
    kind = (vm.security_type or "").lower()
    if kind == "confidentialvm":
        blocking.append(f"Confidential VM: {_status('vm_feature', 'confidential_vm')}")
    elif kind == "trustedlaunch" and (vm.os_type or "").lower() == "linux":
        status = _status("vm_feature", "trusted_launch")
        if created and created[:10] < _LINUX_TL_SINCE.isoformat():
            blocking.append(
                f"Trusted Launch Linux VM created {created[:10]}: only Linux trusted launch VMs "
                f"created after {_LINUX_TL_SINCE.isoformat()} are supported ({status})"
            )
        elif not created:
            unknown.append(
                "Trusted Launch Linux VM whose creation time is not in the export: only those "
                f"created after {_LINUX_TL_SINCE.isoformat()} are supported ({status})"
            )
        else:
            warnings.append(
                f"Trusted Launch Linux is generally available; confirm the distribution and "
                f"release are on the list ({status})"
            )
    if vm.encryption_at_host:
        warnings.append(
            "encryption at host: the failed-over VM comes up without it "
            f"({_status('disk_feature', 'encryption_at_host')})"
        )
    return blocking, unknown, warnings


@rule(
    "ASR-ENC-005",
    Area.VM,
    "The VM's security type can be protected",
    label="security type",
    sources=("TL-2025", "TRUSTED-VM-2025", "SM-2025"),
)
def security_type(ctx: Context, out: Out) -> None:
    """Trusted Launch (generally available for Windows and, since June 2025, Linux; Linux VMs
    only when created after 1 April 2024), Confidential VMs (not documented as supported) and
    encryption at host (protected, but the replica has none). The target size must support the
    same security type: ASR-CAP-001 checks it."""
    for vm in ctx.vms:
        label = vm.security_type or "Standard"
        blocking, unknown, warnings = _security_problems(vm, vm.time_created)
        if blocking:
            out.fail(
                vm.id,
                "; ".join(blocking),
                "keep this VM out of replication, or redeploy it with a supported security type",
            )
        elif unknown:
            out.unknown(
                vm.id,
                "; ".join(unknown),
                "export the VM with its timeCreated (az vm list, the REST API or Resource Graph "
                "print it)",
            )
        elif warnings:
            out.warn(
                vm.id,
                "; ".join(warnings),
                "confirm the OS is on the Trusted Launch list; re-enable encryption at host on "
                "the failed-over VM",
            )
        else:
            out.pass_(vm.id, f"security type {label}")


@rule(
    "ASR-ENC-006",
    Area.STORAGE,
    "Disk redundancy and sharing are supported",
    label="disk redundancy or sharing",
    sources=("SM-2025", "FAQ-2025", "TL-2025"),
)
def disk_redundancy(ctx: Context, out: Out) -> None:
    """ZRS disks replicate region to region, to replica disks of the same type; managed shared
    disks are supported for Windows (WSFC) only: Site Recovery does not support Linux VMs with
    shared disks. Premium SSD v2 and Ultra disks are ASR-STO-005's."""
    for vm in vms_with(ctx, out, "disks"):
        zrs = [d.name for d in vm.disks if (d.sku or "").lower().endswith("_zrs")]
        shared = [d.name for d in vm.disks if (d.max_shares or 1) > 1]
        if not ctx.estate.has(DISK) and vm.disks:
            out.unknown(
                vm.id, "sharing unknown; " + not_whole(ctx.estate, "disks", DISK), EXPORT_DISKS
            )
            continue
        linux = (vm.os_type or "").lower() == "linux"
        if shared and linux:
            out.fail(
                vm.id,
                f"shared disks ({', '.join(shared)}) on a Linux VM: "
                f"{_status('disk_feature', 'shared_disk_linux')}",
                "protect this VM another way, or detach its shared disks",
            )
            continue
        if shared and vm.os_type is None:
            out.unknown(
                vm.id,
                f"shared disks ({', '.join(shared)}), and the OS type is not in the export: "
                "Linux VMs with shared disks are not supported",
                "export the VM with its storage profile's osDisk.osType",
            )
            continue
        parts = []
        if zrs:
            parts.append(f"ZRS disks {', '.join(zrs)} get ZRS replica disks")
        if shared:
            parts.append(f"shared disks {', '.join(shared)} are supported")
        out.pass_(vm.id, "; ".join(parts) or "locally redundant disks, none shared")
