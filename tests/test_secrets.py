"""Secrets planted in every kind of export and in guest facts never reach anything the tool
writes: reports in every format, the console, `explain`, `plan`, snapshots, error lines."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from asr_preflight.secrets import scrub
from asr_preflight.snapshot.redact import Redactor

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "contoso"
BOB = "bbbbbbbb-0000-4000-8000-000000000002"
PAIR = ["--source-region", "eastus", "--target-region", "centralus"]
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJQTEFOVEVEIn0.c2lnbmF0dXJlUExBTlRFRA"


def _records(document):
    return document if isinstance(document, list) else document.get("value") or document["data"]


def _edit(folder: Path, name: str, change) -> None:
    path = folder / name
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def _plant(folder: Path) -> None:
    """One secret of each kind the issue lists, each marked PLANTED, in every export kind."""

    def vms(doc):
        vm = _records(doc)[0]
        vm["osProfile"]["customData"] = "UExBTlRFRC1jdXN0b20tZGF0YQ=="
        vm["osProfile"]["adminPassword"] = "PLANTED-admin-password"
        vm["userData"] = "UExBTlRFRC11c2VyLWRhdGE="
        vm["tags"] = {
            "conn": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=PLANTEDkey0==;"
            "EndpointSuffix=core.windows.net",
            "auth": f"Bearer {JWT}",
        }

    def nics(doc):
        _records(doc)[0]["tags"] = {"sas": "sv=2022-11-02&ss=b&sig=PLANTEDsasNic%3D"}

    def disks(doc):
        _records(doc)[0]["tags"] = {"token": JWT, "only": "sig=PLANTEDbareSig"}

    def extensions(doc):
        for ext in _records(doc):
            ext["settings"] = {
                **(ext.get("settings") or {}),
                "commandToExecute": "./setup.sh --user ops --password PLANTED-cli-pw",
                "storageAccountKey": "PLANTEDpublicStorageKey==",
                "fileUris": ["https://st.blob.core.windows.net/s/a.sh?sv=2022&sig=PLANTEDuri"],
            }
            ext["protectedSettings"] = {"storageAccountKey": "PLANTED-protected"}

    def vaults(doc):
        _records(doc)[0]["tags"] = {"url": "https://user:PLANTED-url-pw@vault.example:8443/x"}

    def storage(doc):
        _records(doc)[0]["tags"] = {"cs": "AccountKey=PLANTEDstorageTag;"}

    _edit(folder, "vms-prod.json", vms)
    _edit(folder, "nics.json", nics)
    _edit(folder, "disks.json", disks)
    _edit(folder, "vm-extensions.json", extensions)
    _edit(folder, "vaults.json", vaults)
    _edit(folder, "storage-accounts.json", storage)
    _edit(
        folder,
        "guest/vm-db-01.json",
        lambda g: g["proxy"].update(url="http://svc-proxy:PLANTED-proxy-pw@proxy.corp:3128"),
    )
    sub = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app/providers"
    (folder / "kv-secrets.json").write_text(
        json.dumps(
            [
                {
                    "id": f"{sub}/Microsoft.KeyVault/vaults/kv1/secrets/db",
                    "name": "db",
                    "type": "Microsoft.KeyVault/vaults/secrets",
                    "properties": {"value": "PLANTED-kv-secret", "contentType": "text"},
                },
                {
                    "id": f"{sub}/Microsoft.Web/sites/app1/config/appsettings",
                    "name": "appsettings",
                    "type": "Microsoft.Web/sites/config",
                    "properties": {"DB_PASSWORD": "PLANTED-app-setting", "MODE": "PLANTEDmode"},
                },
            ]
        )
    )
    # a bad record whose message would quote the value: a SAS where a region belongs
    _edit(folder, "nsgs.json", lambda doc: _records(doc)[1].update(location="x?sig=PLANTEDloc"))


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("planted") / "estate"
    shutil.copytree(EXAMPLE, folder)
    _plant(folder)
    return folder


def _run(*args: str, codes: tuple[int, ...] = (0, 1)) -> str:
    exe = Path(sys.executable).with_name("asr-preflight")
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode in codes, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout + done.stderr


def test_no_planted_secret_reaches_any_output(planted, tmp_path):
    where = ["--snapshot", str(planted), *PAIR]
    question = [*where, "--principal-id", BOB]
    outputs = [
        _run("check", *question),
        _run("check", *question, "--details"),
        _run("check", *question, "--output", "json", "--all-findings"),
        _run("plan", *where),
        _run("explain", "network", *where),
        _run("explain", "permissions", *question),
        _run("check", *question, "--strict", codes=(2,)),  # the input problem, as an error line
        _run("snapshot", str(planted), "-o", str(tmp_path / "snap.json")),
    ]
    written = (tmp_path / "snap.json").read_text()
    outputs.append(written)
    outputs.append(_run("check", "--snapshot", str(tmp_path / "snap.json"), *PAIR))
    for text in outputs:
        assert "PLANTED" not in text, text[text.index("PLANTED") - 200 :][:400]
    # the secrets were found (not merely absent), and what surrounds them is kept
    snapshot = json.loads(written)
    assert snapshot["redacted"] >= 15
    assert "vm-db-01" in written and "proxy.corp:3128" in written and "svc-proxy:" in written
    assert (
        "vm-db-01: proxy http://svc-proxy:REDACTED@proxy.corp:3128" in " ".join(outputs[4].split())
        or "svc-proxy:REDACTED@proxy.corp:3128" in outputs[4]
    )


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("AccountName=a;AccountKey=abc+/==;EndpointSuffix=x", "AccountKey=REDACTED;Endpoint"),
        ("https://a.blob.core.windows.net/c?sv=2022&sig=xyz%3D&se=1", "sig=REDACTED&se=1"),
        ("sig=abc", "sig=REDACTED"),
        (f"Authorization: Bearer {JWT}", "Bearer REDACTED"),
        (f"token {JWT} end", "token REDACTED end"),
        ("http://user:pw@proxy:3128/", "http://user:REDACTED@proxy:3128/"),
        ("install --password 'a b' --user x", "--password REDACTED --user x"),
        ("mysql password=hunter2;", "password=REDACTED;"),
        ("https://contoso.com/a@b and 10.0.0.4", "https://contoso.com/a@b and 10.0.0.4"),
        ("nothing to see", "nothing to see"),
    ],
)
def test_scrub_keeps_the_shape_and_drops_the_secret(text, kept):
    assert kept in scrub(text)


def test_secret_names_go_and_look_alikes_stay():
    redactor = Redactor()
    clean = redactor.value(
        {
            "settings": {"KeyVaultURL": "https://kv.vault.azure.net/", "AdminPassword": "x"},
            "networkAcls": {"bypass": "AzureServices"},
            "osProfile": {"adminPassword": None, "customData": "c2VjcmV0"},
            "protectedSettings": {"k": "v"},
            "keys": [{"keyName": "key1", "value": "secretvalue", "permissions": "FULL"}],
            "appSettings": [{"name": "API_TOKEN", "value": "t0k"}, {"name": "MODE", "value": "a"}],
        }
    )
    assert clean["settings"] == {
        "KeyVaultURL": "https://kv.vault.azure.net/",
        "AdminPassword": "REDACTED",
    }
    assert clean["networkAcls"] == {"bypass": "AzureServices"}
    assert clean["osProfile"] == {"adminPassword": None, "customData": "REDACTED"}
    assert "protectedSettings" not in clean
    assert clean["keys"][0] == {"keyName": "key1", "value": "REDACTED", "permissions": "FULL"}
    assert clean["appSettings"] == [
        {"name": "API_TOKEN", "value": "REDACTED"},
        {"name": "MODE", "value": "a"},
    ]
    assert redactor.removed == 5
