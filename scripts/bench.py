"""End-to-end throughput on synthetic estates (`make bench`): export files in, JSON report out.

Generates estates of 1,000, 10,000 and 50,000 VMs as az-style export folders, then times
load → model → all rules → JSON report for each, in-process (best of three runs), and prints
VMs checked per second. Then checks 10,000 VMs for a principal with 5,000 role assignments and
prints what those assignments add. Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from asr_preflight.analysis.sizing import Choice, Sizer
from asr_preflight.engine import Scope, run_check, select_vms
from asr_preflight.model import build_estate
from asr_preflight.perf import batch_gc
from asr_preflight.report.model import build_report, write
from asr_preflight.rules import Context
from asr_preflight.snapshot import load_snapshot
from builders import PRINCIPAL, Estate, rid, sku


def synthetic(count: int) -> Estate:
    """`count` VMs in 100 resource groups and 50 subnets, two disks each, guest facts for 10%."""
    estate = Estate()
    base_vnet = estate.files["vnets.json"][0]
    nsg = estate.files["nsgs.json"][0]
    nsg["securityRules"] = [
        {
            "name": f"Allow-{tag}",
            "priority": 100 + i,
            "direction": "Outbound",
            "access": "Allow",
            "protocol": "Tcp",
            "destinationAddressPrefix": tag,
            "destinationPortRange": "443",
        }
        for i, tag in enumerate(
            ("Storage.EastUS", "AzureActiveDirectory", "EventHub.CentralUS", "AzureSiteRecovery")
        )
    ]
    base_vnet["subnets"] = [
        {
            "id": f"{base_vnet['id']}/subnets/snet{i}",
            "name": f"snet{i}",
            "addressPrefix": f"10.0.{i}.0/24",
            "networkSecurityGroup": {"id": nsg["id"]},
        }
        for i in range(50)
    ]
    estate.files["resource-groups.json"] += [
        {
            "id": f"/subscriptions/{rid('x', 'y', 'z').split('/')[2]}/resourceGroups/rg{i}",
            "name": f"rg{i}",
            "location": "eastus",
            "type": "Microsoft.Resources/resourceGroups",
        }
        for i in range(100)
    ]
    vms, disks, nics, guests = [], [], [], {}
    for n in range(count):
        rg, name = f"rg{n % 100}", f"vm{n:06d}"
        vm = estate.vm(name, rg=rg)
        vm["storageProfile"]["dataDisks"] = [
            {
                "lun": 0,
                "name": f"{name}-data0",
                "diskSizeGB": 128,
                "managedDisk": {
                    "id": rid(rg, "Microsoft.Compute", f"disks/{name}-data0"),
                    "storageAccountType": "Premium_LRS",
                },
            }
        ]
        vms.append(vm)
        disks += [
            estate.disk(f"{name}-osdisk", 30, "Premium_LRS", rg),
            estate.disk(f"{name}-data0", 128, "Premium_LRS", rg),
        ]
        nics.append(
            {
                "id": rid(rg, "Microsoft.Network", f"networkInterfaces/{name}-nic"),
                "name": f"{name}-nic",
                "location": "eastus",
                "type": "Microsoft.Network/networkInterfaces",
                "ipConfigurations": [
                    {"name": "ipconfig1", "subnet": {"id": base_vnet["subnets"][n % 50]["id"]}}
                ],
            }
        )
        if n % 10 == 0:
            facts = estate.guest(name)
            facts["vm"]["vm_id"] = vm["vmId"]
            guests[f"guest/{name}.json"] = facts
    estate.files.pop("guest/vm1.json")
    estate.files.update(guests)
    estate.files["vms.json"], estate.files["disks.json"], estate.files["nics.json"] = (
        vms,
        disks,
        nics,
    )
    for usage in estate.files["usages-centralus.json"]:
        usage["limit"] = 10 * count
    return estate


def with_assignments(estate: Estate, count: int) -> Estate:
    """Give the principal `count` role assignments: a custom role on most VMs, Reader on every
    resource group, and the Owner assignment at the subscription the estate already has."""
    template = estate.files["role-assignments.json"][0]
    definition = estate.files["role-definitions.json"][0]
    estate.files["role-definitions.json"].append(
        {
            **definition,
            "id": definition["id"].replace(definition["name"], "custom-ops"),
            "name": "custom-ops",
            "roleName": "VM operator",
            "roleType": "CustomRole",
            "permissions": [
                {
                    "actions": ["Microsoft.Compute/virtualMachines/*", "*/read"],
                    "notActions": ["Microsoft.Compute/virtualMachines/delete"],
                    "dataActions": [],
                    "notDataActions": [],
                }
            ],
        }
    )
    scopes = [f"{vm['id'].rsplit('/providers/', 1)[0]}" for vm in estate.files["vms.json"][:100]]
    scopes += [vm["id"] for vm in estate.files["vms.json"][: count - 1 - len(scopes)]]
    for n, scope in enumerate(scopes):
        estate.files["role-assignments.json"].append(
            {
                **template,
                "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/x{n}",
                "name": f"x{n}",
                "scope": scope,
                "roleDefinitionName": "VM operator",
                "roleDefinitionId": template["roleDefinitionId"].replace(
                    definition["name"], "custom-ops"
                ),
            }
        )
    return estate


def write_exports(estate: Estate, folder: Path) -> None:
    """Like Estate.write, but with msgspec: the big files take seconds with json.dumps."""
    for name, content in estate.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(msgspec.json.encode(content))


def check_once(
    folder: Path, report_path: Path, include_passes: bool = False
) -> tuple[float, int, int]:
    """What `asr-preflight check --output json > report.json` does, minus process start-up."""
    start = time.perf_counter()
    with batch_gc(), report_path.open("wb") as stream:
        estate = build_estate(load_snapshot(folder))
        vms = select_vms(estate, Scope("eastus", "centralus"))
        context = Context(
            estate=estate,
            source_region="eastus",
            target_region="centralus",
            vms=vms,
            principal_id=PRINCIPAL,
        )
        result = run_check(context)
        write(build_report(result, include_passes), stream)
    return time.perf_counter() - start, len(result.verdicts), report_path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'VMs':>8} {'files MB':>9} {'best s':>8} {'VMs/s':>9} {'report MB':>10}  report")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder, report_path = Path(tmp) / "estate", Path(tmp) / "report.json"
            write_exports(synthetic(size), folder)
            megabytes = sum(p.stat().st_size for p in folder.rglob("*.json")) / 1e6
            for passes in (False, True):
                runs = [check_once(folder, report_path, passes) for _ in range(args.runs)]
                best, vms, report = min(runs)
                assert vms == size, f"expected {size} VMs in scope, found {vms}"
                print(
                    f"{size:>8} {megabytes:>9.1f} {best:>8.2f} {size / best:>9,.0f} "
                    f"{report / 1e6:>10.1f}  {'all findings' if passes else 'default'}"
                )
    rbac_cost(args.runs)
    sizing_cost(args.runs)
    fix_cost(args.runs)


def fix_cost(runs: int, size: int = 10_000) -> None:
    """`fix --simulate`: the check, the plan and script of every fix, and the check again on the
    estate as the script would leave it. Its principal is given no role assignment, so every VM
    has a failing finding to plan for."""
    from asr_preflight.fix.plan import build_fix_plan
    from asr_preflight.fix.script import write_script
    from asr_preflight.fix.simulate import simulate

    exports = synthetic(size)
    exports.files["role-assignments.json"] = []
    with tempfile.TemporaryDirectory() as tmp:
        write_exports(exports, Path(tmp))
        timings = []
        for _ in range(runs):
            start = time.perf_counter()
            with batch_gc():
                estate = build_estate(load_snapshot(Path(tmp)))
                context = Context(
                    estate=estate,
                    source_region="eastus",
                    target_region="centralus",
                    vms=select_vms(estate, Scope("eastus", "centralus")),
                    principal_id=PRINCIPAL,
                )
                before = run_check(context)
                plan = build_fix_plan([before])
                script = write_script(plan, "bench")
                [changed] = simulate([context], plan.actions)
                after = run_check(changed)
            timings.append(time.perf_counter() - start)
    failing = sum(1 for f in before.findings if f.status.value == "fail")
    left = sum(1 for f in after.findings if f.status.value == "fail")
    print(
        f"fix --simulate, {size:,} VMs: {min(timings):.2f} s ({failing:,} failing findings, "
        f"{len(plan.steps)} steps, {len(script.splitlines()):,} script lines, {left:,} left)"
    )


def sizing_cost(runs: int, size: int = 50_000, catalog: int = 1_000) -> None:
    """Sizing `size` VMs against a `catalog`-size SKU list, where most VMs' sizes are missing
    from the target region and need the closest-size search."""
    estate = synthetic(size)
    families = [f"standardF{n}Family" for n in range(catalog // 20)]
    target = [
        sku(f"Standard_F{f}_{n}", family, 2 ** (n % 6 + 1), 2 ** (n % 6 + 3), "centralus")
        for f, family in enumerate(families)
        for n in range(20)
    ]
    source = [
        sku(
            f"Standard_S{n}",
            families[n % len(families)],
            2 ** (n % 5 + 1),
            2 ** (n % 5 + 2),
            "eastus",
        )
        for n in range(50)
    ]
    estate.files["skus-centralus.json"] = target
    estate.files["skus-eastus.json"] += source
    for n, vm in enumerate(estate.files["vms.json"]):
        vm["hardwareProfile"]["vmSize"] = f"Standard_S{n % 50}"
    with tempfile.TemporaryDirectory() as tmp:
        write_exports(estate, Path(tmp))
        model = build_estate(load_snapshot(Path(tmp)))
    vms = select_vms(model, Scope("eastus", "centralus"))
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        sizer = Sizer(model, "centralus")
        choices = [sizer.choose(vm) for vm in vms]
        timings.append(time.perf_counter() - start)
    closest = sum(1 for c in choices if c.choice is Choice.CLOSEST)
    print(
        f"sizing {len(vms):,} VMs against {len(target):,} SKUs: {min(timings):.2f} s "
        f"({closest:,} needed the closest-size search)"
    )


def rbac_cost(runs: int, size: int = 10_000, count: int = 5_000) -> None:
    """What a principal with `count` role assignments adds to checking `size` VMs."""
    timings = []
    for assignments in (1, count):
        with tempfile.TemporaryDirectory() as tmp:
            folder, report_path = Path(tmp) / "estate", Path(tmp) / "report.json"
            estate = synthetic(size)
            write_exports(with_assignments(estate, count) if assignments > 1 else estate, folder)
            timings.append(min(check_once(folder, report_path)[0] for _ in range(runs)))
    print(
        f"\n{size:,} VMs, one principal: 1 role assignment {timings[0]:.2f} s, {count:,} "
        f"role assignments {timings[1]:.2f} s, added {timings[1] - timings[0]:+.2f} s"
    )


if __name__ == "__main__":
    main()
