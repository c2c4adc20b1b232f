"""Every live call × every way it can fail, through the real SDK clients against the local ARM
double: collection never crashes, the failed call is named (with the kinds it feeds), and nothing
the failure took away can pass: a finding that passes under the fault passed without it."""

from __future__ import annotations

import pytest
from arm_double import Fault
from live_support import BOB, DEV, PROD, StaticCredential

from asr_preflight.collect import PipelineSettings, Target, collect
from asr_preflight.collect.auth import resolve_cloud
from asr_preflight.collect.clouds import named
from asr_preflight.engine import Scope, run_check, select_vms, split_protected
from asr_preflight.findings import Status
from asr_preflight.model import build_estate
from asr_preflight.rules import Context

# (call, path it is served at, the operation its collection error names)
USAGES = rf"^/subscriptions/{PROD}/providers/microsoft\.{{}}/locations/centralus/usages$"
AUTHZ = rf"^/subscriptions/{PROD}/providers/microsoft\.authorization/{{}}$"
CALLS = {
    "subscription": (rf"^/subscriptions/{PROD}$", "read the subscription"),
    "locations": (rf"^/subscriptions/{PROD}/locations$", "list locations"),
    "providers": (rf"^/subscriptions/{PROD}/providers$", "list resource providers"),
    "skus": (r"/providers/microsoft\.compute/skus$", "list VM sizes"),
    "compute usages": (USAGES.format("compute"), "list compute usages"),
    "network usages": (USAGES.format("network"), "list network usages"),
    "service tags": (r"/servicetags$", "list service tags"),
    "instance views": (
        rf"^/subscriptions/{PROD}/providers/microsoft\.compute/virtualmachines$",
        "list VM instance views",
    ),
    "role assignments": (AUTHZ.format("roleassignments"), "list role assignments"),
    "role definitions": (AUTHZ.format("roledefinitions"), "list role definitions"),
    "deny assignments": (AUTHZ.format("denyassignments"), "list deny assignments"),
    "blob service": (r"/blobservices/default$", "read blob service properties"),
    "churn metrics": (r"/providers/microsoft\.insights/metrics$", "read disk write metrics"),
    # one query of the sixteen: its kind is lost, the others are read
    "resource graph": (r"^/providers/microsoft\.resourcegraph/resources$", "Resource Graph"),
}
GRAPH_QUERY = "microsoft.network/networksecuritygroups"
EVERY_TIME = 10_000
FAULTS = {
    "403": {"status": 403},
    "404": {"status": 404},
    "429 storm": {"status": 429, "headers": {"Retry-After": "0"}},
    "500": {"status": 500},
    "connection reset": {"reset": True},
    "read timeout": {"delay": 1.5},
    "malformed JSON": {"body": b'{"value": [{"id": '},
    "JSON of the wrong shape": {"body": b"[]"},
}
# a read timeout well above what a loaded CI machine needs to answer, well under the fault
SETTINGS = PipelineSettings(retry_total=1, retry_backoff_factor=0.01, read_timeout=1.0)
CASES = [(call, fault) for call in CALLS for fault in FAULTS] + [
    ("resource graph", "truncated page")
]


def _run(double):
    cloud = resolve_cloud(named("AzureCloud"), double.url)
    target = Target((PROD, DEV), "eastus", "centralus", BOB)
    snapshot = collect(target, StaticCredential(), cloud, SETTINGS).snapshot
    estate = build_estate(snapshot)
    vms, protected = split_protected(estate, select_vms(estate, Scope("eastus", "centralus")))
    context = Context(estate, "eastus", "centralus", vms, protected_vms=protected, principal_id=BOB)
    return snapshot, run_check(context)


def _passes(result) -> set[tuple[str, str, str]]:
    """(rule, resource, VM) of every pass, one per VM it concerns."""
    out = set()
    for f in result.findings:
        if f.status is Status.PASS:
            for vm in f.affected_vms or ("",):
                out.add((f.rule, (f.resource_id or "").lower(), vm))
    return out


_BASELINE: list = []


def _baseline(double):
    """The same estate read without faults, once for the module."""
    if not _BASELINE:
        snapshot, result = _run(double)
        assert snapshot.subscriptions == [PROD, DEV]
        verdicts = {v.vm.name: v.verdict.value for v in result.verdicts}
        _BASELINE.append((snapshot, _passes(result), verdicts))
        double.log.clear()
    return _BASELINE[0]


@pytest.mark.parametrize(("call", "fault"), CASES, ids=[f"{c}-{f}" for c, f in CASES])
def test_a_failed_call_is_named_and_passes_nothing(double, call, fault):
    _, before_passes, before_verdicts = _baseline(double)
    path, operation = CALLS[call]
    options = {"truncate": True} if fault == "truncated page" else FAULTS[fault]
    if call == "resource graph":
        options = {**options, "request_contains": GRAPH_QUERY}
    double.faults.append(Fault(path=path, times=EVERY_TIME, **options))
    snapshot, result = _run(double)
    errors = [e for e in snapshot.collection_errors if operation in e.operation]
    assert errors, [e.operation for e in snapshot.collection_errors]
    lost = {kind for e in errors for kind in e.kinds}
    assert not lost & set(snapshot.present)  # what a failed call feeds is never "exported"
    for verdict in result.verdicts:
        if verdict.verdict.value == "ready":
            assert before_verdicts[verdict.vm.name] == "ready", verdict.vm.name
    if call == "subscription":  # its VMs are not seen at all; the other's are read as before
        assert snapshot.subscriptions == [DEV]
        assert {v.vm.name for v in result.verdicts} == {"vm-dev-01", "vm-dev-02"}
    else:
        assert {v.vm.name for v in result.verdicts} == set(before_verdicts)
        assert _passes(result) <= before_passes
