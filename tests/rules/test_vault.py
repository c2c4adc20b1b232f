from builders import rid, statuses


def test_vault_in_target_region_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-VAULT-001")) == ["pass"]


def test_no_vault_in_target_region_warns_with_create_command(estate, tmp_path):
    estate.files["vaults.json"]["value"][0]["location"] = "westus"
    [finding] = estate.run(tmp_path, "ASR-VAULT-001")
    assert finding.status == "warn"
    assert "az backup vault create" in finding.remedy and "--location centralus" in finding.remedy


def test_chosen_vault_in_a_third_region_only_warns(estate, tmp_path):
    estate.files["vaults.json"]["value"][0]["location"] = "westus"
    [finding] = estate.run(tmp_path, "ASR-VAULT-001", vault_id="rsv-dr")
    assert finding.status == "warn" and "West US" in finding.message


def test_chosen_vault_missing_from_export_is_unknown(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-VAULT-001", vault_id="rsv-nowhere")
    assert finding.status == "unknown" and "rsv-nowhere" in finding.message


def test_chosen_source_region_vault_blocks_every_vm(estate, tmp_path):
    estate.files["vaults.json"]["value"][0]["location"] = "eastus"
    result = estate.check(tmp_path, vault_id="rsv-dr")
    assert [f.status for f in result.findings if f.rule == "ASR-VAULT-002"] == ["fail"]
    assert [v.verdict for v in result.verdicts] == ["blocked"]


def test_vault_rules_unknown_without_vault_export(estate, tmp_path):
    estate.drop("vaults.json")
    for rule in ("ASR-VAULT-001", "ASR-VAULT-002", "ASR-STO-001"):
        [finding] = estate.run(tmp_path, rule)
        assert finding.status == "unknown"
        assert (
            "az resource list --resource-type Microsoft.RecoveryServices/vaults" in finding.remedy
        )


def test_empty_vault_export_means_none_rather_than_unknown(estate, tmp_path):
    estate.files["vaults.json"] = []
    assert statuses(estate.run(tmp_path, "ASR-VAULT-001")) == ["warn"]


def test_only_source_region_vault_warns(estate, tmp_path):
    estate.files["vaults.json"]["value"][0]["location"] = "eastus"
    [finding] = estate.run(tmp_path, "ASR-VAULT-002")
    assert finding.status == "warn" and "source region" in finding.message


def test_chosen_source_region_vault_fails(estate, tmp_path):
    estate.files["vaults.json"]["value"][0]["location"] = "eastus"
    [finding] = estate.run(tmp_path, "ASR-VAULT-002", vault_id="rsv-dr")
    assert finding.status == "fail"


def test_vault_not_in_source_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-VAULT-002")) == ["pass"]


def _no_target_vault(estate):
    estate.files["vaults.json"]["value"][0]["location"] = "westus"


def test_region_can_host_vault_from_provider_locations(estate, tmp_path):
    _no_target_vault(estate)
    assert statuses(estate.run(tmp_path, "ASR-VAULT-003")) == ["pass"]


def test_region_without_vault_provider_warns(estate, tmp_path):
    _no_target_vault(estate)
    estate.files["providers.json"][0]["resourceTypes"][0]["locations"] = ["East US"]
    assert statuses(estate.run(tmp_path, "ASR-VAULT-003")) == ["warn"]


def test_new_zealand_is_a_target_but_not_a_vault_region(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-VAULT-003", target_region="newzealandnorth")
    assert finding.status == "warn" and "New Zealand North" in finding.message


def test_region_can_host_vault_unknown_without_providers(estate, tmp_path):
    _no_target_vault(estate)
    estate.drop("providers.json")
    [finding] = estate.run(tmp_path, "ASR-VAULT-003")
    assert finding.status == "unknown" and "az provider list" in finding.remedy
    assert finding.resource_id == f"/subscriptions/{rid('x', 'y', 'z').split('/')[2]}"
