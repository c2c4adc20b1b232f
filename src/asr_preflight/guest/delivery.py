"""The scripts Run Command runs in a VM: the probe itself, and what it is told about the VM.

Linux (RunShellScript, as root): POSIX sh that runs probe.py with the first Python 3.6 or later
it finds, else probe.sh with openssl; both probes travel inside the script, compressed. Windows
(RunPowerShellScript, as SYSTEM): probe.ps1 as a script block, with its parameters. Either way
the probe prints one compact line of facts (guest/wire.py). Nothing is installed: the files live
in a temporary folder removed on exit.
"""

from __future__ import annotations

import base64
import gzip
import shlex
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run Command has no wall clock of its own short of 90 minutes: the probe gets this much.
PROBE_SECONDS = 300
PYTHONS = (
    "python3 python3.13 python3.12 python3.11 python3.10 python3.9 python3.8 python3.7 "
    "python3.6 /usr/libexec/platform-python python"
)


@dataclass(frozen=True)
class ProbeArgs:
    """What the probe is told: who it is (Run Command knows which VM it runs in), and where the
    VM replicates to."""

    vm_id: str | None
    vm_name: str
    cloud: str
    source_region: str
    target_region: str
    cache_account: str | None = None


@cache
def _packed(name: str) -> str:
    data = gzip.compress((HERE / name).read_bytes(), 9, mtime=0)
    return "\n".join(textwrap.wrap(base64.b64encode(data).decode("ascii"), 76))


def _options(args: ProbeArgs) -> str:
    words = [
        "--vm-name", args.vm_name, "--cloud", args.cloud,
        "--source-region", args.source_region, "--target-region", args.target_region,
    ]  # fmt: skip
    if args.vm_id:
        words += ["--vm-id", args.vm_id]
    if args.cache_account:
        words += ["--cache-account", args.cache_account]
    return " ".join(shlex.quote(w) for w in words)


def linux_script(args: ProbeArgs) -> list[str]:
    """RunShellScript lines. ASR_PREFLIGHT_PROBE_OPTIONS, when set in the VM's environment
    (never by Azure), adds probe options: tests point the probe at a fake root with it."""
    options = _options(args)
    script = f"""\
#!/bin/sh
# asr-preflight guest probe: reads trust stores and settings, opens TLS connections to Azure Site
# Recovery's endpoints, changes nothing; its files are removed when it ends.
set -u
work=$(mktemp -d "${{TMPDIR:-/tmp}}/asr-preflight.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
base64 -d >"$work/probe.py.gz" <<'ASR_PREFLIGHT_PROBE_PY'
{_packed("probe.py")}
ASR_PREFLIGHT_PROBE_PY
base64 -d >"$work/probe.sh.gz" <<'ASR_PREFLIGHT_PROBE_SH'
{_packed("probe.sh")}
ASR_PREFLIGHT_PROBE_SH
limited() {{
  if command -v timeout >/dev/null 2>&1; then timeout {PROBE_SECONDS} "$@"; else "$@"; fi
}}
extra=${{ASR_PREFLIGHT_PROBE_OPTIONS:-}}
python=""
for candidate in {PYTHONS}; do
  if command -v "$candidate" >/dev/null 2>&1 &&
    "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 6))' 2>/dev/null; then
    python=$candidate
    break
  fi
done
if [ -n "$python" ] && gzip -dc "$work/probe.py.gz" >"$work/probe.py" 2>/dev/null; then
  # shellcheck disable=SC2086 # extra holds several options
  limited "$python" "$work/probe.py" --compact -q --no-revocation {options} $extra
else
  gzip -dc "$work/probe.sh.gz" >"$work/probe.sh" || exit 1
  # shellcheck disable=SC2086
  limited sh "$work/probe.sh" {options} $extra
fi
"""
    return script.splitlines()


def windows_script(args: ProbeArgs) -> list[str]:
    """RunPowerShellScript lines: probe.ps1 as a script block called with its parameters."""

    def quoted(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    call = [
        f"-VmName {quoted(args.vm_name)}",
        f"-Cloud {quoted(args.cloud)}",
        f"-SourceRegion {quoted(args.source_region)}",
        f"-TargetRegion {quoted(args.target_region)}",
    ]
    if args.vm_id:
        call.append(f"-VmId {quoted(args.vm_id)}")
    if args.cache_account:
        call.append(f"-CacheAccount {quoted(args.cache_account)}")
    body = (HERE / "probe.ps1").read_text(encoding="utf-8").splitlines()
    return ["& {", *body, "} " + " ".join(call)]
