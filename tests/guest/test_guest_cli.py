"""`asr-preflight guest` and the script it writes out, run as a user would run them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from guest_support import layout

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "src" / "asr_preflight" / "guest" / "probe.py"
CLEAN_ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and k != "PYTHONPATH"}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("asr-preflight")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=120, env=CLEAN_ENV
    )


def test_emit_script_writes_the_probe_byte_for_byte(tmp_path):
    target = tmp_path / "probe.py"
    result = cli("guest", "--emit-script", str(target))
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == PROBE.read_bytes()
    assert os.access(target, os.X_OK)
    assert "python3 probe.py" in result.stderr


def test_emit_script_to_stdout():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("asr-preflight")), "guest", "--emit-script", "-"],
        capture_output=True,
        timeout=60,
        env=CLEAN_ENV,
    )
    assert result.returncode == 0 and result.stdout == PROBE.read_bytes()


def _pythons() -> list[str]:
    found = [p for p in (shutil.which("python3", path="/usr/bin:/bin"),) if p]
    py38 = Path.home() / ".pyenv" / "versions" / "3.8.18" / "bin" / "python3.8"
    return found + ([str(py38)] if py38.exists() else [])


@pytest.mark.parametrize("python", _pythons())
def test_emitted_script_runs_alone_in_an_isolated_python(tmp_path, python, ca, tls_server):
    """Copied alone into an empty folder and run with -I (no site-packages, no PYTHONPATH, no
    current directory): the standard library is all it needs."""
    vm = tmp_path / "vm"
    vm.mkdir()
    cli("guest", "--emit-script", str(vm / "probe.py"))
    layout(tmp_path / "root", "debian", ca)
    out = vm / "facts.json"
    result = subprocess.run(
        [
            python,
            "-I",
            "probe.py",
            "--root",
            str(tmp_path / "root"),
            "--endpoint",
            f"localhost:{tls_server.port}",
            "--no-imds",
            "--no-revocation",
            "--output",
            str(out),
        ],
        cwd=vm,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    facts = json.loads(out.read_text())
    assert (facts["schema"], facts["version"]) == ("asr-preflight/guest-facts", 1)
    assert facts["endpoints"][0]["tls_verified"] is True
    assert "localhost:" in result.stderr  # the human summary
    assert sorted(p.name for p in vm.iterdir()) == ["facts.json", "probe.py"]  # nothing else


def test_guest_runs_the_probe_and_writes_stdout(tmp_path, ca, tls_server):
    layout(tmp_path, "suse", ca)
    result = cli(
        "guest",
        "--source-region",
        "East US",
        "--target-region",
        "centralus",
        "--root",
        str(tmp_path),
        "--endpoint",
        f"localhost:{tls_server.port}",
        "--no-imds",
        "--no-revocation",
        "--vm-name",
        "vm-web-02",
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    facts = json.loads(result.stdout)
    assert facts["vm"]["name"] == "vm-web-02" and facts["vm"]["source"] == "option"
    assert (facts["probe"]["source_region"], facts["probe"]["target_region"]) == (
        "eastus",
        "centralus",
    )
    assert facts["os"]["distro_id"] == "sles"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source-region", "mars"], "--source-region: expected an Azure region name"),
        (["--cloud", "AzureMoon"], "--cloud: expected one of AzureCloud, AzureUSGovernment"),
        (["--endpoint", "host:https"], "expected HOST:PORT, found 'host:https'"),
        (["--root", "/no/such/dir"], "--root: expected a folder"),
        (["--output", "/no/such/dir/f.json"], "--output: no such folder"),
    ],
)
def test_bad_options_exit_2_with_one_line(args, message):
    result = cli("guest", "--no-imds", *args)
    assert result.returncode == 2
    assert result.stderr.startswith("asr-preflight: error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_guest_offers_every_probe_option():
    import typer.main

    from asr_preflight.cli import app

    command = typer.main.get_command(app).commands["guest"]  # type: ignore[attr-defined]
    offered = {opt for param in command.params for opt in param.opts}
    result = subprocess.run(  # the probe's own options, as its --help lists them
        [sys.executable, "-I", str(PROBE), "--help"], capture_output=True, text=True, timeout=30
    )
    probe_options = {
        word.rstrip(",")
        for line in result.stdout.splitlines()
        for word in line.split()
        if word.startswith("--") and word.rstrip(",") != "--help"
    }
    assert probe_options - offered == set()
    assert offered - probe_options - {"--help", "-q", "-o"} == {"--emit-script"}
