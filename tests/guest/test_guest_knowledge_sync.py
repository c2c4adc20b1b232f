"""The probe carries its own copy of the knowledge base (it runs alone on a VM); keep it equal."""

from __future__ import annotations

from asr_preflight.guest import probe
from asr_preflight.knowledge.data import load


def test_endpoints_are_the_always_required_urls():
    rows = [u for u in load("endpoints")["url"] if u["required"] == "always"]
    expected: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        expected.setdefault(row["cloud"], []).append((row["name"], row["pattern"]))
    assert {cloud: list(pairs) for cloud, pairs in probe.ENDPOINTS.items()} == expected


def test_revocation_hosts():
    assert list(probe.REVOCATION_HOSTS) == [r["host"] for r in load("endpoints")["revocation_host"]]


def test_root_cas():
    assert [
        (r["name"], r["sha1"], r["required"], r.get("recommended", False))
        for r in load("certificates")["root_ca"]
    ] == list(probe.ROOT_CAS)


def test_remedies():
    assert {r["os"]: r["text"] for r in load("certificates")["remedy"]} == probe.ROOT_REMEDIES


def test_canonical_distro_ids_are_what_the_os_rules_know():
    from asr_preflight.knowledge.os_support import distro_id

    for raw, canonical in probe.CANONICAL_DISTRO.items():
        assert distro_id(canonical) == canonical, raw


def test_cli_names_the_probe_clouds():
    from asr_preflight.cli_guest import CLOUDS

    assert tuple(probe.ENDPOINTS) == CLOUDS
