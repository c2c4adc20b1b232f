"""`asr-preflight collect` and the `--live` source of `check`: read the estate with the Azure SDKs.

Both need a credential `DefaultAzureCredential` can find (`az login`, an environment service
principal, a managed or workload identity) with read access; nothing is ever written to Azure.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from asr_preflight.cli_options import object_id_option, region_option
from asr_preflight.errors import InputError
from asr_preflight.snapshot import Snapshot, write_snapshot
from asr_preflight.snapshot.snapshot import CollectionError

_RUN_PERMISSION = "Microsoft.Compute/virtualMachines/runCommand/action"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

LiveOpt = Annotated[
    bool,
    typer.Option(
        "--live",
        help="Read the estate from Azure now (read-only; needs az login or another credential) "
        "instead of --snapshot.",
    ),
]
SubscriptionOpt = Annotated[
    list[str], typer.Option(help="Subscription id to read (repeatable). With --live.")
]
TenantOpt = Annotated[str | None, typer.Option(help="Tenant id to sign in to. With --live.")]
CloudOpt = Annotated[
    str,
    typer.Option(help="AzureCloud, AzureUSGovernment or AzureChinaCloud. With --live."),
]
ArmEndpointOpt = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        help="Resource Manager at another address (Azure Stack Hub, a test double). With --live.",
    ),
]


GuestRunOpt = Annotated[
    str | None,
    typer.Option(
        "--guest",
        metavar="run-command",
        help="run-command: also run the guest probe in each running VM of the source region "
        "through the VM Run Command action (the one thing asr-preflight does inside a VM: it "
        "reads and connects, changes nothing; needs --yes-run-in-vms or a yes at the prompt, "
        f"and {_RUN_PERMISSION}).",
    ),
]
YesRunOpt = Annotated[
    bool,
    typer.Option(
        "--yes-run-in-vms",
        help="Agree, without a prompt, that --guest run-command runs the probe in the VMs.",
    ),
]
GuestTimeoutOpt = Annotated[
    float, typer.Option(metavar="SECONDS", help="Run Command: time limit per VM.")
]
GuestConcurrencyOpt = Annotated[int, typer.Option(help="Run Command: VMs at a time.")]
GuestPollOpt = Annotated[float, typer.Option(hidden=True)]


@dataclass(frozen=True)
class GuestRequest:
    """`--guest run-command`: in which VMs, how, and whether the user agreed."""

    agreed: bool
    timeout: float = 600.0
    concurrency: int = 8
    polling_interval: float = 5.0
    vm_names: tuple[str, ...] = ()
    resource_groups: tuple[str, ...] = ()


def guest_request(
    guest: str | None,
    agreed: bool,
    timeout: float,
    concurrency: int,
    polling_interval: float,
    vm: Sequence[str] = (),
    resource_group: Sequence[str] = (),
) -> GuestRequest | None:
    """--guest checked before anything is read: a pipeline without a terminal must say yes."""
    if guest is None:
        if agreed:
            raise InputError("--yes-run-in-vms", "", "only applies with --guest run-command")
        return None
    if guest != "run-command":
        raise InputError("--guest", "", f"expected run-command, found {guest!r}")
    if not agreed and not sys.stdin.isatty():
        raise InputError(
            "--guest",
            "",
            "run-command runs the probe inside the VMs: pass --yes-run-in-vms to agree (no "
            "terminal to ask in)",
        )
    if timeout <= 0 or concurrency < 1:
        raise InputError("--guest-timeout/--guest-concurrency", "", "expected positive numbers")
    return GuestRequest(
        agreed, timeout, concurrency, polling_interval, tuple(vm), tuple(resource_group)
    )


def credential_factory(cloud: Any, tenant_id: str | None) -> Any:
    """The credential to collect with; tests replace it (no token service exists offline)."""
    from asr_preflight.collect.auth import default_credential

    return default_credential(cloud, tenant_id)


@dataclass(frozen=True)
class LiveSource:
    """Where and as whom to read, for `check --live` (the question's other half comes later)."""

    subscriptions: tuple[str, ...]
    tenant_id: str | None
    cloud: str
    arm_endpoint: str | None
    guest: GuestRequest | None = None

    def snapshot(
        self,
        source_region: str,
        target_region: str,
        principal_id: str | None,
        cache_accounts: list[str],
        more_pairs: tuple[tuple[str, str], ...] = (),
    ) -> Snapshot:
        return collect_snapshot(
            self,
            region_option(source_region, "--source-region"),
            region_option(target_region, "--target-region"),
            principal_id,
            cache_accounts,
            more_pairs=more_pairs,
            guest=self.guest,
        )


def live_source(
    live: bool,
    snapshot: Path | None,
    subscription: list[str],
    tenant: str | None,
    cloud: str,
    arm_endpoint: str | None,
    guest: GuestRequest | None = None,
) -> LiveSource | None:
    """The `--live` options of `check`, checked; None when the snapshot is read instead."""
    if not live:
        if snapshot is None:
            raise InputError("--snapshot", "", "expected a snapshot file or folder, or --live")
        if subscription or tenant or arm_endpoint:
            raise InputError("--subscription/--tenant/--arm-endpoint", "", "only apply with --live")
        if guest is not None:
            raise InputError("--guest", "", "only applies with --live (or to collect)")
        return None
    if snapshot is not None:
        raise InputError("--snapshot", "", "expected either --snapshot or --live, not both")
    source = _source(subscription, tenant, cloud, arm_endpoint)
    return LiveSource(
        source.subscriptions, source.tenant_id, source.cloud, source.arm_endpoint, guest
    )


def _source(
    subscription: list[str], tenant: str | None, cloud: str, arm_endpoint: str | None
) -> LiveSource:
    if not subscription:
        raise InputError("--subscription", "", "expected at least one subscription id with --live")
    for value in [*subscription, *([tenant] if tenant else [])]:
        if not _GUID.match(value):
            raise InputError("--subscription/--tenant", "", f"expected a GUID, found {value!r}")
    from asr_preflight.collect.clouds import named

    named(cloud)  # refuse an unknown cloud before signing in
    return LiveSource(
        tuple(dict.fromkeys(s.lower() for s in subscription)), tenant, cloud, arm_endpoint
    )


def collect_snapshot(
    source: LiveSource,
    source_region: str,
    target_region: str,
    principal_id: str | None,
    cache_accounts: list[str],
    workers: int = 8,
    quiet: bool = False,
    more_pairs: tuple[tuple[str, str], ...] = (),
    guest: GuestRequest | None = None,
) -> Snapshot:
    from asr_preflight.collect import PipelineSettings, Target, collect
    from asr_preflight.collect.auth import resolve_cloud
    from asr_preflight.collect.clouds import named

    cloud = resolve_cloud(named(source.cloud), source.arm_endpoint)
    credential = credential_factory(cloud, source.tenant_id)
    target = Target(
        subscriptions=source.subscriptions,
        source_region=source_region,
        target_region=target_region,
        principal_id=principal_id.lower() if principal_id else None,
        cache_accounts=tuple(cache_accounts),
        tenant_id=source.tenant_id,
        more_pairs=more_pairs,
    )
    settings = PipelineSettings(workers=max(1, workers))
    with _progress(quiet) as progress:
        result = collect(target, credential, cloud, settings, progress)
    stats = result.stats
    if not result.snapshot.subscriptions:
        first = result.snapshot.collection_errors[0]
        raise InputError(
            "--subscription",
            "",
            f"could not read any of the subscriptions: {first.scope}: {first.operation}: "
            f"{first.message}",
        )
    for error in result.snapshot.collection_errors:  # always: a pipeline's log must say which
        typer.echo(_describe_error(error), err=True)
    if not quiet:
        snap = result.snapshot
        typer.echo(
            f"collected {sum(len(v) for v in snap.records.values())} records from "
            f"{len(snap.subscriptions)} subscription(s) in {stats.seconds:.1f} s: "
            f"{stats.counts.total} requests ({stats.graph_pages} Resource Graph pages, "
            f"{stats.arm_pages} Resource Manager pages), "
            f"{len(snap.collection_errors)} collection error(s)",
            err=True,
        )
    if guest is not None:
        pairs = {source_region: target_region, **dict(more_pairs)}
        _run_in_guests(result.snapshot, guest, pairs, source, cloud, credential, cache_accounts)
    return result.snapshot


def _run_in_guests(
    snap: Snapshot,
    guest: GuestRequest,
    pairs: dict[str, str],
    source: LiveSource,
    cloud: Any,
    credential: Any,
    cache_accounts: list[str],
) -> None:
    """The probe in each selected running VM, after saying what runs where (and asking, unless
    --yes-run-in-vms); the facts and each VM's reason for having none go into the snapshot."""
    from asr_preflight.collect.run_command import (
        GuestRunSettings,
        Question,
        merge,
        run_probes,
        runnable,
    )
    from asr_preflight.engine import Scope, select_vms
    from asr_preflight.model import build_estate

    estate = build_estate(snap)
    vms = [
        vm
        for region in pairs
        for vm in select_vms(
            estate, Scope(region, pairs[region], guest.resource_groups, guest.vm_names)
        )
    ]
    able = [vm for vm in vms if runnable(vm) is None]
    names = ", ".join(vm.name for vm in able[:20]) + (" …" if len(able) > 20 else "")
    typer.echo(
        f"--guest run-command: the read-only guest probe runs in {len(able)} of {len(vms)} VMs "
        f"through Run Command (as root on Linux, SYSTEM on Windows): {names or 'none'}. It "
        "reads trust stores and settings and opens TLS connections to Site Recovery's "
        "endpoints; it installs and changes nothing.",
        err=True,
    )
    if able and not guest.agreed and not typer.confirm("Run it?", err=True):
        raise typer.Exit(2)
    cache = next((c for c in cache_accounts if "/" not in c), None)
    outcomes = run_probes(
        Question(source.cloud, pairs, cache, vms),
        credential,
        cloud,
        GuestRunSettings(guest.concurrency, guest.timeout, guest.polling_interval),
    )
    got, missed = merge(snap, outcomes)
    typer.echo(f"guest facts from {got} VM(s); none from {missed}:", err=True)
    for outcome in outcomes:
        if outcome.facts is None:
            typer.echo(f"  {outcome.vm.name}: {outcome.reason}", err=True)


def _describe_error(error: CollectionError) -> str:
    lost = f" (unknown without it: {', '.join(error.kinds)})" if error.kinds else ""
    return f"collection error {error.scope}: {error.operation}: {error.message}{lost}"


class _progress:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.bar: Any = None
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(
                TextColumn("collecting"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.description}"),
                console=Console(stderr=True),
                transient=True,
            )

    def __enter__(self) -> Any:
        if self.bar is None:
            return None
        self.bar.start()
        task = self.bar.add_task("", total=None)

        def update(done: int, known: int, what: str) -> None:
            self.bar.update(task, completed=done, total=known, description=what)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def collect_command(
    subscription: Annotated[list[str], typer.Option(help="Subscription id to read (repeatable).")],
    source_region: Annotated[str, typer.Option(help="Region the VMs run in, e.g. eastus.")],
    target_region: Annotated[str, typer.Option(help="Region to replicate to, e.g. centralus.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Snapshot file to write.")],
    principal_id: Annotated[
        str | None,
        typer.Option(
            help="Object id of who will enable replication: reads the role assignments that "
            "reach it (its groups' included), role definitions and deny assignments."
        ),
    ] = None,
    cache_storage_account: Annotated[
        list[str],
        typer.Option(help="Cache storage account, by name or id (repeatable; besides *asrcache*)."),
    ] = [],  # noqa: B006
    tenant: Annotated[str | None, typer.Option(help="Tenant id to sign in to.")] = None,
    cloud: Annotated[
        str, typer.Option(help="AzureCloud, AzureUSGovernment or AzureChinaCloud.")
    ] = "AzureCloud",
    arm_endpoint: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Resource Manager at another address (Azure Stack Hub, a test double).",
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="Requests in flight at once.")] = 8,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
    guest: GuestRunOpt = None,
    yes_run_in_vms: YesRunOpt = False,
    guest_timeout: GuestTimeoutOpt = 600.0,
    guest_concurrency: GuestConcurrencyOpt = 8,
    guest_poll_interval: GuestPollOpt = 5.0,
    vm: Annotated[
        list[str],
        typer.Option(help="With --guest run-command: only in this VM, by name (repeatable)."),
    ] = [],  # noqa: B006
    resource_group: Annotated[
        list[str],
        typer.Option(help="With --guest run-command: only in VMs of this group (repeatable)."),
    ] = [],  # noqa: B006
) -> None:
    """Read the estate from Azure (read-only: GET requests and Resource Graph queries) into a
    snapshot file, to check now or later with `check --snapshot FILE` or to share."""
    source = _source(subscription, tenant, cloud, arm_endpoint)
    if (vm or resource_group) and guest is None:
        raise InputError("--vm/--resource-group", "", "only apply with --guest run-command")
    request = guest_request(
        guest,
        yes_run_in_vms,
        guest_timeout,
        guest_concurrency,
        guest_poll_interval,
        vm,
        resource_group,
    )
    snap = collect_snapshot(
        source,
        region_option(source_region, "--source-region"),
        region_option(target_region, "--target-region"),
        object_id_option(principal_id, "--principal-id"),
        cache_storage_account,
        workers=workers,
        quiet=quiet,
        guest=request,
    )
    write_snapshot(snap, out)
    if not quiet:
        typer.echo(
            f"wrote {out}: {sum(len(v) for v in snap.records.values())} records, "
            f"{len(snap.usages)} usage blocks",
            err=True,
        )
