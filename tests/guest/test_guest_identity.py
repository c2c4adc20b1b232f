"""--vm-id names the VM the facts belong to, as a vmId, a resource id or a name, so that the
facts of a VM whose metadata the probe could not read still land on it."""

from __future__ import annotations

import pytest
from guest_support import run_probe

RID = (
    "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/"
    "Microsoft.Compute/virtualMachines/vm-web-02"
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "C31E2434-FE5F-4B44-8273-AA139F18C8FC",
            {"vm_id": "c31e2434-fe5f-4b44-8273-aa139f18c8fc"},
        ),
        (
            RID,
            {
                "vm_id": None,
                "name": "vm-web-02",
                "subscription_id": "11111111-1111-4111-8111-111111111111",
                "resource_group": "rg-web",
            },
        ),
        ("vm-web-02", {"vm_id": None, "name": "vm-web-02"}),
    ],
)
def test_vm_id_takes_a_vm_id_a_resource_id_or_a_name(tmp_path, given, expected):
    vm = run_probe(tmp_path, "--vm-id", given)["vm"]
    assert {k: vm[k] for k in expected} == expected
    assert vm["source"] == "option"


def test_without_it_the_host_name_stands_in(tmp_path):
    vm = run_probe(tmp_path)["vm"]
    assert vm["vm_id"] is None and vm["source"] == "hostname"
