"""Which existing resources enabling replication would use: the vault and the cache accounts."""

from __future__ import annotations

from asr_preflight.context import Context
from asr_preflight.model import ids
from asr_preflight.model.entities import StorageAccount, Vault

# ASR names the cache accounts it creates "<random>asrcache"; without --cache-storage-account
# those are the accounts worth checking.
ASR_CACHE_MARKER = "asrcache"


def candidate_vaults(ctx: Context) -> list[Vault]:
    """The vault the user named, or every vault in the subscriptions in scope."""
    vaults = list(ctx.estate.vaults.values())
    if ctx.vault_id:
        wanted = ids.key(ctx.vault_id)
        return [v for v in vaults if ids.key(v.id) == wanted or v.name.lower() == wanted]
    subs = set(ctx.subscriptions) | (
        {ctx.target_subscription} if ctx.target_subscription else set()
    )
    return [v for v in vaults if v.subscription_id in subs]


def target_vault(ctx: Context) -> Vault | None:
    """The existing vault ASR would use: the one named, else one in the target region."""
    vaults = candidate_vaults(ctx)
    if ctx.vault_id:
        return vaults[0] if vaults else None
    return next((v for v in vaults if v.location == ctx.target_region), None)


def cache_accounts(ctx: Context) -> tuple[list[StorageAccount], list[str], bool]:
    """(accounts found, names chosen but not exported, whether the user chose them)."""
    accounts = ctx.estate.storage_accounts.values()
    if ctx.cache_accounts:
        found, missing = [], []
        for wanted in ctx.cache_accounts:
            key = ids.key(wanted)
            match = [a for a in accounts if ids.key(a.id) == key or a.name.lower() == key]
            found += match
            if not match:
                missing.append(wanted)
        return found, missing, True
    return [a for a in accounts if ASR_CACHE_MARKER in a.name.lower()], [], False


def usable_cache_accounts(ctx: Context) -> list[StorageAccount]:
    """Cache accounts ASR would reuse: the chosen ones, else detected ones in the source region."""
    accounts, _, chosen = cache_accounts(ctx)
    return [a for a in accounts if chosen or a.location == ctx.source_region]
