"""The network path engine on its own: address sets, tag names, NSG and route evaluation, from
raw NSG / route-table JSON (REST `properties` shape and az's flattened shape)."""

from __future__ import annotations

import pytest

from asr_preflight.analysis.network import (
    ALL,
    NONE,
    SOME,
    Decision,
    RouteStatus,
    Scope,
    Source,
    address_target,
    evaluate,
    evaluate_nsg,
    evaluate_route,
    tag_relation,
    tag_target,
)
from asr_preflight.analysis.service_tags import AddressSet, ServiceTagIndex, parse_ipv4
from asr_preflight.model.build import NSG, ROUTE_TABLE, VNET, one
from asr_preflight.snapshot.detect import SERVICE_TAGS

NSG_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n1"


def rest_rule(name, priority, access, destination, port="443", protocol="Tcp", **extra):
    """A rule as the REST API returns it (ARM shape, with `properties`)."""
    props = {
        "protocol": protocol,
        "sourcePortRange": "*",
        "sourceAddressPrefix": "*",
        "access": access,
        "priority": priority,
        "direction": "Outbound",
        "sourcePortRanges": [],
        "sourceAddressPrefixes": [],
        "destinationPortRanges": port if isinstance(port, list) else [],
        "destinationAddressPrefixes": destination if isinstance(destination, list) else [],
        **extra,
    }
    if not isinstance(port, list):
        props["destinationPortRange"] = port
    if not isinstance(destination, list):
        props["destinationAddressPrefix"] = destination
    return {"name": name, "id": f"{NSG_ID}/securityRules/{name}", "properties": props}


def nsg(*rules, defaults=True):
    default = [
        {
            "name": n,
            "properties": {
                "priority": p,
                "direction": "Outbound",
                "access": a,
                "protocol": "*",
                "sourceAddressPrefix": s,
                "destinationAddressPrefix": d,
                "sourcePortRange": "*",
                "destinationPortRange": "*",
            },
        }
        for n, p, a, s, d in (
            ("AllowVnetOutBound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork"),
            ("AllowInternetOutBound", 65001, "Allow", "*", "Internet"),
            ("DenyAllOutBound", 65500, "Deny", "*", "*"),
        )
    ]
    properties = {"securityRules": list(rules)}
    if defaults:
        properties["defaultSecurityRules"] = default
    return one(
        NSG,
        {
            "id": NSG_ID,
            "name": "n1",
            "location": "eastus",
            "type": "Microsoft.Network/networkSecurityGroups",
            "properties": properties,
        },
    )


TAGS = ServiceTagIndex.from_sets(
    [
        one(
            SERVICE_TAGS,
            {
                "changeNumber": "1",
                "cloud": "Public",
                "values": [
                    {"name": "Storage.EastUS", "properties": {"addressPrefixes": ["20.0.0.0/24"]}},
                    {"name": "Storage", "properties": {"addressPrefixes": ["20.0.0.0/23"]}},
                    {
                        "name": "AzureActiveDirectory",
                        "properties": {"addressPrefixes": ["20.0.4.0/24", "2603:1006::/40"]},
                    },
                ],
            },
        )
    ]
)

# --- address sets and names ------------------------------------------------------------------


def test_parse_ipv4_ignores_host_bits_and_rejects_ipv6():
    assert parse_ipv4("10.0.0.5/24") == parse_ipv4("10.0.0.0/24")
    assert parse_ipv4("10.0.0.5") == (167772165, 167772165)
    assert parse_ipv4("2603:1006::/40") is None and parse_ipv4("Storage") is None
    assert parse_ipv4("300.0.0.1") is None and parse_ipv4("10.0.0.0/33") is None


def test_address_set_algebra():
    a = AddressSet.from_prefixes(["10.0.0.0/24", "10.0.1.0/24", "10.0.3.0/24"])
    assert a == AddressSet.from_prefixes(["10.0.0.0/23", "10.0.3.0/24"])  # merged
    b = AddressSet.from_prefixes(["10.0.0.128/25", "10.0.3.0/26"])
    assert (a & b) == b and a.covers(b) and not b.covers(a)
    assert (a - b).size == a.size - b.size
    assert (a - b) | b == a
    assert not (b - a)


@pytest.mark.parametrize(
    ("entry", "tag", "relation"),
    [
        ("Storage", "Storage.EastUS", ALL),
        ("storage.eastus", "Storage.EastUS", ALL),
        ("AzureCloud", "AzureActiveDirectory", ALL),
        ("AzureCloud.EastUS", "Storage.EastUS", ALL),
        ("AzureCloud.WestUS", "Storage.EastUS", NONE),
        ("AzureCloud.EastUS", "AzureSiteRecovery", None),  # a global tag: names cannot tell
        ("AzureKeyVault.EastUS", "AzureKeyVault", SOME),
        ("Storage.WestUS", "Storage.EastUS", NONE),
        ("Sql", "Storage.EastUS", NONE),
    ],
)
def test_tag_relation(entry, tag, relation):
    assert tag_relation(entry, tag) == relation


def test_service_tag_index_reads_lazily_and_ignores_ipv6():
    assert "storage.eastus" in TAGS and "Sql" not in TAGS
    assert TAGS.get("AzureActiveDirectory") == AddressSet.from_prefixes(["20.0.4.0/24"])
    assert TAGS.get("Sql") is None
    assert "change number 1" in TAGS.describe()


# --- NSG decisions (REST shape) --------------------------------------------------------------

CASES = [
    # (rules, tag, with ranges?, decision, deciding rule)
    ([], "Storage.EastUS", False, Decision.ALLOWED, "AllowInternetOutBound"),
    (
        [rest_rule("D", 100, "Deny", "Internet", "*", "*")],
        "Storage.EastUS",
        False,
        Decision.BLOCKED,
        "D",
    ),
    (
        [rest_rule("A", 100, "Allow", "Storage"), rest_rule("D", 200, "Deny", "*", "*", "*")],
        "Storage.EastUS",
        False,
        Decision.ALLOWED,
        "A",
    ),
    (
        [rest_rule("D", 100, "Deny", "Storage.WestUS"), rest_rule("X", 200, "Deny", "*", "*")],
        "Storage.EastUS",
        False,
        Decision.BLOCKED,
        "X",
    ),
    # an IP allow list followed by a deny: undecidable by name, exact with the ranges
    (
        [rest_rule("A", 100, "Allow", "20.0.0.0/25"), rest_rule("D", 200, "Deny", "Internet")],
        "Storage.EastUS",
        False,
        Decision.UNKNOWN,
        "A",
    ),
    (
        [rest_rule("A", 100, "Allow", "20.0.0.0/25"), rest_rule("D", 200, "Deny", "Internet")],
        "Storage.EastUS",
        True,
        Decision.BLOCKED,
        "D",
    ),
    (
        [
            rest_rule("A", 100, "Allow", ["20.0.0.0/25", "20.0.0.128/25"]),
            rest_rule("D", 200, "Deny", "Internet"),
        ],
        "Storage.EastUS",
        True,
        Decision.ALLOWED,
        "A",
    ),
    # a deny on a part of the tag blocks it, by name too
    (
        [rest_rule("D", 100, "Deny", "AzureKeyVault.EastUS")],
        "AzureKeyVault",
        False,
        Decision.BLOCKED,
        "D",
    ),
    # an allow on a part of the tag leaves the rest to the next rules
    (
        [rest_rule("A", 100, "Allow", "AzureKeyVault.EastUS"), rest_rule("D", 200, "Deny", "*")],
        "AzureKeyVault",
        False,
        Decision.BLOCKED,
        "D",
    ),
    # an IP deny that misses the tag, proven by the ranges
    (
        [rest_rule("D", 100, "Deny", "52.0.0.0/8")],
        "AzureActiveDirectory",
        True,
        Decision.ALLOWED,
        "AllowInternetOutBound",
    ),
    (
        [rest_rule("D", 100, "Deny", "52.0.0.0/8")],
        "AzureActiveDirectory",
        False,
        Decision.UNKNOWN,
        "D",
    ),
    # port lists and ranges
    (
        [rest_rule("D", 100, "Deny", "*", ["80", "8080-8090"])],
        "Storage.EastUS",
        False,
        Decision.ALLOWED,
        "AllowInternetOutBound",
    ),
    (
        [rest_rule("D", 100, "Deny", "*", ["80", "440-450"])],
        "Storage.EastUS",
        False,
        Decision.BLOCKED,
        "D",
    ),
]


@pytest.mark.parametrize(("rules", "tag", "ranges", "decision", "rule"), CASES)
def test_nsg_decisions(rules, tag, ranges, decision, rule):
    verdict = evaluate_nsg(
        nsg(*rules), tag_target(tag, TAGS if ranges else None), tags=TAGS if ranges else None
    )
    assert (verdict.decision, verdict.rule) == (decision, rule)
    assert verdict.exact == ranges


def test_partial_block_says_how_much():
    rules = [rest_rule("A", 100, "Allow", "20.0.0.0/25"), rest_rule("D", 200, "Deny", "Internet")]
    verdict = evaluate_nsg(nsg(*rules), tag_target("Storage.EastUS", TAGS), tags=TAGS)
    assert verdict.share == "128 of 256 addresses"


def test_first_match_wins_whatever_the_order_in_the_export():
    rules = [rest_rule("D", 300, "Deny", "*"), rest_rule("A", 100, "Allow", "Storage.EastUS")]
    verdict = evaluate_nsg(nsg(*rules), tag_target("Storage.EastUS"))
    assert (verdict.decision, verdict.rule, verdict.priority) == (Decision.ALLOWED, "A", 100)


def test_defaults_are_added_when_the_export_lacks_them():
    verdict = evaluate_nsg(nsg(defaults=False), tag_target("AzureActiveDirectory"))
    assert (verdict.decision, verdict.rule) == (Decision.ALLOWED, "AllowInternetOutBound")


def test_inbound_rules_never_decide_outbound_flows():
    rule = rest_rule("DenyIn", 100, "Deny", "*", "*", "*")
    rule["properties"]["direction"] = "Inbound"
    assert evaluate_nsg(nsg(rule), tag_target("Storage.EastUS")).decision is Decision.ALLOWED


def test_dns_flow_to_a_private_server():
    vnet = Scope(
        "k", AddressSet.from_prefixes(["10.0.0.0/16"]), AddressSet.from_prefixes(["10.0.0.0/16"])
    )
    deny_udp = rest_rule("DenyDns", 100, "Deny", "10.0.0.10", "53", "Udp")
    assert (
        evaluate_nsg(nsg(deny_udp), address_target("10.0.0.10"), vnet).decision is Decision.BLOCKED
    )
    deny_tcp = rest_rule("DenyDns", 100, "Deny", "10.0.0.10", "53", "Tcp")
    verdict = evaluate_nsg(nsg(deny_tcp), address_target("10.0.0.10"), vnet)
    assert (verdict.decision, verdict.rule) == (Decision.ALLOWED, "AllowVnetOutBound")
    # outside the VNet: peered or on-premises, which the snapshot does not show
    verdict = evaluate_nsg(nsg(), address_target("192.168.1.10"), vnet)
    assert verdict.decision is Decision.UNKNOWN and "peered" in verdict.detail


def test_source_prefix_decided_by_the_vms_address():
    rule = rest_rule("D", 100, "Deny", "*", "*", "*", sourceAddressPrefix="10.0.1.0/24")
    mine = Source(("10.0.1.4",))
    other = Source(("10.0.2.4",))
    assert (
        evaluate_nsg(nsg(rule), tag_target("Storage.EastUS"), source=mine).decision
        is Decision.BLOCKED
    )
    assert (
        evaluate_nsg(nsg(rule), tag_target("Storage.EastUS"), source=other).decision
        is Decision.ALLOWED
    )
    assert evaluate_nsg(nsg(rule), tag_target("Storage.EastUS")).decision is Decision.UNKNOWN


def test_first_engine_api_still_answers():
    verdict = evaluate(nsg(rest_rule("D", 100, "Deny", "Internet")), "AzureActiveDirectory")
    assert (verdict.decision, verdict.rule, verdict.nsg) == (Decision.BLOCKED, "D", "n1")


# --- routes ----------------------------------------------------------------------------------

SUBNET = one(
    VNET,
    {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v",
        "location": "eastus",
        "properties": {
            "subnets": [
                {
                    "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/"
                    "virtualNetworks/v/subnets/s1",
                    "name": "s1",
                    "properties": {
                        "addressPrefix": "10.0.0.0/24",
                        "serviceEndpoints": [
                            {"service": "Microsoft.Storage", "locations": ["eastus", "westus"]}
                        ],
                    },
                }
            ]
        },
    },
)[1][0]


def table(*routes):
    return one(
        ROUTE_TABLE,
        {
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt",
            "name": "rt",
            "properties": {
                "routes": [
                    {"name": n, "properties": {"addressPrefix": p, "nextHopType": h}}
                    for n, p, h in routes
                ]
            },
        },
    )


ROUTES = [
    # (routes, tag, service endpoint?, ranges?, status, route)
    ((), "AzureActiveDirectory", None, False, RouteStatus.DIRECT, None),
    (
        (("fw", "0.0.0.0/0", "VirtualAppliance"),),
        "AzureActiveDirectory",
        None,
        False,
        RouteStatus.TUNNELLED,
        "rt/fw",
    ),
    (
        (("fw", "0.0.0.0/0", "VirtualAppliance"),),
        "Storage.EastUS",
        "Microsoft.Storage",
        False,
        RouteStatus.DIRECT,
        None,
    ),
    (
        (("drop", "0.0.0.0/0", "None"),),
        "AzureActiveDirectory",
        None,
        False,
        RouteStatus.BLOCKED,
        "rt/drop",
    ),
    (
        (("net", "20.0.0.0/16", "VnetLocal"),),
        "Storage.EastUS",
        None,
        True,
        RouteStatus.BLOCKED,
        "rt/net",
    ),
    (
        (("net", "20.0.0.0/16", "VnetLocal"),),
        "Storage.EastUS",
        None,
        False,
        RouteStatus.UNKNOWN,
        "rt/net",
    ),
    (
        (("onprem", "192.168.0.0/16", "VirtualNetworkGateway"),),
        "AzureActiveDirectory",
        None,
        False,
        RouteStatus.DIRECT,
        None,
    ),
    (
        (("inet", "0.0.0.0/0", "Internet"),),
        "AzureActiveDirectory",
        None,
        False,
        RouteStatus.DIRECT,
        "rt/inet",
    ),
    (
        (("fw", "0.0.0.0/0", "VirtualAppliance"), ("aad", "AzureActiveDirectory", "Internet")),
        "AzureActiveDirectory",
        None,
        False,
        RouteStatus.DIRECT,
        "rt/aad",
    ),
    (
        (("part", "20.0.0.0/25", "VirtualAppliance"),),
        "Storage.EastUS",
        "Microsoft.Storage",
        True,
        RouteStatus.MAYBE_TUNNELLED,
        "rt/part",
    ),
]


@pytest.mark.parametrize(("routes", "tag", "endpoint", "ranges", "status", "route"), ROUTES)
def test_route_decisions(routes, tag, endpoint, ranges, status, route):
    verdict = evaluate_route(
        SUBNET,
        table(*routes) if routes else None,
        tag_target(tag, TAGS if ranges else None),
        endpoint,
        "eastus",
        TAGS if ranges else None,
    )
    assert (verdict.status, verdict.route) == (status, route)
    if status is RouteStatus.DIRECT and verdict.service_endpoint:
        assert not verdict.needs_egress
