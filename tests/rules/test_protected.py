"""VMs a vault already replicates: verdict `protected`, their health and their drift."""

from __future__ import annotations

from asr_preflight.findings import Verdict
from builders import rid, sku


def _protect(estate, **options):
    item = estate.protected_item(estate.vm1, **options)
    estate.files["protected-items.json"] = {"value": [item]}
    return item


def _verdict(estate, tmp_path):
    [verdict] = estate.check(tmp_path).verdicts
    return verdict


def test_a_protected_vm_is_not_checked_as_a_new_enablement(estate, tmp_path):
    _protect(estate)
    estate.drop("skus-centralus.json")  # would make a new enablement unknown
    result = estate.check(tmp_path)
    [verdict] = result.verdicts
    assert verdict.verdict is Verdict.PROTECTED and verdict.blocking == ()
    assert not [f for f in result.findings if f.rule == "ASR-CAP-001"]
    [health] = [f for f in result.findings if f.rule == "ASR-PROT-001"]
    assert health.status == "pass"
    assert "replicated by vault rsv-dr to Central US; health Normal" in health.message
    assert "already replicated by vault rsv-dr" in " ".join(result.context.plan.target.notes)


def test_resource_graph_rows_are_protected_items_too(estate, tmp_path):
    item = _protect(estate)
    row = {**item, "type": item["type"].lower(), "resourceGroup": "rg-dr", "location": ""}
    estate.files["protected-items.json"] = {"data": [row], "count": 1, "totalRecords": 1}
    assert _verdict(estate, tmp_path).verdict is Verdict.PROTECTED


def test_critical_health_fails_with_the_errors_asr_gives(estate, tmp_path):
    item = _protect(estate, health="Critical")
    item["properties"]["healthErrors"] = [
        {"errorCode": "153007", "errorMessage": "Replication is stuck.", "severity": "Error"}
    ]
    verdict = _verdict(estate, tmp_path)
    assert (verdict.verdict, verdict.blocking) == (Verdict.PROTECTED, ("ASR-PROT-001",))
    [health] = estate.run(tmp_path, "ASR-PROT-001")
    assert health.status == "fail" and "153007: Replication is stuck." in health.message


def test_warning_health_warns_and_missing_health_is_unknown(estate, tmp_path):
    item = _protect(estate, health="Warning")
    [health] = estate.run(tmp_path, "ASR-PROT-001")
    assert health.status == "warn"
    del item["properties"]["replicationHealth"]
    [health] = estate.run(tmp_path, "ASR-PROT-001")
    assert health.status == "unknown" and "az graph query" in health.remedy


def test_replicated_to_another_region_says_so(estate, tmp_path):
    item = _protect(estate)
    item["properties"]["providerSpecificDetails"]["recoveryFabricLocation"] = "West US 2"
    [health] = estate.run(tmp_path, "ASR-PROT-001")
    assert "to West US 2 (not Central US" in health.message


def test_a_vm_resized_since_protection_warns_that_its_replica_is_not(estate, tmp_path):
    _protect(estate, size="Standard_D2s_v5")
    estate.vm1["hardwareProfile"]["vmSize"] = "Standard_D8s_v5"
    estate.files["skus-eastus.json"].append(
        sku("Standard_D8s_v5", "standardDSv5Family", 8, 32, "eastus")
    )
    [drift] = estate.run(tmp_path, "ASR-PROT-002")
    assert drift.status == "warn"
    assert "the VM is Standard_D8s_v5 but its replica is still Standard_D2s_v5" in drift.message
    assert "(2 vCPUs where the VM now has 8)" in drift.message
    assert "Standard_D8s_v5" in drift.remedy


def test_same_size_passes_and_no_recorded_size_is_unknown(estate, tmp_path):
    item = _protect(estate)
    assert [f.status for f in estate.run(tmp_path, "ASR-PROT-002")] == ["pass"]
    del item["properties"]["providerSpecificDetails"]["recoveryAzureVMSize"]
    assert [f.status for f in estate.run(tmp_path, "ASR-PROT-002")] == ["unknown"]


def test_a_disk_attached_after_protection_is_not_replicated_153039(estate, tmp_path):
    _protect(estate)
    estate.vm1["storageProfile"]["dataDisks"].append(
        {
            "lun": 0,
            "name": "vm1-data0",
            "createOption": "Attach",
            "diskSizeGb": 128,
            "managedDisk": {
                "id": rid("rg-app", "Microsoft.Compute", "disks/vm1-data0"),
                "storageAccountType": "Premium_LRS",
            },
        }
    )
    [disks] = estate.run(tmp_path, "ASR-PROT-003")
    assert (disks.status, disks.asr_error_code) == ("warn", 153039)
    assert "not replicated: data disk vm1-data0" in disks.message


def test_every_disk_replicated_passes_and_unexported_disks_are_unknown(estate, tmp_path):
    item = _protect(estate)
    assert [f.status for f in estate.run(tmp_path, "ASR-PROT-003")] == ["pass"]
    del item["properties"]["providerSpecificDetails"]["protectedManagedDisks"]
    assert [f.status for f in estate.run(tmp_path, "ASR-PROT-003")] == ["unknown"]


def test_items_of_other_scenarios_are_not_estate_vms(estate, tmp_path):
    item = _protect(estate)
    item["properties"]["providerSpecificDetails"]["instanceType"] = "InMageRcm"
    assert _verdict(estate, tmp_path).verdict is not Verdict.PROTECTED
    assert not estate.check(tmp_path).context.estate.problems


def test_an_item_without_its_source_vm_is_an_input_problem(estate, tmp_path):
    item = _protect(estate)
    del item["properties"]["providerSpecificDetails"]["fabricObjectId"]
    result = estate.check(tmp_path)
    [problem] = result.context.estate.problems
    assert problem.path == "$.value[0].properties.providerSpecificDetails.fabricObjectId"
    assert result.verdicts[0].verdict is not Verdict.PROTECTED


def _site_recovery_extension():
    return {
        "id": rid("rg-app", "Microsoft.Compute", "virtualMachines/vm1/extensions/SiteRecovery"),
        "name": "SiteRecovery-Linux",
        "type": "Microsoft.Compute/virtualMachines/extensions",
        "location": "eastus",
        "publisher": "Microsoft.Azure.RecoveryServices.SiteRecovery",
        "typePropertiesType": "Linux",
        "typeHandlerVersion": "1.0",
    }


def test_a_site_recovery_extension_without_protected_items_is_unknown(estate, tmp_path):
    estate.files["vm-extensions.json"] = [_site_recovery_extension()]
    [finding] = estate.run(tmp_path, "ASR-PROT-004")
    assert finding.status == "unknown" and "may already replicate it" in finding.message
    estate.files["protected-items.json"] = {"value": []}
    [finding] = estate.run(tmp_path, "ASR-PROT-004")
    assert finding.status == "warn" and "left by an earlier replication" in finding.message
    estate.files["vm-extensions.json"] = []
    assert estate.run(tmp_path, "ASR-PROT-004") == []
