"""IPv4 address sets and the service-tag ranges of an `az network list-service-tags` export.

An `AddressSet` is a sorted tuple of disjoint, non-adjacent inclusive integer intervals, so
intersection and difference are linear merges and a service tag of 600 prefixes costs
microseconds. Only IPv4 is modelled: ASR does not support IPv6 (SM-2025), so every flow it
needs is IPv4, and IPv6 prefixes in rules or tags never match it.

The index reads the export lazily: a full export holds thousands of tags and tens of thousands
of prefixes, of which a check needs a handful.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from asr_preflight.model.entities import ServiceTagSet

_MAX = (1 << 32) - 1


def parse_ipv4(text: str) -> tuple[int, int] | None:
    """The inclusive range of an IPv4 address or CIDR prefix; None for IPv6 or anything else.
    Host bits are ignored, as Azure does (10.0.0.5/24 is 10.0.0.0/24)."""
    address, _, length = text.strip().partition("/")
    parts = address.split(".")
    if len(parts) != 4:
        return None
    try:
        octets = [int(p) for p in parts]
        bits = int(length) if length else 32
    except ValueError:
        return None
    if not all(0 <= o <= 255 for o in octets) or not 0 <= bits <= 32:
        return None
    value = (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]
    size = 1 << (32 - bits)
    start = value & ~(size - 1) & _MAX
    return start, start + size - 1


@dataclass(frozen=True, slots=True)
class AddressSet:
    intervals: tuple[tuple[int, int], ...] = ()

    @staticmethod
    def of(ranges: Iterable[tuple[int, int]]) -> AddressSet:
        merged: list[list[int]] = []
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return AddressSet(tuple((a, b) for a, b in merged))

    @staticmethod
    def from_prefixes(prefixes: Iterable[str]) -> AddressSet:
        return AddressSet.of(r for r in map(parse_ipv4, prefixes) if r is not None)

    def __bool__(self) -> bool:
        return bool(self.intervals)

    def __and__(self, other: AddressSet) -> AddressSet:
        out, i, j = [], 0, 0
        a, b = self.intervals, other.intervals
        while i < len(a) and j < len(b):
            start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
            if start <= end:
                out.append((start, end))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return AddressSet(tuple(out))

    def __or__(self, other: AddressSet) -> AddressSet:
        return AddressSet.of(self.intervals + other.intervals)

    def __sub__(self, other: AddressSet) -> AddressSet:
        out: list[tuple[int, int]] = []
        j, b = 0, other.intervals
        for start, end in self.intervals:
            while j < len(b) and b[j][1] < start:
                j += 1
            k, cursor = j, start
            while k < len(b) and b[k][0] <= end:
                if b[k][0] > cursor:
                    out.append((cursor, b[k][0] - 1))
                cursor = max(cursor, b[k][1] + 1)
                k += 1
            if cursor <= end:
                out.append((cursor, end))
        return AddressSet(tuple(out))

    def covers(self, other: AddressSet) -> bool:
        return not (other - self)

    @property
    def size(self) -> int:
        return sum(end - start + 1 for start, end in self.intervals)

    def __contains__(self, address: int) -> bool:
        return any(start <= address <= end for start, end in self.intervals)


EVERYTHING = AddressSet(((0, _MAX),))
NOTHING = AddressSet()
# Addresses that are never a public Azure service: RFC 1918, shared (RFC 6598), loopback,
# link-local. A rule or route naming only these cannot touch a service tag.
PRIVATE = AddressSet.from_prefixes(
    [
        *("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"),
        *("100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16"),
    ]
)


def is_private(addresses: AddressSet) -> bool:
    return PRIVATE.covers(addresses)


@dataclass
class ServiceTagIndex:
    """Service tag name (any case) → its IPv4 ranges, from one or more exports."""

    change_number: str | None = None
    cloud: str | None = None
    _raw: dict[str, list[str]] = field(default_factory=dict)
    _names: dict[str, str] = field(default_factory=dict)
    _parsed: dict[str, AddressSet] = field(default_factory=dict)

    @staticmethod
    def from_sets(sets: Iterable[ServiceTagSet]) -> ServiceTagIndex:
        index = ServiceTagIndex()
        for tag_set in sets:
            index.change_number = tag_set.change_number or index.change_number
            index.cloud = tag_set.cloud or index.cloud
            for tag in tag_set.tags:
                index._raw[tag.name.lower()] = list(tag.address_prefixes)
                index._names[tag.name.lower()] = tag.name
        return index

    def __bool__(self) -> bool:
        return bool(self._raw)

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._raw

    def get(self, name: str) -> AddressSet | None:
        key = name.lower()
        found = self._parsed.get(key)
        if found is None and key in self._raw:
            found = self._parsed[key] = AddressSet.from_prefixes(self._raw[key])
        return found

    def describe(self) -> str:
        number = f" (change number {self.change_number})" if self.change_number else ""
        return f"service tag ranges of the {self.cloud or 'exported'} cloud{number}"
