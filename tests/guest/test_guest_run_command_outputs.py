"""What comes back from Run Command, in Azure's shapes: Windows answers recorded from the
PowerShell probe (PowerShell does not run here), Linux answers with both streams in one message,
cut ones; and the scripts sent (shellcheck, quoting, the PowerShell 5.1 dialect)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asr_preflight.guest import delivery, probe, wire
from asr_preflight.model import build_estate
from asr_preflight.snapshot import detect
from asr_preflight.snapshot.snapshot import Snapshot

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "run-command"
PS1 = Path(probe.__file__).with_name("probe.ps1")


def answer(name: str) -> tuple[str, str]:
    return wire.streams(json.loads((RECORDED / name).read_text())["value"])


def model_of(facts: dict):
    snap = Snapshot(origin="recorded")
    snap.records[detect.GUEST_FACTS] = [facts]
    snap.present.append(detect.GUEST_FACTS)
    [guest] = build_estate(snap).guest_facts
    return guest


def test_a_recorded_windows_answer_decodes_into_guest_facts():
    stdout, stderr = answer("windows-2022.json")
    assert stderr == ""
    guest = model_of(wire.decode(stdout))
    assert guest.os_family == "windows" and guest.pretty_name.startswith("Windows Server 2022")
    required = {sha1 for _, sha1, req, _ in probe.ROOT_CAS if req}
    assert required <= guest.trusted_roots
    assert {s.name: s.start_type for s in guest.services} == {
        "COMSysApp": "demand",
        "VSS": "demand",
        "StorageReplica": "missing",
    }
    assert guest.proxy_reported and guest.proxy_authenticated is None


def test_a_recorded_legacy_windows_answer_shows_what_fails():
    guest = model_of(wire.decode(answer("windows-2008-legacy.json")[0]))
    assert {s.name: s.start_type for s in guest.services}["VSS"] == "disabled"
    [endpoint] = guest.endpoints
    assert endpoint.tls_verified is False and "RemoteCertificateChainErrors" in endpoint.error


def test_an_answer_cut_at_4096_bytes_says_so():
    stdout, _ = answer("windows-cut.json")
    assert len(stdout.encode()) == wire.STREAM_LIMIT
    with pytest.raises(wire.WireError, match="cut by Run Command's 4,096-byte limit"):
        wire.decode(stdout)


def test_a_linux_answer_without_facts_quotes_what_the_script_said():
    stdout, stderr = answer("linux-no-facts.json")
    assert stdout == "" and "base64: not found" in stderr
    with pytest.raises(wire.WireError, match="base64: not found"):
        wire.decode(stdout, stderr)


def test_linux_streams_come_apart_and_a_mangled_line_is_named():
    message = "Enable succeeded: \n[stdout]\nnoise\nasr-preflight-facts/1 !!!\n[stderr]\nwarn\n"
    stdout, stderr = wire.streams([{"code": "ProvisioningState/succeeded", "message": message}])
    assert stdout.splitlines() == ["noise", "asr-preflight-facts/1 !!!"] and stderr == "warn\n"
    with pytest.raises(wire.WireError, match="not base64"):
        wire.decode(stdout)
    line = wire.encode({"schema": "asr-preflight/guest-facts", "vm": {"name": "x"}})
    assert wire.decode(f"older output\n{line}\n")["vm"] == {"name": "x"}


def test_the_powershell_probe_knows_what_probe_py_knows():
    text = PS1.read_text()
    block = text.split("$KnownRoots = @(", 1)[1].split(")", 1)[0]
    assert set(re.findall(r"[0-9a-f]{40}", block)) == {sha1 for _, sha1, _, _ in probe.ROOT_CAS}
    for name, _ in probe.WINDOWS_SERVICES:
        assert f"'{name}'" in text
    assert probe.PROXYINFO_WINDOWS in text
    assert "asr-preflight-facts/1 " in text  # the marker the decoder looks for


def test_the_powershell_probe_stays_in_windows_powershell_5_1():
    """PowerShell cannot run here: what 5.1 lacks must not appear (7's operators and switches)."""
    code = "\n".join(
        line for line in PS1.read_text().splitlines() if not line.lstrip().startswith("#")
    )
    newer_only = (
        "??", "?.", " && ", " || ", "-Parallel", "-AsHashtable", "ForEach-Object -P",
        "$PSStyle", "Get-Error", "-SkipCertificateCheck", "ConvertFrom-Json -Depth",
    )  # fmt: skip
    for newer in newer_only:
        assert newer not in code, newer
    assert code.count("{") == code.count("}") and code.count("(") == code.count(")")


def test_the_linux_script_passes_shellcheck_and_quotes_what_it_is_told(tmp_path):
    def lint(args: delivery.ProbeArgs, *excluded: str) -> str:
        path = tmp_path / "run.sh"
        path.write_text("\n".join(delivery.linux_script(args)) + "\n")
        assert len(path.read_bytes()) < 64 * 1024  # both probes, compressed
        flags = [f"--exclude={code}" for code in excluded]
        done = subprocess.run(["shellcheck", "-s", "sh", *flags, str(path)], capture_output=True)
        assert done.returncode == 0, done.stdout.decode()
        return path.read_text()

    lint(delivery.ProbeArgs("0b4c", "vm-web-01", "AzureCloud", "eastus", "centralus", "cache1"))
    # a name no VM has, quoted as data: SC2016 says "$(...) does not expand here", as intended
    odd = delivery.ProbeArgs("id'x", "vm $(reboot)", "AzureCloud", "eastus", "centralus")
    assert "--vm-name 'vm $(reboot)'" in lint(odd, "SC2016")


def test_the_windows_script_calls_the_probe_with_quoted_parameters():
    args = delivery.ProbeArgs("abc", "vm-o'neil", "AzureCloud", "eastus", "centralus")
    lines = delivery.windows_script(args)
    assert lines[0] == "& {" and lines[1].startswith("# asr-preflight guest probe")
    assert lines[-1].startswith("} ") and "-VmName 'vm-o''neil'" in lines[-1]
    assert "-VmId 'abc'" in lines[-1]


@given(st.text(max_size=5000), st.text(max_size=200))
def test_any_output_decodes_to_facts_or_says_why(stdout, stderr):
    """Whatever a VM prints (or Azure cuts), the decoder returns facts or a WireError."""
    try:
        facts = wire.decode(stdout, stderr)
    except wire.WireError as exc:
        assert str(exc)
    else:
        assert isinstance(facts, dict)


@given(st.binary(min_size=1, max_size=300), st.integers(min_value=0, max_value=400))
def test_a_facts_line_cut_anywhere_is_refused_not_misread(noise, cut):
    line = wire.encode({"schema": "asr-preflight/guest-facts", "pad": noise.hex()})
    kept = line[: len(wire.MARKER) + cut] if cut < len(line) - len(wire.MARKER) else line
    try:
        facts = wire.decode(kept)
    except wire.WireError:
        assert kept != line
    else:
        assert facts["pad"] == noise.hex()


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nests deeper"),  # past recursion
        (b'{"a":' + b"[" * 40 + b"]" * 40 + b"}", "nests deeper"),  # would poison a snapshot
        (b'{"a": 1e999}', "not JSON"),
        (b"[1, 2]", "no JSON object"),
    ],
)
def test_a_hostile_facts_line_is_refused_with_a_reason(payload, words):
    line = wire.MARKER + base64.b64encode(zlib.compress(payload)).decode()
    with pytest.raises(wire.WireError, match=words):
        wire.decode(line)
