"""Linux VMs as the support matrix has them: Python 3.6 (RHEL/CentOS 7, SLES 12) runs probe.py,
and where no Python 3.6+ exists the POSIX sh + openssl probe writes the same facts. Both travel
as one compact line (Run Command keeps 4 KB), and both pass the model's decoder."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from guest_support import (
    ConnectProxy,
    layout,
    real_required_roots_pem,
    sha1_of,
    write,
)

from asr_preflight.guest import probe, wire
from asr_preflight.model import build_estate
from asr_preflight.snapshot import detect
from asr_preflight.snapshot.snapshot import Snapshot

PROBE_PY = Path(probe.__file__)
PROBE_SH = PROBE_PY.with_name("probe.sh")
ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
SH = shutil.which("dash") or "/bin/sh"  # Debian's POSIX sh: no bashisms get through
REQUIRED = {sha1 for _, sha1, required, _ in probe.ROOT_CAS if required}


def _runs(python: str, version: str) -> bool:
    try:
        said = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    except OSError:
        return False
    return said.stdout.strip() == version


def _pythons() -> list[str]:
    """The oldest interpreters this machine has (pyenv's 3.6 and 3.7 here), and this one."""
    found = []
    for version in ("3.6", "3.7"):
        candidates = [
            *map(str, sorted(Path("/root/.pyenv/versions").glob(f"{version}.*/bin/python3"))),
            *filter(None, [shutil.which(f"python{version}")]),
        ]
        working = next((c for c in candidates if _runs(c, version)), None)
        if working:
            found.append(working)
    return [*found, sys.executable]


def decoded(stdout: str) -> dict:
    """The facts of a compact line, as the collector reads them, through the model's decoder."""
    facts = wire.decode(stdout)
    snap = Snapshot(origin="test")
    snap.records[detect.GUEST_FACTS] = [facts]
    snap.present.append(detect.GUEST_FACTS)
    estate = build_estate(snap)
    # the one problem allowed: this snapshot holds no VM for the facts to belong to
    kept = [p for p in estate.problems if not p.expected.startswith("guest facts of a VM in")]
    assert not kept, kept
    [model] = estate.guest_facts
    return {"raw": facts, "model": model}


def _parses_as_3_6(source: str) -> bool:
    """Python 3.6's grammar, checked by this interpreter; `from __future__ import annotations`
    (3.7+) is refused by 3.6 at compile time, which the grammar check does not see."""
    try:
        ast.parse(source, feature_version=(3, 6))
    except SyntaxError:
        return False
    return "from __future__ import annotations" not in source


def test_probe_py_is_python_3_6_on_any_machine():
    """Where no 3.6 runs (the next test then runs on newer Pythons only), the grammar still is."""
    assert _parses_as_3_6(PROBE_PY.read_text())
    assert not _parses_as_3_6("if (n := 1):\n    pass\n")  # the check can fail
    assert not _parses_as_3_6("from __future__ import annotations\n")


def test_the_oldest_interpreter_here_is_a_3_6():
    """What the next test runs on: 3.6 itself where this machine has it (it does, in CI)."""
    oldest = _pythons()[0]
    assert _runs(oldest, "3.6") or oldest == sys.executable


@pytest.mark.parametrize("python", _pythons())
def test_probe_py_runs_on_the_oldest_pythons_and_fits_run_commands_limit(
    python, tmp_path, ca, tls_server
):
    root = layout(tmp_path / "vm", "rhel", ca, extra_pem=real_required_roots_pem())
    write(root, "/boot/grub2/grub.cfg", "linux /vmlinuz root=/dev/sda2 ro\n")
    result = subprocess.run(
        [python, str(PROBE_PY), "--root", str(root), "--no-imds", "--no-revocation",
         "--endpoint", f"localhost:{tls_server.port}", "--vm-id", "vm-web-02", "--compact"],
        capture_output=True, text=True, timeout=120, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.encode()) < wire.STREAM_LIMIT
    facts = decoded(result.stdout)
    assert facts["model"].trusted_roots >= REQUIRED  # only known roots travel
    assert sha1_of(ca) not in facts["model"].trusted_roots
    assert facts["raw"]["trusted_roots"]["known_only"] is True
    assert facts["model"].endpoints[0].tls_verified is True
    assert facts["model"].grub.files[0].device_refs == ("root=/dev/sda2",)


def _sh(root: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(ENV)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [SH, str(PROBE_SH), "--root", str(root), "--vm-name", "vm-web-02", "--timeout", "5",
         *args],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


@pytest.mark.parametrize("distro", ["debian", "rhel", "suse"])
def test_the_sh_probe_reads_each_distros_trust_store(distro, tmp_path, ca, tls_server):
    root = layout(tmp_path / "vm", distro, ca, extra_pem=real_required_roots_pem())
    result = _sh(root, "--endpoint", f"localhost:{tls_server.port}")
    assert result.returncode == 0, result.stderr
    facts = decoded(result.stdout)
    model = facts["model"]
    assert model.trusted_roots >= REQUIRED
    assert model.distro_id == {"debian": "debian", "rhel": "rhel", "suse": "sles"}[distro]
    [endpoint] = model.endpoints
    assert (endpoint.connected, endpoint.tls_verified) == (True, True)
    assert facts["raw"]["trusted_roots"]["count"] >= 3


def test_the_sh_probe_sees_missing_roots_an_untrusted_endpoint_and_grub(
    tmp_path, ca, other_ca, tls_server
):
    root = layout(tmp_path / "vm", "debian", other_ca)  # not the server's CA, no ASR roots
    write(root, "/etc/default/grub", 'GRUB_CMDLINE_LINUX="resume=/dev/sdb1 quiet"\n')
    result = _sh(root, "--endpoint", f"localhost:{tls_server.port}", "--vm-id", "abc")
    model = decoded(result.stdout)["model"]
    assert model.trusted_roots == frozenset() and model.vm_id == "abc"
    [endpoint] = model.endpoints
    assert endpoint.connected is True and endpoint.tls_verified is False
    assert "certificate verify failed" in endpoint.error
    [grub] = model.grub.files
    assert grub.path == "/etc/default/grub" and grub.device_refs == ("resume=/dev/sdb1",)


def test_the_sh_probe_reports_an_authenticated_proxy(tmp_path, ca, tls_server, servers):
    proxy = ConnectProxy(password="pw")
    servers.append(proxy)
    root = layout(tmp_path / "vm", "rhel", ca)
    write(
        root,
        "/usr/local/InMage/config/ProxyInfo.conf",
        f"[proxy]\nAddress=127.0.0.1\nPort={proxy.port}\n",
    )
    model = decoded(_sh(root, "--endpoint", f"localhost:{tls_server.port}").stdout)["model"]
    assert model.proxy_authenticated is True
    assert model.proxy_url == f"http://127.0.0.1:{proxy.port}"


def test_the_sh_probe_never_blocks_on_a_fifo(tmp_path, ca, tls_server):
    root = layout(tmp_path / "vm", "suse", ca)
    bundle = root / "etc/ssl/ca-bundle.pem"
    bundle.unlink()
    os.mkfifo(bundle)  # nobody ever writes to it
    (root / "boot/grub").mkdir(parents=True)
    os.mkfifo(root / "boot/grub/grub.cfg")  # and a GRUB file no one ever writes
    result = _sh(root, "--endpoint", f"localhost:{tls_server.port}")
    assert result.returncode == 0, result.stderr
    raw = decoded(result.stdout)["raw"]
    assert raw["grub"]["files"][0]["readable"] is False


def test_the_python_probe_never_blocks_on_a_fifo_either(tmp_path, ca):
    root = layout(tmp_path / "vm", "suse", ca)
    bundle = root / "etc/ssl/ca-bundle.pem"
    bundle.unlink()
    os.mkfifo(bundle)
    result = subprocess.run(
        [sys.executable, str(PROBE_PY), "--root", str(root), "--no-imds", "--no-revocation",
         "--endpoint", "127.0.0.1:9", "--compact"],
        capture_output=True, text=True, timeout=60, env=ENV,
    )  # fmt: skip
    facts = decoded(result.stdout)["raw"]
    assert any("not a regular file" in e["message"] for e in facts["errors"])


def test_without_gzip_the_sh_probe_prints_plain_json(tmp_path, ca, tls_server):
    """A minimal image: sh, openssl and the base tools, no gzip."""
    tools = tmp_path / "bin"
    tools.mkdir()
    base = "openssl awk sed grep tr sort wc head tail cut mktemp rm date readlink cat timeout"
    for tool in (*base.split(), "getent", "sleep"):
        found = shutil.which(tool)
        if found:
            (tools / tool).symlink_to(found)
    root = layout(tmp_path / "vm", "debian", ca, extra_pem=real_required_roots_pem())
    result = _sh(root, "--endpoint", f"localhost:{tls_server.port}", path=str(tools))
    assert result.stdout.startswith(wire.PLAIN_MARKER), result.stderr
    assert decoded(result.stdout)["model"].trusted_roots >= REQUIRED


def test_the_sh_probe_knows_the_roots_probe_py_knows():
    text = PROBE_SH.read_text()
    block = text.split('KNOWN_ROOTS="', 1)[1].split('"', 1)[0]
    assert set(block.split()) == {sha1 for _, sha1, _, _ in probe.ROOT_CAS}
    for path in probe.LINUX_TRUST_STORES + probe.GRUB_FILES:
        assert path in text


def test_the_sh_probe_passes_shellcheck():
    lint = subprocess.run(["shellcheck", "-s", "sh", str(PROBE_SH)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
