import json

import msgspec
import pytest

from asr_preflight.errors import InputError
from asr_preflight.model import build_estate
from asr_preflight.snapshot import load_snapshot, write_snapshot
from builders import SUB, rid

VM_ID = rid("rg-app", "Microsoft.Compute", "virtualMachines/vm1")


def _write(folder, name, content):
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_rest_page_arg_result_and_rest_example_all_load(tmp_path):
    vm = {
        "id": VM_ID,
        "name": "vm1",
        "type": "Microsoft.Compute/virtualMachines",
        "location": "East US",
        "properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v5"}},
    }
    _write(tmp_path, "page.json", {"value": [vm], "nextLink": "https://management.azure.com/x"})
    _write(
        tmp_path,
        "graph.json",
        {
            "count": 1,
            "total_records": 1,
            "skip_token": None,
            "data": [
                {
                    **vm,
                    "id": VM_ID.replace("vm1", "vm2"),
                    "name": "vm2",
                    "type": "microsoft.compute/virtualmachines",
                    "location": "eastus",
                }
            ],
        },
    )
    _write(
        tmp_path,
        "example.json",
        {
            "parameters": {
                "subscriptionId": SUB,
                "location": "centralus",
                "api-version": "2024-07-01",
            },
            "responses": {
                "200": {
                    "body": {
                        "value": [
                            {
                                "name": {
                                    "value": "cores",
                                    "localizedValue": "Total Regional vCPUs",
                                },
                                "currentValue": 4,
                                "limit": 100,
                                "unit": "Count",
                            }
                        ]
                    }
                }
            },
        },
    )
    estate = build_estate(load_snapshot(tmp_path))
    assert {vm.name for vm in estate.vms.values()} == {"vm1", "vm2"}
    assert all(vm.location == "eastus" for vm in estate.vms.values())
    [usage] = estate.usages
    assert (usage.location, usage.name, usage.limit, usage.subscription_id) == (
        "centralus",
        "cores",
        100,
        SUB,
    )


def test_resource_graph_table_format_loads(tmp_path):
    _write(
        tmp_path,
        "arg.json",
        {
            "totalRecords": 1,
            "count": 1,
            "data": {
                "columns": [
                    {"name": "id", "type": "string"},
                    {"name": "type", "type": "string"},
                    {"name": "name", "type": "string"},
                    {"name": "location", "type": "string"},
                    {"name": "properties", "type": "object"},
                ],
                "rows": [
                    [
                        VM_ID,
                        "microsoft.compute/virtualmachines",
                        "vm1",
                        "eastus",
                        {"hardwareProfile": {"vmSize": "Standard_D2s_v5"}},
                    ]
                ],
            },
        },
    )
    assert next(iter(build_estate(load_snapshot(tmp_path)).vms.values())).name == "vm1"


def test_usage_region_from_file_name_or_wrapper(tmp_path):
    usage = {"currentValue": 1, "limit": 10, "name": {"value": "cores"}}
    _write(tmp_path, "usages-centralus.json", [usage])
    _write(tmp_path, "quota.json", {"location": "West US 2", "value": [usage]})
    regions = sorted(u.location for u in build_estate(load_snapshot(tmp_path)).usages)
    assert regions == ["centralus", "westus2"]


def test_usage_without_region_is_an_input_problem_not_a_guess(tmp_path):
    _write(tmp_path, "quota.json", [{"currentValue": 1, "limit": 10, "name": {"value": "cores"}}])
    estate = build_estate(load_snapshot(tmp_path))
    [problem] = estate.problems
    assert problem.file.endswith("quota.json") and "usages-<region>.json" in problem.expected
    assert estate.usages == []


@pytest.mark.parametrize("flat_first", [True, False])
def test_same_vm_from_two_exports_merges(tmp_path, flat_first):
    """Whatever the files' order, what either record has fills the other: az prints
    `"instanceView": null`, which must not hide the REST record's instance view."""
    flat = {
        "id": VM_ID,
        "name": "vm1",
        "type": "Microsoft.Compute/virtualMachines",
        "location": "eastus",
        "provisioningState": "Succeeded",
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "instanceView": None,
    }
    rest = {
        "id": VM_ID.upper(),
        "name": "vm1",
        "type": "Microsoft.Compute/virtualMachines",
        "location": "eastus",
        "properties": {
            "instanceView": {
                "vmAgent": {
                    "statuses": [{"code": "ProvisioningState/succeeded", "displayStatus": "Ready"}]
                }
            }
        },
    }
    _write(tmp_path, "a.json" if flat_first else "b.json", [flat])
    _write(tmp_path, "b.json" if flat_first else "a.json", {"value": [rest]})
    [vm] = build_estate(load_snapshot(tmp_path)).vms.values()
    assert (vm.size, vm.agent_status, vm.provisioning_state) == (
        "Standard_D2s_v5",
        "Ready",
        "Succeeded",
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"value": [1, 2]', "truncated"),
        ("", "empty file"),
        ("42", "expected a JSON object or a list of objects"),
        ("[" * 2000 + "]" * 2000, "nested at most"),
        (b'[{"name": "\xff"}]', "expected UTF-8 text: invalid byte at line 1, column 12"),
    ],
)
def test_a_file_that_is_not_json_stops_the_run_naming_it(tmp_path, content, expected):
    path = tmp_path / "bad\nname.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError) as err:
        load_snapshot(tmp_path)
    assert err.value.file.endswith("name.json") and expected in str(err.value)
    assert "\n" not in str(err.value), "the file name is escaped: one line"


@pytest.mark.parametrize(
    ("content", "path", "expected"),
    [
        ('[{"foo": 1}]', "$[0]", "expected an Azure resource"),
        ('{"value": ["x"]}', "$.value[0]", "expected a JSON object"),
        (
            '[{"id": "/subscriptions/x/resourceGroups/r/providers/Microsoft.Compute/'
            'virtualMachines/v", "type": "Microsoft.Compute/virtualMachines", "name": "v", '
            '"location": "atlantis", "hardwareProfile": {"vmSize": "Standard_D2s_v5"}}]',
            "$[0].location",
            "expected an Azure region name, found 'atlantis'",
        ),
    ],
)
def test_an_odd_record_is_an_input_problem_naming_file_and_path(tmp_path, content, path, expected):
    _write(tmp_path, "bad.json", content)
    _write(
        tmp_path,
        "rgs.json",
        [{"id": f"/subscriptions/{SUB}/resourceGroups/rg", "location": "eastus"}],
    )
    estate = build_estate(load_snapshot(tmp_path))
    [problem] = estate.problems
    assert problem.file.endswith("bad.json") and problem.path == path
    assert expected in problem.expected
    assert list(estate.resource_groups) == [f"/subscriptions/{SUB}/resourcegroups/rg"]


def test_malformed_json_reports_line_and_column(tmp_path):
    _write(tmp_path, "bad.json", '[\n  {"a": 1},\n  {"b": }\n]')
    with pytest.raises(InputError) as err:
        load_snapshot(tmp_path)
    assert "line 3, column 9" in str(err.value)


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(InputError, match=r"no \*\.json files"):
        load_snapshot(tmp_path)


def test_region_known_only_to_the_subscription_is_accepted(tmp_path):
    _write(
        tmp_path,
        "locations.json",
        [
            {
                "id": f"/subscriptions/{SUB}/locations/marsnorth",
                "name": "marsnorth",
                "displayName": "Mars North",
            }
        ],
    )
    _write(
        tmp_path,
        "rg.json",
        [
            {
                "id": f"/subscriptions/{SUB}/resourceGroups/r",
                "name": "r",
                "location": "marsnorth",
                "type": "Microsoft.Resources/resourceGroups",
            }
        ],
    )
    assert build_estate(load_snapshot(tmp_path)).resource_groups


def test_secrets_are_dropped_at_import(tmp_path):
    vm = {
        "id": VM_ID,
        "name": "vm1",
        "type": "Microsoft.Compute/virtualMachines",
        "location": "eastus",
        "properties": {
            "osProfile": {
                "computerName": "vm1",
                "customData": "c2VjcmV0",
                "adminPassword": "hunter2",
            }
        },
    }
    ext = {
        "id": VM_ID + "/extensions/ade",
        "name": "ade",
        "location": "eastus",
        "type": "Microsoft.Compute/virtualMachines/extensions",
        "properties": {"settings": {"VolumeType": "All"}, "protectedSettings": {"k": "v"}},
    }
    _write(tmp_path, "vms.json", [vm, ext])
    out = tmp_path / "snap.json"
    write_snapshot(load_snapshot(tmp_path), out)
    text = out.read_text()
    assert "c2VjcmV0" not in text and "hunter2" not in text and '"k"' not in text
    assert "VolumeType" in text and "computerName" in text


def test_snapshot_file_round_trip_keeps_records_and_meta(tmp_path, estate):
    folder = estate.write(tmp_path / "exports")
    snap = load_snapshot(folder)
    write_snapshot(snap, tmp_path / "snap.json")
    again = load_snapshot(tmp_path / "snap.json")
    decoded = {k: [msgspec.json.decode(r) for r in v] for k, v in again.records.items()}
    assert decoded == {k: [msgspec.json.decode(r) for r in v] for k, v in snap.records.items()}
    assert again.tenant_id == snap.tenant_id
    assert again.usages == snap.usages and sorted(again.present) == sorted(snap.present)


def test_snapshot_of_another_version_is_refused(tmp_path):
    _write(tmp_path, "snap.json", {"schema": "asr-preflight/snapshot", "version": 99})
    with pytest.raises(InputError, match="expected snapshot version 1, found 99"):
        load_snapshot(tmp_path / "snap.json")


def test_snapshot_with_wrong_field_type_names_the_field(tmp_path):
    _write(
        tmp_path,
        "snap.json",
        {"schema": "asr-preflight/snapshot", "version": 1, "subscriptions": "not-a-list"},
    )
    with pytest.raises(InputError) as err:
        load_snapshot(tmp_path / "snap.json")
    assert err.value.path == "$.subscriptions" and "array" in str(err.value)


def test_secrets_are_dropped_at_any_depth_and_sas_signatures_blanked(tmp_path):
    vmss = {
        "id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/"
        "virtualMachineScaleSets/ss",
        "name": "ss",
        "location": "eastus",
        "type": "Microsoft.Compute/virtualMachineScaleSets",
        "properties": {
            "virtualMachineProfile": {
                "osProfile": {
                    "adminPassword": "hunter2",
                    "customData": "c2VjcmV0",
                    "windowsConfiguration": {
                        "additionalUnattendContent": [
                            {"content": "<AutoLogon><Password>x</Password>"}
                        ]
                    },
                },
                "extensionProfile": {
                    "extensions": [
                        {
                            "name": "ade",
                            "properties": {
                                "settings": {"VolumeType": "All"},
                                "protectedSettings": {"AADClientSecret": "shh"},
                            },
                        }
                    ]
                },
                "diagnosticsProfile": {
                    "bootDiagnostics": {
                        "storageUri": "https://d.blob.core.windows.net/?sv=2022&sig=abc%2Bdef"
                    }
                },
            }
        },
    }
    secret = {
        "id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.KeyVault/vaults/kv/secrets/pw",
        "name": "pw",
        "type": "Microsoft.KeyVault/vaults/secrets",
        "properties": {"value": "p@ss", "contentType": "text"},
    }
    _write(tmp_path, "vmss.json", [vmss, secret])
    out = tmp_path / "snap.json"
    write_snapshot(load_snapshot(tmp_path), out)
    text = out.read_text()
    for leaked in ("hunter2", "c2VjcmV0", "AutoLogon", "shh", "abc%2Bdef", "p@ss"):
        assert leaked not in text, leaked
    assert "VolumeType" in text and "sig=REDACTED" in text and "contentType" in text


def test_a_snapshot_file_with_secrets_is_cleaned_when_read(tmp_path):
    snap = {
        "schema": "asr-preflight/snapshot",
        "version": 1,
        "records": {
            "microsoft.compute/virtualmachines": [
                {
                    "id": VM_ID,
                    "name": "vm1",
                    "properties": {"osProfile": {"adminPassword": "hunter2"}},
                }
            ]
        },
    }
    _write(tmp_path, "snap.json", snap)
    loaded = load_snapshot(tmp_path / "snap.json")
    assert "hunter2" not in str(loaded.records)


def test_exports_without_secret_markers_stay_verbatim(tmp_path):
    vm = {
        "id": VM_ID,
        "name": "vm1",
        "type": "Microsoft.Compute/virtualMachines",
        "location": "eastus",
        "properties": {"osProfile": {"computerName": "vm1"}},
    }
    _write(tmp_path, "vms.json", [vm])
    [kept] = load_snapshot(tmp_path).records["microsoft.compute/virtualmachines"]
    assert msgspec.json.decode(kept) == vm


def test_rest_instance_view_example_becomes_the_vm_it_describes(tmp_path):
    _write(
        tmp_path,
        "vms.json",
        [
            {
                "id": VM_ID,
                "name": "vm1",
                "location": "eastus",
                "type": "Microsoft.Compute/virtualMachines",
                "properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v5"}},
            }
        ],
    )
    _write(
        tmp_path,
        "VirtualMachines_InstanceView.json",
        {
            "parameters": {
                "subscriptionId": SUB,
                "resourceGroupName": "rg-app",
                "vmName": "vm1",
                "api-version": "2024-07-01",
            },
            "responses": {
                "200": {
                    "body": {
                        "computerName": "vm1",
                        "osName": "ubuntu",
                        "osVersion": "22.04",
                        "vmAgent": {
                            "vmAgentVersion": "2.7.41491.1102",
                            "statuses": [
                                {"code": "ProvisioningState/succeeded", "displayStatus": "Ready"}
                            ],
                        },
                        "statuses": [{"code": "PowerState/running", "displayStatus": "VM running"}],
                    }
                }
            },
        },
    )
    [vm] = build_estate(load_snapshot(tmp_path)).vms.values()
    assert (vm.name, vm.agent_status, vm.os_name, vm.power_state) == (
        "vm1",
        "Ready",
        "ubuntu",
        "VM running",
    )


def test_resource_graph_resource_containers_load(tmp_path):
    _write(
        tmp_path,
        "containers.json",
        {
            "count": 2,
            "data": [
                {
                    "id": f"/subscriptions/{SUB}/resourceGroups/rg-app",
                    "name": "rg-app",
                    "type": "microsoft.resources/subscriptions/resourcegroups",
                    "location": "eastus",
                },
                {
                    "id": f"/subscriptions/{SUB}",
                    "name": "prod",
                    "type": "microsoft.resources/subscriptions",
                    "subscriptionId": SUB,
                    "tenantId": "t",
                    "properties": {"state": "Enabled"},
                },
            ],
        },
    )
    estate = build_estate(load_snapshot(tmp_path))
    assert [g.name for g in estate.resource_groups.values()] == ["rg-app"]
    assert estate.subscriptions[SUB].state == "Enabled"


def _usage_estate(tmp_path, subscriptions):
    for n, sub in enumerate(subscriptions):
        vm_id = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/"
        vm_id += f"virtualMachines/v{n}"
        _write(
            tmp_path,
            f"vm{n}.json",
            [{"id": vm_id, "location": "eastus", "type": "Microsoft.Compute/virtualMachines",
              "hardwareProfile": {"vmSize": "Standard_D2s_v5"}}],
        )  # fmt: skip
    _write(
        tmp_path,
        "usages-centralus.json",
        [{"currentValue": 1, "limit": 10, "name": {"value": "cores"}}],
    )
    return build_estate(load_snapshot(tmp_path))


def test_an_unlabelled_usage_counts_for_the_only_subscription(tmp_path):
    estate = _usage_estate(tmp_path, [SUB])
    assert [u.name for u in estate.usages_for(SUB, "centralus")] == ["cores"]


def test_an_unlabelled_usage_counts_for_no_one_among_several_subscriptions(tmp_path):
    other = "33333333-3333-4333-8333-333333333333"
    estate = _usage_estate(tmp_path, [SUB, other])
    assert estate.usages_for(SUB, "centralus") == estate.usages_for(other, "centralus") == []


def test_a_vm_disk_without_managed_disk_or_vhd_is_unreadable_not_unencrypted(estate, tmp_path):
    """Found by make fuzz: a data disk whose managedDisk was null read as managed and without a
    disk encryption set, so the CMK check passed for a VM that has one."""
    estate.vm1["storageProfile"]["dataDisks"] = [
        {"lun": 0, "name": "data0", "diskSizeGB": 64, "managedDisk": None}
    ]
    model = build_estate(load_snapshot(estate.write(tmp_path)))
    assert model.vms == {}
    [problem] = [p for p in model.problems if p.kind == "microsoft.compute/virtualmachines"]
    assert "managedDisk or vhd" in problem.expected and problem.file.endswith("vms.json")
