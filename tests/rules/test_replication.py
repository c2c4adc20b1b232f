"""Churn from Azure Monitor's hourly write metrics (REST Metrics - List shape): a disk under, at
and over each limit, High Churn, beyond it, and metrics that are missing or too short."""

from __future__ import annotations

from asr_preflight.analysis.churn import Outcome, disk_limit
from builders import SUB, rid, statuses

MB = 1_000_000


def _metric(resource: str, name: str, values: list[float], lun: str | None = None) -> dict:
    return {
        "id": f"{resource}/providers/Microsoft.Insights/metrics/{name}",
        "type": "Microsoft.Insights/metrics",
        "name": {"value": name, "localizedValue": name},
        "unit": "BytesPerSecond" if "Bytes" in name else "CountPerSecond",
        "timeseries": [
            {
                "metadatavalues": []
                if lun is None
                else [{"name": {"value": "lun", "localizedValue": "LUN"}, "value": lun}],
                "data": [
                    {
                        "timeStamp": f"2026-11-{26 + h // 24:02d}T{h % 24:02d}:00:00Z",
                        "average": v,
                        "maximum": v * 1.5,
                    }
                    for h, v in enumerate(values)
                ],
            }
        ],
        "errorCode": "Success",
    }


def _os_churn(estate, mb_s: float, kb: float | None = 8, hours: int = 168) -> None:
    vm = estate.vm1["id"]
    metrics = [_metric(vm, "OS Disk Write Bytes/sec", [mb_s * MB] * hours)]
    if kb is not None:
        ops = mb_s * MB / (kb * 1024)
        metrics.append(_metric(vm, "OS Disk Write Operations/Sec", [ops] * hours))
    estate.files["metrics/vm1.json"] = {
        "cost": hours,
        "timespan": "2026-11-26T00:00:00Z/2026-12-03T00:00:00Z",
        "interval": "PT1H",
        "value": metrics,
        "namespace": "Microsoft.Compute/virtualMachines",
        "resourceregion": "eastus",
    }


def test_the_limits_follow_the_tables():
    assert disk_limit("normal", True, 256, 8) == (2.0, "")
    assert disk_limit("normal", True, 256, 64) == (8.0, "")
    assert disk_limit("normal", True, 600, 16) == (20.0, "")
    assert disk_limit("normal", False, 64, 32) == (2.0, "")
    assert disk_limit("high", True, 2048, 24) == (50.0, "")
    assert disk_limit("high", False, 64, 40) == (8.0, "")
    limit, note = disk_limit("normal", True, 30, 8)  # no row under 128 GiB: the nearest, said
    assert limit == 2.0 and "128 GiB row" in note


def test_churn_at_the_limit_passes(estate, tmp_path):
    _os_churn(estate, 2.0, kb=8)  # a 30 GiB premium disk, 8 KB writes: 2 MB/s
    [finding] = estate.run(tmp_path, "ASR-REP-001")
    assert finding.status == "pass" and "p95 2 MB/s" in finding.message


def test_over_the_normal_limit_needs_high_churn(estate, tmp_path):
    _os_churn(estate, 9.0, kb=8)
    [finding] = estate.run(tmp_path, "ASR-REP-001")
    assert finding.status == "warn" and "within High Churn's" in finding.message
    assert "choose High Churn when you enable replication" in finding.remedy
    assert estate.check(tmp_path).context.churn[estate.vm1["id"].lower()].outcome is (
        Outcome.HIGH_CHURN
    )


def test_beyond_high_churn_fails_153007(estate, tmp_path):
    _os_churn(estate, 31.0, kb=64)  # High Churn's premium row ends at 30 MB/s
    [finding] = estate.run(tmp_path, "ASR-REP-001")
    assert (finding.status, finding.asr_error_code) == ("fail", 153007)
    assert "RPO not hold" in finding.message


def test_the_write_size_raises_the_limit(estate, tmp_path):
    _os_churn(estate, 7.0, kb=64)  # 32 KB and more: 8 MB/s
    assert statuses(estate.run(tmp_path, "ASR-REP-001")) == ["pass"]
    _os_churn(estate, 7.0, kb=None)  # no operation counts: 8 KB assumed, and said
    [finding] = estate.run(tmp_path, "ASR-REP-001")
    assert finding.status == "warn" and "8 KB writes assumed" in finding.message


def test_no_metrics_is_unknown_with_the_export_command(estate, tmp_path):
    [finding] = estate.run(tmp_path, "ASR-REP-001")
    assert finding.status == "unknown" and "no write metrics for vm1-osdisk" in finding.message
    assert "az monitor metrics list --resource" in finding.remedy
    assert "--interval PT1H --aggregation Average Maximum" in finding.remedy


def test_metrics_that_cover_too_little_are_unknown_and_a_short_week_says_so(estate, tmp_path):
    _os_churn(estate, 1.0, hours=12)
    [finding] = estate.run(tmp_path, "ASR-REP-001")
    assert finding.status == "unknown" and "cover 12 hour(s)" in finding.message
    _os_churn(estate, 1.0, hours=100)
    [finding] = estate.run(tmp_path, "ASR-REP-001")
    assert finding.status == "pass" and "over 100 hours (of the 168 asked for)" in finding.message


def test_composite_disk_metrics_stand_in_for_the_vms(estate, tmp_path):
    disk = rid("rg-app", "Microsoft.Compute", "disks/vm1-osdisk")
    estate.files["metrics/disk.json"] = {
        "value": [
            _metric(disk, "Composite Disk Write Bytes/sec", [40 * MB] * 168),
            _metric(disk, "Composite Disk Write Operations/sec", [40 * MB / 65536] * 168),
        ]
    }
    [finding] = estate.run(tmp_path, "ASR-REP-001")
    assert finding.status == "fail" and "vm1-osdisk: p95 40 MB/s" in finding.message


def test_a_metric_without_its_series_is_an_input_problem(estate, tmp_path):
    _os_churn(estate, 1.0)
    del estate.files["metrics/vm1.json"]["value"][0]["timeseries"]
    result = estate.check(tmp_path)
    [problem] = result.context.estate.problems
    assert problem.path.endswith(".timeseries") and "metrics/vm1.json" in problem.file
    [finding] = [f for f in result.findings if f.rule == "ASR-REP-001"]
    assert finding.status == "unknown"


def _storage(name: str, kind: str) -> dict:
    return {
        "id": rid("rg-app", "Microsoft.Storage", f"storageAccounts/{name}"),
        "name": name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": "eastus",
        "kind": kind,
        "sku": {"name": "Premium_LRS" if kind == "BlockBlobStorage" else "Standard_LRS"},
        "properties": {"networkAcls": {"defaultAction": "Allow"}},
    }


def test_high_churn_needs_a_premium_block_blob_cache(estate, tmp_path):
    _os_churn(estate, 9.0)
    estate.files["storage-accounts.json"] = [
        _storage("appasrcache", "StorageV2"),
        _storage("apppremiumcache", "BlockBlobStorage"),
    ]
    [finding] = estate.run(tmp_path, "ASR-REP-002")
    assert finding.status == "pass" and "ASR creates" in finding.message
    [finding] = estate.run(tmp_path, "ASR-REP-002", cache_accounts=("appasrcache",))
    assert finding.status == "fail" and "--kind BlockBlobStorage" in finding.remedy
    [finding] = estate.run(tmp_path, "ASR-REP-002", cache_accounts=("apppremiumcache",))
    assert finding.status == "pass"


def test_the_plan_sizes_cache_accounts_by_churn_and_estimates_the_first_copy(estate, tmp_path):
    estate.files["storage-accounts.json"] = []  # no cache account yet: the plan makes them
    _os_churn(estate, 1.5)
    plan = estate.check(tmp_path).context.plan.target
    [vm] = plan.vms
    assert vm.churn == "normal" and vm.initial_replication_hours == round(
        30 * 2**30 / 54e6 / 3600, 1
    )
    [cache] = plan.cache_accounts
    assert "up to 750 disks" in cache.note and "4 MB/s or less" in cache.note
    _os_churn(estate, 9.0)
    plan = estate.check(tmp_path).context.plan.target
    standard, premium = plan.cache_accounts
    assert "up to 375 disks" in standard.note
    assert "Premium Block Blob" in premium.note and "vm1" in premium.note
    assert SUB in plan.vms[0].id


def test_subscription_scope_metrics_name_each_vm_in_a_dimension(estate, tmp_path):
    """`az rest` on /subscriptions/{id}/providers/Microsoft.Insights/metrics with
    `$filter=Microsoft.ResourceId eq '*'`: one answer for every VM of a region."""
    scope = f"/subscriptions/{SUB}"
    metric = _metric(scope, "OS Disk Write Bytes/sec", [9.0 * MB] * 168)
    metric["timeseries"][0]["metadatavalues"] = [
        {"name": {"value": "Microsoft.ResourceId"}, "value": estate.vm1["id"].lower()}
    ]
    estate.files["metrics-sub.json"] = {"value": [metric]}
    [finding] = estate.run(tmp_path, "ASR-REP-001")
    assert finding.status == "warn" and "8 KB writes assumed" in finding.message
