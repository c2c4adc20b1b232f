from builders import sku, statuses


def test_same_size_passes(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-CAP-001")
    assert finding.status == "pass" and "Standard_D2s_v5 is offered in Central US" in (
        finding.message
    )


def test_restricted_size_gets_the_closest_fitting_size_same_family_first(estate, tmp_path):
    estate.files["skus-centralus.json"] = [
        sku("Standard_D2s_v5", "standardDSv5Family", 2, 8, "centralus", restricted=True),
        sku("Standard_D4s_v5", "standardDSv5Family", 4, 16, "centralus"),
        sku("Standard_E2s_v5", "standardESv5Family", 2, 16, "centralus"),
    ]
    [finding] = estate.run(tmp_path, "ASR-CAP-001")
    assert finding.status == "warn"
    assert "NotAvailableForSubscription" in finding.message
    assert "Standard_D4s_v5 (same family, 4 vCPUs, 16 GiB)" in finding.message


def test_size_not_offered_takes_another_family(estate, tmp_path):
    estate.files["skus-centralus.json"] = [
        sku("Standard_E4s_v5", "standardESv5Family", 4, 32, "centralus")
    ]
    [finding] = estate.run(tmp_path, "ASR-CAP-001")
    assert finding.status == "warn" and "not offered in Central US" in finding.message
    assert "Standard_E4s_v5 (another family" in finding.message


def test_no_size_fits_fails_150097_naming_the_blocking_need(estate, tmp_path):
    small = sku("Standard_D2s_v5", "standardDSv5Family", 2, 8, "centralus")
    small["capabilities"] = [c for c in small["capabilities"] if c["name"] != "PremiumIO"]
    small["capabilities"].append({"name": "PremiumIO", "value": "False"})
    estate.files["skus-centralus.json"] = [small]
    [finding] = estate.run(tmp_path, "ASR-CAP-001")
    assert (finding.status, finding.asr_error_code) == ("fail", 150097)
    assert "no size in Central US allows premium disks" in finding.message


def test_more_nics_than_any_size_allows(estate, tmp_path):
    nic = estate.vm1["networkProfile"]["networkInterfaces"][0]
    estate.vm1["networkProfile"]["networkInterfaces"] = [
        {**nic, "id": nic["id"] + str(i)} for i in range(5)
    ]
    [finding] = estate.run(tmp_path, "ASR-CAP-001")
    assert finding.status == "fail" and "allows 5 NICs" in finding.message


def test_zone_without_the_size_in_it_rules_the_size_out(estate, tmp_path):
    estate.vm1["zones"] = ["3"]
    estate.files["skus-centralus.json"][0]["locationInfo"][0]["zones"] = ["1", "2"]
    [finding] = estate.run(tmp_path, "ASR-CAP-001")
    assert finding.status == "fail" and "zone 3" in finding.message


def test_size_unknown_without_target_skus(estate, tmp_path):
    estate.drop("skus-centralus.json")
    [finding] = estate.run(tmp_path, "ASR-CAP-001")
    assert finding.status == "unknown" and "az vm list-skus -l centralus" in finding.remedy


def test_ranking_unknown_without_the_source_size(estate, tmp_path):
    estate.drop("skus-eastus.json")
    estate.files["skus-centralus.json"] = [
        sku("Standard_E4s_v5", "standardESv5Family", 4, 32, "centralus")
    ]
    [finding] = estate.run(tmp_path, "ASR-CAP-001")
    assert finding.status == "unknown" and "-l eastus" in finding.remedy


def test_quota_passes_per_family_total_and_vm_count(estate, tmp_path):
    findings = estate.run(tmp_path, "ASR-CAP-002")
    assert {f.resource_id.rsplit("/", 1)[-1]: f.status for f in findings} == {
        "cores": "pass",
        "standardDSv5Family": "pass",
        "virtualMachines": "pass",
    }


def test_several_vms_compete_for_the_family_quota(estate, tmp_path):
    estate.files["vms.json"] += [estate.vm("vm2"), estate.vm("vm3")]
    usages = estate.files["usages-centralus.json"]
    usages[2].update(currentValue=46, limit=50)  # 4 vCPUs free, 3 VMs need 6
    [family] = [f for f in estate.run(tmp_path, "ASR-CAP-002") if "Family" in f.resource_id]
    assert family.status == "fail" and family.asr_error_code == 150097
    assert "3 VMs need 6, 4 free (limit 50, used 46)" in family.message
    assert "raised to 52" in family.remedy and "value=52" in family.remedy
    assert len(family.affected_vms) == 3


def test_quota_counts_the_chosen_size_not_the_source_size(estate, tmp_path):
    estate.files["skus-centralus.json"] = [
        sku("Standard_E4s_v5", "standardESv5Family", 4, 32, "centralus")
    ]
    estate.files["usages-centralus.json"].append(
        {"currentValue": 0, "limit": 2, "name": {"value": "standardESv5Family"}}
    )
    [family] = [f for f in estate.run(tmp_path, "ASR-CAP-002") if "Family" in f.resource_id]
    assert family.resource_id.endswith("/standardESv5Family") and family.status == "fail"


def test_quota_unknown_without_usages(estate, tmp_path):
    estate.drop("usages-centralus.json")
    findings = estate.run(tmp_path, "ASR-CAP-002")
    assert set(statuses(findings)) == {"unknown"}
    assert "az vm list-usage -l centralus" in findings[0].remedy


def _network_usages(estate, vnets_free, nics_free):
    sub = "11111111-1111-4111-8111-111111111111"
    estate.files["network-usages.json"] = [
        {
            "currentValue": float(1000 - free),
            "limit": 1000.0,
            "unit": "Count",
            "id": f"/subscriptions/{sub}/providers/Microsoft.Network/locations/centralus/usages/"
            f"{name}",
            "name": {"value": name, "localizedValue": name},
        }
        for name, free in (("VirtualNetworks", vnets_free), ("NetworkInterfaces", nics_free))
    ]


def test_network_quota_passes_and_fails(estate, tmp_path):
    _network_usages(estate, vnets_free=5, nics_free=5)
    assert statuses(estate.run(tmp_path, "ASR-CAP-003")) == ["pass", "pass"]
    _network_usages(estate, vnets_free=0, nics_free=5)
    findings = {f.resource_id.rsplit("/", 1)[-1]: f for f in estate.run(tmp_path, "ASR-CAP-003")}
    assert findings["VirtualNetworks"].status == "fail"
    assert "Microsoft.Network/locations/centralus" in findings["VirtualNetworks"].remedy


def test_network_quota_unknown_without_network_usages(estate, tmp_path):
    findings = estate.run(tmp_path, "ASR-CAP-003")
    assert set(statuses(findings)) == {"unknown"}
    assert "az network list-usages -l centralus" in findings[0].remedy


def test_zone_kept_when_the_target_has_zones(estate, tmp_path):
    estate.vm1["zones"] = ["2"]
    [finding] = estate.run(tmp_path, "ASR-CAP-004")
    assert finding.status == "pass" and "zone 2" in finding.message


def test_zonal_vm_into_a_region_without_zones_warns(estate, tmp_path):
    estate.vm1["zones"] = ["2"]
    estate.files["skus-westcentralus.json"] = [
        sku("Standard_D2s_v5", "standardDSv5Family", 2, 8, "westcentralus")
    ]
    estate.files["skus-westcentralus.json"][0]["locationInfo"][0]["zones"] = []
    [finding] = estate.run(tmp_path, "ASR-CAP-004", target_region="westcentralus")
    assert finding.status == "warn" and "single instance" in finding.message


def test_capacity_reservation_does_not_carry_over(estate, tmp_path):
    estate.vm1["capacityReservation"] = {
        "capacityReservationGroup": {
            "id": "/subscriptions/x/resourceGroups/r/providers/Microsoft.Compute/"
            "capacityReservationGroups/crg"
        }
    }
    assert statuses(estate.run(tmp_path, "ASR-CAP-004")) == ["warn"]


def _large_source(estate):
    estate.vm1["hardwareProfile"]["vmSize"] = "Standard_E64s_v5"
    estate.files["skus-eastus.json"].append(
        sku("Standard_E64s_v5", "standardESv5Family", 64, 512, "eastus")
    )


def test_a_smaller_size_warns_with_the_ratio_and_the_sizes_that_keep_the_capacity(estate, tmp_path):
    _large_source(estate)
    estate.files["skus-centralus.json"] = [
        sku("Standard_E8s_v5", "standardESv5Family", 8, 64, "centralus"),
        sku("Standard_D64s_v5", "standardDSv5Family", 64, 256, "centralus"),
        sku("Standard_M64s", "standardMSFamily", 64, 1024, "centralus"),
        sku("Standard_E64ds_v5", "standardEDSv5Family", 64, 512, "centralus"),
    ]
    estate.files["usages-centralus.json"].append(
        {"currentValue": 10, "limit": 100, "name": {"value": "standardEDSv5Family"}}
    )
    [finding] = estate.run(tmp_path, "ASR-CAP-001")
    assert finding.status == "warn" and "Standard_E8s_v5 (same family" in finding.message
    assert "1/8 of the vCPUs (8 of 64) and 1/8 of the memory (64 of 512 GiB)" in finding.message
    # any family, nearest first; D64s_v5 has the vCPUs but not the memory, so it is not named
    larger = finding.message[finding.message.index("keep them:") :]
    assert larger.index("Standard_E64ds_v5") < larger.index("Standard_M64s")
    assert "Standard_D64s_v5" not in larger
    assert "standardEDSv5Family: 90 free" in larger
    assert "standardMSFamily: free quota not exported" in larger
    assert "set the target size to Standard_E64ds_v5" in finding.remedy


def test_a_smaller_size_with_nothing_larger_says_so(estate, tmp_path):
    _large_source(estate)
    estate.files["skus-centralus.json"] = [
        sku("Standard_E8s_v5", "standardESv5Family", 8, 64, "centralus"),
        sku("Standard_E48s_v5", "standardESv5Family", 48, 384, "centralus"),
    ]
    [finding] = estate.run(tmp_path, "ASR-CAP-001")
    assert finding.status == "warn"
    assert "75% of the vCPUs (48 of 64) and 75% of the memory" in finding.message
    assert "no size offered in Central US keeps them" in finding.message
