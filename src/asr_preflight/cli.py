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
from asr_preflight.report.model import build_report
from asr_preflight.report.model import write as write_report
from asr_preflight.rules import Context, all_rules
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


@app.command()
def check(
    snapshot: Annotated[Path, typer.Option(help="Snapshot file or folder of az/REST exports.")],
    source_region: Annotated[str, typer.Option(help="Region the VMs run in, e.g. eastus.")],
    target_region: Annotated[str, typer.Option(help="Region to replicate to, e.g. centralus.")],
    resource_group: Annotated[
        list[str], typer.Option(help="Only VMs in this resource group (repeatable).")
    ] = [],  # noqa: B006
    vm: Annotated[list[str], typer.Option(help="Only this VM, by name or id (repeatable).")] = [],  # noqa: B006
    principal_id: Annotated[
        str | None,
        typer.Option(help="Object id of the person or identity who will enable replication."),
    ] = None,
    cache_storage_account: Annotated[
        list[str], typer.Option(help="Cache storage account to use, by name or id (repeatable).")
    ] = [],  # noqa: B006
    vault: Annotated[
        str | None, typer.Option(help="Recovery Services vault to use, by name or id.")
    ] = None,
    target_subscription: Annotated[
        str | None, typer.Option(help="Subscription to fail over to (default: each VM's own).")
    ] = None,
    target_resource_group: Annotated[
        str | None,
        typer.Option(help="Resource group to fail over to (default: ASR's '<source group>-asr')."),
    ] = None,
    guest_dir: Annotated[
        list[Path],
        typer.Option(help="Folder (or file) of guest facts written by `asr-preflight guest`."),
    ] = [],  # noqa: B006
    output: Annotated[OutputFormat, typer.Option(help="Report format.")] = OutputFormat.TABLE,
    fail_on: Annotated[
        FailOn,
        typer.Option(help="Exit 1 when a VM is blocked (default), or also when one is unknown."),
    ] = FailOn.BLOCKED,
) -> None:
    """Check every prerequisite for each VM in the source region and print the verdicts."""
    with batch_gc():
        snap = load_snapshot(snapshot)
        for path in guest_dir:
            add_guest_facts(snap, path)
        estate = build_estate(snap)
        exported = {vm.location for vm in estate.vms.values()}
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
        context = Context(
            estate=estate,
            source_region=source,
            target_region=target,
            vms=vms,
            target_subscription=target_subscription.lower() if target_subscription else None,
            target_resource_group=target_resource_group,
            principal_id=principal_id,
            cache_accounts=tuple(cache_storage_account),
            vault_id=vault,
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
