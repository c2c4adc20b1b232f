"""Networking rules over real az export shapes: every decision, pass, fail and unknown."""

import pytest

from builders import SUB, rid, statuses

ASR_TAGS = ("Storage.EastUS", "AzureActiveDirectory", "EventHub.CentralUS", "AzureSiteRecovery")
TABLE = rid("rg-net", "Microsoft.Network", "routeTables/rt1")


def _outbound(name, priority, access, destination, port="443", protocol="Tcp", **extra):
    """A security rule as `az network nsg list` prints it (AAZ style, flattened)."""
    many = isinstance(destination, list)
    rule = {
        "name": name,
        "priority": priority,
        "direction": "Outbound",
        "access": access,
        "protocol": protocol,
        "sourceAddressPrefix": "*",
        "sourceAddressPrefixes": [],
        "sourcePortRange": "*",
        "destinationAddressPrefix": "" if many else destination,
        "destinationAddressPrefixes": destination if many else [],
        "destinationPortRange": "" if isinstance(port, list) else port,
        "destinationPortRanges": port if isinstance(port, list) else [],
        "type": "Microsoft.Network/networkSecurityGroups/securityRules",
    }
    rule.update(extra)
    return rule


def _rules(estate):
    return estate.files["nsgs.json"][0]["securityRules"]


def _nic(estate):
    return estate.files["nics.json"][0]


def _subnet(estate):
    return estate.files["vnets.json"][0]["subnets"][0]


def _no_guest(estate):
    estate.drop("guest/vm1.json")
    return estate


def _service_tags(estate, **tags):
    """An `az network list-service-tags` export with the given tags' prefixes."""
    estate.files["service-tags.json"] = {
        "changeNumber": "375",
        "cloud": "Public",
        "id": f"/subscriptions/{SUB}/providers/Microsoft.Network/serviceTags/Public",
        "name": "Public",
        "type": "Microsoft.Network/serviceTags",
        "values": [
            {
                "id": name.replace("_", "."),
                "name": name.replace("_", "."),
                "properties": {"addressPrefixes": prefixes, "changeNumber": "1", "region": ""},
            }
            for name, prefixes in tags.items()
        ],
    }


REAL_TAGS = {
    "Storage_EastUS": ["13.68.163.32/28", "52.239.152.0/22"],
    "Storage": ["13.68.163.32/28", "52.239.152.0/22", "13.67.155.16/28"],
    "AzureActiveDirectory": ["20.190.128.0/18", "40.126.0.0/18"],
    "EventHub_CentralUS": ["13.89.170.128/26"],
    "AzureSiteRecovery": ["13.82.88.226/32", "40.69.144.231/32"],
}


# --- ASR-NET-001: NSG decisions ------------------------------------------------------------


def test_default_rules_allow_outbound(estate, tmp_path):
    _no_guest(estate)
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "pass" and "nsg1/AllowInternetOutBound" in finding.message


def test_deny_internet_blocks_entra_first_with_151196(estate, tmp_path):
    _rules(_no_guest(estate)).append(_outbound("DenyInternet", 4000, "Deny", "Internet", "*", "*"))
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "fail" and finding.asr_error_code == 151196
    assert "blocked by nsg1/DenyInternet (priority 4000)" in finding.message
    assert "priority number below 4000" in finding.remedy


def test_service_tag_allows_above_the_deny_pass(estate, tmp_path):
    _no_guest(estate)
    for i, tag in enumerate(ASR_TAGS):
        _rules(estate).append(_outbound(f"Allow-{tag}", 100 + i, "Allow", tag))
    _rules(estate).append(_outbound("DenyInternet", 4000, "Deny", "Internet", "*", "*"))
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "pass" and "nsg1/Allow-AzureActiveDirectory" in finding.message


@pytest.mark.parametrize(
    ("destination", "blocked"),
    [
        ("Storage", "Storage.EastUS"),  # Storage contains Storage.EastUS
        ("Storage.EastUS", "Storage.EastUS"),
        ("EventHub", "EventHub.CentralUS"),
        ("AzureCloud", "AzureActiveDirectory"),  # AzureCloud holds every public tag
        ("AzureCloud.EastUS", "Storage.EastUS"),
        ("*", "AzureActiveDirectory"),
        ("0.0.0.0/0", "AzureActiveDirectory"),
    ],
)
def test_service_tag_hierarchy_blocks(estate, tmp_path, destination, blocked):
    _rules(_no_guest(estate)).append(_outbound("Deny", 100, "Deny", destination))
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "fail" and blocked in finding.message.split(" blocked by ")[0]


@pytest.mark.parametrize(
    "destination",
    [
        "Storage.WestUS",  # another region of the same service
        "EventHub.EastUS",  # Event Hubs of the source region: ASR needs the target's
        "Sql",  # another service
        "VirtualNetwork",  # no route table: only private space
        "AzureLoadBalancer",
        "10.0.0.0/8",  # private addresses hold no Azure service
        "192.168.0.0/16",
        "2603:1030::/32",  # IPv6 never matches an IPv4 flow
    ],
)
def test_unrelated_destinations_do_not_match(estate, tmp_path, destination):
    _rules(_no_guest(estate)).append(_outbound("Deny", 100, "Deny", destination, "*", "*"))
    assert statuses(estate.run(tmp_path, "ASR-NET-001")) == ["pass"]


@pytest.mark.parametrize(
    ("protocol", "port", "matches"),
    [
        ("Tcp", "443", True),
        ("*", "*", True),
        ("Tcp", "400-500", True),
        ("Tcp", ["80", "443"], True),
        ("Tcp", ["80", "8443"], False),
        ("Tcp", "444-500", False),
        ("Udp", "443", False),
        ("Icmp", "*", False),
    ],
)
def test_protocol_and_port_lists(estate, tmp_path, protocol, port, matches):
    _rules(_no_guest(estate)).append(_outbound("Deny", 100, "Deny", "Internet", port, protocol))
    assert statuses(estate.run(tmp_path, "ASR-NET-001")) == ["fail" if matches else "pass"]


def test_prefix_list_names_a_tag_among_addresses(estate, tmp_path):
    rule = _outbound("Deny", 100, "Deny", ["10.1.0.0/16", "AzureActiveDirectory"])
    _rules(_no_guest(estate)).append(rule)
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "fail" and finding.message.startswith("AzureActiveDirectory blocked")


def test_destination_asg_holds_only_nics_so_never_a_service(estate, tmp_path):
    asg = rid("rg-app", "Microsoft.Network", "applicationSecurityGroups/asg-db")
    rule = _outbound(
        "DenyDb", 100, "Deny", "", "*", "*", destinationApplicationSecurityGroups=[{"id": asg}]
    )
    _rules(_no_guest(estate)).append(rule)
    assert statuses(estate.run(tmp_path, "ASR-NET-001")) == ["pass"]


@pytest.mark.parametrize(
    ("source", "matches"),
    [
        ({"sourceAddressPrefix": "VirtualNetwork"}, True),
        ({"sourceAddressPrefix": "10.0.0.0/24"}, True),  # the VM's subnet
        ({"sourceAddressPrefix": "10.0.0.4"}, True),  # the VM itself
        ({"sourceAddressPrefix": "10.9.0.0/16"}, False),
        (
            {"sourceAddressPrefix": "", "sourceAddressPrefixes": ["10.9.0.0/16", "10.0.0.4/32"]},
            True,
        ),
        ({"sourceAddressPrefix": "Internet"}, False),
        ({"sourcePortRange": "1024-65535"}, True),  # every ephemeral port
        ({"sourcePortRange": "80"}, False),
    ],
)
def test_source_side_decides_whether_the_rule_applies(estate, tmp_path, source, matches):
    _no_guest(estate)
    _nic(estate)["ipConfigurations"][0]["privateIPAddress"] = "10.0.0.4"
    _rules(estate).append(_outbound("Deny", 100, "Deny", "*", "*", "*", **source))
    assert statuses(estate.run(tmp_path, "ASR-NET-001")) == ["fail" if matches else "pass"]


def test_source_asg_matches_the_nics_own_groups(estate, tmp_path):
    _no_guest(estate)
    mine = rid("rg-app", "Microsoft.Network", "applicationSecurityGroups/asg-web")
    other = rid("rg-app", "Microsoft.Network", "applicationSecurityGroups/asg-db")
    _nic(estate)["ipConfigurations"][0]["applicationSecurityGroups"] = [{"id": mine}]
    deny = {"sourceApplicationSecurityGroups": [{"id": other}], "sourceAddressPrefix": ""}
    _rules(estate).append(_outbound("DenyDbTier", 100, "Deny", "*", "*", "*", **deny))
    assert statuses(estate.run(tmp_path, "ASR-NET-001")) == ["pass"]
    _rules(estate)[-1]["sourceApplicationSecurityGroups"] = [{"id": mine.upper()}]
    assert statuses(estate.run(tmp_path / "2", "ASR-NET-001")) == ["fail"]


def test_source_prefix_without_the_vms_address_is_unknown(estate, tmp_path):
    _rules(_no_guest(estate)).append(
        _outbound("DenyWeb", 100, "Deny", "*", "*", "*", sourceAddressPrefix="10.0.0.0/28")
    )
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "unknown" and "may or may not include the VM" in finding.message


def test_nic_nsg_applies_as_well_as_subnet_nsg(estate, tmp_path):
    _no_guest(estate)
    nic_nsg = rid("rg-app", "Microsoft.Network", "networkSecurityGroups/nic-nsg")
    estate.files["nsgs.json"].append(
        {
            "id": nic_nsg,
            "name": "nic-nsg",
            "location": "eastus",
            "type": "Microsoft.Network/networkSecurityGroups",
            "securityRules": [_outbound("DenyAll", 100, "Deny", "*", "*", "*")],
        }
    )
    _nic(estate)["networkSecurityGroup"] = {"id": nic_nsg}
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "fail" and "nic-nsg/DenyAll" in finding.message


def test_nsg_exported_without_default_rules_gets_azures(estate, tmp_path):
    _no_guest(estate)
    estate.files["nsgs.json"][0].pop("defaultSecurityRules")
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "pass" and "AllowInternetOutBound" in finding.message


def test_public_ip_allow_before_a_deny_is_unknown_and_warns_about_ip_lists(estate, tmp_path):
    _no_guest(estate)
    _rules(estate).append(_outbound("Allow-ASR-IPs", 100, "Allow", "52.239.0.0/16"))
    _rules(estate).append(_outbound("DenyInternet", 4000, "Deny", "Internet", "*", "*"))
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "unknown" and "IP-based allow lists" in finding.remedy
    assert "nsg1/Allow-ASR-IPs" in finding.message and "list-service-tags" in finding.remedy


def test_public_ip_allow_that_changes_nothing_still_warns(estate, tmp_path):
    _rules(_no_guest(estate)).append(_outbound("Allow-ASR-IPs", 100, "Allow", "52.239.0.0/16"))
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "warn" and "nsg1/Allow-ASR-IPs" in finding.message


def test_ip_rules_are_decided_with_the_service_tag_export(estate, tmp_path):
    """With the ranges, a 2017-style IP allow list is exact: what it misses is blocked."""
    _service_tags(_no_guest(estate), **REAL_TAGS)
    ips = ["20.190.128.0/18", "40.126.0.0/18", "13.82.88.226/32", "13.89.170.128/26"]
    _rules(estate).append(_outbound("Allow-2017-IPs", 100, "Allow", ips))
    _rules(estate).append(_outbound("DenyInternet", 4000, "Deny", "Internet", "*", "*"))
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert (finding.status, finding.asr_error_code) == ("fail", 151197)  # ASR's second address
    assert "AzureSiteRecovery (1 of 2 addresses)" in finding.message
    assert "Storage.EastUS" in finding.message and "service-tag ranges" in finding.message
    ips += ["40.69.144.231/32", "13.68.163.32/28", "52.239.152.0/22"]
    _rules(estate)[-2] = _outbound("Allow-2017-IPs", 100, "Allow", ips)
    [finding] = estate.run(tmp_path / "2", "ASR-NET-001")
    assert finding.status == "warn" and "IP-address rules" in finding.message


def test_private_prefix_rule_does_not_decide(estate, tmp_path):
    _rules(_no_guest(estate)).append(_outbound("DenyOnPrem", 100, "Deny", "10.0.0.0/8", "*", "*"))
    assert statuses(estate.run(tmp_path, "ASR-NET-001")) == ["pass"]


def test_virtual_network_tag_may_hold_the_default_route(estate, tmp_path):
    """With a 0.0.0.0/0 user route, VirtualNetwork "might also contain default routes"."""
    _no_guest(estate)
    _tunnel(estate)
    _rules(estate).append(_outbound("AllowVnet", 100, "Allow", "VirtualNetwork"))
    _rules(estate).append(_outbound("DenyAll", 200, "Deny", "*", "*", "*"))
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "unknown" and "VirtualNetwork" in finding.message


def test_missing_nsg_export_is_unknown(estate, tmp_path):
    _no_guest(estate).drop("nsgs.json")
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "unknown" and "NSG nsg1" in finding.message


def test_missing_nic_export_is_unknown(estate, tmp_path):
    _no_guest(estate).drop("nics.json")
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "unknown" and "NIC vm1-nic" in finding.message


def test_only_the_primary_nic_carries_the_flows(estate, tmp_path):
    _no_guest(estate)
    second = dict(_nic(estate), name="vm1-nic2", primary=False)
    second["id"] = second["id"] + "2"
    second["networkSecurityGroup"] = {"id": rid("rg-app", "Microsoft.Network", "x/lockdown")}
    _nic(estate)["primary"] = True
    estate.files["nics.json"].append(second)
    estate.vm1["networkProfile"]["networkInterfaces"].append({"id": second["id"]})
    assert statuses(estate.run(tmp_path, "ASR-NET-001")) == ["pass"]


def test_guest_evidence_overrides_nsg_reasoning(estate, tmp_path):
    estate.files["guest/vm1.json"]["endpoints"] = [
        {
            "host": "login.microsoftonline.com",
            "resolved": True,
            "connected": True,
            "tls_verified": True,
        },
        {
            "host": "eus1-srce.hypervrecoverymanager.windowsazure.com",
            "resolved": True,
            "connected": False,
            "error": "timed out",
        },
    ]
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert (finding.status, finding.asr_error_code) == ("fail", 151197)
    assert "timed out" in finding.message and "AzureSiteRecovery" in finding.message


def test_guest_that_cannot_resolve_gives_151037_as_the_2025_docs_say(estate, tmp_path):
    estate.files["guest/vm1.json"]["endpoints"] = [
        {"host": "login.microsoftonline.com", "resolved": False, "connected": False}
    ]
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert (finding.status, finding.asr_error_code) == ("fail", 151037)


def test_guest_failure_explained_by_the_nsg(estate, tmp_path):
    estate.files["guest/vm1.json"]["endpoints"] = [
        {"host": "login.microsoftonline.com", "resolved": True, "connected": False}
    ]
    _rules(estate).append(_outbound("DenyInternet", 4000, "Deny", "Internet", "*", "*"))
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert "nsg1/DenyInternet" in finding.message and "the VM saw it too" in finding.message


# --- ASR-NET-002: routes -------------------------------------------------------------------


def _tunnel(estate, endpoints=(), prefix="0.0.0.0/0", hop="VirtualAppliance", table=True):
    route = {"name": "default-to-fw", "addressPrefix": prefix, "nextHopType": hop}
    if hop == "VirtualAppliance":
        route["nextHopIpAddress"] = "10.0.250.4"
    if table:
        estate.files["route-tables.json"] = [
            {
                "id": TABLE,
                "name": "rt1",
                "location": "eastus",
                "type": "Microsoft.Network/routeTables",
                "disableBgpRoutePropagation": True,
                "routes": [route],
            }
        ]
    _subnet(estate)["routeTable"] = {"id": TABLE}
    _subnet(estate)["serviceEndpoints"] = [
        {"service": s, "locations": ["eastus", "westus"]} for s in endpoints
    ]


def test_no_forced_tunnel_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-NET-002")) == ["pass"]


def test_forced_tunnel_warns_with_service_endpoint_remedy(estate, tmp_path):
    _tunnel(estate)
    [finding] = estate.run(tmp_path, "ASR-NET-002")
    assert finding.status == "warn" and "rt1/default-to-fw" in finding.message
    assert "VirtualAppliance 10.0.250.4" in finding.message
    assert "--service-endpoints Microsoft.Storage" in finding.remedy


def test_forced_tunnel_with_storage_endpoint_keeps_storage_direct(estate, tmp_path):
    _tunnel(estate, endpoints=("Microsoft.Storage",))
    [finding] = estate.run(tmp_path, "ASR-NET-002")
    assert finding.status == "warn" and "--service-endpoints" not in finding.remedy
    assert "keeps Storage.EastUS direct" in finding.message
    assert "Storage.EastUS" not in finding.message.split(";")[0]


def test_storage_endpoint_for_another_region_does_not_apply(estate, tmp_path):
    _tunnel(estate, endpoints=("Microsoft.Storage",))
    _subnet(estate)["serviceEndpoints"][0]["locations"] = ["westeurope"]
    [finding] = estate.run(tmp_path, "ASR-NET-002")
    assert "no Microsoft.Storage service endpoint" in finding.message


def test_gateway_route_is_forced_tunnelling_too(estate, tmp_path):
    _tunnel(estate, hop="VirtualNetworkGateway")
    [finding] = estate.run(tmp_path, "ASR-NET-002")
    assert finding.status == "warn" and "VirtualNetworkGateway" in finding.message


def test_route_to_none_drops_the_traffic(estate, tmp_path):
    _tunnel(estate, hop="None")
    [finding] = estate.run(tmp_path, "ASR-NET-002")
    assert (finding.status, finding.asr_error_code) == ("fail", 151196)
    assert "rt1/default-to-fw" in finding.message


def test_public_prefix_route_may_tunnel_without_ranges_and_is_exact_with_them(estate, tmp_path):
    _tunnel(estate, prefix="52.239.152.0/22")
    [finding] = estate.run(tmp_path, "ASR-NET-002")
    assert finding.status == "warn" and "may send" in finding.message
    _service_tags(estate, **REAL_TAGS)
    [finding] = estate.run(tmp_path / "2", "ASR-NET-002")
    assert finding.status == "warn" and "sends Storage.EastUS" in finding.message
    assert "AzureActiveDirectory" not in finding.message


def test_private_prefix_route_does_not_matter(estate, tmp_path):
    _tunnel(estate, prefix="192.168.0.0/16", hop="VirtualNetworkGateway")
    assert statuses(estate.run(tmp_path, "ASR-NET-002")) == ["pass"]


def test_service_tag_route(estate, tmp_path):
    _tunnel(estate, prefix="AzureActiveDirectory")
    [finding] = estate.run(tmp_path, "ASR-NET-002")
    assert finding.status == "warn" and "sends AzureActiveDirectory from" in finding.message


def test_routes_do_not_need_the_nsgs(estate, tmp_path):
    estate.drop("nsgs.json")
    assert statuses(estate.run(tmp_path, "ASR-NET-002")) == ["pass"]


def test_routes_of_a_vm_whose_nic_is_not_exported_are_unknown(estate, tmp_path):
    estate.drop("nics.json")
    [finding] = estate.run(tmp_path, "ASR-NET-002")
    assert finding.status == "unknown" and "NIC vm1-nic" in finding.message


def test_route_table_not_exported_is_unknown(estate, tmp_path):
    _tunnel(estate, table=False)
    estate.drop("route-tables.json")
    [finding] = estate.run(tmp_path, "ASR-NET-002")
    assert finding.status == "unknown" and "route table rt1" in finding.message


# --- ASR-NET-003: outbound access ----------------------------------------------------------


def _lb(estate, sku="Standard", public=False, outbound=False):
    lb_id = rid("rg-app", "Microsoft.Network", "loadBalancers/lb1")
    pool = f"{lb_id}/backendAddressPools/pool1"
    frontend = {"id": f"{lb_id}/frontendIPConfigurations/fe", "name": "fe"}
    if public:
        frontend["publicIPAddress"] = {"id": rid("rg-app", "Microsoft.Network", "x/pip")}
    else:
        frontend["subnet"] = {"id": estate.subnet_id}
        frontend["privateIPAddress"] = "10.0.0.100"
    estate.files["load-balancers.json"] = [
        {
            "id": lb_id,
            "name": "lb1",
            "location": "eastus",
            "type": "Microsoft.Network/loadBalancers",
            "sku": {"name": sku, "tier": "Regional"},
            "frontendIPConfigurations": [frontend],
            "backendAddressPools": [{"id": pool, "name": "pool1"}],
            "loadBalancingRules": [
                {
                    "name": "https",
                    "backendAddressPool": {"id": pool},
                    "disableOutboundSnat": outbound,
                    "frontendPort": 443,
                    "backendPort": 443,
                }
            ],
            "outboundRules": [{"name": "out", "backendAddressPool": {"id": pool}}]
            if outbound
            else [],
        }
    ]
    _nic(estate)["ipConfigurations"][0]["loadBalancerBackendAddressPools"] = [{"id": pool}]


def test_default_outbound_access_passes(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-NET-003")
    assert finding.status == "pass" and "default outbound access" in finding.message


def test_standard_internal_load_balancer_without_egress_fails_151196(estate, tmp_path):
    _lb(estate)
    [finding] = estate.run(tmp_path, "ASR-NET-003")
    assert (finding.status, finding.asr_error_code) == ("fail", 151196)
    assert "Standard internal load balancer lb1" in finding.message
    assert "NAT gateway" in finding.remedy


@pytest.mark.parametrize(
    ("change", "via"),
    [
        ("nat", "NAT gateway ngw1"),
        ("public_ip", "public IP pip1"),
        ("public_lb", "load balancer lb1 outbound rule out"),
        ("basic", "default outbound access"),
    ],
)
def test_egress_that_survives_a_load_balancer(estate, tmp_path, change, via):
    _lb(estate, sku="Basic" if change == "basic" else "Standard", public=change == "public_lb")
    if change == "public_lb":
        _lb(estate, public=True, outbound=True)
    if change == "nat":
        _subnet(estate)["natGateway"] = {"id": rid("rg-net", "Microsoft.Network", "x/ngw1")}
    if change == "public_ip":
        ip = {"id": rid("rg-app", "Microsoft.Network", "publicIPAddresses/pip1")}
        _nic(estate)["ipConfigurations"][0]["publicIPAddress"] = ip
    [finding] = estate.run(tmp_path, "ASR-NET-003")
    assert finding.status == "pass" and via in finding.message


def test_nat_gateway_without_public_ip_gives_nothing(estate, tmp_path):
    _lb(estate)
    ngw = rid("rg-net", "Microsoft.Network", "natGateways/ngw1")
    _subnet(estate)["natGateway"] = {"id": ngw}
    estate.files["nat-gateways.json"] = [
        {
            "id": ngw,
            "name": "ngw1",
            "location": "eastus",
            "type": "Microsoft.Network/natGateways",
            "publicIpAddresses": [],
        }
    ]
    assert statuses(estate.run(tmp_path, "ASR-NET-003")) == ["fail"]


def test_private_subnet_has_no_egress(estate, tmp_path):
    _subnet(estate)["defaultOutboundAccess"] = False
    [finding] = estate.run(tmp_path, "ASR-NET-003")
    assert finding.status == "fail" and "defaultOutboundAccess" in finding.message


def test_load_balancer_not_exported_is_unknown(estate, tmp_path):
    _lb(estate)
    estate.drop("load-balancers.json")
    [finding] = estate.run(tmp_path, "ASR-NET-003")
    assert finding.status == "unknown" and "az network lb list" in finding.remedy


def test_traffic_through_an_appliance_needs_no_own_egress(estate, tmp_path):
    _lb(estate)
    _tunnel(estate)
    [finding] = estate.run(tmp_path, "ASR-NET-003")
    assert finding.status == "pass" and "no ASR traffic leaves" in finding.message


def test_guest_that_reached_everything_passes_egress(estate, tmp_path):
    _lb(estate)
    estate.files["guest/vm1.json"]["endpoints"] = [
        {"host": h, "resolved": True, "connected": True}
        for h in (
            "login.microsoftonline.com",
            "cus1-srce.hypervrecoverymanager.windowsazure.com",
            "asrmoncus1.servicebus.windows.net",
            "contosoasrcache.blob.core.windows.net",
        )
    ]
    assert statuses(estate.run(tmp_path, "ASR-NET-003")) == ["pass"]


# --- ASR-NET-004: cache storage firewall ---------------------------------------------------


def _firewall(estate, **acl):
    account = estate.files["storage-accounts.json"][0]
    account["networkRuleSet"] = {"ipRules": [], "virtualNetworkRules": [], **acl}
    return account


@pytest.mark.parametrize(
    ("acl", "endpoint", "status", "words"),
    [
        ({"defaultAction": "Allow", "bypass": "AzureServices"}, False, "pass", "all networks"),
        ({"defaultAction": "Deny", "bypass": "None"}, True, "fail", "bypass None"),
        ({"defaultAction": "Deny", "bypass": "AzureServices"}, True, "fail", "not among"),
        (
            {"defaultAction": "Deny", "bypass": "Logging, Metrics, AzureServices", "vnet": True},
            True,
            "pass",
            "virtual network rule for snet1",
        ),
        (
            {"defaultAction": "Deny", "bypass": "AzureServices", "vnet": True},
            False,
            "fail",
            "no Microsoft.Storage service endpoint",
        ),
        (
            {"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": ["203.0.113.9"]},
            True,
            "unknown",
            "IP rules",
        ),
    ],
)
def test_cache_firewall_decisions(estate, tmp_path, acl, endpoint, status, words):
    if acl.pop("vnet", False):
        acl["virtualNetworkRules"] = [
            {"action": "Allow", "virtualNetworkResourceId": estate.subnet_id.upper()}
        ]
    if "ipRules" in acl:
        acl["ipRules"] = [{"action": "Allow", "value": v} for v in acl["ipRules"]]
    _firewall(estate, **acl)
    if endpoint:
        _subnet(estate)["serviceEndpoints"] = [{"service": "Microsoft.Storage"}]
    [finding] = estate.run(tmp_path, "ASR-NET-004", cache_accounts=("contosoasrcache",))
    assert finding.status == status and words in finding.message
    if status == "fail":
        assert finding.asr_error_code == 151037 and finding.affected_vms


def test_public_access_disabled_needs_a_private_endpoint(estate, tmp_path):
    account = _firewall(estate, defaultAction="Deny", bypass="AzureServices")
    account["publicNetworkAccess"] = "Disabled"
    [finding] = estate.run(tmp_path, "ASR-NET-004", cache_accounts=("contosoasrcache",))
    assert finding.status == "fail" and "no approved private endpoint" in finding.message
    pe = rid("rg-net", "Microsoft.Network", "privateEndpoints/pe-cache")
    account["privateEndpointConnections"] = [
        {
            "id": account["id"] + "/privateEndpointConnections/c1",
            "privateEndpoint": {"id": pe},
            "privateLinkServiceConnectionState": {"status": "Approved"},
        }
    ]
    _subnet(estate)["privateEndpoints"] = [{"id": pe}]
    [finding] = estate.run(tmp_path / "2", "ASR-NET-004", cache_accounts=("contosoasrcache",))
    assert finding.status == "pass" and "private endpoint pe-cache" in finding.message


def test_detected_cache_account_warns_without_blocking(estate, tmp_path):
    _firewall(estate, defaultAction="Deny", bypass="None")
    [finding] = estate.run(tmp_path, "ASR-NET-004")
    assert finding.status == "warn" and finding.affected_vms == ()
    assert "if chosen as cache" in finding.message


def test_storage_not_exported_is_unknown(estate, tmp_path):
    estate.drop("storage-accounts.json")
    assert statuses(estate.run(tmp_path, "ASR-NET-004")) == ["unknown"]


# --- ASR-NET-005: proxy --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxy", "status", "code"),
    [
        ({"url": "http://proxy:3128", "authenticated": True}, "fail", 151072),
        ({"url": "http://proxy:3128", "authenticated": False}, "pass", None),
        ({"url": "http://proxy:3128"}, "unknown", None),
        ({"source": "none", "url": None, "authenticated": False}, "pass", None),
    ],
)
def test_proxy(estate, tmp_path, proxy, status, code):
    estate.files["guest/vm1.json"]["proxy"] = proxy
    [finding] = estate.run(tmp_path, "ASR-NET-005")
    assert (finding.status, finding.asr_error_code) == (status, code)


def test_proxy_without_guest_facts_is_skipped_once(estate, tmp_path):
    _no_guest(estate)
    [finding] = estate.run(tmp_path, "ASR-NET-005")
    assert finding.status == "skip" and finding.resource_id is None


# --- ASR-NET-006: DNS ----------------------------------------------------------------------


def test_azure_dns_passes(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-NET-006")
    assert finding.status == "pass" and "Azure-provided DNS" in finding.message


def test_custom_vnet_dns_warns_151037(estate, tmp_path):
    estate.files["vnets.json"][0]["dhcpOptions"] = {"dnsServers": ["10.0.0.10", "168.63.129.16"]}
    [finding] = estate.run(tmp_path, "ASR-NET-006")
    assert (finding.status, finding.asr_error_code) == ("warn", 151037)
    assert "10.0.0.10" in finding.message and "168.63.129.16" not in finding.message


def test_nic_dns_overrides_the_vnets(estate, tmp_path):
    estate.files["vnets.json"][0]["dhcpOptions"] = {"dnsServers": ["10.0.0.10"]}
    _nic(estate)["dnsSettings"] = {"dnsServers": ["168.63.129.16"]}
    assert statuses(estate.run(tmp_path, "ASR-NET-006")) == ["pass"]


def test_dns_server_blocked_by_the_nsg_fails(estate, tmp_path):
    estate.files["vnets.json"][0]["dhcpOptions"] = {"dnsServers": ["10.0.0.10"]}
    _rules(estate).append(_outbound("DenyDns", 100, "Deny", "10.0.0.10", "53", "Udp"))
    [finding] = estate.run(tmp_path, "ASR-NET-006")
    assert (finding.status, finding.asr_error_code) == ("fail", 151037)
    assert "nsg1/DenyDns" in finding.message


# --- ASR-NET-007: target network -----------------------------------------------------------


def _vnet(estate, name, location, rg="rg-dr"):
    return {
        "id": rid(rg, "Microsoft.Network", f"virtualNetworks/{name}"),
        "name": name,
        "location": location,
        "type": "Microsoft.Network/virtualNetworks",
        "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
        "subnets": [],
    }


def test_asr_creates_the_target_network(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-NET-007")
    assert finding.status == "pass" and "creates vnet1-asr in Central US" in finding.message
    estate.files["vnets.json"][0]["addressSpace"] = {"addressPrefixes": ["10.0.0.0/16"]}
    [finding] = estate.run(tmp_path / "2", "ASR-NET-007")
    assert "with address space 10.0.0.0/16" in finding.message


def test_existing_asr_network_in_the_target_region(estate, tmp_path):
    estate.files["vnets.json"].append(_vnet(estate, "vnet1-asr", "centralus"))
    [finding] = estate.run(tmp_path, "ASR-NET-007")
    assert finding.status == "pass" and "already exists in Central US" in finding.message


def test_asr_network_name_taken_in_another_region_warns(estate, tmp_path):
    estate.files["vnets.json"].append(_vnet(estate, "vnet1-asr", "westus"))
    [finding] = estate.run(tmp_path, "ASR-NET-007")
    assert finding.status == "warn" and "West US" in finding.message


def _mapping(estate, recovery, recovery_location="centralus"):
    vault = rid("rg-dr", "Microsoft.RecoveryServices", "vaults/rsv-dr")
    estate.files["network-mappings.json"] = {
        "value": [
            {
                "id": f"{vault}/replicationFabrics/asr-a2a-eastus/replicationNetworks/"
                "azureNetwork/replicationNetworkMappings/vnet1-to-dr",
                "name": "vnet1-to-dr",
                "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/"
                "replicationNetworks/replicationNetworkMappings",
                "properties": {
                    "state": "Paired",
                    "primaryNetworkId": rid("rg-net", "Microsoft.Network", "virtualNetworks/vnet1"),
                    "recoveryNetworkId": recovery["id"],
                    "fabricSpecificSettings": {
                        "instanceType": "AzureToAzure",
                        "primaryFabricLocation": "eastus",
                        "recoveryFabricLocation": recovery_location,
                    },
                },
            }
        ]
    }


def test_network_mapping_names_the_target_network(estate, tmp_path):
    dr = _vnet(estate, "vnet-dr", "centralus")
    estate.files["vnets.json"].append(dr)
    _mapping(estate, dr)
    [finding] = estate.run(tmp_path, "ASR-NET-007")
    assert finding.status == "pass" and "vnet1-to-dr" in finding.message


def test_network_mapping_to_a_network_outside_the_target_region_fails(estate, tmp_path):
    dr = _vnet(estate, "vnet-dr", "westus")
    estate.files["vnets.json"].append(dr)
    _mapping(estate, dr)
    [finding] = estate.run(tmp_path, "ASR-NET-007")
    assert finding.status == "fail" and "West US" in finding.message


def test_vnets_not_exported_is_unknown(estate, tmp_path):
    estate.drop("vnets.json")
    assert statuses(estate.run(tmp_path, "ASR-NET-007")) == ["unknown"]


def _vault_identity(estate, kind):
    vault = estate.files["vaults.json"]["value"][0]
    vault["identity"] = {"type": kind, "userAssignedIdentities": {"/x/uami": {}}}


def test_vault_with_a_user_assigned_identity_needs_a_cache_open_to_all_networks(estate, tmp_path):
    """SM-2026: with the vault's user-assigned identity, a firewall that lets the VMs' subnet and
    trusted services in is not enough: the cache account must allow all networks."""
    estate.files["vaults.json"]["value"][0]["properties"] = {}
    _firewall(
        estate,
        defaultAction="Deny",
        bypass="AzureServices",
        virtualNetworkRules=[{"action": "Allow", "virtualNetworkResourceId": estate.subnet_id}],
    )
    _subnet(estate)["serviceEndpoints"] = [{"service": "Microsoft.Storage"}]
    chosen = {"cache_accounts": ("contosoasrcache",), "vault_id": "rsv-dr"}
    [finding] = estate.run(tmp_path / "system", "ASR-NET-004", **chosen)
    assert finding.status == "pass"  # no identity: the subnet rule suffices
    _vault_identity(estate, "SystemAssigned, UserAssigned")
    [finding] = estate.run(tmp_path / "uami", "ASR-NET-004", **chosen)
    assert finding.status == "fail" and "user-assigned managed identity" in finding.message
    assert "SM-2026" in finding.message and "--default-action Allow" in finding.remedy


def test_vault_identity_does_not_matter_when_the_cache_allows_all_networks(estate, tmp_path):
    _vault_identity(estate, "UserAssigned")
    _firewall(estate, defaultAction="Allow", bypass="AzureServices")
    chosen = {"cache_accounts": ("contosoasrcache",), "vault_id": "rsv-dr"}
    [finding] = estate.run(tmp_path, "ASR-NET-004", **chosen)
    assert finding.status == "pass"


def test_nics_in_application_security_groups_warn_that_the_replica_is_in_none(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-NET-008")) == ["pass"]
    asg = rid("rg-app", "Microsoft.Network", "applicationSecurityGroups/asg-web")
    estate.files["nics.json"][0]["ipConfigurations"][0]["applicationSecurityGroups"] = [{"id": asg}]
    [finding] = estate.run(tmp_path, "ASR-NET-008")
    assert finding.status == "warn" and "application security groups (asg-web)" in finding.message
    estate.drop("nics.json")
    (tmp_path / "without-nics").mkdir()
    assert statuses(estate.run(tmp_path / "without-nics", "ASR-NET-008")) == ["unknown"]
