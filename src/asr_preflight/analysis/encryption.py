"""What encrypted VMs need in the target region: disk encryption sets for customer-managed keys
and key vaults for Azure Disk Encryption. Shared by the encryption rules and the plan."""

from __future__ import annotations

from dataclasses import dataclass

from asr_preflight.model import Estate, ids
from asr_preflight.model.entities import (
    DiskEncryptionSet,
    KeyVault,
    VirtualMachine,
    VmExtension,
)

PLATFORM = "EncryptionAtRestWithPlatformKey"
CUSTOMER = "EncryptionAtRestWithCustomerKey"
DOUBLE = "EncryptionAtRestWithPlatformAndCustomerKeys"
ADE_TYPES = {"azurediskencryption": "Windows", "azurediskencryptionforlinux": "Linux"}
ADE_PUBLISHER = "microsoft.azure.security"


def encryption_label(kind: str | None) -> str:
    return {
        PLATFORM.lower(): "platform-managed key",
        CUSTOMER.lower(): "customer-managed key",
        DOUBLE.lower(): "double encryption (platform and customer-managed keys)",
    }.get((kind or "").lower(), kind or "unknown")


def cmk_sets(vm: VirtualMachine) -> dict[str, list[str]]:
    """Source disk encryption set id -> the VM's disks that use it."""
    out: dict[str, list[str]] = {}
    for disk in vm.disks or ():
        if disk.encryption_set_id:
            out.setdefault(disk.encryption_set_id, []).append(disk.name)
    return out


def target_des_name(source_des_id: str) -> str:
    return f"{ids.name(source_des_id)}-asr"


def target_des(
    estate: Estate, source: DiskEncryptionSet | None, source_id: str, target_region: str
) -> DiskEncryptionSet | None:
    """A disk encryption set in the target region of the source's encryption type; ASR's
    suggested name first."""
    wanted = (source.encryption_type if source else None) or CUSTOMER
    candidates = [
        d
        for d in estate.disk_encryption_sets.values()
        if d.location == target_region and (d.encryption_type or CUSTOMER).lower() == wanted.lower()
    ]
    named = [d for d in candidates if d.name.lower() == target_des_name(source_id).lower()]
    return (named or candidates or [None])[0]


@dataclass(frozen=True, slots=True)
class Ade:
    """Azure Disk Encryption on a VM, from the extension's public settings."""

    extension: VmExtension
    dual_pass: bool
    vault_id: str | None  # the disk encryption key's vault (KeyVaultResourceId)
    vault_url: str | None
    kek_url: str | None
    kek_vault_id: str | None

    @property
    def vault_name(self) -> str | None:
        if self.vault_id:
            return ids.name(self.vault_id)
        host = (self.vault_url or "").split("//", 1)[-1].split(".", 1)[0]
        return host or None


def _setting(ext: VmExtension, name: str) -> str | None:
    return ext.settings.get(name.lower())


def ade_of(estate: Estate, vm: VirtualMachine) -> Ade | None:
    for ext in estate.extensions_of(vm):
        if (ext.publisher or "").lower() != ADE_PUBLISHER:
            continue
        if (ext.type or ext.name or "").lower() not in ADE_TYPES:
            continue
        major = (ext.version or "").split(".", 1)[0]
        # Dual pass (with an Entra ID app): Windows 1.x, Linux 0.x, and AADClientID set.
        legacy = (ext.type or "").lower() == "azurediskencryption" and major == "1"
        legacy |= (ext.type or "").lower() == "azurediskencryptionforlinux" and major == "0"
        return Ade(
            extension=ext,
            dual_pass=bool(_setting(ext, "AADClientID")) or legacy,
            vault_id=_setting(ext, "KeyVaultResourceId"),
            vault_url=_setting(ext, "KeyVaultURL"),
            kek_url=_setting(ext, "KeyEncryptionKeyURL"),
            kek_vault_id=_setting(ext, "KekVaultResourceId"),
        )
    return None


def source_vault(estate: Estate, ade: Ade) -> KeyVault | None:
    if ade.vault_id and (vault := estate.key_vaults.get(ids.key(ade.vault_id))):
        return vault
    name = (ade.vault_name or "").lower()
    return next((v for v in estate.key_vaults.values() if v.name.lower() == name), None)


def target_vault_name(ade: Ade) -> str:
    return f"{ade.vault_name or 'keyvault'}-asr"


def target_key_vault(estate: Estate, ade: Ade, target_region: str) -> KeyVault | None:
    """ASR's default target vault, `<source vault>-asr`, when it exists in the target region."""
    name = target_vault_name(ade).lower()
    return next(
        (
            v
            for v in estate.key_vaults.values()
            if v.location == target_region and not v.hsm and v.name.lower() == name
        ),
        None,
    )


def other_vaults(estate: Estate, target_region: str) -> list[str]:
    """Key vaults in the target region one could pass as the target vault instead."""
    return sorted(v.name for v in estate.key_vaults.values() if v.location == target_region)


def hsm_key(estate: Estate, ade: Ade) -> str | None:
    """Why the key encryption key is HSM-protected, if it visibly is."""
    url = (ade.kek_url or "").lower()
    if ".managedhsm." in url:
        return f"the key encryption key is in a Managed HSM ({ade.kek_url})"
    kek_vault = estate.key_vaults.get(ids.key(ade.kek_vault_id)) if ade.kek_vault_id else None
    if kek_vault is not None and kek_vault.hsm:
        return f"the key encryption key is in Managed HSM {kek_vault.name}"
    return None
