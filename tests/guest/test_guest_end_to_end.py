"""The probe's output, merged by `check --guest-dir`, decides findings that were unknown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from guest_support import ConnectProxy, layout, real_required_roots_pem

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "contoso"
BOB = "bbbbbbbb-0000-4000-8000-000000000002"
ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("asr-preflight")
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**ENV, "COLUMNS": "80"},
    )


def probe_vm_web_02(guest_dir: Path, root: Path, *extra: str) -> None:
    result = cli(
        "guest",
        "--root",
        str(root),
        "--vm-name",
        "vm-web-02",
        "--source-region",
        "eastus",
        "--target-region",
        "centralus",
        "--no-imds",
        "--no-revocation",
        "--output",
        str(guest_dir / "vm-web-02.json"),
        *extra,
    )
    assert result.returncode == 0, result.stderr


def findings_for(vm: str, *guest_dirs: Path) -> dict[str, list[dict]]:
    args = ["--guest-dir", *map(str, guest_dirs)] if guest_dirs else []
    result = cli(
        "check",
        "--snapshot",
        str(EXAMPLE),
        "--source-region",
        "eastus",
        "--target-region",
        "centralus",
        "--principal-id",
        BOB,
        "--vm",
        vm,
        "--output",
        "json",
        "--all-findings",
        *args,
    )
    assert result.returncode in (0, 1), result.stderr
    out: dict[str, list[dict]] = {}
    for finding in json.loads(result.stdout)["findings"]:
        if (finding.get("resource_id") or "").endswith(f"/{vm}"):
            out.setdefault(finding["rule"], []).append(finding)
    return out


def test_probe_turns_vm_web_02_root_certificates_from_unknown_to_fail(tmp_path, ca, tls_server):
    before = findings_for("vm-web-02")
    assert [f["status"] for f in before["ASR-VM-005"]] == ["unknown"]

    guest_dir = tmp_path / "guest"
    guest_dir.mkdir()
    root = layout(tmp_path / "vm", "debian", ca)  # trusts only the test CA
    probe_vm_web_02(guest_dir, root, "--endpoint", f"localhost:{tls_server.port}")
    after = findings_for("vm-web-02", guest_dir)
    [vm005] = after["ASR-VM-005"]
    assert (vm005["status"], vm005["asr_error_code"]) == ("fail", 151066)
    assert "missing roots: DigiCert Global Root G2" in vm005["message"]
    assert "apt-get" in vm005["remedy"]  # the Debian remedy, from the probe's distro id
    # the probe's own sections reach the new rules: no GRUB file names a device here, and
    # without /proc/mounts in this root the layout of /usr and /etc is honestly unknown
    assert [f["status"] for f in after["ASR-VM-101"]] == ["pass"]
    assert [f["status"] for f in after["ASR-VM-103"]] == ["unknown"]


def test_probe_with_the_asr_roots_passes_and_an_auth_proxy_fails_151072(
    tmp_path, ca, tls_server, servers
):
    proxy = ConnectProxy(password="pw")
    servers.append(proxy)
    guest_dir = tmp_path / "guest"
    guest_dir.mkdir()
    root = layout(tmp_path / "vm", "rhel", ca, extra_pem=real_required_roots_pem())
    (root / "usr/local/InMage/config").mkdir(parents=True)
    (root / "usr/local/InMage/config/ProxyInfo.conf").write_text(
        f"[proxy]\nAddress=127.0.0.1\nPort={proxy.port}\n"
    )
    probe_vm_web_02(guest_dir, root, "--endpoint", f"localhost:{tls_server.port}")
    after = findings_for("vm-web-02", guest_dir)
    assert [f["status"] for f in after["ASR-VM-005"]] in (["pass"], ["warn"])
    # the networking rules see the authenticated proxy (which rule reports it is theirs to say)
    failed = [(f["status"], f["asr_error_code"]) for fs in after.values() for f in fs]
    assert ("fail", 151072) in failed
