"""Collection only reads: GET, and POST to Resource Graph's query endpoint. Anything else is
refused before it leaves the process, whichever SDK call asks for it."""

from __future__ import annotations

import pytest
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.transport import HttpRequest
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient
from live_support import BOB, DEV, PROD, StaticCredential

from asr_preflight.collect import PipelineSettings, ReadOnlyViolation, Target, collect
from asr_preflight.collect.auth import resolve_cloud
from asr_preflight.collect.clouds import named
from asr_preflight.collect.pipeline import (
    Counts,
    GraphQuota,
    ReadOnlyPolicy,
    make_policies,
    make_transport,
)

ARM = "https://management.azure.com"
GRAPH = f"{ARM}/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01"


def send(method: str, url: str) -> None:
    ReadOnlyPolicy().on_request(PipelineRequest(HttpRequest(method, url), None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PUT", f"{ARM}/subscriptions/{PROD}/resourcegroups/rg?api-version=2025-04-01"),
        ("PATCH", f"{ARM}/subscriptions/{PROD}/resourcegroups/rg?api-version=2025-04-01"),
        ("DELETE", f"{ARM}/subscriptions/{PROD}/resourcegroups/rg?api-version=2025-04-01"),
        ("POST", f"{ARM}/subscriptions/{PROD}/providers/Microsoft.RecoveryServices/register"),
        (
            "POST",
            f"{ARM}/subscriptions/{PROD}/resourceGroups/rg/providers/Microsoft.Storage/"
            "storageAccounts/a/listKeys?api-version=2026-09-01",
        ),
        (
            "GET",
            f"{ARM}/subscriptions/{PROD}/providers/Microsoft.Compute/virtualMachines"
            "?api-version=2026-04-01&$expand=userData",
        ),
        ("HEAD", f"{ARM}/subscriptions/{PROD}/resourcegroups/rg?api-version=2025-04-01"),
    ],
)
def test_the_policy_refuses_everything_but_reads(method, url):
    with pytest.raises(ReadOnlyViolation):
        send(method, url)


def test_the_policy_lets_reads_through():
    send("GET", f"{ARM}/subscriptions/{PROD}/providers?api-version=2025-04-01")
    send("POST", GRAPH)


def sdk_client(double, cls, *args):
    """An SDK client wired the way the collector wires every client."""
    cloud = resolve_cloud(named("AzureCloud"), double.url)
    credential = StaticCredential()
    return cls(
        credential,
        *args,
        base_url=cloud.arm_endpoint,
        credential_scopes=[cloud.scope],
        policies=make_policies(credential, cloud.scope, PipelineSettings(), GraphQuota(), Counts()),
        transport=make_transport(PipelineSettings()),
    )


def test_sdk_writes_never_reach_resource_manager(double):
    resources = sdk_client(double, ResourceManagementClient, PROD)
    with pytest.raises(ReadOnlyViolation):
        resources.resource_groups.create_or_update("rg-new", {"location": "eastus"})
    with pytest.raises(ReadOnlyViolation):
        resources.providers.register("Microsoft.RecoveryServices")
    storage = sdk_client(double, StorageManagementClient, PROD)
    with pytest.raises(ReadOnlyViolation):
        storage.storage_accounts.list_keys("rg-dr-cus", "contosoeusasrcache")
    compute = sdk_client(double, ComputeManagementClient, PROD)
    with pytest.raises(ReadOnlyViolation):
        compute.virtual_machines.get("rg-web", "vm-web-01", expand="userData")
    with pytest.raises(ReadOnlyViolation):
        compute.virtual_machines.begin_deallocate("rg-web", "vm-web-01")
    assert double.requests() == [] or {e.route for e in double.requests()} == {"metadata"}


def test_a_whole_collection_only_gets_and_queries(double):
    cloud = resolve_cloud(named("AzureCloud"), double.url)
    target = Target((PROD, DEV), "eastus", "centralus", BOB, ("contosowusasrcache",))
    collect(target, StaticCredential(), cloud, PipelineSettings(retry_backoff_factor=0.05))
    log = double.requests()
    assert len(log) > 40
    assert {(e.method, e.route == "graph") for e in log} == {("GET", False), ("POST", True)}
    assert not any(
        word in e.path.lower() for e in log for word in ("listkeys", "secrets", "/register")
    )
