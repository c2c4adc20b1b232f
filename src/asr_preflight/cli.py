"""The command line. Thin: parse options, call the engine, hand the result to a report."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console

from asr_preflight import __version__
from asr_preflight.engine import Scope, run_check, select_vms
from asr_preflight.errors import EXIT_BLOCKED, EXIT_READY, InputError
from asr_preflight.findings import Status, Verdict
from asr_preflight.knowledge import regions
from asr_preflight.model import build_estate
from asr_preflight.perf import batch_gc
from asr_preflight.report import console as console_report
from asr_preflight.report import explain as explain_report
from asr_preflight.report import plan as plan_report
from asr_preflight.report.model import build_report
from asr_preflight.report.model import write as write_report
from asr_preflight.rules import Context, all_rules
from asr_preflight.rules.permissions import explain_rows
from asr_preflight.snapshot import load_snapshot, write_snapshot
from asr_preflight.snapshot.guest import add_guest_facts

EXIT_INTERNAL = 3

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Check Azure Site Recovery (Azure-to-Azure) prerequisites before you enable replication.",
)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


class FailOn(StrEnum):
    BLOCKED = "blocked"
    UNKNOWN = "unknown"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"asr-preflight {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """asr-preflight: everything "Enable replication" needs, checked up front."""


def _region(name: str, option: str, known_here: set[str]) -> str:
    normalized = regions.normalize(name) or (name.lower() if name.lower() in known_here else None)
    if normalized is None:
        raise InputError(
            option,
            "",
            f"expected an Azure region name such as eastus or 'Central US', found {name!r}",
        )
    return normalized


# Options shared by `check` and `explain permissions`.
SnapshotOpt = Annotated[Path, typer.Option(help="Snapshot file or folder of az/REST exports.")]
SourceOpt = Annotated[str, typer.Option(help="Region the VMs run in, e.g. eastus.")]
TargetOpt = Annotated[str, typer.Option(help="Region to replicate to, e.g. centralus.")]
GroupsOpt = Annotated[list[str], typer.Option(help="Only VMs in this resource group (repeatable).")]
VmsOpt = Annotated[list[str], typer.Option(help="Only this VM, by name or id (repeatable).")]
PrincipalOpt = Annotated[
    str | None,
    typer.Option(help="Object id of the person or identity who will enable replication."),
]
GroupIdOpt = Annotated[
    list[str],
    typer.Option(
        help="A group the principal belongs to (repeatable; adds to memberships in the snapshot)."
    ),
]
CacheOpt = Annotated[
    list[str], typer.Option(help="Cache storage account to use, by name or id (repeatable).")
]
VaultOpt = Annotated[
    str | None, typer.Option(help="Recovery Services vault to use, by name or id.")
]
TargetSubOpt = Annotated[
    str | None, typer.Option(help="Subscription to fail over to (default: each VM's own).")
]
TargetRgOpt = Annotated[
    str | None,
    typer.Option(help="Resource group to fail over to (default: ASR's '<source group>-asr')."),
]
GuestOpt = Annotated[
    list[Path],
    typer.Option(help="Folder (or file) of guest facts collected inside the VMs (repeatable)."),
]
OutputOpt = Annotated[OutputFormat, typer.Option(help="Report format.")]


def _context(
    snapshot: Path,
    source_region: str,
    target_region: str,
    resource_group: list[str],
    vm: list[str],
    principal_id: str | None,
    group_id: list[str],
    cache_storage_account: list[str],
    vault: str | None,
    target_subscription: str | None,
    target_resource_group: str | None,
    guest_dir: list[Path],
) -> Context:
    """Load the snapshot and frame the question: which VMs, which pair, who, which targets."""
    snap = load_snapshot(snapshot)
    for path in guest_dir:
        add_guest_facts(snap, path)
    estate = build_estate(snap)
    exported = {v.location for v in estate.vms.values()}
    source = _region(source_region, "--source-region", exported)
    target = _region(target_region, "--target-region", exported)
    vms = select_vms(estate, Scope(source, target, tuple(resource_group), tuple(vm)))
    if not vms:
        where = ", ".join(sorted(exported)) or "no region (the snapshot holds no VMs)"
        raise InputError(
            str(snapshot),
            "",
            f"expected VMs in {regions.display(source)} "
            f"matching the filters; the snapshot's VMs are in: {where}",
        )
    return Context(
        estate=estate,
        source_region=source,
        target_region=target,
        vms=vms,
        target_subscription=target_subscription.lower() if target_subscription else None,
        target_resource_group=target_resource_group,
        principal_id=principal_id,
        principal_groups=tuple(g.lower() for g in group_id),
        cache_accounts=tuple(cache_storage_account),
        vault_id=vault,
    )


@app.command()
def check(
    snapshot: SnapshotOpt,
    source_region: SourceOpt,
    target_region: TargetOpt,
    resource_group: GroupsOpt = [],  # noqa: B006
    vm: VmsOpt = [],  # noqa: B006
    principal_id: PrincipalOpt = None,
    group_id: GroupIdOpt = [],  # noqa: B006
    cache_storage_account: CacheOpt = [],  # noqa: B006
    vault: VaultOpt = None,
    target_subscription: TargetSubOpt = None,
    target_resource_group: TargetRgOpt = None,
    guest_dir: GuestOpt = [],  # noqa: B006
    output: OutputOpt = OutputFormat.TABLE,
    fail_on: Annotated[
        FailOn,
        typer.Option(help="Exit 1 when a VM is blocked (default), or also when one is unknown."),
    ] = FailOn.BLOCKED,
) -> None:
    """Check every prerequisite for each VM in the source region and print the verdicts."""
    with batch_gc():
        context = _context(
            snapshot,
            source_region,
            target_region,
            resource_group,
            vm,
            principal_id,
            group_id,
            cache_storage_account,
            vault,
            target_subscription,
            target_resource_group,
            guest_dir,
        )
        result = run_check(context)
        if output is OutputFormat.JSON:
            write_report(build_report(result), sys.stdout.buffer)
        else:
            console_report.render(result, Console(highlight=False))
    blocked = any(v.verdict is Verdict.BLOCKED for v in result.verdicts) or any(
        f.status is Status.FAIL and f.resource_id is None for f in result.findings
    )
    unknown = any(v.verdict is Verdict.UNKNOWN for v in result.verdicts)
    raise typer.Exit(
        EXIT_BLOCKED if blocked or (fail_on is FailOn.UNKNOWN and unknown) else EXIT_READY
    )


@app.command()
def plan(
    snapshot: SnapshotOpt,
    source_region: SourceOpt,
    target_region: TargetOpt,
    resource_group: GroupsOpt = [],  # noqa: B006
    vm: VmsOpt = [],  # noqa: B006
    cache_storage_account: CacheOpt = [],  # noqa: B006
    vault: VaultOpt = None,
    target_subscription: TargetSubOpt = None,
    target_resource_group: TargetRgOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """The target resources ASR would create with default settings: vault, resource groups,
    VNets, cache accounts, a size and zone per VM with the reason, replica disks and the
    quota requests to make."""
    with batch_gc():
        context = _context(
            snapshot,
            source_region,
            target_region,
            resource_group,
            vm,
            None,
            [],
            cache_storage_account,
            vault,
            target_subscription,
            target_resource_group,
            [],
        )
        target = context.plan.target
        if output is OutputFormat.JSON:
            sys.stdout.buffer.write(msgspec.json.encode(target) + b"\n")
        else:
            plan_report.render(target, Console(highlight=False))


explain_app = typer.Typer(help="Show how a verdict was reached.", no_args_is_help=True)
app.add_typer(explain_app, name="explain")


@explain_app.command("permissions")
def explain_permissions(
    snapshot: SnapshotOpt,
    source_region: SourceOpt,
    target_region: TargetOpt,
    principal_id: Annotated[
        str, typer.Option(help="Object id of the person or identity who will enable replication.")
    ],
    resource_group: GroupsOpt = [],  # noqa: B006
    vm: VmsOpt = [],  # noqa: B006
    group_id: GroupIdOpt = [],  # noqa: B006
    cache_storage_account: CacheOpt = [],  # noqa: B006
    vault: VaultOpt = None,
    target_subscription: TargetSubOpt = None,
    target_resource_group: TargetRgOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """For each action enabling replication needs and the scope where it is needed: the role
    assignment that grants it, or what is missing and the role that would grant it."""
    context = _context(
        snapshot,
        source_region,
        target_region,
        resource_group,
        vm,
        principal_id,
        group_id,
        cache_storage_account,
        vault,
        target_subscription,
        target_resource_group,
        [],
    )
    rows = explain_rows(context)
    if output is OutputFormat.JSON:
        sys.stdout.buffer.write(msgspec.json.encode(rows) + b"\n")
    else:
        explain_report.render(rows, Console(highlight=False))
    raise typer.Exit(
        EXIT_BLOCKED if any(r.access in ("missing", "denied") for r in rows) else EXIT_READY
    )


@app.command("rules")
def list_rules(
    output: Annotated[OutputFormat, typer.Option(help="Format.")] = OutputFormat.TABLE,
) -> None:
    """List the rule catalog: id, area, ASR error code and title."""
    catalog = all_rules()
    if output is OutputFormat.JSON:
        rows = [
            {
                "id": r.id,
                "area": r.area.value,
                "title": r.title,
                "asr_error_code": r.asr_error_code,
                "description": r.description,
                "references": list(r.references),
            }
            for r in catalog
        ]
        sys.stdout.buffer.write(msgspec.json.encode(rows) + b"\n")
        return
    out = Console(highlight=False)
    for r in catalog:
        code = str(r.asr_error_code) if r.asr_error_code else "-"
        out.print(f"{r.id:14} {r.area.value:13} {code:7} {r.title}", markup=False)


@app.command("snapshot")
def make_snapshot(
    source: Annotated[Path, typer.Argument(help="Folder of az/REST/Resource Graph exports.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Snapshot file to write.")],
) -> None:
    """Bundle a folder of exports into one snapshot file (secrets dropped) to check or share."""
    snap = load_snapshot(source)
    write_snapshot(snap, out)
    typer.echo(
        f"wrote {out}: {sum(len(v) for v in snap.records.values())} records, "
        f"{len(snap.usages)} usage blocks",
        err=True,
    )


def main() -> None:
    """Entry point: typer handles usage errors (exit 2) and exit codes; we handle bad input."""
    try:
        app()
    except InputError as exc:
        print(f"asr-preflight: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exception as exc:  # the promise is no traceback; keep a way to get one
        if os.environ.get("ASR_PREFLIGHT_DEBUG"):
            raise
        print(
            f"asr-preflight: internal error: {type(exc).__name__}: {exc} "
            "(set ASR_PREFLIGHT_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        sys.exit(EXIT_INTERNAL)
