"""The export script runs for real (bash) against a stand-in `az` that answers from the example
estate's files: it finishes, makes a fixed number of calls whatever the number of VMs, skips a
failing optional call instead of aborting, shows progress, and its folder checks like any other."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "contoso"
CLI = Path(sys.executable).parent / "asr-preflight"
PROD = "11111111-1111-4111-8111-111111111111"
ALICE = "aaaaaaaa-0000-4000-8000-000000000001"

# A stand-in for the Azure CLI: answers each call the script makes from the example's exports,
# logs every call, and fails the deny-assignment call as a 403 would.
FAKE_AZ = textwrap.dedent(
    """\
    #!{python}
    import json, sys
    from pathlib import Path
    example, args = Path({example!r}), sys.argv[1:]
    with open({log!r}, "a") as log:
        log.write(" ".join(args) + "\\n")
    def load(name):
        doc = json.loads((example / name).read_text())
        return doc if isinstance(doc, list) else doc["value"]
    def show(value):
        print(json.dumps(value))
        sys.exit(0)
    words = " ".join(args)
    if args[:2] == ["rest", "--method"]:
        url = args[args.index("--url") + 1]
        if "denyAssignments" in url:
            print("ERROR: (AuthorizationFailed) forbidden", file=sys.stderr)
            sys.exit(1)
        if "statusOnly=true" in url:
            show({{"value": load("vms-prod-rest.json")}})
        if "/usages?" in url:
            show({{"value": load("usages-centralus.json")}})
        if "graph.microsoft.com" in url:
            show({{"value": []}})
    if args[0] == "graph":
        query = args[args.index("-q") + 1]
        if "--query" in args:  # the cache accounts' ids, as tsv
            print("\\n".join(a["id"] for a in load("storage-accounts.json")
                             if "asrcache" in a["name"]))
            sys.exit(0)
        rows = (load("vm-extensions.json") if "extensions" in query
                else load("key-vaults.json") if "keyvault" in query else [])
        show({{"count": len(rows), "data": rows, "skip_token": None}})
    files = {{
        "account list": "accounts.json", "account list-locations": "locations.json",
        "provider list": "providers-prod.json", "group list": "resource-groups.json",
        "vm list": "vms-prod.json", "disk list": "disks.json", "network nic": "nics.json",
        "network nsg": "nsgs.json", "network vnet": "vnets.json",
        "network route-table": "route-tables.json", "network lb": "load-balancers.json",
        "network nat": "nat-gateways.json", "storage account list": "storage-accounts.json",
        "disk-encryption-set list": "disk-encryption-sets.json",
        "resource list": "vaults.json", "role definition": "role-definitions.json",
        "role assignment": "role-assignments.json",
        "network list-service-tags": "service-tags.json",
        "network list-usages": "network-usages-centralus-prod.json",
    }}
    if args[:2] == ["vm", "list-skus"]:
        show(load("skus-" + args[args.index("-l") + 1] + ".json"))
    if "blob-service-properties" in words:
        show(load("blob-services.json")[0])
    for command, name in files.items():
        if words.startswith(command):
            show(load(name))
    print(f"ERROR: the stand-in has no answer for: {{words}}", file=sys.stderr)
    sys.exit(2)
    """
)


@pytest.fixture
def exported(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path, list[str]]:
    bin_dir, log = tmp_path / "bin", tmp_path / "az-calls.log"
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text(FAKE_AZ.format(python=sys.executable, example=str(EXAMPLE), log=str(log)))
    az.chmod(0o755)
    script = tmp_path / "export.sh"
    made = subprocess.run(
        [str(CLI), "export-script", "--subscription", PROD, "--source-region", "eastus",
         "--target-region", "centralus", "--principal-id", ALICE, "-o", str(script)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "wrote" in made.stderr
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(
        ["bash", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    return run, tmp_path / "asr-export", log.read_text().splitlines()


def test_the_script_is_valid_bash():
    script = subprocess.run(
        [str(CLI), "export-script", "--subscription", PROD, "--source-region", "eastus",
         "--target-region", "centralus"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
    assert "OID=''" in script and "--assignee-object-id" in script


def test_export_finishes_skips_what_fails_and_shows_progress(exported):
    run, folder, _ = exported
    assert run.returncode == 0, run.stderr
    total = int(next(line for line in run.stderr.splitlines() if line.startswith("[1/"))[3:5])
    assert f"[{total}/{total}]" in run.stderr or f"[{total + 1}/" in run.stderr
    assert "skipped (the checks that need these will say unknown):" in run.stderr
    assert "deny-assignments" in run.stderr and "AuthorizationFailed" in run.stderr
    assert not (folder / f"deny-assignments-{PROD}.json").exists()
    assert (folder / f"vms-{PROD}.json").exists() and (folder / "extensions.json").exists()


def test_calls_do_not_grow_with_the_number_of_vms(exported):
    _, _, calls = exported
    vm_names = [r["name"] for r in json.loads((EXAMPLE / "vms-prod.json").read_text())]
    assert not [c for c in calls if any(f" {name}" in c for name in vm_names)]
    assert len(calls) < 40  # one subscription: a fixed set of list calls


def test_the_exported_folder_checks(exported):
    _, folder, _ = exported
    result = subprocess.run(
        [str(CLI), "check", "--snapshot", str(folder), "--source-region", "eastus",
         "--target-region", "centralus", "--principal-id", ALICE, "--output", "json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    prod_vms = {
        r["name"]
        for r in json.loads((EXAMPLE / "vms-prod.json").read_text())
        if r["location"] == "eastus"
    }
    assert {vm["name"] for vm in report["vms"]} == prod_vms
    assert report["summary"]["input_problems"] == []
    agents = {f["resource_id"] for f in report["findings"] if f["rule"] == "ASR-VM-002"}
    assert len(agents) < len(prod_vms), "the run-time status (statusOnly) reached the model"
