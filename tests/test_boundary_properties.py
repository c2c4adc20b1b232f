"""The boundary's promises, as properties over the example estate's real export files:

- any JSON value at any place in any export gives an answer or one clear input error, never an
  internal error (the CLI's exit 3);
- nulling or deleting a field or collection a rule reads never turns that rule's finding about
  a resource from not-pass into pass: missing data is `unknown`, never a silent pass.

`make test` runs a bounded, derandomized number of cases; `make fuzz` runs many random ones
(HYPOTHESIS_PROFILE=fuzz, ASR_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.console import Console

from asr_preflight.engine import Scope, run_check, select_vms
from asr_preflight.errors import InputError
from asr_preflight.findings import Status
from asr_preflight.model import build_estate
from asr_preflight.report import console
from asr_preflight.report.model import build_report, encode
from asr_preflight.rules import Context
from asr_preflight.snapshot import load_snapshot

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "contoso"
PRINCIPAL = "bbbbbbbb-0000-4000-8000-000000000002"
FILES = {
    p.relative_to(EXAMPLE).as_posix(): json.loads(p.read_text())
    for p in sorted(EXAMPLE.rglob("*.json"))
}
Path_ = tuple[Any, ...]


def _places(node: Any, path: Path_ = ()) -> list[Path_]:
    """Every place in a document: each key of each object, each element of each list."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*path, key))
            out += _places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append((*path, index))
            out += _places(value, (*path, index))
    return out


PLACES = {name: _places(doc) for name, doc in FILES.items()}
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mutations(draw: Any, deletions_only: bool = False) -> tuple[str, Path_, Any]:
    """(file, place, new value) where the value `_DELETE` removes an object's key."""
    name = draw(st.sampled_from(sorted(n for n in FILES if PLACES[n])))
    place = draw(st.sampled_from(PLACES[name]))
    if deletions_only:
        value = _DELETE if isinstance(place[-1], str) and draw(st.booleans()) else None
    else:
        value = draw(st.one_of(JSON_VALUES, st.just(_DELETE)))
    return name, place, value


_DELETE = object()


def _mutated(name: str, place: Path_, value: Any) -> Any:
    doc = json.loads(json.dumps(FILES[name]))
    parent = doc
    for step in place[:-1]:
        parent = parent[step]
    last = place[-1]
    if (value is _DELETE and isinstance(parent, dict)) or value is _DELETE:
        del parent[last]
    else:
        parent[last] = value
    return doc


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz") / "contoso"
    shutil.copytree(EXAMPLE, folder)
    return folder


def _check(folder: Path) -> dict[tuple[str, str], Status] | None:
    """What `check` prints, in-process; None for an input error (exit 2). Anything else raised
    is what the CLI reports as an internal error (exit 3), and fails the property."""
    try:
        estate = build_estate(load_snapshot(folder))
    except InputError:
        return None
    vms = select_vms(estate, Scope("eastus", "centralus"))
    context = Context(
        estate=estate,
        source_region="eastus",
        target_region="centralus",
        vms=vms,
        principal_id=PRINCIPAL,
    )
    result = run_check(context)
    encode(build_report(result, include_passes=True))
    console.render(result, Console(file=io.StringIO(), width=100))
    return {(f.rule, (f.resource_id or "").lower()): f.status for f in result.findings}


def _with(folder: Path, name: str, doc: Any) -> dict[tuple[str, str], Status] | None:
    path = folder / name
    original = path.read_bytes()
    path.write_text(json.dumps(doc))
    try:
        return _check(folder)
    finally:
        path.write_bytes(original)


PROPERTY = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@PROPERTY
@given(mutations())
def test_any_json_anywhere_never_crashes(workdir: Path, mutation: tuple[str, Path_, Any]) -> None:
    name, place, value = mutation
    _with(workdir, name, _mutated(name, place, value))  # raises only on an internal error


BASELINE = None


def _baseline(folder: Path) -> dict[tuple[str, str], Status]:
    global BASELINE
    if BASELINE is None:
        BASELINE = _check(folder)
    assert BASELINE is not None
    return BASELINE


# Where Azure itself prints nothing (or null) to mean "not configured", the tool follows it: a
# regional VM has no zones, a Standard VM no security profile, a VM outside an availability set
# no availabilitySet, a subnet without an NSG no networkSecurityGroup. Collections Azure always
# prints (security rules, routes, data disks, IP configurations, restrictions) are not here:
# their absence must stay unknown.
MEANS_NONE = {
    "zones",
    "tags",
    "settings",
    "securityProfile",
    "securityType",
    "encryptionAtHost",
    "availabilitySet",
    "proximityPlacementGroup",
    "host",
    "hostGroup",
    "virtualMachineScaleSet",
    "capacityReservation",
    "diffDiskSettings",
    "diskEncryptionSet",
    "writeAcceleratorEnabled",
    "networkSecurityGroup",
    "routeTable",
    "natGateway",
    "publicIPAddress",
    "applicationSecurityGroups",
    "loadBalancerBackendAddressPools",
    "serviceEndpoints",
    "dnsSettings",
    "dhcpOptions",
    "privateEndpoints",
    "condition",
    "enableAcceleratedNetworking",
}


@PROPERTY
@given(mutations(deletions_only=True))
# found by `make fuzz`: a NIC reference without its id made ASR-NET-008 pass
@example(("vms-prod.json", (5, "networkProfile", "networkInterfaces", 0, "id"), None))
def test_missing_data_never_turns_a_finding_into_a_pass(
    workdir: Path, mutation: tuple[str, Path_, Any]
) -> None:
    name, place, value = mutation
    if any(step in MEANS_NONE for step in place):
        return
    before = _baseline(workdir)
    after = _with(workdir, name, _mutated(name, place, value))
    if after is None:
        return  # an input error: nothing passed
    turned = [
        (rule, resource, before[(rule, resource)].value)
        for (rule, resource), status in after.items()
        if status is Status.PASS
        and (rule, resource) in before
        and before[(rule, resource)] is not Status.PASS
    ]
    assert not turned, f"{name} {place} -> {'deleted' if value is _DELETE else 'null'}: {turned}"
