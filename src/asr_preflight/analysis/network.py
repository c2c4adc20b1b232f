"""Network paths: can a VM open each outbound flow ASR needs, and what decides it.

A flow is TCP 443 from the VM to a *target*: a service tag (Storage.EastUS, AzureActiveDirectory
…) or an address (a custom DNS server, UDP 53). It leaves the VM through its primary NIC — the
only NIC Azure gives a default gateway — and meets, in order:

1. the NIC's NSG, then the subnet's NSG (outbound, Azure evaluates the NIC's first). Both must
   allow. In each, rules apply in priority order and the first match wins; a rule matches on
   direction, protocol (`*`, `Tcp`, `Udp` …), destination ports (ranges and lists), source
   (prefixes, tags, application security groups, source ports) and destination (prefixes,
   prefix lists, `*`, service tags, application security groups). Azure's default rules
   (AllowVnetOutBound, AllowInternetOutBound, DenyAllOutBound) close every NSG, and are added
   when an export leaves them out.
2. the subnet's routes: the longest prefix wins, a user route beats a system route of the same
   prefix; `0.0.0.0/0` (or a prefix covering the target) to a virtual appliance or gateway is
   forced tunnelling, to `None` drops the traffic; a service endpoint for the target's service
   takes it off the default route onto Azure's backbone.
3. the exit: traffic to the internet needs outbound connectivity — a public IP on the NIC, a NAT
   gateway on the subnet, a public Standard load balancer's outbound rule or SNAT, or Azure's
   default outbound access, which a Standard load balancer (internal ones included) or a
   private subnet (`defaultOutboundAccess: false`) takes away.

A target is a *set* of addresses, so a rule may take part of it. With the service-tag ranges of
an `az network list-service-tags` export, sets are exact (interval arithmetic); without them,
names decide what they can (`Storage` contains `Storage.EastUS`, `Internet` and `AzureCloud`
contain the public service tags, `VirtualNetwork`, private prefixes and application security
groups do not hold public addresses) and a rule naming public IP prefixes is undecidable. An
undecidable rule only makes the answer `unknown` when the outcome depends on it: an uncertain
Allow followed by rules that allow the rest anyway still allows.

Known limits: routes learned over BGP (ExpressRoute, VPN) and peered or on-premises address
spaces are not in the snapshot; `VirtualNetwork` "might also contain default routes" (Azure's
words), so with a 0.0.0.0/0 user route it is uncertain for public targets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from functools import cached_property
from typing import Any

from asr_preflight.analysis.service_tags import (
    EVERYTHING,
    NOTHING,
    PRIVATE,
    AddressSet,
    ServiceTagIndex,
    is_private,
    parse_ipv4,
)
from asr_preflight.fix.actions import (
    AddServiceEndpoint,
    AllowSubnetOnCache,
    AnyAction,
    SetCacheOption,
)
from asr_preflight.knowledge.endpoints import Destination, cloud_of, destinations, optional_needs
from asr_preflight.knowledge.regions import service_tag_suffix
from asr_preflight.model import ids
from asr_preflight.model.entities import (
    GuestFacts,
    NetworkInterface,
    NetworkSecurityGroup,
    RouteTable,
    SecurityRule,
    StorageAccount,
    Subnet,
    VirtualMachine,
    VirtualNetwork,
)

AZURE_DNS = "168.63.129.16"  # the platform's DNS and health address; NSGs never filter it
EPHEMERAL = AddressSet(((1024, 65535),))  # where an outbound flow's source port lies


class Decision(StrEnum):
    ALLOWED = "allowed"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"


def worst(decisions: Iterable[Decision]) -> Decision:
    seen = set(decisions)
    if Decision.BLOCKED in seen:
        return Decision.BLOCKED
    return Decision.UNKNOWN if Decision.UNKNOWN in seen else Decision.ALLOWED


class Tri(IntEnum):
    """Does a rule part match: no, yes, or the snapshot cannot say."""

    NO = 0
    YES = 1
    MAYBE = 2


def _and(*values: Tri) -> Tri:
    if Tri.NO in values:
        return Tri.NO
    return Tri.MAYBE if Tri.MAYBE in values else Tri.YES


# --- Targets ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """Where a flow goes. `addresses` is exact when known (tag ranges or a literal address)."""

    label: str
    tag: str | None = None
    addresses: AddressSet | None = None
    protocol: str = "tcp"
    port: int = 443


def tag_target(tag: str, tags: ServiceTagIndex | None = None, port: int = 443) -> Target:
    return Target(tag, tag=tag, addresses=tags.get(tag) if tags else None, port=port)


def address_target(address: str, protocol: str = "udp", port: int = 53) -> Target:
    return Target(
        address, addresses=AddressSet.from_prefixes([address]), protocol=protocol, port=port
    )


# Name-only relation of a rule's address entry to a service-tag target.
ALL, SOME, NONE = 2, 1, 0


def tag_relation(entry: str, tag: str) -> int | None:
    """ALL if `entry` (a service tag) contains `tag`, SOME if it holds a non-empty part of it,
    NONE if they share no address, None if names cannot tell."""
    e, t = entry.lower(), tag.lower()
    if e == t or e == "azurecloud":
        return ALL
    e_service, _, e_region = e.partition(".")
    t_service, _, t_region = t.partition(".")
    if e_service == "azurecloud":  # AzureCloud.EastUS: every Azure address in that region
        if t_region:
            return ALL if e_region == t_region else NONE
        return None
    if e_service != t_service:
        return NONE  # different services publish different addresses
    if not e_region:
        return ALL  # Storage contains Storage.EastUS
    if not t_region:
        return SOME  # AzureKeyVault.EastUS is a part of AzureKeyVault
    return NONE  # Storage.WestUS and Storage.EastUS


# --- What an NSG rule matches ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """What `VirtualNetwork` means from one subnet: the VNet's address space and the prefixes of
    its user routes; a 0.0.0.0/0 user route makes it uncertain for everything else."""

    key: str = ""
    vnet: AddressSet = NOTHING
    space: AddressSet = NOTHING  # the VNet's own address space
    default_route: bool = False
    route_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """The VM side of a flow: its private address (None: not exported) and its NIC's ASGs."""

    prefixes: tuple[str, ...] | None = None
    asgs: frozenset[str] = frozenset()

    @cached_property
    def ips(self) -> AddressSet | None:
        """Parsed when a rule's source names addresses: most NSGs never ask, and parsing
        every VM's address cost a fifth of the NSG check at 10,000 VMs."""
        return AddressSet.from_prefixes(self.prefixes) if self.prefixes else None


@dataclass(frozen=True, slots=True)
class _Match:
    part: Any  # AddressSet (exact target) or ALL/SOME/NONE (by name)
    maybe: bool  # may also match more than `part`
    why: str = ""  # why it is uncertain


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: SecurityRule
    nsg: str
    deny: bool
    source: Tri | None  # None: depends on the VM (IP prefixes, ASGs)
    ip_based: bool  # names public IP prefixes as destinations

    @property
    def label(self) -> str:
        default = " (default)" if self.rule.default else ""
        return f"{self.nsg}/{self.rule.name}{default}"

    @property
    def described(self) -> str:
        r = self.rule
        return (
            f"{self.label}: priority {r.priority}, {r.access} {r.protocol} "
            f"to {', '.join(_short_entry(d) for d in r.destinations)} "
            f"port {', '.join(r.destination_ports)}"
        )

    def match(self, target: Target, scope: Scope, tags: ServiceTagIndex | None) -> _Match:
        exact = target.addresses
        parts: list[Any] = []
        maybe, why = False, ""
        for entry in self.rule.destinations:
            part, entry_maybe, entry_why = _entry(entry, target, scope, tags)
            parts.append(part)
            if entry_maybe and not maybe:
                maybe, why = True, entry_why
        if exact is not None:
            combined = NOTHING
            for part in parts:
                combined = combined | part
            return _Match(combined, maybe and combined != exact, why)
        best = max(parts, default=NONE)
        return _Match(best, maybe and best != ALL, why)


def _short_entry(entry: str) -> str:
    return f"ASG {ids.name(entry[4:])}" if entry.startswith("asg:") else entry


_ANY = frozenset({"*", "any", "0.0.0.0/0"})


def _entry(
    entry: str, target: Target, scope: Scope, tags: ServiceTagIndex | None
) -> tuple[Any, bool, str]:
    """(the part of the target this destination entry holds, whether it may hold more, why)."""
    e = entry.lower()
    exact = target.addresses
    if e in _ANY:
        return (exact if exact is not None else ALL), False, ""
    if e == "internet":
        if exact is not None:
            return exact - PRIVATE - scope.space, False, ""
        return ALL, False, ""  # public service tags lie outside every VNet
    if e == "virtualnetwork":
        return _virtual_network(target, scope)
    if e == "azureloadbalancer":
        return (NOTHING if exact is not None else NONE), False, ""
    if e.startswith("asg:"):
        # Members of an application security group are NICs, so private addresses.
        if exact is not None and exact & PRIVATE:
            return NOTHING, True, f"application security group {ids.name(entry[4:])}"
        return (NOTHING if exact is not None else NONE), False, ""
    network = parse_ipv4(e)
    if network is not None:
        prefix = AddressSet((network,))
        if exact is not None:
            return exact & prefix, False, ""
        if is_private(prefix):
            return NONE, False, ""
        if prefix == EVERYTHING:
            return ALL, False, ""
        return NONE, True, f"IP prefix {entry} (no service tag ranges to compare it with)"
    if ":" in e:  # IPv6: never an IPv4 flow
        return (NOTHING if exact is not None else NONE), False, ""
    # A service tag.
    ranges = tags.get(entry) if tags else None
    if exact is not None and ranges is not None:
        return exact & ranges, False, ""
    if target.tag is None:  # an address target: service tags only hold public addresses
        if exact is not None and is_private(exact):
            return NOTHING, False, ""
        return NOTHING, True, f"service tag {entry} (its ranges are not exported)"
    relation = tag_relation(entry, target.tag)
    if exact is not None:
        if relation == ALL:
            return exact, False, ""
        if relation == NONE:
            return NOTHING, False, ""
        return NOTHING, True, f"service tag {entry} (its ranges are not exported)"
    if relation is None:
        return NONE, True, f"service tag {entry} (its ranges are not exported)"
    return relation, False, ""


def _virtual_network(target: Target, scope: Scope) -> tuple[Any, bool, str]:
    exact = target.addresses
    doubt = "VirtualNetwork, which may include the subnet's 0.0.0.0/0 user route"
    if exact is not None:
        part = exact & scope.vnet
        rest = exact - part
        if rest & PRIVATE:  # peered networks and on-premises spaces are not in the snapshot
            return part, True, "VirtualNetwork (peered and on-premises spaces are not exported)"
        if rest and (scope.default_route or _route_tags_touch(scope, target)):
            return part, True, doubt
        return part, False, ""
    # A service tag without ranges: only user-route prefixes can bring it into VirtualNetwork.
    public_routes = bool(scope.vnet - PRIVATE - scope.space)
    if scope.default_route or public_routes or _route_tags_touch(scope, target):
        return NONE, True, doubt
    return NONE, False, ""


def _route_tags_touch(scope: Scope, target: Target) -> bool:
    if target.tag is None:
        return bool(scope.route_tags)
    return any(tag_relation(t, target.tag) != NONE for t in scope.route_tags)


def _source_tri(rule: SecurityRule, source: Source | None) -> Tri:
    """Does the rule's source side match the VM's outbound flows?"""
    ports = _ports_tri(rule.source_ports)
    if ports is Tri.NO:
        return Tri.NO
    best = Tri.NO
    for entry in rule.sources:
        e = entry.lower()
        if e in _ANY or e == "virtualnetwork":
            here = Tri.YES  # the VM's own address is always in its VirtualNetwork
        elif e.startswith("asg:"):
            if source is None:
                here = Tri.MAYBE
            else:
                here = Tri.YES if ids.key(entry[4:]) in source.asgs else Tri.NO
        elif (network := parse_ipv4(e)) is not None:
            if source is None or source.ips is None:
                here = Tri.MAYBE
            else:
                here = Tri.YES if source.ips & AddressSet((network,)) else Tri.NO
        else:
            here = Tri.NO  # Internet, AzureLoadBalancer, a service tag: not a VM's address
        if here is Tri.YES:
            best = Tri.YES
            break
        best = max(best, here)
    return _and(best, ports)


def _ports_tri(ports: tuple[str, ...]) -> Tri:
    """Source ports: an outbound flow's is ephemeral (1024-65535), so a rule covering all of them
    matches, one covering none never does, and one covering some matches some connections."""
    covered = NOTHING
    for item in ports:
        for piece in item.split(","):
            piece = piece.strip()
            if piece in ("*", "any", ""):
                return Tri.YES
            low, _, high = piece.partition("-")
            try:
                covered = covered | AddressSet.of([(int(low), int(high or low))])
            except ValueError:
                continue
    overlap = covered & EPHEMERAL
    if overlap == EPHEMERAL:
        return Tri.YES
    return Tri.MAYBE if overlap else Tri.NO


def _depends_on_vm(rule: SecurityRule) -> bool:
    return any(
        e.lower().startswith("asg:")
        or (e.lower() not in _ANY and parse_ipv4(e.lower()) is not None)
        for e in rule.sources
    )


def covers_port(ranges: tuple[str, ...], port: int) -> bool:
    for item in ranges:
        for piece in item.split(","):
            piece = piece.strip()
            if piece in ("*", "any"):
                return True
            low, _, high = piece.partition("-")
            try:
                if int(low) <= port <= int(high or low):
                    return True
            except ValueError:
                continue
    return False


def _protocol_matches(protocol: str, wanted: str) -> bool:
    p = protocol.lower()
    return p in ("*", "any") or p == wanted


# Azure's default outbound rules, for NSG exports that leave them out.
_DEFAULT_OUTBOUND = (
    SecurityRule(
        "AllowVnetOutBound",
        65000,
        "Outbound",
        "Allow",
        "*",
        ("VirtualNetwork",),
        ("*",),
        True,
        ("VirtualNetwork",),
    ),
    SecurityRule(
        "AllowInternetOutBound", 65001, "Outbound", "Allow", "*", ("Internet",), ("*",), True
    ),
    SecurityRule("DenyAllOutBound", 65500, "Outbound", "Deny", "*", ("*",), ("*",), True),
)


def compile_nsg(
    nsg: NetworkSecurityGroup, protocol: str = "tcp", port: int = 443
) -> list[CompiledRule]:
    """The outbound rules of `nsg` that can match a `protocol`/`port` flow, in priority order."""
    rules = [r for r in nsg.rules if r.direction.lower() == "outbound"]
    if not any(r.default for r in rules):
        rules += _DEFAULT_OUTBOUND
    out = []
    for rule in sorted(rules, key=lambda r: (r.priority, r.default)):
        if not _protocol_matches(rule.protocol, protocol) or not covers_port(
            rule.destination_ports, port
        ):
            continue
        ip_based = any(
            parse_ipv4(d) is not None
            and d not in _ANY
            and not is_private(AddressSet.from_prefixes([d]))
            for d in rule.destinations
        )
        out.append(
            CompiledRule(
                rule=rule,
                nsg=nsg.name,
                deny=rule.access.lower() == "deny",
                source=None if _depends_on_vm(rule) else _source_tri(rule, None),
                ip_based=ip_based,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class NsgVerdict:
    decision: Decision
    nsg: str | None  # None: no NSG on this hop
    rule: str | None  # the rule that decided, or made it undecidable
    detail: str
    exact: bool = False  # decided with service-tag ranges
    ip_rules: tuple[str, ...] = ()  # IP-address allow rules this flow relies on (or may)
    priority: int | None = None
    share: str = ""  # how much of the target a block covers, when not all: "16 of 64 addresses"

    @property
    def deciding(self) -> str:
        return f"{self.nsg}/{self.rule}" if self.nsg and self.rule else (self.rule or "")


NO_NSG = NsgVerdict(Decision.ALLOWED, None, None, "no NSG")
_NOT_EXPORTED_NIC = NsgVerdict(Decision.UNKNOWN, None, None, "the VM's NIC is not exported")
_NOT_EXPORTED_SUBNET = NsgVerdict(Decision.UNKNOWN, None, None, "the NIC's subnet is not exported")


def evaluate_rules(
    rules: list[CompiledRule],
    target: Target,
    scope: Scope = Scope(),
    source: Source | None = None,
    tags: ServiceTagIndex | None = None,
    nsg: str | None = None,
) -> NsgVerdict:
    """First match wins, over the whole set of target addresses (see the module docstring)."""
    exact = target.addresses is not None
    remaining: Any = target.addresses if exact else ALL
    doubt: tuple[CompiledRule, str] | None = None
    certain_deny: tuple[CompiledRule, Any] | None = None
    possible_deny: CompiledRule | None = None
    allows: list[CompiledRule] = []
    ip_allows: list[str] = []

    def uncertain(rule: CompiledRule, why: str) -> None:
        nonlocal doubt, possible_deny
        if doubt is None:
            doubt = (rule, why)
        if rule.deny:
            possible_deny = possible_deny or rule
        elif rule.ip_based:
            ip_allows.append(rule.label)

    for rule in rules:
        src = rule.source if rule.source is not None else _source_tri(rule.rule, source)
        if src is Tri.NO:
            continue
        m = rule.match(target, scope, tags)
        if exact:
            part = m.part & remaining
            took = bool(part)
            maybe = m.maybe and bool(remaining - part)
        else:
            part, took, maybe = m.part, False, m.maybe
            if part == ALL:
                took, part = remaining != NONE, remaining
            elif part == SOME:
                if remaining == ALL:
                    took = True
                elif remaining == SOME:
                    maybe = True
        if src is Tri.MAYBE:
            if took or maybe:
                why = "its source " + ", ".join(_short_entry(s) for s in rule.rule.sources)
                why += " may or may not include the VM"
                uncertain(rule, why)
            continue
        if took:
            if rule.deny:
                if doubt is None:
                    certain_deny = (rule, part)
                    break
                possible_deny = possible_deny or rule
            else:
                allows.append(rule)
                if rule.ip_based:
                    ip_allows.append(rule.label)
            remaining = remaining - part if exact else (NONE if m.part == ALL else SOME)
        if maybe:
            uncertain(rule, m.why)
        if not remaining:
            break
    name = nsg or (rules[0].nsg if rules else None)
    if certain_deny is not None:
        rule, part = certain_deny
        share = _share(part, target)
        return NsgVerdict(
            Decision.BLOCKED,
            name,
            rule.rule.name,
            f"{rule.described} blocks {share}",
            exact,
            (),
            rule.rule.priority,
            "" if share.startswith("all of") else share.replace(f" of {target.label}", ""),
        )
    if possible_deny is not None and doubt is not None:
        rule, why = doubt
        detail = f"{rule.described}: undecidable, {why}"
        if possible_deny is not rule:
            detail += f"; {possible_deny.label} denies what it leaves"
        return NsgVerdict(
            Decision.UNKNOWN,
            name,
            rule.rule.name,
            detail,
            exact,
            tuple(ip_allows),
            rule.rule.priority,
        )
    first = allows[0] if allows else (doubt[0] if doubt else None)
    return NsgVerdict(
        Decision.ALLOWED,
        name,
        first.rule.name if first else None,
        "allowed by " + ", ".join(dict.fromkeys(r.label for r in allows)) if allows else "allowed",
        exact,
        tuple(dict.fromkeys(ip_allows)),
        first.rule.priority if first else None,
    )


def _share(part: Any, target: Target) -> str:
    if target.addresses is None:
        return f"{'part' if part == SOME else 'all'} of {target.label}"
    if part == target.addresses:
        return f"all of {target.label}"
    return f"{part.size:,} of {target.addresses.size:,} addresses of {target.label}"


def evaluate_nsg(
    nsg: NetworkSecurityGroup,
    target: Target,
    scope: Scope = Scope(),
    source: Source | None = None,
    tags: ServiceTagIndex | None = None,
) -> NsgVerdict:
    """One NSG's verdict on one flow (the engine caches compiled rules; this is for one-offs)."""
    return evaluate_rules(
        compile_nsg(nsg, target.protocol, target.port), target, scope, source, tags, nsg.name
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """The first engine's answer shape, kept for callers of `evaluate`."""

    decision: Decision
    rule: str | None
    nsg: str | None = None


def evaluate(nsg: NetworkSecurityGroup, tag: str, port: int = 443) -> Verdict:
    verdict = evaluate_nsg(nsg, tag_target(tag, None, port))
    return Verdict(verdict.decision, verdict.rule, verdict.nsg)


# --- Routes ------------------------------------------------------------------------------------


class RouteStatus(StrEnum):
    DIRECT = "direct"  # the internet (system or user route) or a service endpoint
    TUNNELLED = "tunnelled"  # a virtual appliance or gateway takes it
    MAYBE_TUNNELLED = "maybe tunnelled"
    BLOCKED = "blocked"  # next hop None (or into the VNet): dropped
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class RouteVerdict:
    status: RouteStatus
    route: str | None  # "rt-dmz/default-via-nva"; None: a system route
    hop: str  # "Internet", "VirtualAppliance 10.10.250.4", "service endpoint Microsoft.Storage"
    needs_egress: bool  # part of the flow leaves through the internet from the VM's own path
    detail: str
    service_endpoint: bool = False

    @property
    def decision(self) -> Decision:
        if self.status is RouteStatus.BLOCKED:
            return Decision.BLOCKED
        return Decision.UNKNOWN if self.status is RouteStatus.UNKNOWN else Decision.ALLOWED


_HOPS = {
    "internet": "internet",
    "virtualappliance": "appliance",
    "virtualnetworkgateway": "gateway",
    "none": "drop",
    "vnetlocal": "drop",
}


def _hop_text(route: Any) -> str:
    return f"{route.next_hop_type} {route.next_hop_ip or ''}".strip()


def evaluate_route(
    subnet: Subnet | None,
    table: RouteTable | None,
    target: Target,
    service_endpoint: str | None = None,
    region: str | None = None,
    tags: ServiceTagIndex | None = None,
    table_missing: bool = False,
) -> RouteVerdict:
    """Where the subnet's routes send the target's traffic (see the module docstring)."""
    if subnet is None:
        return RouteVerdict(RouteStatus.UNKNOWN, None, "?", True, "the subnet is not exported")
    if table_missing:
        name = ids.name(subnet.route_table_id)
        return RouteVerdict(
            RouteStatus.UNKNOWN, name, "?", True, f"route table {name} is not exported"
        )
    endpoint = bool(
        subnet and service_endpoint and _endpoint_covers(subnet, service_endpoint, region)
    )
    routes = table.routes if table else ()
    scope = Scope()
    default_route = None
    specific = []
    for route in routes:
        prefix = route.address_prefix.strip()
        parsed = parse_ipv4(prefix)
        if parsed == (0, (1 << 32) - 1):
            default_route = route
        elif parsed is not None:
            specific.append((32 - (parsed[1] - parsed[0]).bit_length(), route))
        elif prefix:
            specific.append((-1, route))  # a service-tag route: less specific than any prefix
    specific.sort(key=lambda item: -item[0])
    exact = target.addresses is not None
    remaining: Any = target.addresses if exact else ALL
    hops: list[tuple[str, Any, str, bool]] = []  # (kind, route, why, certain)
    for _, route in specific:
        part, maybe, _why = _entry(route.address_prefix, target, scope, tags)
        took = bool(part & remaining) if exact else part != NONE
        kind = _HOPS.get(route.next_hop_type.lower(), "unknown")
        if endpoint and (took or maybe):
            hops.append(
                (kind, route, "it and the service endpoint overlap; the longer prefix wins", False)
            )
            continue
        if took:
            certain = not (not exact and part == SOME and remaining != ALL)
            hops.append((kind, route, "", certain))
            remaining = remaining - part if exact else (NONE if part == ALL else SOME)
        if maybe:
            hops.append(
                (kind, route, f"{route.address_prefix} may cover part of {target.label}", False)
            )
        if not remaining:
            break
    label = f"{table.name}/" if table else ""
    if remaining:
        if endpoint:
            hops.append(("endpoint", None, "", True))
        elif default_route is not None:
            hops.append(
                (_HOPS.get(default_route.next_hop_type.lower(), "unknown"), default_route, "", True)
            )
        else:
            hops.append(("internet", None, "", True))
    needs_egress = any(kind == "internet" for kind, *_ in hops)
    for status, kinds, certain in (
        (RouteStatus.BLOCKED, ("drop",), True),
        (RouteStatus.TUNNELLED, ("appliance", "gateway"), True),
        (RouteStatus.UNKNOWN, ("drop", "unknown"), False),
        (RouteStatus.UNKNOWN, ("unknown",), True),
        (RouteStatus.MAYBE_TUNNELLED, ("appliance", "gateway"), False),
    ):
        for kind, route, why, is_certain in hops:
            if kind in kinds and is_certain == certain:
                verb = "sends" if certain else "may send"
                detail = (
                    f"route {label}{route.name} ({route.address_prefix} → {_hop_text(route)}) "
                    f"{verb} {target.label} there"
                )
                if why:
                    detail += f": {why}"
                return RouteVerdict(
                    status, f"{label}{route.name}", _hop_text(route), needs_egress, detail, endpoint
                )
    if endpoint:
        return RouteVerdict(
            RouteStatus.DIRECT,
            None,
            f"service endpoint {service_endpoint}",
            needs_egress,
            f"the subnet's {service_endpoint} service endpoint takes {target.label} "
            "over Azure's backbone",
            True,
        )
    user = next((route for kind, route, _, _ in hops if route is not None), None)
    if user is not None:
        return RouteVerdict(
            RouteStatus.DIRECT,
            f"{label}{user.name}",
            _hop_text(user),
            needs_egress,
            f"route {label}{user.name} ({user.address_prefix} → {_hop_text(user)})",
        )
    return RouteVerdict(
        RouteStatus.DIRECT, None, "Internet", needs_egress, "system route 0.0.0.0/0 → Internet"
    )


def _endpoint_covers(subnet: Subnet, service: str, region: str | None) -> bool:
    for name, locations in subnet.endpoint_locations or tuple(
        (s, ()) for s in subnet.service_endpoints
    ):
        if name.lower() != service.lower():
            continue
        if not locations or region is None or "*" in locations or region in locations:
            return True
    return False


# --- Exit: outbound connectivity ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EgressVerdict:
    decision: Decision
    via: str  # what gives (or takes away) outbound access
    detail: str


# --- Cache storage firewall --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FirewallVerdict:
    decision: Decision
    account: str
    setting: str  # the setting that decided
    detail: str
    remedy: str | None = None
    problems: tuple[str, ...] = ()  # each blocking setting, in plain words
    remedies: tuple[str, ...] = ()
    actions: tuple[AnyAction, ...] = ()  # what `fix` would script


# --- The engine --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a VM's traffic starts: its primary NIC, that NIC's subnet, and what applies there."""

    nic: NetworkInterface | None
    subnet: Subnet | None
    vnet: VirtualNetwork | None
    nic_nsg: NetworkSecurityGroup | None
    subnet_nsg: NetworkSecurityGroup | None
    route_table: RouteTable | None
    missing: tuple[str, ...]  # what the snapshot lacks: "NIC x", "NSG y", "route table z"
    source: Source

    @property
    def ip(self) -> str | None:
        return self.nic.private_ips[0] if self.nic and self.nic.private_ips else None


@dataclass(frozen=True, slots=True)
class Path:
    """One destination, hop by hop."""

    destination: Destination
    target: Target
    nic_nsg: NsgVerdict
    subnet_nsg: NsgVerdict
    route: RouteVerdict
    egress: EgressVerdict | None  # None: nothing leaves through the internet from the VM
    guest: tuple[bool, str] | None  # what the VM itself saw: (reached, text)

    @property
    def nsg_decision(self) -> Decision:
        return worst((self.nic_nsg.decision, self.subnet_nsg.decision))

    @property
    def decision(self) -> Decision:
        if self.guest is not None:
            return Decision.ALLOWED if self.guest[0] else Decision.BLOCKED
        parts = [self.nsg_decision, self.route.decision]
        if self.egress is not None:
            parts.append(self.egress.decision)
        return worst(parts)

    @property
    def deciding(self) -> str:
        """The rule, route or setting that decided (or blocks), in path order."""
        for verdict in (self.nic_nsg, self.subnet_nsg):
            # When the VM failed and its NSGs block, the configuration explains what it saw.
            if verdict.decision is Decision.BLOCKED and self.guest and not self.guest[0]:
                return f"NSG rule {verdict.deciding} (the VM saw: {self.guest[1]})"
        if self.guest is not None:
            return f"the VM itself: {self.guest[1]}"
        for verdict in (self.nic_nsg, self.subnet_nsg):
            if verdict.decision is Decision.BLOCKED:
                return f"NSG rule {verdict.deciding}"
        if self.route.decision is Decision.BLOCKED:
            return f"route {self.route.route}"
        if self.egress and self.egress.decision is Decision.BLOCKED:
            return self.egress.via
        for verdict in (self.nic_nsg, self.subnet_nsg):
            if verdict.decision is Decision.UNKNOWN:
                return f"NSG rule {verdict.deciding}"
        if self.route.decision is Decision.UNKNOWN:
            return self.route.detail
        if self.egress and self.egress.decision is Decision.UNKNOWN:
            return self.egress.via
        rules = [v.deciding for v in (self.nic_nsg, self.subnet_nsg) if v.rule]
        return ", ".join([*rules, self.route.route or self.route.hop])

    @property
    def code(self) -> int | None:
        return self.destination.code


@dataclass
class NetworkAnalysis:
    """Paths of every VM to every destination, computed once per estate and question. VMs share
    NSGs and subnets, so verdicts are cached by (NIC NSG, subnet, source-match signature)."""

    estate: Any
    source_region: str
    target_region: str
    needs: frozenset[str] | None = None
    tags: ServiceTagIndex = field(default_factory=ServiceTagIndex)
    destinations: list[Destination] = field(default_factory=list)
    targets: dict[str, Target] = field(default_factory=dict)
    _placements: dict[str, Placement] = field(default_factory=dict)
    _compiled: dict[tuple[int, str, int], list[CompiledRule]] = field(default_factory=dict)
    _dependent: dict[tuple[int, str, int], tuple[int, ...]] = field(default_factory=dict)
    _scopes: dict[str, Scope] = field(default_factory=dict)
    _nsg_cache: dict[Any, tuple[NsgVerdict, NsgVerdict]] = field(default_factory=dict)
    _route_cache: dict[tuple[str, str], RouteVerdict] = field(default_factory=dict)
    _paths: dict[Any, list[Path]] = field(default_factory=dict)
    _signatures: dict[Any, Any] = field(default_factory=dict)
    _firewall: dict[tuple[str, str], FirewallVerdict] = field(default_factory=dict)
    _endpoints_by_vnet: dict[str, frozenset[str]] | None = None

    def __post_init__(self) -> None:
        self.tags = ServiceTagIndex.from_sets(self.estate.service_tags)
        cloud = cloud_of(self.source_region, self.estate.snapshot.cloud)
        self.destinations = destinations(cloud, self.source_region, self.target_region, self.needs)
        self.targets = {d.name: tag_target(d.service_tag, self.tags) for d in self.destinations}

    @staticmethod
    def of(ctx: Any, everything: bool = False) -> NetworkAnalysis:
        """The analysis for a rule context, shared by every rule of one check. `everything`
        includes the optional destinations (Key Vault, Automation)."""
        needs = optional_needs() if everything else None
        key = ("network", ctx.source_region, ctx.target_region, needs)
        found = ctx.estate.analyses.get(key)
        if found is None:
            found = ctx.estate.analyses[key] = NetworkAnalysis(
                ctx.estate, ctx.source_region, ctx.target_region, needs
            )
        return found

    @property
    def has_tag_ranges(self) -> bool:
        return bool(self.tags)

    # -- placement ------------------------------------------------------------------------
    def placement(self, vm: VirtualMachine) -> Placement:
        found = self._placements.get(vm.key)
        if found is None:
            found = self._placements[vm.key] = self._place(vm)
        return found

    def _place(self, vm: VirtualMachine) -> Placement:
        estate = self.estate
        nics = [estate.nics.get(ids.key(n)) for n in vm.nic_ids or ()]
        missing: list[str] = [] if vm.nic_ids is not None else ["the VM's network profile"]
        nic = next((n for n in nics if n is not None and n.primary), None)
        if nic is None and nics:
            nic = nics[0]
            if nic is None:
                missing.append(f"NIC {ids.name((vm.nic_ids or ('?',))[0])}")
        subnet = vnet = nic_nsg = subnet_nsg = table = None
        if nic is not None:
            if nic.subnet_ids:
                subnet = estate.subnet(nic.subnet_ids[0])
                if subnet is None:
                    missing.append(f"subnet {ids.name(nic.subnet_ids[0])}")
            if nic.nsg_id:
                nic_nsg = estate.nsgs.get(ids.key(nic.nsg_id))
                if nic_nsg is None:
                    missing.append(f"NSG {ids.name(nic.nsg_id)}")
        if subnet is not None:
            vnet = estate.vnets.get(ids.parent(subnet.id))
            if subnet.nsg_id:
                subnet_nsg = estate.nsgs.get(ids.key(subnet.nsg_id))
                if subnet_nsg is None:
                    missing.append(f"NSG {ids.name(subnet.nsg_id)}")
            if subnet.route_table_id:
                table = estate.route_tables.get(ids.key(subnet.route_table_id))
        source = Source(
            tuple(nic.private_ips[:1]) if nic and nic.private_ips else None,
            frozenset(ids.key(a) for a in nic.asg_ids) if nic else frozenset(),
        )
        return Placement(nic, subnet, vnet, nic_nsg, subnet_nsg, table, tuple(missing), source)

    def scope(self, placement: Placement) -> Scope:
        subnet = placement.subnet
        if subnet is None:
            return Scope()
        key = ids.key(subnet.id)
        found = self._scopes.get(key)
        if found is None:
            space = AddressSet.from_prefixes(
                placement.vnet.address_prefixes if placement.vnet else subnet.address_prefixes
            )
            routes = placement.route_table.routes if placement.route_table else ()
            prefixes = [r.address_prefix for r in routes]
            explicit = AddressSet.from_prefixes(p for p in prefixes if p.strip() != "0.0.0.0/0")
            found = self._scopes[key] = Scope(
                key,
                space | explicit,
                space,
                any(p.strip() == "0.0.0.0/0" for p in prefixes),
                tuple(p for p in prefixes if p and parse_ipv4(p) is None),
            )
        return found

    # -- NSGs -----------------------------------------------------------------------------
    def _rules(self, nsg: NetworkSecurityGroup, protocol: str, port: int) -> list[CompiledRule]:
        key = (id(nsg), protocol, port)  # NSGs live as long as the estate this analysis reads
        rules = self._compiled.get(key)
        if rules is None:
            rules = self._compiled[key] = compile_nsg(nsg, protocol, port)
            self._dependent[key] = tuple(i for i, r in enumerate(rules) if r.source is None)
        return rules

    def _signature(
        self, nsg: NetworkSecurityGroup | None, placement: Placement, protocol: str, port: int
    ) -> tuple[Any, ...]:
        """The NSG, and how its VM-dependent rules (IP or ASG sources) see this VM."""
        if nsg is None:
            return ()
        rules = self._rules(nsg, protocol, port)
        dependent = self._dependent[(id(nsg), protocol, port)]
        return (id(nsg), *(_source_tri(rules[i].rule, placement.source) for i in dependent))

    def signature(self, placement: Placement, protocol: str = "tcp", port: int = 443) -> Any:
        """What the NSG verdicts of a VM's flows depend on: VMs with equal signatures share
        them (usually every VM of a subnet)."""
        key = (id(placement), protocol, port)
        found = self._signatures.get(key)
        if found is None:
            found = self._signatures[key] = (
                protocol,
                port,
                ids.key(placement.subnet.id) if placement.subnet else "",
                self._signature(placement.nic_nsg, placement, protocol, port),
                self._signature(placement.subnet_nsg, placement, protocol, port),
                bool(placement.nic and placement.nic.nsg_id),
                bool(placement.subnet and placement.subnet.nsg_id),
                placement.nic is None,
            )
        return found

    def nsg_verdicts(self, placement: Placement, target: Target) -> tuple[NsgVerdict, NsgVerdict]:
        """(NIC NSG, subnet NSG) verdicts on a flow; cached across VMs with the same signature."""
        if placement.nic is None:
            return _NOT_EXPORTED_NIC, _NOT_EXPORTED_NIC
        key = (target.label, self.signature(placement, target.protocol, target.port))
        found = self._nsg_cache.get(key)
        if found is None:
            scope = self.scope(placement)
            nic_v = self._hop(placement.nic_nsg, placement.nic.nsg_id, target, scope, placement)
            if placement.subnet is None:
                sub_v = _NOT_EXPORTED_SUBNET
            else:
                sub_v = self._hop(
                    placement.subnet_nsg, placement.subnet.nsg_id, target, scope, placement
                )
            found = self._nsg_cache[key] = (nic_v, sub_v)
        return found

    def _hop(
        self,
        nsg: NetworkSecurityGroup | None,
        nsg_id: str | None,
        target: Target,
        scope: Scope,
        placement: Placement,
    ) -> NsgVerdict:
        if nsg is None:
            if nsg_id:
                return NsgVerdict(
                    Decision.UNKNOWN,
                    ids.name(nsg_id),
                    None,
                    f"NSG {ids.name(nsg_id)} is not exported",
                )
            return NO_NSG
        rules = self._rules(nsg, target.protocol, target.port)
        return evaluate_rules(rules, target, scope, placement.source, self.tags, nsg.name)

    # -- routes and exit -------------------------------------------------------------------
    def route(self, placement: Placement, destination: Destination) -> RouteVerdict:
        subnet = placement.subnet
        key = (ids.key(subnet.id) if subnet else "", destination.name)
        found = self._route_cache.get(key)
        if found is None:
            region = _tag_region(destination.service_tag, self.source_region, self.target_region)
            found = self._route_cache[key] = evaluate_route(
                subnet,
                placement.route_table,
                self.targets[destination.name],
                destination.service_endpoint,
                region,
                self.tags,
                table_missing=bool(
                    subnet and subnet.route_table_id and placement.route_table is None
                ),
            )
        return found

    def egress(self, placement: Placement) -> EgressVerdict:
        return egress(self.estate, placement)

    # -- paths ----------------------------------------------------------------------------
    def paths(self, vm: VirtualMachine, guest: GuestFacts | None = None) -> list[Path]:
        """Every destination's path for a VM, with what the guest saw when its facts are given.
        VMs with the same NSG signature, subnet and NIC exit share one list."""
        placement = self.placement(vm)
        nic = placement.nic
        key = (
            self.signature(placement),
            (bool(nic.public_ip_ids), nic.backend_pool_ids) if nic else None,
        )
        shared = self._paths.get(key)
        if shared is None:
            shared = self._paths[key] = self._build_paths(placement)
        if guest is None or not guest.endpoints:
            return shared
        return [
            replace(p, guest=seen) if (seen := guest_evidence(guest, p.destination)) else p
            for p in shared
        ]

    def _build_paths(self, placement: Placement) -> list[Path]:
        out = []
        exit_: EgressVerdict | None = None
        for destination in self.destinations:
            target = self.targets[destination.name]
            nic_v, sub_v = self.nsg_verdicts(placement, target)
            route = self.route(placement, destination)
            egress_v = None
            if route.needs_egress:
                exit_ = exit_ or self.egress(placement)
                egress_v = exit_
            out.append(Path(destination, target, nic_v, sub_v, route, egress_v, None))
        return out

    def cache_access(self, account: StorageAccount, placement: Placement) -> FirewallVerdict:
        key = (ids.key(account.id), ids.key(placement.subnet.id) if placement.subnet else "")
        found = self._firewall.get(key)
        if found is None:
            if self._endpoints_by_vnet is None:
                by_vnet: dict[str, set[str]] = {}
                for subnet in self.estate.subnets.values():
                    by_vnet.setdefault(ids.parent(subnet.id), set()).update(
                        ids.key(pe) for pe in subnet.private_endpoint_ids
                    )
                self._endpoints_by_vnet = {k: frozenset(v) for k, v in by_vnet.items()}
            here = (
                self._endpoints_by_vnet.get(ids.parent(placement.subnet.id), frozenset())
                if placement.subnet
                else frozenset()
            )
            found = self._firewall[key] = cache_access(account, placement, here)
        return found


def _tag_region(tag: str, source: str, target: str) -> str | None:
    suffix = tag.partition(".")[2].lower()
    for region in (source, target):
        if suffix and service_tag_suffix(region).lower() == suffix:
            return region
    return None


def guest_evidence(guest: GuestFacts | None, destination: Destination) -> tuple[bool, str] | None:
    """What the VM itself saw for a destination's hosts: (reached, text); None if not probed."""
    if guest is None:
        return None
    seen = [e for e in guest.endpoints if e.port == 443 and destination.matches_host(e.host)]
    if not seen:
        return None
    failed = [e for e in seen if e.connected is False or e.resolved is False]
    if failed:
        e = failed[0]
        what = "could not resolve it" if e.resolved is False else (e.error or "unreachable")
        return False, f"{e.host}: {what}"
    if all(e.connected for e in seen):
        return True, f"reached {', '.join(e.host for e in seen)}"
    return None


def egress(estate: Any, placement: Placement) -> EgressVerdict:
    """Whether traffic the routes send to the internet can leave (see the module docstring)."""
    nic, subnet = placement.nic, placement.subnet
    if nic is None or subnet is None:
        return EgressVerdict(Decision.UNKNOWN, "?", "NIC or subnet not exported")
    if subnet.nat_gateway_id:
        nat = estate.nat_gateways.get(ids.key(subnet.nat_gateway_id))
        name = ids.name(subnet.nat_gateway_id)
        if nat is None or nat.public_ips:
            return EgressVerdict(
                Decision.ALLOWED,
                f"NAT gateway {name}",
                f"subnet {subnet.name} uses NAT gateway {name}",
            )
    if nic.public_ip_ids:
        name = ids.name(nic.public_ip_ids[0])
        return EgressVerdict(
            Decision.ALLOWED, f"public IP {name}", f"NIC {nic.name} has public IP {name}"
        )
    standard: list[str] = []
    unknown: list[str] = []
    for pool in nic.backend_pool_ids:
        lb_id = ids.parent(pool)
        lb = estate.load_balancers.get(lb_id)
        if lb is None:
            unknown.append(ids.name(lb_id))
            continue
        pool_key = ids.key(pool)
        for rule_name, rule_pool in lb.outbound_rule_pools + lb.snat_pools:
            if lb.public and ids.key(rule_pool) == pool_key:
                kind = (
                    "outbound rule"
                    if (rule_name, rule_pool) in lb.outbound_rule_pools
                    else "load-balancing rule SNAT"
                )
                return EgressVerdict(
                    Decision.ALLOWED,
                    f"load balancer {lb.name} {kind} {rule_name}",
                    f"public load balancer {lb.name} gives the backend pool outbound access "
                    f"({kind} {rule_name})",
                )
        if (lb.sku or "").lower() == "standard":
            kind = "public" if lb.public else "internal"
            standard.append(f"Standard {kind} load balancer {lb.name}")
    if standard:
        return EgressVerdict(
            Decision.BLOCKED,
            standard[0],
            f"the NIC is in the backend pool of {standard[0]}, which removes default outbound "
            "access, and there is no public IP, NAT gateway or outbound rule",
        )
    if unknown:
        return EgressVerdict(
            Decision.UNKNOWN,
            f"load balancer {unknown[0]}",
            f"the NIC is in a backend pool of load balancer {unknown[0]}, which is not exported",
        )
    if subnet.default_outbound_access is False:
        return EgressVerdict(
            Decision.BLOCKED,
            f"subnet {subnet.name} defaultOutboundAccess false",
            f"subnet {subnet.name} is private (defaultOutboundAccess false) and the VM has no "
            "public IP, NAT gateway or load balancer outbound rule",
        )
    return EgressVerdict(
        Decision.ALLOWED, "default outbound access", "Azure's default outbound access"
    )


def cache_access(
    account: StorageAccount, placement: Placement, here: frozenset[str] = frozenset()
) -> FirewallVerdict:
    """Whether a VM may write to the cache account, and which setting decides. `here`: the
    private endpoints (ids, comparison form) in the VM's VNet."""
    name = account.name
    approved = [pe for pe, status in account.private_endpoints if status.lower() == "approved"]
    local = [pe for pe in approved if ids.key(pe) in here]
    if (account.public_network_access or "").lower() == "disabled":
        if local:
            return FirewallVerdict(
                Decision.ALLOWED,
                name,
                f"private endpoint {ids.name(local[0])}",
                f"{name} takes no public traffic; the VM reaches it through private endpoint "
                f"{ids.name(local[0])} in its VNet (it must resolve privatelink.blob names)",
            )
        if approved:
            return FirewallVerdict(
                Decision.UNKNOWN,
                name,
                f"private endpoint {ids.name(approved[0])}",
                f"{name} takes no public traffic and its private endpoint "
                f"{ids.name(approved[0])} is in another network (reachable only through peering)",
                "place a private endpoint for the blob service in the VM's VNet",
            )
        return FirewallVerdict(
            Decision.BLOCKED,
            name,
            "publicNetworkAccess Disabled",
            f"{name} has public network access disabled and no approved private endpoint",
            f"az network private-endpoint create --group-id blob --private-connection-resource-id "
            f"{account.id} ... in the VMs' VNet, or choose another cache account",
        )
    if account.default_action is None:  # Azure always prints it: the firewall was not exported
        return FirewallVerdict(
            Decision.UNKNOWN,
            name,
            "networkRuleSet",
            f"{name}'s firewall (networkRuleSet / networkAcls) is not in the export",
            "export the storage account in full: az storage account list -o json",
        )
    if account.default_action.lower() != "deny":
        return FirewallVerdict(
            Decision.ALLOWED,
            name,
            "networkRuleSet.defaultAction Allow",
            f"{name} accepts all networks",
        )
    problems, remedies = [], []
    actions: list[AnyAction] = []
    bypass = (account.bypass or "None").replace(" ", "")
    if "azureservices" not in bypass.lower().split(","):
        problems.append(f"the firewall does not let trusted Azure services in (bypass {bypass})")
        remedies.append(f"az storage account update -n {name} --bypass AzureServices")
        actions.append(SetCacheOption(account.id, "trusted-services", bypass=account.bypass))
    subnet = placement.subnet
    storage_endpoint = subnet is not None and any(
        e.lower() == "microsoft.storage" for e in subnet.service_endpoints
    )
    if subnet is not None and not storage_endpoint:
        endpoint = AddServiceEndpoint(subnet.id, "Microsoft.Storage", subnet.service_endpoints)
    allowed = {ids.key(s) for s in account.virtual_network_rules}
    if local:
        pass
    elif subnet is None:
        return FirewallVerdict(
            Decision.UNKNOWN,
            name,
            "networkRuleSet.defaultAction Deny",
            "the VM's subnet is not exported",
        )
    elif ids.key(subnet.id) in allowed:
        if not storage_endpoint:
            actions.append(endpoint)
            problems.append(
                f"its rule for subnet {subnet.name} has no effect: the subnet has no "
                "Microsoft.Storage service endpoint"
            )
            remedies.append(
                f"az network vnet subnet update --ids {subnet.id} --service-endpoints "
                + " ".join((*subnet.service_endpoints, "Microsoft.Storage"))
            )
    elif account.ip_rules and not problems:
        return FirewallVerdict(
            Decision.UNKNOWN,
            name,
            "networkRuleSet.ipRules",
            f"{name} denies by default and allows only IP rules ({', '.join(account.ip_rules)}); "
            "the VM's outbound address is not in the snapshot",
            f"allow subnet {subnet.name} instead: az storage account network-rule add "
            f"-n {name} --subnet {subnet.id}",
        )
    else:
        problems.append(f"subnet {subnet.name} is not among its allowed networks")
        remedies.append(f"az storage account network-rule add -n {name} --subnet {subnet.id}")
        actions.append(AllowSubnetOnCache(account.id, subnet.id))
        if not storage_endpoint:
            actions.append(endpoint)
            remedies.append(
                f"az network vnet subnet update --ids {subnet.id} --service-endpoints "
                + " ".join((*subnet.service_endpoints, "Microsoft.Storage"))
            )
    setting = f"networkRuleSet.defaultAction Deny, bypass {bypass}"
    if problems:
        return FirewallVerdict(
            Decision.BLOCKED,
            name,
            setting,
            f"{name} denies by default and " + "; ".join(problems),
            "; ".join(remedies),
            tuple(problems),
            tuple(remedies),
            tuple(actions),
        )
    via = (
        f"private endpoint {ids.name(local[0])}"
        if local
        else f"virtual network rule for {subnet.name}"
    )  # type: ignore[union-attr]
    return FirewallVerdict(
        Decision.ALLOWED,
        name,
        setting,
        f"{name} denies by default; the VM comes in through its {via}",
    )
