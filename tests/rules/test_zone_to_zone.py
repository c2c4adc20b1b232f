"""Zone-to-zone disaster recovery (source and target in one region), rule by rule: pass, fail,
unknown, and a skip for region-to-region questions."""

from __future__ import annotations

import pytest

from asr_preflight.knowledge.regions import zone_to_zone_rules
from builders import Estate, rid, statuses

Z2Z = {"target_region": "eastus", "target_zone": "2"}


def zonal(estate: Estate, zone: str = "1") -> Estate:
    estate.vm1["zones"] = [zone]
    return estate


def test_region_on_the_zone_to_zone_list_passes(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-SUB-003", **Z2Z)
    assert finding.status == "pass" and "zone to zone 2" in finding.message


@pytest.mark.parametrize(
    ("region", "status", "words"),
    [
        ("westus", "fail", "does not offer zone-to-zone"),
        ("polandcentral", "pass", "not in the list of 2022-03-23"),
        ("swedencentral", "warn", "managed access"),
    ],
)
def test_the_zone_to_zone_list_and_its_history(region, status, words):
    [rule] = zone_to_zone_rules(region)
    assert rule.status == status and words in rule.message
    assert rule.source == "Z2Z-2023"


def test_eastus_is_offered_without_a_note():
    assert zone_to_zone_rules("eastus") == []


def test_region_to_region_questions_skip_the_zone_rules(estate, tmp_path):
    for rule in ("ASR-Z2Z-001", "ASR-Z2Z-002", "ASR-Z2Z-003", "ASR-Z2Z-004", "ASR-Z2Z-005"):
        assert statuses(estate.run(tmp_path / rule, rule)) == ["skip"]


def test_regional_vm_cannot_go_to_a_zone_of_its_region(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-Z2Z-001", **Z2Z)
    assert finding.status == "fail" and "not in an availability zone" in finding.message


def test_zonal_vm_to_another_zone_passes_and_into_its_own_zone_fails(estate, tmp_path):
    zonal(estate, "1")
    assert statuses(estate.run(tmp_path / "a", "ASR-Z2Z-001", **Z2Z)) == ["pass"]
    zonal(estate, "2")
    [finding] = estate.run(tmp_path / "b", "ASR-Z2Z-001", **Z2Z)
    assert finding.status == "fail" and "already runs in zone 2" in finding.message


@pytest.mark.parametrize(
    ("sku", "words"),
    [("Premium_ZRS", "zone-redundant"), ("UltraSSD_LRS", "Ultra disk")],
)
def test_zrs_and_ultra_disks_fail(estate, tmp_path, sku, words):
    estate.files["disks.json"] = [estate.disk("vm1-osdisk", 30, sku)]
    [finding] = estate.run(tmp_path, "ASR-Z2Z-002", **zonal(estate) and Z2Z)
    assert finding.status == "fail" and words in finding.message


def test_unmanaged_disk_fails_and_lrs_passes(estate, tmp_path):
    zonal(estate)
    assert statuses(estate.run(tmp_path / "a", "ASR-Z2Z-002", **Z2Z)) == ["pass"]
    os_disk = estate.vm1["storageProfile"]["osDisk"]
    del os_disk["managedDisk"]
    os_disk["vhd"] = {"uri": "https://contosovhds.blob.core.windows.net/vhds/vm1.vhd"}
    [finding] = estate.run(tmp_path / "b", "ASR-Z2Z-002", **Z2Z)
    assert finding.status == "fail" and "unmanaged" in finding.message


def test_disk_redundancy_unknown_without_the_disk_or_its_type(estate, tmp_path):
    zonal(estate)
    del estate.vm1["storageProfile"]["osDisk"]["managedDisk"]["storageAccountType"]
    estate.files["disks.json"] = []
    assert statuses(estate.run(tmp_path, "ASR-Z2Z-002", **Z2Z)) == ["unknown"]


def test_vm_without_its_storage_profile_is_unknown(estate, tmp_path):
    zonal(estate)
    del estate.vm1["storageProfile"]
    assert statuses(estate.run(tmp_path, "ASR-Z2Z-002", **Z2Z)) == ["unknown"]


def test_second_ip_configuration_fails(estate, tmp_path):
    zonal(estate)
    assert statuses(estate.run(tmp_path / "a", "ASR-Z2Z-003", **Z2Z)) == ["pass"]
    nic = estate.files["nics.json"][0]
    nic["ipConfigurations"].append({"name": "ipconfig2", "subnet": {"id": estate.subnet_id}})
    [finding] = estate.run(tmp_path / "b", "ASR-Z2Z-003", **Z2Z)
    assert finding.status == "fail" and "vm1-nic (2)" in finding.message


def test_ip_configurations_unknown_when_the_nic_is_not_exported(estate, tmp_path):
    zonal(estate)
    estate.files["nics.json"] = []
    assert statuses(estate.run(tmp_path, "ASR-Z2Z-003", **Z2Z)) == ["unknown"]


def test_target_resource_group_must_differ_from_the_source(estate, tmp_path):
    zonal(estate)
    assert statuses(estate.run(tmp_path / "a", "ASR-Z2Z-004", **Z2Z)) == ["pass"]
    same = estate.run(tmp_path / "b", "ASR-Z2Z-004", target_resource_group="rg-app", **Z2Z)
    assert statuses(same) == ["fail"]


def test_free_addresses_for_same_ip_failover(estate, tmp_path):
    zonal(estate)
    assert statuses(estate.run(tmp_path / "a", "ASR-Z2Z-005", **Z2Z)) == ["pass"]
    subnet = estate.files["vnets.json"][0]["subnets"][0]
    subnet["addressPrefix"] = "10.0.0.0/29"  # 8 addresses, 5 reserved by Azure: 3 usable
    estate.files["nics.json"] += [
        {
            "id": rid("rg-app", "Microsoft.Network", f"networkInterfaces/other{n}"),
            "name": f"other{n}",
            "location": "eastus",
            "type": "Microsoft.Network/networkInterfaces",
            "ipConfigurations": [{"name": "ipconfig1", "subnet": {"id": estate.subnet_id}}],
        }
        for n in range(2)
    ]
    [finding] = estate.run(tmp_path / "b", "ASR-Z2Z-005", **Z2Z)
    assert finding.status == "warn" and "0 free addresses (of 3" in finding.message


def test_free_addresses_unknown_without_the_nic_export(estate, tmp_path):
    zonal(estate)
    estate.drop("nics.json")
    assert statuses(estate.run(tmp_path, "ASR-Z2Z-005", **Z2Z)) == ["unknown"]


def test_the_vault_in_the_region_itself_is_right_for_zone_to_zone(estate, tmp_path):
    zonal(estate)
    estate.files["vaults.json"]["value"][0]["location"] = "eastus"
    region_to_region = estate.run(tmp_path / "a", "ASR-VAULT-002", vault_id="rsv-dr")
    assert statuses(region_to_region) == ["fail"]  # the same vault cannot protect a region pair
    assert statuses(estate.run(tmp_path / "b", "ASR-VAULT-002", vault_id="rsv-dr", **Z2Z)) == [
        "pass"
    ]


def test_target_size_is_checked_in_the_target_zone(estate, tmp_path):
    """A size restricted in the target zone is not the size ASR can use there."""
    zonal(estate)
    [source_sku] = [s for s in estate.files["skus-eastus.json"] if s["name"] == "Standard_D2s_v5"]
    source_sku["restrictions"] = [
        {
            "type": "Zone",
            "values": ["eastus"],
            "reasonCode": "NotAvailableForSubscription",
            "restrictionInfo": {"locations": ["eastus"], "zones": ["2"]},
        }
    ]
    [finding] = estate.run(tmp_path, "ASR-CAP-001", **Z2Z)
    assert finding.status != "pass" and "zone 2" in finding.message


def test_a_capacity_reservation_is_asked_for_in_the_target_zone(estate, tmp_path):
    zonal(estate)
    estate.vm1["capacityReservation"] = {
        "capacityReservationGroup": {
            "id": rid("rg-app", "Microsoft.Compute", "capacityReservationGroups/crg")
        }
    }
    [finding] = estate.run(tmp_path, "ASR-CAP-004", **Z2Z)
    assert finding.status == "warn"
    assert "reserve capacity in zone 2 of East US" in finding.message
