"""Encrypted and hardened VMs: CMK disks (150353), ADE (150175), Key Vault permissions, security
types and disk redundancy, over az- and REST-shaped exports."""

from __future__ import annotations

from typing import Any

from asr_preflight.model import build_estate
from asr_preflight.snapshot import load_snapshot
from builders import PRINCIPAL, SUB, TENANT, rid, statuses

DES_SRC = rid("rg-sec", "Microsoft.Compute", "diskEncryptionSets/des-app")
DES_TGT = rid("rg-dr", "Microsoft.Compute", "diskEncryptionSets/des-app-asr")


def kv_id(name: str, rg: str = "rg-sec") -> str:
    return rid(rg, "Microsoft.KeyVault", f"vaults/{name}")


def des(des_id: str, location: str, vault: str, kind: str = "EncryptionAtRestWithCustomerKey"):
    """REST shape (DiskEncryptionSets_Get)."""
    return {
        "id": des_id,
        "name": des_id.rsplit("/", 1)[-1],
        "type": "Microsoft.Compute/diskEncryptionSets",
        "location": location,
        "identity": {"type": "SystemAssigned", "principalId": "d1", "tenantId": TENANT},
        "properties": {
            "activeKey": {
                "sourceVault": {"id": kv_id(vault)},
                "keyUrl": f"https://{vault}.vault.azure.net/keys/k/0123456789abcdef",
            },
            "encryptionType": kind,
            "provisioningState": "Succeeded",
        },
    }


def vault(name: str, location: str, rbac: bool = False, policies: Any = None, sku="standard"):
    """REST shape (Vaults_Get)."""
    return {
        "id": kv_id(name),
        "name": name,
        "type": "Microsoft.KeyVault/vaults",
        "location": location,
        "properties": {
            "tenantId": TENANT,
            "sku": {"family": "A", "name": sku},
            "accessPolicies": policies
            if policies is not None
            else [
                {
                    "tenantId": TENANT,
                    "objectId": PRINCIPAL,
                    "permissions": {
                        "keys": ["Get", "List", "Create", "Decrypt", "Encrypt"],
                        "secrets": ["Get", "List", "Set"],
                        "certificates": [],
                    },
                }
            ],
            "enableRbacAuthorization": rbac,
            "enableSoftDelete": True,
            "enablePurgeProtection": True,
            "vaultUri": f"https://{name}.vault.azure.net",
        },
    }


def ade_ext(
    vm: str = "vm1",
    kv: str = "kv-app",
    version: str = "1.4",
    linux: bool = True,
    **settings: Any,
) -> dict[str, Any]:
    """az vm extension list shape; protected settings as az prints them (null)."""
    kind = "AzureDiskEncryptionForLinux" if linux else "AzureDiskEncryption"
    return {
        "id": rid("rg-app", "Microsoft.Compute", f"virtualMachines/{vm}/extensions/{kind}"),
        "name": kind,
        "type": "Microsoft.Compute/virtualMachines/extensions",
        "location": "eastus",
        "publisher": "Microsoft.Azure.Security",
        "typePropertiesType": kind,
        "typeHandlerVersion": version,
        "protectedSettings": None,
        "settings": {
            "EncryptionOperation": "EnableEncryption",
            "KeyVaultURL": f"https://{kv}.vault.azure.net/",
            "KeyVaultResourceId": kv_id(kv),
            "VolumeType": "All",
            **settings,
        },
    }


def cmk(estate, kind="EncryptionAtRestWithCustomerKey", des_id=DES_SRC):
    disk = estate.files["disks.json"][0]
    disk["encryption"] = {"type": kind, "diskEncryptionSetId": des_id}
    estate.vm1["storageProfile"]["osDisk"]["managedDisk"]["diskEncryptionSet"] = {"id": des_id}


def ade(estate, **kw):
    estate.files["vm-extensions.json"] = [ade_ext(**kw)]
    estate.files["key-vaults.json"] = [
        vault("kv-app", "eastus"),
        vault("kv-app-asr", "centralus"),
    ]


# --- ASR-ENC-001 customer-managed keys -----------------------------------------------------------


def test_platform_keys_pass(estate, tmp_path):
    [f] = estate.run(tmp_path, "ASR-ENC-001")
    assert f.status == "pass" and "platform-managed" in f.message


def test_cmk_with_target_des_and_vault_passes(estate, tmp_path):
    cmk(estate)
    estate.files["disk-encryption-sets.json"] = [
        des(DES_SRC, "eastus", "kv-cmk"),
        des(DES_TGT, "centralus", "kv-cmk-cus"),
    ]
    estate.files["key-vaults.json"] = [vault("kv-cmk-cus", "centralus", rbac=True)]
    [f] = estate.run(tmp_path, "ASR-ENC-001")
    assert f.status == "pass" and "des-app-asr" in f.message


def test_cmk_without_target_des_fails_150353(estate, tmp_path):
    cmk(estate)
    estate.files["disk-encryption-sets.json"] = [des(DES_SRC, "eastus", "kv-cmk")]
    [f] = estate.run(tmp_path, "ASR-ENC-001")
    assert f.status == "fail" and f.asr_error_code == 150353
    assert "des-app-asr" in f.remedy and "customer-managed key" in f.message


def test_double_encryption_needs_a_double_encryption_set(estate, tmp_path):
    kind = "EncryptionAtRestWithPlatformAndCustomerKeys"
    cmk(estate, kind)
    estate.files["disk-encryption-sets.json"] = [
        des(DES_SRC, "eastus", "kv-cmk", kind),
        des(DES_TGT, "centralus", "kv-cmk-cus"),  # customer key only: not a match
    ]
    estate.files["key-vaults.json"] = [vault("kv-cmk-cus", "centralus")]
    [f] = estate.run(tmp_path, "ASR-ENC-001")
    assert f.status == "fail" and "double encryption" in f.message and kind in f.remedy


def test_target_des_with_vault_in_source_region_fails(estate, tmp_path):
    cmk(estate)
    estate.files["disk-encryption-sets.json"] = [
        des(DES_SRC, "eastus", "kv-cmk"),
        des(DES_TGT, "centralus", "kv-cmk"),
    ]
    estate.files["key-vaults.json"] = [vault("kv-cmk", "eastus")]
    [f] = estate.run(tmp_path, "ASR-ENC-001")
    assert f.status == "fail" and "East US" in f.message


def test_cmk_without_des_export_is_unknown(estate, tmp_path):
    cmk(estate)
    [f] = estate.run(tmp_path, "ASR-ENC-001")
    assert f.status == "unknown" and "disk-encryption-set list" in f.remedy


def test_target_des_vault_not_exported_is_unknown(estate, tmp_path):
    cmk(estate)
    estate.files["disk-encryption-sets.json"] = [
        des(DES_SRC, "eastus", "kv-cmk"),
        des(DES_TGT, "centralus", "kv-cmk-cus"),
    ]
    estate.files["key-vaults.json"] = []
    assert statuses(estate.run(tmp_path, "ASR-ENC-001")) == ["unknown"]


# --- ASR-ENC-002 / 003 Azure Disk Encryption -----------------------------------------------------


def test_no_ade_passes_and_single_pass_passes(estate, tmp_path):
    estate.files["vm-extensions.json"] = []
    assert statuses(estate.run(tmp_path, "ASR-ENC-002")) == ["pass"]
    ade(estate)
    [f] = estate.run(tmp_path, "ASR-ENC-002")
    assert f.status == "pass" and "single-pass" in f.message


def test_ade_unknown_without_extension_export(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-ENC-002")) == ["unknown"]
    assert statuses(estate.run(tmp_path, "ASR-ENC-003")) == ["unknown"]


def test_dual_pass_ade_fails(estate, tmp_path):
    ade(estate, version="0.1", AADClientID="00000000-0000-4000-8000-00000000aad1")
    [f] = estate.run(tmp_path, "ASR-ENC-002")
    assert f.status == "fail" and "dual-pass" in f.message


def test_managed_hsm_kek_fails(estate, tmp_path):
    ade(estate, KeyEncryptionKeyURL="https://hsm1.managedhsm.azure.net/keys/kek/1")
    [f] = estate.run(tmp_path, "ASR-ENC-002")
    assert f.status == "fail" and "HSM" in f.message


def test_kek_in_premium_vault_is_unknown(estate, tmp_path):
    ade(estate, KeyEncryptionKeyURL="https://kv-app.vault.azure.net/keys/kek/1")
    estate.files["key-vaults.json"][0] = vault("kv-app", "eastus", sku="premium")
    [f] = estate.run(tmp_path, "ASR-ENC-002")
    assert f.status == "unknown" and "key.kty" in f.remedy


def test_ade_from_az_vm_show_resources(estate, tmp_path):
    """`az vm show` embeds the extensions in `resources`."""
    estate.vm1["resources"] = [ade_ext(AADClientID="aad")]
    [f] = estate.run(tmp_path, "ASR-ENC-002")
    assert f.status == "fail" and "dual-pass" in f.message


def test_ade_target_vault_passes_when_asr_name_exists(estate, tmp_path):
    ade(estate)
    [f] = estate.run(tmp_path, "ASR-ENC-003")
    assert f.status == "pass" and "kv-app-asr" in f.message


def test_ade_without_target_vault_only_warns_when_asr_may_create_it(estate, tmp_path):
    """The portal's defaults create `<source vault>-asr`: only scripted enablement fails 150175."""
    ade(estate)
    estate.files["key-vaults.json"] = [vault("kv-app", "eastus"), vault("kv-other", "centralus")]
    [f] = estate.run(tmp_path, "ASR-ENC-003")
    assert f.status == "warn" and f.asr_error_code == 150175
    assert "kv-app-asr" in f.remedy and "kv-other" in f.message


def test_ade_without_target_vault_fails_when_the_principal_may_not_create_it(estate, tmp_path):
    ade(estate)
    estate.files["key-vaults.json"] = [vault("kv-app", "eastus")]
    estate.files["role-assignments.json"] = []
    [f] = estate.run(tmp_path, "ASR-ENC-003")
    assert f.status == "fail" and f.asr_error_code == 150175
    assert "may not create key vaults" in f.message


def test_ade_without_target_vault_is_unknown_without_a_principal(estate, tmp_path):
    ade(estate)
    estate.files["key-vaults.json"] = [vault("kv-app", "eastus")]
    assert statuses(estate.run(tmp_path, "ASR-ENC-003", principal_id=None)) == ["unknown"]


def test_ade_target_vault_unknown_without_key_vault_export(estate, tmp_path):
    ade(estate)
    del estate.files["key-vaults.json"]
    assert statuses(estate.run(tmp_path, "ASR-ENC-003")) == ["unknown"]


# --- ASR-ENC-004 key vault permissions -----------------------------------------------------------


def test_vault_permissions_pass_by_access_policy(estate, tmp_path):
    ade(estate)
    [f] = estate.run(tmp_path, "ASR-ENC-004")
    assert f.status == "pass"


def test_missing_access_policy_fails(estate, tmp_path):
    ade(estate)
    estate.files["key-vaults.json"][1] = vault("kv-app-asr", "centralus", policies=[])
    [f] = estate.run(tmp_path, "ASR-ENC-004")
    assert f.status == "fail" and "kv-app-asr access policy lacks secrets/get" in f.message
    assert "az keyvault set-policy -n kv-app-asr" in f.remedy


def test_rbac_vault_needs_data_actions_owner_does_not_grant(estate, tmp_path):
    ade(estate)
    estate.files["key-vaults.json"][0] = vault("kv-app", "eastus", rbac=True)
    [f] = estate.run(tmp_path, "ASR-ENC-004")
    assert f.status == "fail" and "secrets/getSecret/action" in f.message
    assert "Key Vault" in f.remedy  # the narrowest built-in Key Vault data role


def test_vault_permissions_unknown_without_principal_or_roles(estate, tmp_path):
    ade(estate)
    assert statuses(estate.run(tmp_path, "ASR-ENC-004", principal_id=None)) == ["unknown"]
    estate.drop("role-assignments.json")
    assert statuses(estate.run(tmp_path / "no-roles", "ASR-ENC-004")) == ["unknown"]


def test_vault_permissions_skip_without_ade(estate, tmp_path):
    estate.files["vm-extensions.json"] = []
    assert statuses(estate.run(tmp_path, "ASR-ENC-004")) == ["skip"]


# --- ASR-ENC-005 security types ------------------------------------------------------------------


def test_standard_security_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-ENC-005")) == ["pass"]


def test_trusted_launch_linux_created_after_april_2024_is_generally_available(estate, tmp_path):
    estate.vm1["securityProfile"] = {"securityType": "TrustedLaunch"}
    estate.vm1["timeCreated"] = "2024-06-01T10:00:00Z"
    [f] = estate.run(tmp_path, "ASR-ENC-005")
    assert f.status == "warn" and "generally available" in f.message
    assert "TL-2025 (2025-06-05)" in f.message and "preview" not in f.message


def test_trusted_launch_linux_created_before_april_2024_fails(estate, tmp_path):
    estate.vm1["securityProfile"] = {"securityType": "TrustedLaunch"}
    estate.vm1["timeCreated"] = "2024-03-12T08:00:00Z"
    [f] = estate.run(tmp_path, "ASR-ENC-005")
    assert f.status == "fail" and "created 2024-03-12" in f.message and "TL-2025" in f.message


def test_trusted_launch_linux_of_unknown_age_is_unknown(estate, tmp_path):
    estate.vm1["securityProfile"] = {"securityType": "TrustedLaunch"}
    assert statuses(estate.run(tmp_path, "ASR-ENC-005")) == ["unknown"]


def test_uae_north_no_longer_refuses_trusted_launch_linux(estate, tmp_path):
    """The March 2025 page excluded UAE North; the June 2025 page does not (newer wins)."""
    estate.vm1["securityProfile"] = {"securityType": "TrustedLaunch"}
    estate.vm1["timeCreated"] = "2024-06-01T10:00:00Z"
    assert statuses(estate.run(tmp_path, "ASR-ENC-005", target_region="uaenorth")) == ["warn"]


def test_confidential_vm_fails_and_encryption_at_host_warns(estate, tmp_path):
    estate.vm1["securityProfile"] = {"securityType": "ConfidentialVM"}
    [f] = estate.run(tmp_path, "ASR-ENC-005")
    assert f.status == "fail" and "Confidential" in f.message
    estate.vm1["securityProfile"] = {"encryptionAtHost": True}
    [f] = estate.run(tmp_path, "ASR-ENC-005")
    assert f.status == "warn" and "encryption at host" in f.message


# --- ASR-ENC-006 disk redundancy -----------------------------------------------------------------


def test_zrs_disk_passes_with_zrs_replica(estate, tmp_path):
    estate.files["disks.json"][0]["sku"] = {"name": "Premium_ZRS"}
    estate.vm1["storageProfile"]["osDisk"]["managedDisk"]["storageAccountType"] = "Premium_ZRS"
    [f] = estate.run(tmp_path, "ASR-ENC-006")
    assert f.status == "pass" and "ZRS replica" in f.message


def test_shared_disk_on_linux_fails_and_on_windows_passes(estate, tmp_path):
    estate.files["disks.json"][0]["maxShares"] = 2
    [f] = estate.run(tmp_path / "linux", "ASR-ENC-006")
    assert f.status == "fail" and "Linux VM" in f.message and "FAQ-2025" in f.message
    estate.vm1["storageProfile"]["osDisk"]["osType"] = "Windows"
    [f] = estate.run(tmp_path / "windows", "ASR-ENC-006")
    assert f.status == "pass" and "shared disks" in f.message


def test_shared_disk_on_a_vm_of_unknown_os_is_unknown(estate, tmp_path):
    estate.files["disks.json"][0]["maxShares"] = 2
    del estate.vm1["storageProfile"]["osDisk"]["osType"]
    del estate.vm1["osProfile"]["linuxConfiguration"]
    assert statuses(estate.run(tmp_path, "ASR-ENC-006")) == ["unknown"]


def test_redundancy_unknown_without_disk_export(estate, tmp_path):
    estate.drop("disks.json")
    assert statuses(estate.run(tmp_path, "ASR-ENC-006")) == ["unknown"]


# --- model and plan ------------------------------------------------------------------------------


def test_model_reads_rest_shapes_and_never_protected_settings(estate, tmp_path):
    ext = ade_ext(KeyEncryptionKeyURL="https://kv-app.vault.azure.net/keys/kek/1")
    rest = {
        "id": ext["id"],
        "name": ext["name"],
        "type": ext["type"],
        "location": "eastus",
        "properties": {
            "publisher": ext["publisher"],
            "type": ext["typePropertiesType"],
            "typeHandlerVersion": "1.4",
            "settings": ext["settings"],
            "protectedSettings": {"Passphrase": "never-read"},
        },
    }
    estate.files["vm-extensions.json"] = {"value": [rest]}
    estate.files["key-vaults.json"] = [vault("kv-app", "eastus", rbac=True)]
    estate.files["disk-encryption-sets.json"] = {"value": [des(DES_TGT, "centralus", "kv-x")]}
    model = build_estate(load_snapshot(estate.write(tmp_path)))
    [got] = model.extensions_of(next(iter(model.vms.values())))
    assert got.type == "AzureDiskEncryptionForLinux" and got.version == "1.4"
    assert "never-read" not in repr(got) and "Passphrase" not in got.settings
    [kv] = model.key_vaults.values()
    assert kv.rbac is True and kv.sku == "standard" and kv.purge_protection is True
    [d] = model.disk_encryption_sets.values()
    assert d.location == "centralus" and d.key_vault_id == kv_id("kv-x")
    assert d.encryption_type == "EncryptionAtRestWithCustomerKey"


def test_plan_lists_encryption_resources_to_create(estate, tmp_path):
    cmk(estate)
    estate.files["disk-encryption-sets.json"] = [des(DES_SRC, "eastus", "kv-cmk")]
    ade(estate)
    estate.files["key-vaults.json"] = [vault("kv-app", "eastus")]
    plan = estate.check(tmp_path).context.plan.target
    assert [(r.kind, r.name, r.exists) for r in plan.encryption] == [
        ("disk_encryption_set", "des-app-asr", False),
        ("key_vault", "kv-app-asr", False),
    ]
    assert SUB in DES_SRC
