import pytest

from builders import G2, statuses


def test_provisioning_succeeded_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-VM-001")) == ["pass"]


def test_failed_provisioning_fails_150019(estate, tmp_path):
    estate.vm1["provisioningState"] = "Failed"
    [finding] = estate.run(tmp_path, "ASR-VM-001")
    assert (finding.status, finding.asr_error_code) == ("fail", 150019)


def test_provisioning_unknown_when_not_exported(estate, tmp_path):
    del estate.vm1["provisioningState"]
    assert statuses(estate.run(tmp_path, "ASR-VM-001")) == ["unknown"]


def _with_instance_view(estate, agent_status: str) -> None:
    """The same VM again as a REST page with its instance view, as $expand=instanceView gives."""
    vm = estate.vm1
    estate.files["vms-rest.json"] = {
        "value": [
            {
                "id": vm["id"],
                "name": vm["name"],
                "type": vm["type"],
                "location": "eastus",
                "properties": {
                    "vmId": vm["vmId"],
                    "instanceView": {
                        "vmAgent": {
                            "vmAgentVersion": "2.7.41491.1102",
                            "statuses": [
                                {
                                    "code": "ProvisioningState/succeeded",
                                    "displayStatus": agent_status,
                                }
                            ],
                        },
                        "statuses": [{"code": "PowerState/running", "displayStatus": "VM running"}],
                    },
                },
            }
        ],
        "nextLink": None,
    }


def test_agent_ready_from_instance_view_passes(estate, tmp_path):
    estate.drop("guest/vm1.json")
    _with_instance_view(estate, "Ready")
    assert statuses(estate.run(tmp_path, "ASR-VM-002")) == ["pass"]


def test_agent_not_ready_fails_with_linux_code(estate, tmp_path):
    estate.drop("guest/vm1.json")
    _with_instance_view(estate, "Not Ready")
    [finding] = estate.run(tmp_path, "ASR-VM-002")
    assert (finding.status, finding.asr_error_code) == ("fail", 151095)
    assert "waagent" in finding.remedy


def test_deallocated_vm_fails(estate, tmp_path):
    estate.vm1["powerState"] = "VM deallocated"
    assert statuses(estate.run(tmp_path, "ASR-VM-002")) == ["fail"]


def test_agent_unknown_without_instance_view_or_guest(estate, tmp_path):
    estate.drop("guest/vm1.json")
    [finding] = estate.run(tmp_path, "ASR-VM-002")
    assert finding.status == "unknown" and "get-instance-view" in finding.remedy


def test_supported_os_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-VM-003")) == ["pass"]


@pytest.mark.parametrize(
    ("os_facts", "status"),
    [
        ({"family": "linux", "distro_id": "ubuntu", "version": "12.04"}, "fail"),
        ({"family": "linux", "distro_id": "debian", "version": "9.0"}, "fail"),
        ({"family": "linux", "distro_id": "rhel", "version": "8.6"}, "pass"),
        ({"family": "linux", "distro_id": "centos", "version": "7.9"}, "fail"),  # gone from SM-2025
        ({"family": "linux", "distro_id": "rhel", "version": "10.1"}, "pass"),  # new in SM-2026
        ({"family": "linux", "distro_id": "sles", "version": "15.7"}, "pass"),
        ({"family": "linux", "distro_id": "rocky", "version": "9.7"}, "pass"),
        ({"family": "linux", "distro_id": "sles", "version": "12.6"}, "warn"),  # dropped, unsaid
        ({"family": "windows", "pretty_name": "Windows Server 2008 Datacenter SP2"}, "fail"),
        ({"family": "windows", "pretty_name": "Windows Server 2008 R2 Datacenter"}, "pass"),
        ({"family": "windows", "pretty_name": "Windows Server 2022 Datacenter"}, "pass"),
    ],
)
def test_os_from_guest_facts(estate, tmp_path, os_facts, status):
    estate.files["guest/vm1.json"]["os"] = os_facts
    assert statuses(estate.run(tmp_path, "ASR-VM-003")) == [status]


def test_os_from_marketplace_image_when_no_guest_facts(estate, tmp_path):
    estate.drop("guest/vm1.json")
    estate.vm1["storageProfile"]["imageReference"] = {
        "publisher": "RedHat",
        "offer": "RHEL",
        "sku": "8_6",
        "version": "latest",
    }
    [finding] = estate.run(tmp_path, "ASR-VM-003")
    assert finding.status == "pass" and "8.6" in finding.message


def test_os_unknown_for_specialized_vm_without_guest_facts(estate, tmp_path):
    estate.drop("guest/vm1.json")
    del estate.vm1["storageProfile"]["imageReference"]
    [finding] = estate.run(tmp_path, "ASR-VM-003")
    assert finding.status == "unknown" and "--guest-dir" in finding.remedy


def test_placement_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-VM-004")) == ["pass"]


def test_dedicated_host_fails(estate, tmp_path):
    estate.vm1["host"] = {
        "id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/"
        "hostGroups/hg/hosts/h1"
    }
    assert statuses(estate.run(tmp_path, "ASR-VM-004")) == ["fail"]


def test_roots_present_pass(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-VM-005")) == ["pass"]


def test_missing_root_fails_151066_with_distro_remedy(estate, tmp_path):
    roots = estate.files["guest/vm1.json"]["trusted_roots"]["sha1"]
    roots.remove(G2)
    [finding] = estate.run(tmp_path, "ASR-VM-005")
    assert (finding.status, finding.asr_error_code) == ("fail", 151066)
    assert "DigiCert Global Root G2" in finding.message
    assert "ca-certificates" in finding.remedy


def test_untrusted_endpoint_fails(estate, tmp_path):
    estate.files["guest/vm1.json"]["endpoints"] = [
        {
            "host": "login.microsoftonline.com",
            "port": 443,
            "resolved": True,
            "connected": True,
            "tls_verified": False,
            "error": "certificate verify failed",
        }
    ]
    assert statuses(estate.run(tmp_path, "ASR-VM-005")) == ["fail"]


def test_missing_ecc_root_only_warns(estate, tmp_path):
    roots = estate.files["guest/vm1.json"]["trusted_roots"]["sha1"]
    roots.remove("999a64c37ff47d9fab95f14769891460eec4c3c5")
    assert statuses(estate.run(tmp_path, "ASR-VM-005")) == ["warn"]


def test_roots_unknown_without_guest_facts(estate, tmp_path):
    estate.drop("guest/vm1.json")
    [finding] = estate.run(tmp_path, "ASR-VM-005")
    assert finding.status == "unknown" and "--guest-dir" in finding.remedy


def test_guest_facts_of_a_namesake_with_another_vm_id_do_not_count(estate, tmp_path):
    estate.files["guest/vm1.json"]["vm"]["vm_id"] = "not-this-vm"
    assert statuses(estate.run(tmp_path, "ASR-VM-005")) == ["unknown"]


def test_guest_facts_without_vm_id_match_by_name(estate, tmp_path):
    del estate.files["guest/vm1.json"]["vm"]["vm_id"]
    assert statuses(estate.run(tmp_path, "ASR-VM-005")) == ["pass"]


def test_minimum_size_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-VM-006")) == ["pass"]


def test_one_vcpu_size_fails(estate, tmp_path):
    from builders import sku

    estate.vm1["hardwareProfile"]["vmSize"] = "Standard_B1s"
    estate.files["skus-eastus.json"].append(sku("Standard_B1s", "standardBSFamily", 1, 1, "eastus"))
    [finding] = estate.run(tmp_path, "ASR-VM-006")
    assert finding.status == "fail" and "1 vCPU" in finding.message


def test_minimum_size_unknown_without_source_skus(estate, tmp_path):
    estate.drop("skus-eastus.json")
    assert statuses(estate.run(tmp_path, "ASR-VM-006")) == ["unknown"]


def test_resource_group_location_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-VM-007")) == ["pass"]


def test_resource_group_in_other_region_fails(estate, tmp_path):
    estate.files["resource-groups.json"][0]["location"] = "westus"
    assert statuses(estate.run(tmp_path, "ASR-VM-007")) == ["fail"]


def test_resource_group_unknown_without_export(estate, tmp_path):
    estate.drop("resource-groups.json")
    assert statuses(estate.run(tmp_path, "ASR-VM-007")) == ["unknown"]


# --- ASR-VM-008 ARM64 --------------------------------------------------------------------------


def _architecture(estate, value):
    [sku_record] = estate.files["skus-eastus.json"]
    for capability in sku_record["capabilities"]:
        if capability["name"] == "CpuArchitectureType":
            capability["value"] = value


def test_an_x64_size_passes_and_an_arm64_size_fails(estate, tmp_path):
    assert statuses(estate.run(tmp_path / "x64", "ASR-VM-008")) == ["pass"]
    _architecture(estate, "Arm64")
    [finding] = estate.run(tmp_path / "arm", "ASR-VM-008")
    assert finding.status == "fail" and "ARM64" in finding.message and "SM-2026" in finding.message


def test_architecture_unknown_without_the_size_in_the_export(estate, tmp_path):
    estate.files["skus-eastus.json"] = []
    assert statuses(estate.run(tmp_path, "ASR-VM-008")) == ["unknown"]
