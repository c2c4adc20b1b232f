"""Azure's own REST reference examples (tests/fixtures/rest-examples, copied unchanged) go
through the real boundary: what they hold lands in the model, and what is merely odd in them is
left out with its file and JSON path while the rest of the file loads."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from asr_preflight.model import build_estate
from asr_preflight.model.estate import Estate
from asr_preflight.snapshot import load_snapshot

EXAMPLES = Path(__file__).parents[1] / "fixtures" / "rest-examples"
BODY = '$.responses["200"].body'
EXTENSIONS = "microsoft.compute/virtualmachines/extensions"


def load(path: Path) -> Estate:
    return build_estate(load_snapshot(path))


@pytest.mark.parametrize(
    "path", [EXAMPLES / "VirtualMachine_ListAll_MaximumSet_Gen.json", EXAMPLES]
)
def test_an_unreadable_embedded_extension_is_reported_inside_its_vm(path):
    """The generated VM list embeds an extension whose id is a placeholder: it is left out and
    reported in the VM's own file, at its place in the VM's `resources`, naming the VM."""
    estate = load(path)
    [problem] = [p for p in estate.problems if p.kind == EXTENSIONS]
    assert problem.file == str(EXAMPLES / "VirtualMachine_ListAll_MaximumSet_Gen.json")
    assert problem.path == f"{BODY}.value[0].resources[0].id"
    assert problem.expected.endswith(
        "(embedded in VM /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
        "/providers/Microsoft.Compute/virtualMachines/{virtualMachineName})"
    )
    vm = next(v for v in estate.vms.values() if v.name == "{virtualMachineName}")
    assert estate.extensions_of(vm) == [] and not estate.has(EXTENSIONS)


# --- what each example holds, checked on the file alone and on the whole folder ---------------


def vm_get(estate: Estate) -> None:
    """A VM as `GET virtualMachines/{name}` returns it, with the extension it embeds."""
    [vm] = [v for v in estate.vms.values() if v.name == "myVM"]
    assert (vm.location, vm.size, vm.os_type) == ("westus", "Standard_DS3_v2", "Windows")
    assert vm.image == "MicrosoftWindowsServer:WindowsServer:2016-Datacenter"
    assert vm.nic_ids == (
        "/subscriptions/{subscription-id}/resourceGroups/myResourceGroup/providers/"
        "Microsoft.Network/networkInterfaces/{myNIC}",
    )
    assert [(d.name, d.role, d.lun, d.size_gib, d.sku) for d in vm.disks or ()] == [
        ("myOsDisk", "os", None, 30, "Premium_LRS"),
        ("myDataDisk0", "data", 0, 30, "Premium_LRS"),
        ("myDataDisk1", "data", 1, 100, "Premium_LRS"),
    ]
    assert vm.availability_set_id and vm.availability_set_id.endswith("/my-AvailabilitySet")
    assert vm.ppg_id and vm.ppg_id.endswith("/my-ppg01")
    [extension] = estate.extensions_of(vm)
    assert (extension.publisher, extension.type, extension.version) == (
        "Microsoft.Compute",
        "CustomScriptExtension",
        "1.9",
    )


def vm_list_generated(estate: Estate) -> None:
    """The generated list holds the same VM id twice: one VM, whatever its placeholders, and
    only the extension with a placeholder id is left out (see the test above)."""
    [vm] = [v for v in estate.vms.values() if v.name == "{virtualMachineName}"]
    assert (vm.location, vm.size, vm.security_type, vm.encryption_at_host) == (
        "eastus",
        "Standard_A0",
        "TrustedLaunch",
        True,
    )
    assert vm.nic_ids == (
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
        "Microsoft.Network/networkInterfaces/{networkInterfaceName}",
    )
    [os_disk] = vm.disks or ()
    assert (os_disk.role, os_disk.size_gib, os_disk.ephemeral, os_disk.write_accelerator) == (
        "os",
        127,
        True,
        True,
    )
    assert vm.host_id and vm.capacity_reservation_group_id


def nic(estate: Estate) -> None:
    """The NIC example has no `type`: its kind comes from its id."""
    [nic] = estate.nics.values()
    subnet = (
        "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/"
        "virtualNetworks/rg1-vnet/subnets/default"
    )
    assert (nic.name, nic.location, nic.ip_configurations) == ("test-nic", "eastus", 2)
    assert set(nic.subnet_ids) == {subnet}
    assert nic.nsg_id and nic.nsg_id.endswith("/networkSecurityGroups/nsg")
    assert nic.private_ips[0] == "172.20.2.4" and nic.accelerated_networking
    assert nic.public_ip_ids == (
        "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/"
        "publicIPAddresses/test-ip",
    )


def nsg(estate: Estate) -> None:
    [nsg] = estate.nsgs.values()
    assert (nsg.name, nsg.location) == ("testnsg", "westus")
    rules = {(r.name, r.priority, r.direction, r.access, r.default) for r in nsg.rules}
    assert rules == {
        ("rule1", 130, "Inbound", "Allow", False),
        ("AllowVnetInBound", 65000, "Inbound", "Allow", True),
        ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", True),
        ("DenyAllInBound", 65500, "Inbound", "Deny", True),
        ("AllowVnetOutBound", 65000, "Outbound", "Allow", True),
        ("AllowInternetOutBound", 65001, "Outbound", "Allow", True),
        ("DenyAllOutBound", 65500, "Outbound", "Deny", True),
    }
    rule1 = next(r for r in nsg.rules if r.name == "rule1")
    assert rule1.destination_ports == ("80",)
    internet = next(r for r in nsg.rules if r.name == "AllowInternetOutBound")
    assert internet.destinations == ("Internet",)


def vnet(estate: Estate) -> None:
    [vnet] = estate.vnets.values()
    assert (vnet.name, vnet.location, vnet.address_prefixes) == (
        "test-vnet",
        "westus",
        ("10.0.0.0/16",),
    )
    [subnet] = estate.subnets.values()
    assert (subnet.name, subnet.vnet_id, subnet.address_prefixes) == (
        "subnet1",
        vnet.id,
        ("10.0.1.0/24",),
    )
    assert subnet.nsg_id is None and subnet.route_table_id is None


def storage_accounts(estate: Estate) -> None:
    """Five accounts load; the one in the staging region `eastus2(stage)` is left out."""
    accounts = {a.name: a for a in estate.storage_accounts.values()}
    assert set(accounts) == {"sto1125", "sto3699", "sto6637", "sto834", "sto9174"}
    sto1125 = accounts["sto1125"]
    assert (sto1125.location, sto1125.kind, sto1125.sku) == ("eastus", "Storage", "Standard_GRS")
    assert sto1125.hierarchical_namespace and not accounts["sto834"].hierarchical_namespace
    # Their network rules were not in the answer: unknown, not "open to all networks".
    assert sto1125.default_action is None and sto1125.public_network_access is None


def vaults(estate: Estate) -> None:
    assert {(v.name, v.location, v.subscription_id) for v in estate.vaults.values()} == {
        (name, "westus", "77777777-b0c6-47a2-b37c-d8e65a629c18")
        for name in ("patchtest", "swaggerExample", "today1")
    }


def usages(estate: Estate) -> None:
    """The generated usage list names its region "4_.": with no region a quota says nothing."""
    assert estate.usages == []


def skus(estate: Estate) -> None:
    """The sizes lack `restrictions`, which Azure always prints: both are left out (what they
    hold does load once that is there: test_skus_load_once_restrictions_are_printed)."""
    assert estate.skus == {} and not estate.has("skus")


CONTENTS = {
    "VirtualMachine_Get.json": vm_get,
    "VirtualMachine_ListAll_MaximumSet_Gen.json": vm_list_generated,
    "NetworkInterfaceGet.json": nic,
    "NetworkSecurityGroupGet.json": nsg,
    "VirtualNetworkGet.json": vnet,
    "StorageAccountList.json": storage_accounts,
    "ListBySubscriptionIds.json": vaults,
    "Usage_List_MaximumSet_Gen.json": usages,
    "ListAvailableResourceSkus.json": skus,
}

# What is merely odd in them: (file, JSON path) -> words the reason must hold.
QUARANTINED = {
    ("VirtualMachine_ListAll_MaximumSet_Gen.json", f"{BODY}.value[0].resources[0].id"): (
        "extension's id"
    ),
    ("StorageAccountList.json", f"{BODY}.value[2].location"): "'eastus2(stage)'",
    ("Usage_List_MaximumSet_Gen.json", f"{BODY}.value"): "'4_.'",
    ("ListAvailableResourceSkus.json", f"{BODY}.value[0]"): "restrictions",
    ("ListAvailableResourceSkus.json", f"{BODY}.value[1]"): "restrictions",
}


def test_every_example_is_covered():
    assert set(CONTENTS) == {p.name for p in EXAMPLES.glob("*.json")}


@pytest.mark.parametrize("name", sorted(CONTENTS))
def test_each_example_loads_alone(name):
    estate = load(EXAMPLES / name)
    CONTENTS[name](estate)
    expected = {path: words for (file, path), words in QUARANTINED.items() if file == name}
    assert {p.path for p in estate.problems} == set(expected)
    for problem in estate.problems:
        assert problem.file == str(EXAMPLES / name)
        assert expected[problem.path] in problem.expected


@pytest.fixture(scope="module")
def together() -> Estate:
    return load(EXAMPLES)


@pytest.mark.parametrize("name", sorted(CONTENTS))
def test_all_examples_load_together(together, name):
    CONTENTS[name](together)


def test_together_each_problem_names_its_own_file_and_path(together):
    found = {(Path(p.file).name, p.path): p.expected for p in together.problems}
    assert set(found) == set(QUARANTINED)
    assert all(words in found[where] for where, words in QUARANTINED.items())
    assert all(Path(p.file).parent == EXAMPLES for p in together.problems)
    assert together.left_out == {
        EXTENSIONS: 1,
        "microsoft.storage/storageaccounts": 1,
        "usages": 1,
        "skus": 2,
    }


# --- what was left out is all that was wrong ----------------------------------------------------


def edited(tmp_path: Path, name: str, edit) -> Path:
    """A copy of one example with the odd part made ordinary (the fixture stays unchanged)."""
    document = json.loads((EXAMPLES / name).read_text())
    edit(document["responses"]["200"]["body"]["value"])
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_skus_load_once_restrictions_are_printed(tmp_path):
    def restrictions_printed(sizes):
        for size in sizes:
            size["restrictions"] = []

    estate = load(edited(tmp_path, "ListAvailableResourceSkus.json", restrictions_printed))
    assert estate.problems == [] and estate.has("skus")
    a0, a1 = estate.sku("westus", "Standard_A0"), estate.sku("westus", "Standard_A1")
    assert a0 is not None and a1 is not None
    assert (a0.family, a0.vcpus, a0.memory_gib, a0.zones) == (
        "standardA0_A7Family",
        1,
        0.75,
        {"westus": ("2", "1")},
    )
    assert a0.capabilities["MaxDataDiskCount"] == "1" and a0.capabilities["PremiumIO"] == "False"
    assert (a1.memory_gib, a1.capabilities["MaxNetworkInterfaces"]) == (1.75, "2")


def test_the_staging_account_loads_in_a_real_region(tmp_path):
    """The account left out for its region is the one whose network rules were exported."""

    def real_region(accounts):
        accounts[2]["location"] = "eastus2"

    estate = load(edited(tmp_path, "StorageAccountList.json", real_region))
    assert estate.problems == []
    account = next(a for a in estate.storage_accounts.values() if a.name == "sto8596")
    assert (account.location, account.kind, account.sku) == ("eastus2", "Storage", "Standard_GRS")
    assert (account.default_action, account.bypass) == ("Allow", "AzureServices")
    assert (account.virtual_network_rules, account.ip_rules) == ((), ())


# --- the whole tool, as a process --------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("asr-preflight")
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "80"},
    )


@pytest.mark.parametrize(
    ("source", "target", "vm"),
    [("westus", "eastus", "myVM"), ("eastus", "westus", "{virtualMachineName}")],
)
def test_check_runs_on_the_examples(source, target, vm):
    result = cli(
        "check",
        "--snapshot",
        str(EXAMPLES),
        "--source-region",
        source,
        "--target-region",
        target,
        "--output",
        "json",
    )
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert [v["name"] for v in report["vms"]] == [vm]
    problems = {(Path(p["file"]).name, p["path"]) for p in report["summary"]["input_problems"]}
    assert problems == set(QUARANTINED)
    assert {f["status"] for f in report["findings"]} <= {"pass", "fail", "warn", "unknown", "skip"}


def test_strict_refuses_the_odd_examples_in_one_line():
    result = cli(
        "check",
        "--snapshot",
        str(EXAMPLES),
        "--source-region",
        "westus",
        "--target-region",
        "eastus",
        "--strict",
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert str(EXAMPLES) in line and f"--strict: {len(QUARANTINED)} input problem(s)" in line
