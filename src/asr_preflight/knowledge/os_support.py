"""Is an operating system on the A2A support matrix? Reads Windows names and Linux distro/version
from guest facts, the instance view or the marketplace image, whichever the snapshot has."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from asr_preflight.knowledge.data import load

_WINDOWS = re.compile(r"(?:server\s*)?(2008|2012|2016|2019|2022|2025)[\s_-]*(r2)?", re.IGNORECASE)
_CLIENT = re.compile(r"windows\s*(7|8\.1|8|10|11)\b", re.IGNORECASE)
# Build numbers the guest agent reports (instanceView.osVersion), newest first.
_BUILDS = (
    ("10.0.26100", "2025"),
    ("10.0.20348", "2022"),
    ("10.0.17763", "2019"),
    ("10.0.14393", "2016"),
    ("6.3", "2012 r2"),
    ("6.2", "2012"),
    ("6.1", "2008 r2"),
    ("6.0", "2008"),
)
_DISTRO_ALIASES = {
    "redhat": "rhel",
    "red hat": "rhel",
    "rhel": "rhel",
    "ol": "oracle",
    "oracle": "oracle",
    "oraclelinux": "oracle",
    "oracle-linux": "oracle",
    "sles": "sles",
    "suse": "sles",
    "sles-sap": "sles",
    "opensuse": "sles",
    "almalinux": "alma",
    "alma": "alma",
    "rocky": "rocky",
    "rockylinux": "rocky",
    "ubuntu": "ubuntu",
    "canonical": "ubuntu",
    "debian": "debian",
    "centos": "centos",
    "openlogic": "centos",
}


@dataclass(frozen=True, slots=True)
class OsAssessment:
    # "supported" | "unsupported" | "unknown" | "unverified" (dropped from the newest matrix
    # without a word that support ended)
    status: str
    label: str
    source: str | None = None
    note: str = ""


def windows_key(text: str) -> str | None:
    if match := _WINDOWS.search(text):
        return match.group(1) + (" r2" if match.group(2) else "")
    if match := _CLIENT.search(text):
        return f"client {match.group(1)}"
    for prefix, key in _BUILDS:
        if text.startswith(prefix):
            return key
    return None


@cache
def _windows_table() -> dict[str, dict]:
    """The supported Windows versions by key ('2016', '2012 r2', 'client 10')."""
    table: dict[str, dict] = {}
    for row in load("os_support")["windows"]:
        key = windows_key(row["name"])
        if key and row.get("supported", True):
            table.setdefault(key, row)
    return table


@cache
def _windows_exceptions() -> tuple[dict, ...]:
    """Unsupported editions inside supported versions (Nano Server, Windows 7 RTM) and
    unsupported versions; their `match` tokens are looked for before the version key."""
    return tuple(row for row in load("os_support")["windows"] if not row.get("supported", True))


@lru_cache(maxsize=1024)
def assess_windows(text: str) -> OsAssessment:
    lowered = text.lower()
    for row in _windows_exceptions():
        if any(token in lowered for token in row.get("match", ())):
            return OsAssessment("unsupported", row["name"], row["source"], row.get("note", ""))
    key = windows_key(text)
    if key is None:
        return OsAssessment("unknown", text or "Windows")
    row = _windows_table().get(key)
    if row is None:
        return OsAssessment("unsupported", text, None, "not on the support matrix")
    return OsAssessment("supported", row["name"], row["source"], row.get("note", ""))


def distro_id(name: str | None) -> str | None:
    return _DISTRO_ALIASES.get((name or "").strip().lower())


@lru_cache(maxsize=1024)
def assess_linux(distro: str | None, version: str | None) -> OsAssessment:
    canonical = distro_id(distro)
    label = f"{distro or 'Linux'} {version or ''}".strip()
    if canonical is None or not version:
        return OsAssessment("unknown", label)
    rows = [r for r in load("os_support")["linux"] if r["distro"] == canonical]
    if not rows:
        return OsAssessment("unsupported", label, None, "distribution not on the support matrix")
    row = max(rows, key=lambda r: r.get("listed_until", "9999"))
    if version in row.get("unsupported_versions", []):
        return OsAssessment("unsupported", label, row["source"], row.get("note", ""))
    if version in row.get("unverified_versions", []):
        return OsAssessment("unverified", label, row["source"], row.get("note", ""))
    verdict = _listed(version, row["versions"])
    if verdict is None:
        minors = ", ".join(v for v in row["versions"] if v.startswith(f"{version}."))
        return OsAssessment(
            "unknown", label, row["source"], f"only the major version is known; listed: {minors}"
        )
    if not verdict:
        return OsAssessment(
            "unsupported", label, row["source"], "version not on the support matrix"
        )
    if row.get("listed_until"):
        return OsAssessment(
            "unsupported",
            label,
            row["source"],
            f"last listed in the support matrix of {row['listed_until']}",
        )
    return OsAssessment("supported", label, row["source"], row.get("note", ""))


def _listed(version: str, listed: list[str]) -> bool | None:
    """Whether the matrix lists this version: '22.04.4' counts as '22.04'; '12.5' counts when
    the matrix lists the bare major '12' with no minors; a bare major ('9', from an image name)
    with only minors listed ('9.0' … '9.5') cannot be told (None)."""
    parts = version.split(".")
    if version in listed or ".".join(parts[:2]) in listed:
        return True
    major = parts[0]
    minors = [v for v in listed if v.startswith(f"{major}.")]
    if len(parts) == 1:
        return None if minors else False
    return major in listed and not minors


_IMAGE_VERSION = re.compile(r"(?<![\w])(\d+)[._-](\d+)(?![\d])")
_LEADING_MAJOR = re.compile(r"^(\d+)(?:-|$)")
_ARCHITECTURE = re.compile(r"x86[_-]64|arm64|aarch64", re.IGNORECASE)


@lru_cache(maxsize=1024)
def from_image(image: str) -> tuple[str | None, str | None]:
    """(distro, version) from a marketplace image 'publisher:offer:sku', best effort: the SKU
    first ('8_6', '22_04-lts-gen2', '9-gen2'), then the offer; architecture tags never count."""
    publisher, offer, sku = [*image.split(":"), "", "", ""][:3]
    distro = distro_id(publisher) or distro_id(offer.split("-")[0])
    for text in (sku, offer):
        text = _ARCHITECTURE.sub("", text)
        if match := _IMAGE_VERSION.search(text):
            return distro, f"{match.group(1)}.{match.group(2)}"
        if match := _LEADING_MAJOR.match(text):
            return distro, match.group(1)  # Debian:debian-12:12, almalinux:…:9-gen2
    return distro, None
