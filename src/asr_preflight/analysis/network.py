"""Decide whether an NSG lets a VM open outbound TCP 443 to a service tag.

Rules apply in priority order and the first match wins; both the NIC's and the subnet's NSG
must allow the flow. A rule naming IP prefixes or application security groups cannot be
decided without the service-tag ranges, so it makes the answer `unknown`, never a guess.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from asr_preflight.model.entities import NetworkSecurityGroup, SecurityRule

_ANY = frozenset({"*", "any", "0.0.0.0/0", "internet", "azurecloud"})
_NOT_PUBLIC = frozenset({"virtualnetwork", "azureloadbalancer"})


class Decision(StrEnum):
    ALLOWED = "allowed"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    rule: str | None  # the rule that decided, or made it undecidable
    nsg: str | None = None


def _covers_port(ranges: tuple[str, ...], port: int) -> bool:
    for item in ranges:
        if item == "*":
            return True
        low, _, high = item.partition("-")
        try:
            if int(low) <= port <= int(high or low):
                return True
        except ValueError:
            continue
    return False


def _destination_matches(prefix: str, tag: str) -> bool | None:
    """True/False when decidable from names alone; None when the prefix is an address or ASG."""
    lowered = prefix.lower()
    if lowered in _ANY or lowered == tag.lower() or lowered == tag.split(".")[0].lower():
        return True
    if lowered in _NOT_PUBLIC:
        return False
    if lowered.startswith("asg:"):
        return None  # which NICs an ASG holds is not in the snapshot
    try:
        network = ipaddress.ip_network(lowered, strict=False)
    except ValueError:
        return False  # another service tag
    # Private ranges never hold Azure's public service addresses; public ones need tag ranges.
    return False if network.is_private else None


def _matches(rule: SecurityRule, tag: str, port: int) -> bool | None:
    if rule.direction.lower() != "outbound" or rule.protocol.lower() not in ("*", "tcp"):
        return False
    if not _covers_port(rule.destination_ports, port):
        return False
    results = [_destination_matches(d, tag) for d in rule.destinations]
    if any(results):
        return True
    return None if None in results else False


def evaluate(nsg: NetworkSecurityGroup, tag: str, port: int = 443) -> Verdict:
    for rule in sorted(nsg.rules, key=lambda r: r.priority):
        match = _matches(rule, tag, port)
        if match is None:
            return Verdict(Decision.UNKNOWN, rule.name, nsg.name)
        if match:
            allowed = rule.access.lower() == "allow"
            return Verdict(Decision.ALLOWED if allowed else Decision.BLOCKED, rule.name, nsg.name)
    # No rule at all (an NSG exported without its default rules): Azure's defaults allow it.
    return Verdict(Decision.ALLOWED, "AllowInternetOutBound (default)", nsg.name)
