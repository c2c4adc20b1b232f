"""`asr-preflight collect` and the `--live` source of `check`: read the estate with the Azure SDKs.

Both need a credential `DefaultAzureCredential` can find (`az login`, an environment service
principal, a managed or workload identity) with read access; nothing is ever written to Azure.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from asr_preflight.cli_options import object_id_option, region_option
from asr_preflight.errors import InputError
from asr_preflight.snapshot import Snapshot, write_snapshot
from asr_preflight.snapshot.snapshot import CollectionError

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
        )


def live_source(
    live: bool,
    snapshot: Path | None,
    subscription: list[str],
    tenant: str | None,
    cloud: str,
    arm_endpoint: str | None,
) -> LiveSource | None:
    """The `--live` options of `check`, checked; None when the snapshot is read instead."""
    if not live:
        if snapshot is None:
            raise InputError("--snapshot", "", "expected a snapshot file or folder, or --live")
        if subscription or tenant or arm_endpoint:
            raise InputError("--subscription/--tenant/--arm-endpoint", "", "only apply with --live")
        return None
    if snapshot is not None:
        raise InputError("--snapshot", "", "expected either --snapshot or --live, not both")
    return _source(subscription, tenant, cloud, arm_endpoint)


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
    return result.snapshot


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
) -> None:
    """Read the estate from Azure (read-only: GET requests and Resource Graph queries) into a
    snapshot file, to check now or later with `check --snapshot FILE` or to share."""
    source = _source(subscription, tenant, cloud, arm_endpoint)
    snap = collect_snapshot(
        source,
        region_option(source_region, "--source-region"),
        region_option(target_region, "--target-region"),
        object_id_option(principal_id, "--principal-id"),
        cache_storage_account,
        workers=workers,
        quiet=quiet,
    )
    write_snapshot(snap, out)
    if not quiet:
        typer.echo(
            f"wrote {out}: {sum(len(v) for v in snap.records.values())} records, "
            f"{len(snap.usages)} usage blocks",
            err=True,
        )
