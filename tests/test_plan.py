"""The target plan over small estates: what exists is reused, what is new is counted."""

from __future__ import annotations

from builders import SUB, rid, sku


def _plan(estate, tmp_path, **options):
    return estate.check(tmp_path, **options).context.plan.target


def test_new_target_network_is_named_after_the_source_with_its_address_space(estate, tmp_path):
    estate.files["vnets.json"][0]["addressSpace"] = {"addressPrefixes": ["10.0.0.0/16"]}
    [vnet] = _plan(estate, tmp_path).virtual_networks
    assert (vnet.name, vnet.exists) == ("vnet1-asr", False)
    assert "address space 10.0.0.0/16" in vnet.note


def test_a_network_mapping_to_the_target_region_is_reused(estate, tmp_path):
    target = rid("rg-dr", "Microsoft.Network", "virtualNetworks/vnet-dr")
    estate.files["vnets.json"].append(
        {
            "id": target,
            "name": "vnet-dr",
            "location": "centralus",
            "type": "Microsoft.Network/virtualNetworks",
            "subnets": [],
        }
    )
    estate.files["network-mappings.json"] = {
        "value": [
            {
                "id": rid(
                    "rg-dr",
                    "Microsoft.RecoveryServices",
                    "vaults/rsv-dr/replicationFabrics/f/replicationNetworks/n/"
                    "replicationNetworkMappings/map1",
                ),
                "name": "map1",
                "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationNetworks/"
                "replicationNetworkMappings",
                "properties": {
                    "primaryNetworkId": estate.files["vnets.json"][0]["id"],
                    "recoveryNetworkId": target,
                    "state": "Succeeded",
                    "fabricSpecificSettings": {
                        "instanceType": "AzureToAzure",
                        "primaryFabricLocation": "eastus",
                        "recoveryFabricLocation": "centralus",
                    },
                },
            }
        ]
    }
    plan = _plan(estate, tmp_path)
    [vnet] = plan.virtual_networks
    assert (vnet.name, vnet.exists, vnet.note) == ("vnet-dr", True, "network mapping map1")
    assert not [q for q in plan.quota if q.quota == "VirtualNetworks"]  # nothing to create


def test_existing_target_group_and_vault_are_reused(estate, tmp_path):
    plan = _plan(estate, tmp_path, target_resource_group="rg-dr")
    assert [(g.name, g.exists) for g in plan.resource_groups] == [("rg-dr", True)]
    assert (plan.vault.name, plan.vault.exists) == ("rsv-dr", True)
    assert plan.vault.id == rid("rg-dr", "Microsoft.RecoveryServices", "vaults/rsv-dr")


def test_no_vault_means_one_to_create_in_the_target_region(estate, tmp_path):
    estate.files["vaults.json"] = []
    vault = _plan(estate, tmp_path).vault
    assert (vault.exists, vault.location) == (False, "centralus")


def test_cache_account_is_reused_and_disks_keep_their_type(estate, tmp_path):
    plan = _plan(estate, tmp_path)
    assert [(c.name, c.exists) for c in plan.cache_accounts] == [("contosoasrcache", True)]
    [vm] = plan.vms
    assert [(d.source_sku, d.replica_sku) for d in vm.disks] == [("Premium_LRS", "Premium_LRS")]
    assert f"/subscriptions/{SUB}" in vm.id


def test_a_smaller_target_size_is_in_the_plan_with_the_sizes_that_are_not(estate, tmp_path):
    estate.vm1["hardwareProfile"]["vmSize"] = "Standard_E64s_v5"
    estate.files["skus-eastus.json"].append(
        sku("Standard_E64s_v5", "standardESv5Family", 64, 512, "eastus")
    )
    estate.files["skus-centralus.json"] = [
        sku("Standard_E8s_v5", "standardESv5Family", 8, 64, "centralus"),
        sku("Standard_E64ds_v5", "standardEDSv5Family", 64, 512, "centralus"),
    ]
    [vm] = _plan(estate, tmp_path).vms
    assert (vm.target_size, vm.larger_sizes) == ("Standard_E8s_v5", ["Standard_E64ds_v5"])
    assert vm.smaller.startswith("1/8 of the vCPUs")
