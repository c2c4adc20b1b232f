"""What the real SDK clients send to Resource Manager and Resource Graph, and how the collector
lives with paging, throttling, errors, timeouts and a subscription it may not read."""

from __future__ import annotations

import copy
import json
import math
import time

import pytest
from arm_double import API_VERSIONS, ArmData, ArmDouble, Fault, graph_row
from live_support import BOB, DEV, PROD, StaticCredential

from asr_preflight.collect import PipelineSettings, Target, collect
from asr_preflight.collect.auth import resolve_cloud
from asr_preflight.collect.clouds import named
from asr_preflight.collect.pipeline import GraphQuota, parse_duration
from asr_preflight.collect.queries import QUERIES
from asr_preflight.engine import Scope, run_check, select_vms
from asr_preflight.findings import Status
from asr_preflight.model import build_estate
from asr_preflight.rules import Context
from asr_preflight.snapshot import write_snapshot

VM = "microsoft.compute/virtualmachines"
FAST = {"retry_backoff_factor": 0.05, "retry_backoff_max": 2.0, "read_timeout": 5.0}


def collect_from(double, subscriptions=(PROD, DEV), principal=BOB, **settings):
    cloud = resolve_cloud(named("AzureCloud"), double.url)
    target = Target(tuple(subscriptions), "eastus", "centralus", principal)
    return collect(target, StaticCredential(), cloud, PipelineSettings(**{**FAST, **settings}))


def errors_of(result):
    return {(e.scope, e.operation, e.status) for e in result.snapshot.collection_errors}


def check(snapshot):
    estate = build_estate(snapshot)
    vms = select_vms(estate, Scope("eastus", "centralus"))
    return run_check(
        Context(estate=estate, source_region="eastus", target_region="centralus", vms=vms)
    )


def test_every_call_has_its_real_path_and_api_version(double):
    collect_from(double)
    log = double.requests()
    assert {e.status for e in log} <= {200, 403}  # no 400 (bad api-version), 404 or 405
    # Run Command and its operations are only called with --guest run-command
    assert {e.route for e in log} == set(API_VERSIONS) - {"run-command", "compute-operation"}
    for entry in log:
        assert entry.query["api-version"] == [API_VERSIONS[entry.route]], entry.path
    skus = {e.query["$filter"][0] for e in double.requests("skus")}  # next links keep it
    assert skus == {"location eq 'centralus'", "location eq 'eastus'"}
    assert all(e.query["statusOnly"] == ["true"] for e in double.requests("vms"))
    assert all("$expand" not in e.query for e in log)
    graph = double.requests("graph")
    assert len(graph) == len(QUERIES)  # one query per kind; the example needs one page each
    for entry in graph:
        assert entry.body["subscriptions"] == [PROD, DEV]
        assert (
            entry.body["options"].items() >= {"$top": 1000, "resultFormat": "objectArray"}.items()
        )
    usage_paths = {e.path.lower() for e in log if e.route and e.route.endswith("usages")}
    assert f"/subscriptions/{PROD}/providers/microsoft.compute/locations/centralus/usages" in (
        usage_paths
    )
    assert f"/subscriptions/{DEV}/providers/microsoft.storage/locations/eastus/usages" in (
        usage_paths
    )


def test_resource_manager_lists_follow_next_link(double):
    result = collect_from(double)
    prod = [e for e in double.requests("vms") if PROD in e.path]
    assert len(prod) == math.ceil(16 / double.page_size) == 4
    assert [e.query.get("$skiptoken") for e in prod] == [None, ["5"], ["10"], ["15"]]
    views = [
        r for r in result.snapshot.records[VM] if "instanceView" in (r.get("properties") or {})
    ]
    assert len(views) == 18  # every VM's status, from 5 pages over two subscriptions
    assert result.stats.arm_pages >= 4


@pytest.fixture
def many_disks(ca):
    """2,345 disks: three Resource Graph pages."""
    data = ArmData(tenant="72f988bf-0000-4000-8000-00000000c0de")
    data.subscriptions[PROD] = {
        "id": f"/subscriptions/{PROD}",
        "subscriptionId": PROD,
        "tenantId": data.tenant,
        "displayName": "p",
        "state": "Enabled",
    }
    data.resources = [
        graph_row(
            {
                "id": f"/subscriptions/{PROD}/resourceGroups/rg/providers/Microsoft.Compute/"
                f"disks/d{i:05}",
                "name": f"d{i:05}",
                "type": "Microsoft.Compute/disks",
                "location": "eastus",
                "properties": {"diskSizeGB": 32},
            },
            data.tenant,
        )
        for i in range(2345)
    ]
    server = ArmDouble(data, ca.issue_cert("localhost"))
    with server.running():
        yield server


def test_resource_graph_pages_with_skip_token(many_disks):
    result = collect_from(many_disks, subscriptions=(PROD,), principal=None)
    disks = result.snapshot.records["microsoft.compute/disks"]
    assert len(disks) == 2345 and len({d["id"] for d in disks}) == 2345
    pages = [
        e.body["options"]
        for e in many_disks.requests("graph")
        if "compute/disks" in e.body["query"]
    ]
    assert len(pages) == 3
    assert "$skipToken" not in pages[0] and all("$skipToken" in p for p in pages[1:])
    assert "microsoft.compute/disks" in result.snapshot.present


def test_throttled_call_waits_for_retry_after_then_succeeds(double):
    double.faults.append(Fault(r"/providers$", status=429, headers={"Retry-After": "1"}))
    result = collect_from(double)
    providers = [e for e in double.requests() if e.path.lower().endswith("/providers")]
    statuses = [e.status for e in providers]
    assert 429 in statuses and statuses.count(200) == 2
    first_429 = next(e for e in providers if e.status == 429)
    retried = [e for e in providers if e.status == 200 and e.path == first_429.path]
    assert retried[0].at - first_429.at >= 0.9  # Retry-After: 1, not the 0.05 s backoff
    assert not any(op == "list resource providers" for _, op, _ in errors_of(result))
    assert "providers" in result.snapshot.present


def test_server_errors_are_retried(double):
    double.faults += [
        Fault(r"resourcegraph/resources$", status=500, method="POST"),
        Fault(r"/locations$", status=503, times=2),
    ]
    result = collect_from(double)
    assert [e.status for e in double.requests() if e.status >= 500] == [500, 503, 503]
    assert (
        len([e for e in double.requests() if e.method == "POST"]) == len(QUERIES) + 1
    )  # one asked twice
    assert "microsoft.compute/virtualmachines" in result.snapshot.present
    assert not any("Resource Graph" in op for _, op, _ in errors_of(result))


def test_a_timeout_is_retried(double):
    double.faults.append(Fault(r"/microsoft\.compute/skus$", delay=2.0))
    result = collect_from(double, read_timeout=0.7)
    assert "skus" in result.snapshot.present
    time.sleep(2.0)  # the double logs the slow answer when it finally gives it
    first_pages = [e for e in double.requests("skus") if "$skiptoken" not in e.query]
    assert len(first_pages) == 3  # two regions, one asked twice
    assert not any("skus" in op for _, op, _ in errors_of(result))


def test_a_call_that_keeps_failing_is_a_collection_error_and_its_checks_unknown(double):
    double.faults.append(Fault(r"/microsoft\.compute/skus$", status=503, times=100))
    result = collect_from(double, retry_total=2)
    snap = result.snapshot
    failed = [e for e in snap.collection_errors if e.operation == "list VM sizes (skus)"]
    assert len(failed) == 2 and all(e.status == 503 for e in failed)
    assert "skus" not in snap.present and "skus" not in snap.records
    sizes = [f for f in check(snap).findings if f.rule == "ASR-CAP-001"]
    assert sizes and all(f.status is Status.UNKNOWN for f in sizes)


def test_a_forbidden_subscription_is_a_collection_error_never_a_pass(double):
    double.forbidden.add(DEV)
    result = collect_from(double)
    snap = result.snapshot
    assert (f"/subscriptions/{DEV}", "read the subscription", 403) in errors_of(result)
    assert snap.subscriptions == [PROD]
    # nothing else was asked of it, and Resource Graph was asked for the readable one only
    assert [e.route for e in double.requests() if DEV in e.path] == ["subscription"]
    assert all(e.body["subscriptions"] == [PROD] for e in double.requests("graph"))
    # every kind one subscription short is not "present": no vault check can pass for want of
    # the other subscription's vaults
    for kind in ("microsoft.recoveryservices/vaults", "microsoft.storage/storageaccounts", VM):
        assert kind not in snap.present
    result = check(snap)
    assert {v.vm.subscription_id for v in result.verdicts} == {PROD}
    vault = [f for f in result.findings if f.rule in ("ASR-VAULT-001", "ASR-VAULT-002")]
    assert vault and all(f.status is Status.UNKNOWN for f in vault)


def test_resource_graph_quota_is_honoured(ca, example_data):
    server = ArmDouble(
        example_data, ca.issue_cert("localhost"), page_size=5, graph_limit=4, graph_window=1.0
    )
    with server.running():
        result = collect_from(server, retry_total=10)
    graph = server.requests("graph")
    assert [e.status for e in graph].count(200) == len(QUERIES)
    assert not any("Resource Graph" in e.operation for e in result.snapshot.collection_errors)
    assert result.stats.quota_waited > 0  # held back by x-ms-user-quota-remaining: 0


def test_graph_quota_waits_until_the_reset():
    now = [100.0]
    slept: list[float] = []
    quota = GraphQuota(clock=lambda: now[0], sleep=slept.append)
    quota.wait()
    quota.update({"x-ms-user-quota-remaining": "3", "x-ms-user-quota-resets-after": "00:00:05"})
    quota.wait()
    assert slept == []
    quota.update({"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:04"})
    now[0] += 1.5
    quota.wait()
    assert slept == [pytest.approx(2.5)]
    assert parse_duration("1.02:03:04.5") == 86400 + 7384.5 and parse_duration("soon") is None


def test_secrets_read_live_are_never_written(ca, example_data, tmp_path):
    data = copy.deepcopy(example_data)
    row = next(r for r in data.resources if r["type"] == VM)
    row["properties"]["osProfile"] = {"computerName": "x", "customData": "c2VjcmV0"}
    row["properties"]["userData"] = "c2VjcmV0"
    view = data.status[PROD][0]["properties"]["instanceView"]
    view["extensions"] = [{"name": "cse", "settings": {"sasToken": "?sv=1&sig=abc"}}]
    server = ArmDouble(data, ca.issue_cert("localhost"))
    with server.running():
        snap = collect_from(server).snapshot
    write_snapshot(snap, tmp_path / "snapshot.json")
    text = (tmp_path / "snapshot.json").read_bytes()
    assert b"c2VjcmV0" not in text and b"sig=abc" not in text and b"?sv=1" not in text
    assert b'"computerName": "x"' in text  # the rest of the record is kept
    assert json.loads(text)["redacted"] == 3  # counted, never echoed
    assert all("userdata" not in str(e.query).lower() for e in server.requests())
