import pytest

from builders import statuses


def test_target_storage_with_target_vault_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-STO-001")) == ["pass"]


def test_vault_in_third_region_warns_per_2017_rule(estate, tmp_path):
    estate.files["vaults.json"]["value"][0]["location"] = "westus"
    [finding] = estate.run(tmp_path, "ASR-STO-001")
    assert finding.status == "warn" and "2017" in finding.message


def test_cache_in_source_region_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-STO-002")) == ["pass"]


def test_chosen_cache_in_other_region_fails_and_blocks_vms(estate, tmp_path):
    estate.files["storage-accounts.json"][0]["location"] = "westus2"
    result = estate.check(tmp_path, cache_accounts=("contosoasrcache",))
    [finding] = [f for f in result.findings if f.rule == "ASR-STO-002"]
    assert finding.status == "fail" and "West US 2" in finding.message
    assert result.verdicts[0].verdict == "blocked"


def test_detected_cache_in_other_region_only_warns(estate, tmp_path):
    estate.files["storage-accounts.json"][0]["location"] = "westus2"
    assert statuses(estate.run(tmp_path, "ASR-STO-002")) == ["warn"]


def test_chosen_cache_not_exported_is_unknown(estate, tmp_path):
    findings = estate.run(tmp_path, "ASR-STO-002", cache_accounts=("nosuchaccount",))
    assert statuses(findings) == ["unknown"]


def test_cache_rules_unknown_without_storage_export(estate, tmp_path):
    estate.drop("storage-accounts.json", "blob-services.json")
    assert statuses(estate.run(tmp_path, "ASR-STO-002")) == ["unknown"]
    assert statuses(estate.run(tmp_path, "ASR-STO-006")) == ["unknown"]


@pytest.mark.parametrize("rule", ["ASR-STO-002", "ASR-STO-006", "ASR-NET-004"])
def test_cache_rules_say_why_the_storage_export_is_not_whole(estate, tmp_path, rule):
    """Unknown names the real reason: not exported, or a record the boundary left out."""
    estate.drop("storage-accounts.json", "blob-services.json")
    [absent] = estate.run(tmp_path / "a", rule)
    assert absent.message == "storage accounts: they were not exported"
    estate.files["storage-accounts.json"] = [
        estate.storage("contosoasrcache", "eastus"),
        estate.storage("oddone", "eastus2(stage)"),
    ]
    [odd] = estate.run(tmp_path / "b", rule)
    assert odd.status == "unknown"
    assert odd.message.startswith("storage accounts: 1 of them could not be read (first: ")
    assert "eastus2(stage)" in odd.message


def test_premium_target_india_passes_elsewhere(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-STO-003")) == ["pass"]


def test_premium_target_india_warns_with_doc_date(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-STO-003", target_region="centralindia")
    assert finding.status == "warn" and "WT-PREREQ-2017" in finding.message


def test_disk_sizes_pass(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-STO-004")) == ["pass"]


def test_disk_under_1_gib_fails_150172(estate, tmp_path):
    estate.vm1["storageProfile"]["dataDisks"] = [
        {"lun": 0, "name": "tiny", "diskSizeGB": 0.5, "vhd": {"uri": "https://x/vhds/tiny.vhd"}}
    ]
    [finding] = estate.run(tmp_path, "ASR-STO-004")
    assert (finding.status, finding.asr_error_code) == ("fail", 150172)


def test_oversized_data_disk_fails(estate, tmp_path):
    estate.vm1["storageProfile"]["dataDisks"] = [
        {
            "lun": 0,
            "name": "big",
            "diskSizeGB": 40960,
            "managedDisk": {"storageAccountType": "PremiumV2_LRS"},
        }
    ]
    [finding] = estate.run(tmp_path, "ASR-STO-007")
    assert finding.status == "fail" and "40960 GiB" in finding.message
    assert finding.asr_error_code is None  # 150172 is the under-1-GiB error only
    assert statuses(estate.run(tmp_path, "ASR-STO-004")) == ["pass"]


def test_disk_size_unknown_when_not_exported(estate, tmp_path):
    estate.drop("disks.json")
    del estate.vm1["storageProfile"]["osDisk"]["diskSizeGb"]
    assert statuses(estate.run(tmp_path, "ASR-STO-004")) == ["unknown"]
    assert statuses(estate.run(tmp_path, "ASR-STO-007")) == ["unknown"]


def test_too_many_data_disks_fail(estate, tmp_path):
    estate.vm1["storageProfile"]["dataDisks"] = [
        {
            "lun": n,
            "name": f"d{n}",
            "diskSizeGB": 8,
            "managedDisk": {"storageAccountType": "Premium_LRS"},
        }
        for n in range(65)
    ]
    [finding] = estate.run(tmp_path, "ASR-STO-007")
    assert finding.status == "fail" and "65 data disks, over the 64" in finding.message


def test_supported_disks_pass(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-STO-005")) == ["pass"]


@pytest.mark.parametrize(
    ("disk", "words"),
    [
        (
            {"managedDisk": {"storageAccountType": "Premium_LRS"}, "writeAcceleratorEnabled": True},
            "Write Accelerator",
        ),
        ({"vhd": {"uri": "https://legacy.blob.core.windows.net/vhds/d.vhd"}}, "unmanaged"),
    ],
)
def test_unsupported_data_disks_fail(estate, tmp_path, disk, words):
    estate.vm1["storageProfile"]["dataDisks"] = [{"lun": 0, "name": "d", "diskSizeGB": 64, **disk}]
    [finding] = estate.run(tmp_path, "ASR-STO-005")
    assert finding.status == "fail" and words in finding.message and "SM-202" in finding.message


def test_ephemeral_os_disk_fails(estate, tmp_path):
    os_disk = estate.vm1["storageProfile"]["osDisk"]
    os_disk["diffDiskSettings"] = {"option": "Local", "placement": "CacheDisk"}
    del os_disk["managedDisk"]
    [finding] = estate.run(tmp_path, "ASR-STO-005")
    assert finding.status == "fail" and "ephemeral" in finding.message


@pytest.mark.parametrize("sku", ["UltraSSD_LRS", "PremiumV2_LRS"])
def test_ultra_and_premium_v2_replicate_region_to_region_but_not_with_china_north(
    estate, tmp_path, sku
):
    """SM-2026: both supported, except in China North and China East (no Block Blob accounts)."""
    estate.vm1["storageProfile"]["dataDisks"] = [
        {"lun": 0, "name": "d1", "diskSizeGB": 64, "managedDisk": {"storageAccountType": sku}}
    ]
    assert statuses(estate.run(tmp_path / "a", "ASR-STO-005")) == ["pass"]
    [finding] = estate.run(tmp_path / "b", "ASR-STO-005", target_region="chinanorth")
    assert finding.status == "fail" and "not supported in chinanorth" in finding.message
    assert "SM-2026" in finding.message


def test_disk_kind_unknown_without_a_sku_anywhere(estate, tmp_path):
    estate.drop("disks.json")
    del estate.vm1["storageProfile"]["osDisk"]["managedDisk"]["storageAccountType"]
    [kinds] = estate.run(tmp_path, "ASR-STO-005")
    [india] = estate.run(tmp_path, "ASR-STO-003", target_region="centralindia")
    for finding in (kinds, india):
        assert finding.status == "unknown" and "az disk list" in finding.remedy, finding.rule


def test_cache_settings_pass(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-STO-006")) == ["pass"]


def test_chosen_cache_with_shared_key_disabled_fails(estate, tmp_path):
    estate.files["storage-accounts.json"][0]["allowSharedKeyAccess"] = False
    [finding] = estate.run(tmp_path, "ASR-STO-006", cache_accounts=("contosoasrcache",))
    assert finding.status == "fail" and "shared key" in finding.message
    assert "--allow-shared-key-access true" in finding.remedy
    assert "--enable-delete-retention" not in finding.remedy  # soft delete is already off


def test_chosen_cache_with_soft_delete_fails(estate, tmp_path):
    policy = estate.files["blob-services.json"]["value"][0]["properties"]["deleteRetentionPolicy"]
    policy["enabled"] = True
    [finding] = estate.run(tmp_path, "ASR-STO-006", cache_accounts=("contosoasrcache",))
    assert finding.status == "fail" and "soft delete" in finding.message


def test_gpv1_cache_warns(estate, tmp_path):
    estate.files["storage-accounts.json"][0]["kind"] = "Storage"
    assert statuses(estate.run(tmp_path, "ASR-STO-006")) == ["warn"]


def test_cache_soft_delete_unknown_without_blob_services(estate, tmp_path):
    estate.drop("blob-services.json")
    [finding] = estate.run(tmp_path, "ASR-STO-006")
    assert finding.status == "unknown" and "blob-service-properties show" in finding.remedy


def test_an_uploaded_disk_under_1_gib_fails_by_its_exact_size(estate, tmp_path):
    """A 512 MiB upload reports diskSizeGB 1 (rounded up): only diskSizeBytes tells (150172)."""
    disk = estate.files["disks.json"][0]
    disk["diskSizeGb"], disk["diskSizeBytes"] = 1, 512 * 2**20
    [finding] = estate.run(tmp_path, "ASR-STO-004")
    assert finding.status == "fail" and finding.asr_error_code == 150172
    assert "512 MiB (diskSizeBytes 536870912)" in finding.message


def test_sizes_say_whether_they_were_exact(estate, tmp_path):
    estate.files["disks.json"][0]["diskSizeBytes"] = 30 * 2**30
    [finding] = estate.run(tmp_path, "ASR-STO-004")
    assert (
        finding.status == "pass" and "1 by exact size in bytes, 0 by diskSizeGB" in finding.message
    )
