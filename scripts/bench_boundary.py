"""Whole processes, side by side (`make bench`): `asr-preflight check --output json` against a plain
msgspec decode of the same export files, at 10,000 and 50,000 VMs.

The ratio says what the check costs on top of reading its input at all. Each figure is the best
of three runs of a fresh process (interpreter start-up included), with its peak memory. Two
estates: `minimal`, bench.py's synthetic one (records with only the fields the rules read), and
`realistic`, the example estate with one of its VMs (az and REST records, NIC, disks) copied to
the size asked for: records as large as what az and the REST API really print. Not a test:
figures depend on the machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import json
import shutil
import uuid

from bench import synthetic, write_exports

from builders import PRINCIPAL

BIN = Path(sys.executable).parent
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "contoso"
TEMPLATE_VM = "vm-app-03"  # managed disks, one NIC, in both the az and the REST export


def _records(document: object) -> list:
    return document if isinstance(document, list) else document["value"]  # type: ignore[index]


def realistic(count: int, folder: Path) -> None:
    """The example estate plus `count` copies of one of its VMs, every record as exported."""
    shutil.copytree(EXAMPLE, folder)
    for name in ("vms-prod.json", "vms-prod-rest.json", "nics.json", "disks.json"):
        found = [
            r
            for r in _records(json.loads((EXAMPLE / name).read_text()))
            if r["id"].lower().rsplit("/", 1)[-1].startswith(TEMPLATE_VM)
        ]
        text = json.dumps(found)[1:-1]
        vm_ids = {r.get("properties", r).get("vmId") for r in found} - {None}
        copies = []
        for n in range(count):
            copy = text.replace(TEMPLATE_VM, f"vm{n:06d}")
            for vm_id in vm_ids:
                copy = copy.replace(vm_id, str(uuid.UUID(int=n)))
            copies.append(copy)
        (folder / f"bench-{name}").write_text("[" + ",".join(copies) + "]")


PLAIN_DECODE = """
import sys, msgspec
from pathlib import Path
decoder = msgspec.json.Decoder()
for path in sorted(Path(sys.argv[1]).rglob("*.json")):
    decoder.decode(path.read_bytes())
"""
# Runs one command in a fresh child and prints its wall time and peak memory (KiB): the
# children's rusage of a one-child process is that child's alone.
MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(elapsed, peak, done.returncode)
"""


def measure(command: list[str], runs: int) -> tuple[float, int]:
    """(best wall seconds, peak KiB of that run)."""
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True
        ).stdout.split()
        elapsed, peak, code = float(out[0]), int(out[1]), int(out[2])
        if code not in (0, 1):
            raise SystemExit(f"{command[0]} exited {code}")
        results.append((elapsed, peak))
    return min(results)


CHECK = ["check", "--source-region", "eastus", "--target-region", "centralus", "--output", "json"]

# Where a check's time goes, phase by phase, in a fresh process as the CLI runs it (imports
# included, the cyclic collector off): what any speed-up has to take from.
PHASES = """
import sys, time
start = time.perf_counter()
import msgspec
from asr_preflight import cli
from asr_preflight.engine import (
    CheckResult, Scope, all_rules, select_vms, split_protected, verdicts,
)
from asr_preflight.model import build_estate
from asr_preflight.perf import batch_gc
from asr_preflight.report.model import build_report
from asr_preflight.rules import Context
from asr_preflight.snapshot import load_snapshot
marks = [("imports", time.perf_counter())]
with batch_gc():
    snapshot = load_snapshot(__import__("pathlib").Path(sys.argv[1]))
    marks.append(("read", time.perf_counter()))
    estate = build_estate(snapshot)
    marks.append(("model", time.perf_counter()))
    vms, protected = split_protected(estate, select_vms(estate, Scope("eastus", "centralus")))
    context = Context(estate=estate, source_region="eastus", target_region="centralus", vms=vms,
                      protected_vms=protected, principal_id=sys.argv[2])
    rules, findings, heaviest = all_rules(), [], []
    for rule in rules:
        begun = time.perf_counter()
        findings += rule.run(context)
        heaviest.append((time.perf_counter() - begun, rule.id))
    marks.append(("rules", time.perf_counter()))
    decided = verdicts(context.vms, findings)
    marks.append(("verdicts", time.perf_counter()))
    msgspec.json.encode(build_report(CheckResult(context, findings, decided, rules)))
    marks.append(("report", time.perf_counter()))
last, parts = start, []
for name, at in marks:
    parts.append(f"{name} {at - last:.2f}")
    last = at
top = ", ".join(f"{rule} {spent:.2f}" for spent, rule in sorted(heaviest, reverse=True)[:3])
print(f"{' '.join(parts)} s; total {last - start:.2f} s; heaviest rules: {top}")
"""


def compare(kind: str, size: int, runs: int) -> None:
    """One estate: plain decode and check as processes, side by side."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "estate"
        if kind == "minimal":
            write_exports(synthetic(size), folder)
        else:
            realistic(size, folder)
        megabytes = sum(p.stat().st_size for p in folder.rglob("*.json")) / 1e6
        decode, decode_peak = measure([sys.executable, "-c", PLAIN_DECODE, str(folder)], runs)
        check, check_peak = measure(
            [
                str(BIN / "asr-preflight"),
                *CHECK,
                "--snapshot",
                str(folder),
                "--principal-id",
                PRINCIPAL,
            ],
            runs,
        )
        print(
            f"{kind:>10} {size:>8,} {megabytes:>9.1f} {decode:>9.2f} {check:>8.2f} "
            f"{check / decode:>5.1f}x {size / check:>8,.0f} {decode_peak / 1024:>11.0f} "
            f"{check_peak / 1024:>10.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--estates", nargs="+", default=["minimal", "realistic"])
    args = parser.parse_args()
    print(
        f"\n{'estate':>10} {'VMs':>8} {'files MB':>9} {'decode s':>9} {'check s':>8} "
        f"{'ratio':>6} {'VMs/s':>8} {'decode MiB':>11} {'check MiB':>10}"
    )
    for size in args.sizes:
        for kind in args.estates:
            compare(kind, size, args.runs)
    print("\nwhere the time of a check goes (realistic estate, one run):")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            realistic(size, Path(tmp) / "estate")
            phases = subprocess.run(
                [sys.executable, "-c", PHASES, str(Path(tmp) / "estate"), PRINCIPAL],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        print(f"{size:>8,} VMs: {phases}")


if __name__ == "__main__":
    main()
