"""Vault area: a Recovery Services vault in the target region, never one in the source region."""

from __future__ import annotations

from asr_preflight.findings import Area
from asr_preflight.fix.actions import CreateVault
from asr_preflight.knowledge.regions import display, vault_allowed
from asr_preflight.model.build import VAULT
from asr_preflight.plan.existing import candidate_vaults
from asr_preflight.rules.base import Context, Out, not_whole, rule

EXPORT_VAULTS = (
    "export the vaults: az resource list --resource-type "
    "Microsoft.RecoveryServices/vaults -o json > vaults.json"
)


def new_vault(ctx: Context) -> CreateVault:
    """The vault `fix` creates when none fits: in the target region, in a resource group of its
    own, in the target subscription (else the first source subscription)."""
    sub = ctx.target_subscription or (ctx.subscriptions or [""])[0]
    return CreateVault(
        sub, f"rg-asr-{ctx.target_region}", f"rsv-asr-{ctx.target_region}", ctx.target_region
    )


@rule(
    "ASR-VAULT-001",
    Area.VAULT,
    "A Recovery Services vault exists in the target region",
    label="target vault",
    sources=("WT-PREREQ-2017", "TUT-2023"),
)
def vault_in_target_region(ctx: Context, out: Out) -> None:
    """ASR recommends the vault in the region you fail over to. When none exists, enabling
    replication has to create one, which needs permission to create vaults."""
    if not ctx.estate.has(VAULT):
        out.unknown(None, not_whole(ctx.estate, "vaults", VAULT), EXPORT_VAULTS)
        return
    region = display(ctx.target_region)
    chosen = candidate_vaults(ctx) if ctx.vault_id else []
    target = [v for v in candidate_vaults(ctx) if v.location == ctx.target_region]
    if ctx.vault_id and not chosen:
        # A named vault is estate-wide: resource None makes the finding concern every VM.
        out.unknown(None, f"vault {ctx.vault_id} is not in the vault export", EXPORT_VAULTS)
    elif target:
        out.pass_(target[0].id, f"vault {target[0].name} is in {region}")
    elif chosen and chosen[0].location != ctx.source_region:
        out.warn(
            None,
            f"vault {chosen[0].name} is in {display(chosen[0].location)}: allowed, "
            f"but ASR recommends the vault in the target region, {region}",
            f"consider a vault in {region}",
        )
    elif not chosen:
        vault = new_vault(ctx)
        out.warn(
            None,
            f"no Recovery Services vault in {region}; enabling replication will need a new one",
            f"az backup vault create --name {vault.name} --resource-group "
            f"{vault.resource_group} --location {ctx.target_region}",
            actions=(vault,),
        )
    else:
        out.skip(None, "the chosen vault is in the source region; ASR-VAULT-002 reports it")


@rule(
    "ASR-VAULT-002",
    Area.VAULT,
    "The vault is not in the source region",
    label="vault region",
    sources=("TUT-2023", "SM-2025"),
)
def vault_not_in_source_region(ctx: Context, out: Out) -> None:
    """A vault in the source region cannot protect VMs of that region: the vault must survive
    the outage it protects against."""
    if ctx.zone_to_zone:
        out.pass_(None, "zone to zone: the vault sits in the region itself, as it should")
        return
    if not ctx.estate.has(VAULT):
        out.unknown(None, not_whole(ctx.estate, "vaults", VAULT), EXPORT_VAULTS)
        return
    vaults = candidate_vaults(ctx)
    in_source = [v for v in vaults if v.location == ctx.source_region]
    if ctx.vault_id and in_source:
        out.fail(
            None,
            f"vault {in_source[0].name} is in {display(ctx.source_region)}, "
            "the source region, so it cannot protect these VMs",
            f"use a vault in {display(ctx.target_region)}",
            actions=(new_vault(ctx),),
        )
    elif in_source and not any(v.location == ctx.target_region for v in vaults):
        names = ", ".join(v.name for v in in_source)
        out.warn(
            in_source[0].id,
            f"the only vaults found ({names}) are in the source region "
            f"{display(ctx.source_region)} and cannot be used for this pair",
            f"create a vault in {display(ctx.target_region)}",
        )
    else:
        out.pass_(None, f"no vault in {display(ctx.source_region)} would be used for this pair")


@rule(
    "ASR-VAULT-003",
    Area.VAULT,
    "The target region can host a Recovery Services vault",
    label="vault support",
    sources=("SM-2025",),
)
def region_can_host_vault(ctx: Context, out: Out) -> None:
    """Some regions cannot host a vault (New Zealand North), and a subscription lists where the
    Microsoft.RecoveryServices provider can create one."""
    allowed, source = vault_allowed(ctx.target_region)
    region = display(ctx.target_region)
    if not allowed:
        out.warn(
            None,
            f"Recovery Services vaults cannot be created in {region} ({source}); "
            f"VMs can still fail over to {region}",
            f"create the vault in a region other than {region} and {display(ctx.source_region)}",
        )
        return
    if any(v.location == ctx.target_region for v in candidate_vaults(ctx)):
        out.pass_(None, f"a vault already exists in {region}")
        return
    for sub in ctx.subscriptions:
        provider = ctx.estate.providers.get((sub, "microsoft.recoveryservices"))
        where = provider.locations.get("vaults") if provider else None
        if where is None:
            out.unknown(
                f"/subscriptions/{sub}",
                "the Microsoft.RecoveryServices provider's locations were not exported",
                f"az provider list --subscription {sub} -o json > providers-{sub}.json",
            )
        elif ctx.target_region in where:
            out.pass_(f"/subscriptions/{sub}", f"vaults can be created in {region}")
        else:
            out.warn(
                f"/subscriptions/{sub}",
                f"this subscription cannot create vaults in {region}",
                "create the vault in another region (any but the source), or ask Azure support "
                "to enable the region",
            )
