"""Live collection at scale, against the local HTTPS double of Resource Manager (`make bench`).

Serves synthetic estates of 1,000 / 10,000 / 50,000 VMs (scripts/bench.py's `synthetic()`, two
disks and one NIC per VM) with 50 ms of latency on every request and Resource Graph's per-user
throttling (15 queries per 5 seconds, then 429 with Retry-After), runs the collector with the
real SDK clients, writes the snapshot, and prints the requests and the wall time per size.
Requests grow with pages (1,000 rows a Resource Graph page, 1,000 VMs a Resource Manager page),
not with VMs. Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "collect"))

import trustme  # noqa: E402
from arm_double import ArmData, ArmDouble  # noqa: E402
from azure.core.credentials import AccessToken  # noqa: E402
from bench import synthetic, write_exports  # noqa: E402

from asr_preflight.collect import PipelineSettings, Target, collect  # noqa: E402
from asr_preflight.collect.auth import resolve_cloud  # noqa: E402
from asr_preflight.collect.clouds import named  # noqa: E402
from asr_preflight.snapshot import load_snapshot, write_snapshot  # noqa: E402
from builders import PRINCIPAL, SUB  # noqa: E402


class Token:
    """No token service exists offline; the double accepts this one."""

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("test-token", int(time.time()) + 3600)


def run(size: int, ca: trustme.CA, tmp: Path, args: argparse.Namespace) -> None:
    folder = tmp / f"estate-{size}"
    write_exports(synthetic(size), folder)
    data = ArmData.from_snapshot(load_snapshot(folder))
    double = ArmDouble(
        data,
        ca.issue_cert("localhost", "127.0.0.1"),
        page_size=1000,
        latency=args.latency,
        graph_limit=args.graph_limit,
        graph_window=args.graph_window,
    )
    with double.running():
        cloud = resolve_cloud(named("AzureCloud"), double.url)
        target = Target((SUB,), "eastus", "centralus", PRINCIPAL)
        start = time.perf_counter()
        result = collect(target, Token(), cloud, PipelineSettings(workers=args.workers))
        out = tmp / f"snapshot-{size}.json"
        write_snapshot(result.snapshot, out)
        wall = time.perf_counter() - start
    log = double.requests()
    vms = sum(
        1
        for r in result.snapshot.records.get("microsoft.compute/virtualmachines", [])
        if "hardwareProfile" in (r.get("properties") or {})
    )
    assert vms == size, f"expected {size} VMs collected, found {vms}"
    # 403s are the reads the synthetic exports hold nothing for (deny assignments, service tags,
    # network and storage usages); anything else means the collection went wrong.
    failed = [e for e in result.snapshot.collection_errors if e.status != 403]
    assert not failed, failed
    throttled = sum(1 for e in log if e.status == 429)
    graph = sum(1 for e in log if e.method == "POST")
    print(
        f"{size:>8} {len(log):>9} {graph:>7} {throttled:>6} {len(log) - graph:>6} "
        f"{result.stats.graph_pages:>7} {result.stats.arm_pages:>7} {wall:>8.1f} "
        f"{result.stats.quota_waited:>8.1f} {out.stat().st_size / 1e6:>8.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--graph-limit", type=int, default=15, help="queries per window")
    parser.add_argument("--graph-window", type=float, default=5.0, help="seconds")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--run-command-vms", type=int, default=200)
    args = parser.parse_args()
    ca = trustme.CA()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ca_file = tmp / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        os.environ["REQUESTS_CA_BUNDLE"] = str(ca_file)
        print(
            f"latency {args.latency * 1000:.0f} ms/request, Resource Graph {args.graph_limit} "
            f"queries per {args.graph_window:g} s, {args.workers} workers"
        )
        print(
            f"{'VMs':>8} {'requests':>9} {'ARG':>7} {'429':>6} {'ARM':>6} "
            f"{'ARGpg':>7} {'ARMpg':>7} {'wall s':>8} {'quota s':>8} {'snap MB':>8}"
        )
        for size in args.sizes:
            run(size, ca, tmp, args)
        for concurrency in (8, 32):
            run_command(args.run_command_vms, concurrency, ca, tmp, args)


def run_command(
    count: int, concurrency: int, ca: trustme.CA, tmp: Path, args: argparse.Namespace
) -> None:
    """--guest run-command over `count` VMs: each VM's Run Command answers (a recorded compact
    line) after a few polls; what bounds the wall time is how many VMs run at once."""
    from arm_double import Guest, linux_value

    from asr_preflight.collect.run_command import GuestRunSettings, Question, run_probes
    from asr_preflight.engine import Scope, select_vms
    from asr_preflight.guest import wire
    from asr_preflight.model import build_estate

    folder = tmp / f"guests-{count}"
    write_exports(synthetic(count), folder)
    snap = load_snapshot(folder)
    double = ArmDouble(
        ArmData.from_snapshot(snap), ca.issue_cert("localhost", "127.0.0.1"), latency=args.latency
    )
    line = wire.encode({"schema": "asr-preflight/guest-facts", "trusted_roots": {"sha1": []}})
    vms = select_vms(build_estate(snap), Scope("eastus", "centralus"))
    for vm in vms:
        double.guests[vm.name.lower()] = Guest(recorded=linux_value(line, ""))
    with double.running():
        cloud = resolve_cloud(named("AzureCloud"), double.url)
        start = time.perf_counter()
        outcomes = run_probes(
            Question("AzureCloud", {"eastus": "centralus"}, None, vms),
            Token(),
            cloud,
            GuestRunSettings(concurrency=concurrency, timeout=120, polling_interval=0.2),
        )
        wall = time.perf_counter() - start
    got = sum(1 for o in outcomes if o.facts is not None)
    assert got == len(vms), [o.reason for o in outcomes if o.facts is None][:3]
    print(
        f"run command: {len(vms):,} VMs, {concurrency} at a time, 0.2 s polls: {wall:.1f} s, "
        f"{len(double.requests()):,} requests"
    )


if __name__ == "__main__":
    main()
