"""The knowledge base: every fact cites a known source, and the lookups rules rely on work."""

import pytest

from asr_preflight.knowledge import facts, regions
from asr_preflight.knowledge.data import load, sources
from asr_preflight.knowledge.endpoints import required_service_tags
from asr_preflight.knowledge.os_support import assess_linux, assess_windows, from_image
from asr_preflight.rules import all_rules

FILES = (
    "regions",
    "region_rules",
    "endpoints",
    "certificates",
    "limits",
    "unsupported",
    "os_support",
    "error_codes",
    "permissions",
)


def _cited(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "source":
                yield value
            elif key == "sources":
                yield from value
            else:
                yield from _cited(value)
    elif isinstance(node, list):
        for item in node:
            yield from _cited(item)


@pytest.mark.parametrize("name", FILES)
def test_every_fact_cites_a_known_source(name):
    cited = list(_cited(load(name)))
    assert cited, f"{name}.toml cites nothing"
    assert set(cited) <= set(sources()), set(cited) - set(sources())


def test_every_source_has_a_date_and_an_address():
    for tag, src in sources().items():
        assert src.get("date") and (src.get("url") or src.get("path")), tag


def test_rules_cite_known_sources():
    for rule in all_rules():
        assert set(rule.sources) <= set(sources()), rule.id


@pytest.mark.parametrize(
    ("spelling", "name"),
    [("East US", "eastus"), ("eastus", "eastus"), ("West US 2", "westus2"), ("atlantis", None)],
)
def test_region_names_compare_by_normalized_name(spelling, name):
    assert regions.normalize(spelling) == name


def test_service_tags_for_the_pair():
    names = [t.name for t in required_service_tags("eastus", "centralus")]
    assert names == [
        "Storage.EastUS",
        "AzureActiveDirectory",
        "EventHub.CentralUS",
        "AzureSiteRecovery",
    ]


def test_newest_dated_limit_wins_and_history_is_kept():
    rows = [r for r in load("limits")["disk_limit"] if r["name"] == "os_disk_max_gib"]
    assert len(rows) > 1  # history of the OS disk limit
    assert facts.latest("disk_limit", "os_disk_max_gib").as_of == max(r["as_of"] for r in rows)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Windows Server 2019 Datacenter", "supported"),
        ("2012-R2-Datacenter", "supported"),
        ("Windows Server 2008 Datacenter SP2", "unsupported"),
        ("10.0.20348", "supported"),
        ("Windows Vista", "unknown"),
    ],
)
def test_windows_versions(text, status):
    assert assess_windows(text).status == status


def test_linux_from_marketplace_image():
    assert from_image("Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2") == (
        "ubuntu",
        "22.04",
    )
    assert from_image("Debian:debian-12:12") == ("debian", "12")
    assert from_image("SUSE:sles-15-sp5:gen2") == ("sles", None)  # not guessed
    assert assess_linux("sles", None).status == "unknown"
