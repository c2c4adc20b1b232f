from builders import rid, statuses


def _outbound(name, priority, access, destination, port="443", protocol="Tcp"):
    return {
        "name": name,
        "priority": priority,
        "direction": "Outbound",
        "access": access,
        "protocol": protocol,
        "sourceAddressPrefix": "*",
        "sourcePortRange": "*",
        "destinationAddressPrefix": destination,
        "destinationPortRange": port,
    }


def _rules(estate):
    return estate.files["nsgs.json"][0]["securityRules"]


def test_default_rules_allow_outbound(estate, tmp_path):
    estate.drop("guest/vm1.json")
    assert statuses(estate.run(tmp_path, "ASR-NET-001")) == ["pass"]


def test_deny_internet_blocks_entra_with_151196(estate, tmp_path):
    estate.drop("guest/vm1.json")
    _rules(estate).append(_outbound("DenyInternet", 4000, "Deny", "Internet", "*", "*"))
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "fail"
    assert "AzureActiveDirectory blocked by nsg1/DenyInternet" in finding.message
    assert finding.asr_error_code == 151196


def test_service_tag_allows_above_the_deny_pass(estate, tmp_path):
    estate.drop("guest/vm1.json")
    for i, tag in enumerate(
        ("Storage.EastUS", "AzureActiveDirectory", "EventHub.CentralUS", "AzureSiteRecovery")
    ):
        _rules(estate).append(_outbound(f"Allow-{tag}", 100 + i, "Allow", tag))
    _rules(estate).append(_outbound("DenyInternet", 4000, "Deny", "Internet", "*", "*"))
    assert statuses(estate.run(tmp_path, "ASR-NET-001")) == ["pass"]


def test_parent_storage_tag_covers_regional_tag(estate, tmp_path):
    estate.drop("guest/vm1.json")
    _rules(estate).append(_outbound("DenyStorage", 100, "Deny", "Storage"))
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert "Storage.EastUS blocked" in finding.message


def test_nic_nsg_applies_as_well_as_subnet_nsg(estate, tmp_path):
    estate.drop("guest/vm1.json")
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
    estate.files["nics.json"][0]["networkSecurityGroup"] = {"id": nic_nsg}
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "fail" and "nic-nsg/DenyAll" in finding.message


def test_public_ip_prefix_rule_is_unknown_and_warns_about_ip_lists(estate, tmp_path):
    estate.drop("guest/vm1.json")
    _rules(estate).append(_outbound("Allow-ASR-IPs", 100, "Allow", "52.239.0.0/16"))
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "unknown" and "IP-based allow lists" in finding.remedy


def test_private_prefix_rule_does_not_decide(estate, tmp_path):
    estate.drop("guest/vm1.json")
    _rules(estate).append(_outbound("DenyOnPrem", 100, "Deny", "10.0.0.0/8", "*", "*"))
    assert statuses(estate.run(tmp_path, "ASR-NET-001")) == ["pass"]


def test_missing_nsg_export_is_unknown(estate, tmp_path):
    estate.drop("guest/vm1.json", "nsgs.json")
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert finding.status == "unknown" and "NSG nsg1" in finding.message


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
    assert "timed out" in finding.message


def _tunnel(estate, endpoints=()):
    table_id = rid("rg-net", "Microsoft.Network", "routeTables/rt1")
    estate.files["route-tables.json"] = [
        {
            "id": table_id,
            "name": "rt1",
            "location": "eastus",
            "type": "Microsoft.Network/routeTables",
            "routes": [
                {
                    "name": "default-to-fw",
                    "addressPrefix": "0.0.0.0/0",
                    "nextHopType": "VirtualAppliance",
                    "nextHopIpAddress": "10.0.250.4",
                }
            ],
        }
    ]
    subnet = estate.files["vnets.json"][0]["subnets"][0]
    subnet["routeTable"] = {"id": table_id}
    subnet["serviceEndpoints"] = [{"service": s, "locations": ["eastus"]} for s in endpoints]


def test_no_forced_tunnel_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-NET-002")) == ["pass"]


def test_forced_tunnel_warns_with_service_endpoint_remedy(estate, tmp_path):
    _tunnel(estate)
    [finding] = estate.run(tmp_path, "ASR-NET-002")
    assert finding.status == "warn" and "rt1/default-to-fw" in finding.message
    assert "--service-endpoints Microsoft.Storage" in finding.remedy


def test_forced_tunnel_with_storage_endpoint_still_warns_without_endpoint_command(estate, tmp_path):
    _tunnel(estate, endpoints=("Microsoft.Storage",))
    [finding] = estate.run(tmp_path, "ASR-NET-002")
    assert finding.status == "warn" and "--service-endpoints" not in finding.remedy


def test_route_table_not_exported_is_unknown(estate, tmp_path):
    _tunnel(estate)
    estate.drop("route-tables.json")
    assert statuses(estate.run(tmp_path, "ASR-NET-002")) == ["unknown"]


def test_authenticated_proxy_fails_151072(estate, tmp_path):
    estate.files["guest/vm1.json"]["proxy"] = {
        "source": "/etc/environment",
        "url": "http://proxy:3128",
        "authenticated": True,
    }
    [finding] = estate.run(tmp_path, "ASR-NET-001")
    assert (finding.status, finding.asr_error_code) == ("fail", 151072)
