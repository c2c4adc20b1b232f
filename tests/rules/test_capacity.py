from builders import sku, statuses


def test_size_offered_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-CAP-001")) == ["pass"]


def test_restricted_size_warns_with_reason(estate, tmp_path):
    estate.files["skus-centralus.json"] = [
        sku("Standard_D2s_v5", "standardDSv5Family", 2, 8, "centralus", restricted=True)
    ]
    [finding] = estate.run(tmp_path, "ASR-CAP-001")
    assert finding.status == "warn" and "NotAvailableForSubscription" in finding.message


def test_size_not_offered_warns(estate, tmp_path):
    estate.files["skus-centralus.json"] = [
        sku("Standard_E4s_v5", "standardESv5Family", 4, 32, "centralus")
    ]
    assert statuses(estate.run(tmp_path, "ASR-CAP-001")) == ["warn"]


def test_size_unknown_without_target_skus(estate, tmp_path):
    estate.drop("skus-centralus.json")
    [finding] = estate.run(tmp_path, "ASR-CAP-001")
    assert finding.status == "unknown" and "az vm list-skus -l centralus" in finding.remedy


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
    assert "3 VMs need 6 vCPUs, 4 free" in family.message
    assert "value=52" in family.remedy
    assert len(family.affected_vms) == 3


def test_quota_unknown_without_usages(estate, tmp_path):
    estate.drop("usages-centralus.json")
    findings = estate.run(tmp_path, "ASR-CAP-002")
    assert set(statuses(findings)) == {"unknown"}
    assert "az vm list-usage -l centralus" in findings[0].remedy


def test_quota_unknown_when_target_size_unsettled(estate, tmp_path):
    estate.files["skus-centralus.json"][0]["restrictions"] = [
        {"type": "Location", "values": ["centralus"], "reasonCode": "NotAvailableForSubscription"}
    ]
    assert statuses(estate.run(tmp_path, "ASR-CAP-002")) == ["unknown"]
