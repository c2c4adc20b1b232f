"""Typed access to the dated limits, feature statuses, roots and OS support lists."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from asr_preflight.knowledge.data import load


@dataclass(frozen=True, slots=True)
class Dated:
    """A number or status as one version of the docs states it."""

    value: Any
    as_of: str
    source: str


@cache
def latest(table: str, name: str, file: str = "limits") -> Dated:
    """The newest statement of a fact; the KB keeps older ones for history."""
    rows = [r for r in load(file)[table] if r.get("name", r.get("id")) == name]
    if not rows:
        raise KeyError(f"{file}.toml has no {table} entry {name!r}")
    row = max(rows, key=lambda r: r.get("as_of", ""))
    return Dated(row.get("value", row.get("status")), row.get("as_of", ""), row["source"])


def feature(kind: str, feature_id: str) -> Dated:
    """Support status of a disk or VM feature (`disk_feature` / `vm_feature`)."""
    return latest(kind, feature_id, file="unsupported")


@dataclass(frozen=True, slots=True)
class RootCa:
    name: str
    sha1: str
    required: bool  # ASR's endpoints chain to it today: missing means 151066
    recommended: bool  # other current Azure roots (ECC chains): missing is a warning
    source: str


@cache
def root_cas() -> tuple[RootCa, ...]:
    return tuple(
        RootCa(
            r["name"],
            r["sha1"].lower(),
            bool(r["required"]),
            bool(r.get("recommended")),
            r["source"],
        )
        for r in load("certificates")["root_ca"]
    )


def root_remedy(os_id: str | None) -> str:
    rows = {r["os"]: r["text"] for r in load("certificates").get("remedy", [])}
    return rows.get((os_id or "").lower()) or rows.get("debian", "update the trusted root store")


def unmanaged_retired_on() -> Dated:
    row = load("limits")["unmanaged_disks"]
    return Dated(row["retired_on"], row["retired_on"], row["source"])


def vm_minimums() -> Dated:
    row = load("limits")["vm_minimums"]
    return Dated((float(row["vcpus"]), float(row["memory_gib"])), "", row["source"])
