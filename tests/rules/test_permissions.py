from builders import PRINCIPAL, SUB, statuses

READER = "acdd72a7-3385-4ef6-b092-a2b8a9e0c5a8"


def _role(role_id, name, actions, not_actions=()):
    return {
        "id": f"/providers/Microsoft.Authorization/roleDefinitions/{role_id}",
        "name": role_id,
        "roleName": name,
        "roleType": "CustomRole",
        "type": "Microsoft.Authorization/roleDefinitions",
        "assignableScopes": ["/"],
        "permissions": [
            {
                "actions": list(actions),
                "notActions": list(not_actions),
                "dataActions": [],
                "notDataActions": [],
            }
        ],
    }


def _assign(estate, role_id, scope, condition=None):
    estate.files["role-assignments.json"] = [
        {
            "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/x",
            "name": "x",
            "principalId": PRINCIPAL,
            "principalType": "User",
            "scope": scope,
            "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
            f"roleDefinitions/{role_id}",
            "condition": condition,
            "type": "Microsoft.Authorization/roleAssignments",
        }
    ]


def test_owner_at_subscription_passes(estate, tmp_path):
    assert statuses(estate.run(tmp_path, "ASR-PERM-001")) == ["pass"]


def test_not_action_removes_listkeys_and_names_the_smallest_role(estate, tmp_path):
    estate.files["role-definitions.json"].append(
        _role("custom-1", "DR Operator", ["*"], ["Microsoft.Storage/storageAccounts/listKeys/*"])
    )
    _assign(estate, "custom-1", f"/subscriptions/{SUB}")
    [finding] = estate.run(tmp_path, "ASR-PERM-001")
    assert finding.status == "fail"
    assert "Microsoft.Storage/storageAccounts/listkeys/action" in finding.message
    assert "az role assignment create --assignee " + PRINCIPAL in finding.remedy
    assert '--role "Virtual Machine Contributor"' in finding.remedy  # grants listKeys exactly


def test_reader_lacks_write_actions(estate, tmp_path):
    estate.files["role-definitions.json"].append(_role(READER, "Reader", ["*/read"]))
    _assign(estate, READER, f"/subscriptions/{SUB}")
    [finding] = estate.run(tmp_path, "ASR-PERM-001")
    assert finding.status == "fail"
    assert "Microsoft.Compute/virtualMachines/write" in finding.message


def test_assignment_on_another_resource_group_does_not_count(estate, tmp_path):
    _assign(
        estate,
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        f"/subscriptions/{SUB}/resourceGroups/rg-other",
    )
    assert statuses(estate.run(tmp_path, "ASR-PERM-001")) == ["fail"]


def test_conditional_assignment_is_unknown(estate, tmp_path):
    _assign(
        estate,
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        f"/subscriptions/{SUB}",
        condition="@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'x'",
    )
    [finding] = estate.run(tmp_path, "ASR-PERM-001")
    assert finding.status == "unknown" and "condition" in finding.message


def test_deny_assignment_overrides_owner(estate, tmp_path):
    estate.files["deny-assignments.json"] = [
        {
            "id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/denyAssignments/d1",
            "name": "d1",
            "type": "Microsoft.Authorization/denyAssignments",
            "properties": {
                "scope": f"/subscriptions/{SUB}",
                "principals": [
                    {"id": "00000000-0000-0000-0000-000000000000", "type": "SystemDefined"}
                ],
                "excludePrincipals": [],
                "permissions": [{"actions": ["*/write"], "notActions": []}],
            },
        }
    ]
    [finding] = estate.run(tmp_path, "ASR-PERM-001")
    assert finding.status == "fail" and "deny assignment" in finding.message


def test_no_principal_is_unknown(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-PERM-001", principal_id=None)
    assert finding.status == "unknown" and "--principal-id" in finding.remedy


def test_no_role_export_is_unknown(estate, tmp_path):
    estate.drop("role-assignments.json")
    [finding] = estate.run(tmp_path, "ASR-PERM-001")
    assert finding.status == "unknown" and "az role assignment list" in finding.remedy


def _contributor_on(estate, *scopes):
    """The principal holds Contributor (no authorization writes) exactly on these scopes."""
    estate.files["role-definitions.json"].append(_role("contrib", "Contributor", ["*"]))
    estate.files["role-assignments.json"] = [
        {
            "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/c{i}",
            "name": f"c{i}",
            "principalId": PRINCIPAL,
            "principalType": "User",
            "scope": scope,
            "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
            "roleDefinitions/contrib",
            "condition": None,
            "type": "Microsoft.Authorization/roleAssignments",
        }
        for i, scope in enumerate(scopes)
    ]


def test_creating_the_target_resource_group_needs_subscription_rights(estate, tmp_path):
    rg = f"/subscriptions/{SUB}/resourceGroups"
    _contributor_on(estate, f"{rg}/rg-app", f"{rg}/rg-dr")
    [finding] = estate.run(tmp_path, "ASR-PERM-001")  # default target group rg-app-asr: absent
    assert finding.status == "fail"
    assert f"Microsoft.Resources/subscriptions/resourceGroups/write at /subscriptions/{SUB}" in (
        finding.message
    )
    [existing] = estate.run(tmp_path, "ASR-PERM-001", target_resource_group="rg-dr")
    assert existing.status == "pass"


def test_new_vault_needs_vault_write_in_the_target_group(estate, tmp_path):
    estate.files["vaults.json"]["value"][0]["location"] = "westus"
    rg = f"/subscriptions/{SUB}/resourceGroups"
    estate.files["role-definitions.json"].append(
        _role("novault", "No vaults", ["*"], ["Microsoft.RecoveryServices/vaults/write"])
    )
    _assign(estate, "novault", f"/subscriptions/{SUB}")
    [finding] = estate.run(tmp_path, "ASR-PERM-001", target_resource_group="rg-dr")
    assert finding.status == "fail"
    assert f"Microsoft.RecoveryServices/vaults/write at {rg}/rg-dr" in finding.message


def test_group_membership_from_graph_export_counts(estate, tmp_path):
    group = "cccccccc-0000-4000-8000-000000000003"
    estate.files["role-assignments.json"][0]["principalId"] = group
    estate.files["role-assignments.json"][0]["principalType"] = "Group"
    [unsure] = estate.run(tmp_path, "ASR-PERM-001")  # whose group? not exported: never a "no"
    assert unsure.status == "unknown" and "group memberships were not exported" in unsure.message
    estate.files["member-of.json"] = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
        "value": [
            {"@odata.type": "#microsoft.graph.group", "id": group, "displayName": "DR Admins"}
        ],
    }
    [finding] = estate.run(tmp_path, "ASR-PERM-001")
    assert finding.status == "pass"


def test_group_given_on_the_command_line_counts(estate, tmp_path):
    group = "cccccccc-0000-4000-8000-000000000003"
    estate.files["role-assignments.json"][0]["principalId"] = group
    assert statuses(estate.run(tmp_path, "ASR-PERM-001", principal_groups=(group,))) == ["pass"]


def test_memberships_exported_for_the_principal_settle_it(estate, tmp_path):
    group = "cccccccc-0000-4000-8000-000000000003"
    estate.files["role-assignments.json"][0]["principalId"] = group
    estate.files["role-assignments.json"][0]["principalType"] = "Group"
    estate.files["member-groups.json"] = {"principalId": PRINCIPAL, "value": []}  # in no group
    assert statuses(estate.run(tmp_path, "ASR-PERM-001")) == ["fail"]
    estate.files["member-groups.json"] = {
        "principalId": "someone-else",
        "value": [{"displayName": "DR Admins", "id": group}],
    }
    assert statuses(estate.run(tmp_path, "ASR-PERM-001")) == ["unknown"]  # not about her


def test_the_fix_is_the_fewest_assignments_at_scopes_that_exist(estate, tmp_path):
    """No assignment at all, and ASR's target group rg-app-asr not created yet: one role at the
    subscription covers every action, instead of one assignment per action and scope."""
    estate.files["role-assignments.json"] = []
    [finding] = estate.run(tmp_path, "ASR-PERM-001")
    assert finding.status == "fail"
    commands = [c for c in finding.remedy.split("; ") if c.startswith("az role assignment")]
    assert commands == [
        f'az role assignment create --assignee {PRINCIPAL} --role "Contributor" '
        f"--scope /subscriptions/{SUB}"
    ]
    assert "rg-app-asr does not exist yet" in finding.remedy


def test_an_existing_target_group_takes_the_assignment_itself(estate, tmp_path):
    estate.files["role-assignments.json"] = []
    estate.files["resource-groups.json"].append(
        {
            "id": f"/subscriptions/{SUB}/resourceGroups/rg-app-asr",
            "name": "rg-app-asr",
            "location": "centralus",
            "type": "Microsoft.Resources/resourceGroups",
        }
    )
    [finding] = estate.run(tmp_path, "ASR-PERM-001")
    assert "does not exist yet" not in finding.remedy
    assert f"--scope /subscriptions/{SUB}/resourceGroups/rg-app-asr" in finding.remedy


def test_unread_deny_assignments_leave_a_full_grant_unknown(estate, tmp_path):
    """A deny assignment nobody read may revoke any action: never a silent pass."""
    estate.drop("deny-assignments.json")
    [finding] = estate.run(tmp_path, "ASR-PERM-001")
    assert finding.status == "unknown" and "deny assignments were not read" in finding.message
    assert "denyAssignments?api-version=" in finding.remedy
