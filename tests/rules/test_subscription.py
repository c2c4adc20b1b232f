from builders import SUB, statuses

SCOPE = f"/subscriptions/{SUB}"


def test_target_region_offered_passes(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-SUB-001")
    assert (finding.status, finding.resource_id) == ("pass", SCOPE)


def test_region_missing_from_subscription_locations_fails_150097(estate, tmp_path):
    estate.files["locations.json"] = estate.files["locations.json"][:1]  # eastus only
    [finding] = estate.run(tmp_path, "ASR-SUB-001")
    assert (finding.status, finding.asr_error_code) == ("fail", 150097)


def test_compute_provider_not_offering_target_fails(estate, tmp_path):
    estate.files["providers.json"][1]["resourceTypes"][0]["locations"] = ["East US"]
    assert statuses(estate.run(tmp_path, "ASR-SUB-001")) == ["fail"]


def test_disabled_subscription_fails(estate, tmp_path):
    estate.files["accounts.json"][0]["state"] = "Disabled"
    [finding] = estate.run(tmp_path, "ASR-SUB-001")
    assert finding.status == "fail" and "Disabled" in finding.message


def test_target_region_unknown_without_locations_or_providers(estate, tmp_path):
    estate.drop("locations.json", "providers.json")
    [finding] = estate.run(tmp_path, "ASR-SUB-001")
    assert finding.status == "unknown" and "az account list-locations" in finding.remedy


def test_providers_registered_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-SUB-002")) == ["pass"]


def test_unregistered_provider_fails_with_register_command(estate, tmp_path):
    estate.files["providers.json"][0]["registrationState"] = "NotRegistered"
    [finding] = estate.run(tmp_path, "ASR-SUB-002")
    assert finding.status == "fail"
    assert finding.remedy == (
        f"az provider register --namespace Microsoft.RecoveryServices --subscription {SUB}"
    )


def test_providers_unknown_without_export(estate, tmp_path):
    estate.drop("providers.json")
    assert statuses(estate.run(tmp_path, "ASR-SUB-002")) == ["unknown"]


def test_provider_missing_from_partial_export_is_unknown(estate, tmp_path):
    estate.files["providers.json"] = estate.files["providers.json"][:2]
    [finding] = estate.run(tmp_path, "ASR-SUB-002")
    assert finding.status == "unknown" and "Microsoft.Network" in finding.message


def test_pair_allowed_mentions_history(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-SUB-003")
    assert finding.status == "pass"


def test_brazil_south_cannot_be_a_target(estate, tmp_path):
    findings = estate.run(tmp_path, "ASR-SUB-003", target_region="brazilsouth")
    assert "fail" in statuses(findings)
    assert any("only be a source" in f.message for f in findings)


def test_restricted_region_needs_allow_listing(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-SUB-003", target_region="switzerlandwest")
    assert finding.status == "warn" and "allow-list" in finding.remedy


def test_same_tenant_passes_by_default(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-SUB-004")) == ["pass"]


def test_cross_tenant_target_fails(estate, tmp_path):
    other = "33333333-3333-4333-8333-333333333333"
    estate.files["accounts.json"].append(
        {
            "id": other,
            "name": "other",
            "state": "Enabled",
            "tenantId": "99999999-0000-4000-8000-000000000000",
            "cloudName": "AzureCloud",
        }
    )
    [finding] = estate.run(tmp_path, "ASR-SUB-004", target_subscription=other)
    assert finding.status == "fail"


def test_cross_subscription_with_unknown_tenant_is_unknown(estate, tmp_path):
    other = "33333333-3333-4333-8333-333333333333"
    [finding] = estate.run(tmp_path, "ASR-SUB-004", target_subscription=other)
    assert finding.status == "unknown"
