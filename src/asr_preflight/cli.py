"""The command line. Thin: parse options, call the engine, hand the result to a report."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import msgspec
import typer
from rich.console import Console
from rich.text import Text

from asr_preflight import __version__, pairs
from asr_preflight.cli_collect import (
    ArmEndpointOpt,
    CloudOpt,
    GuestConcurrencyOpt,
    GuestPollOpt,
    GuestRunOpt,
    GuestTimeoutOpt,
    LiveOpt,
    LiveSource,
    SubscriptionOpt,
    TenantOpt,
    YesRunOpt,
    collect_command,
    guest_request,
    live_source,
)
from asr_preflight.cli_options import (
    object_id_option,
    object_ids_option,
    region_option,
    zone_option,
)
from asr_preflight.engine import (
    Scope,
    run_check,
    select_vms,
    select_vms_anywhere,
    split_protected,
)
from asr_preflight.errors import EXIT_BLOCKED, EXIT_READY, InputError
from asr_preflight.export_script import export_script
from asr_preflight.findings import Status, Verdict
from asr_preflight.fix.plan import build_fix_plan
from asr_preflight.fix.script import write_script
from asr_preflight.fix.simulate import simulate as simulate_fixes
from asr_preflight.knowledge import regions
from asr_preflight.model import Estate, build_estate
from asr_preflight.pairs import ALL, PAIRED
from asr_preflight.perf import batch_gc
from asr_preflight.report import changes as report_changes
from asr_preflight.report import console as console_report
from asr_preflight.report import estate as estate_report
from asr_preflight.report import explain as explain_report
from asr_preflight.report import fix as fix_console
from asr_preflight.report import formats, plan_estate
from asr_preflight.report import plan as plan_report
from asr_preflight.report.changes import compare, load_findings
from asr_preflight.report.fix import FixReport, fix_report
from asr_preflight.report.formats import Format
from asr_preflight.report.model import build_report
from asr_preflight.report.model import write as write_report
from asr_preflight.rules import Context, all_rules
from asr_preflight.rules.permissions import explain_rows, fewest_grants, run_command_rows
from asr_preflight.secrets import scrub
from asr_preflight.snapshot import load_snapshot, write_snapshot
from asr_preflight.snapshot.guest import add_guest_facts
from asr_preflight.waivers import load_waivers

EXIT_INTERNAL = 3

# Plain help and errors (rich_markup_mode=None): option names never cut at 80 columns, and a
# usage error is the same one-line `asr-preflight: error: ...` as every other error.
app = typer.Typer(
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, pwsh)
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
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


# Options shared by `check` and `explain permissions`.
SnapshotOpt = Annotated[Path, typer.Option(help="Snapshot file or folder of az/REST exports.")]
# check and fix read a snapshot or, with --live, Azure itself
LiveOrSnapshotOpt = Annotated[
    Path | None, typer.Option(help="Snapshot file or folder of az/REST exports.")
]
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
TargetZoneOpt = Annotated[
    str | None,
    typer.Option(
        help="Availability zone to fail over to (1, 2 or 3). Required for zone to zone (the "
        "same region as source and target); region to region: instead of each VM's own zone.",
        metavar="ZONE",
    ),
]
StrictOpt = Annotated[
    bool,
    typer.Option(
        help="Exit 2 on any input problem (a record that could not be understood) instead of "
        "reporting it and answering unknown where it was needed."
    ),
]


OutFileOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write the report to this file, not stdout.")
]


@contextmanager
def _destination(out: Path | None) -> Iterator[BinaryIO]:
    """Where a report goes: the file given with -o, else standard output."""
    if out is None:
        yield sys.stdout.buffer
        return
    try:
        with out.open("wb") as stream:
            yield stream
    except OSError as exc:
        raise InputError(str(out), "", f"cannot write the report ({exc.strerror})") from None


def _load(
    snapshot: Path | None,
    source_region: str,
    target_region: str,
    *,
    principal_id: str | None,
    cache_storage_account: Sequence[str],
    guest_dir: Sequence[Path],
    live: LiveSource | None,
    strict: bool,
    more_pairs: tuple[tuple[str, str], ...] = (),
) -> Estate:
    """The estate, read once: exports, a snapshot, or Azure itself (for every pair at once)."""
    snap = (
        live.snapshot(source_region, target_region, principal_id, cache_storage_account, more_pairs)
        if live
        else load_snapshot(snapshot)
    )
    for path in guest_dir:
        add_guest_facts(snap, path)
    estate = build_estate(snap)
    if strict and estate.problems:
        first = estate.problems[0]
        raise InputError(
            first.file,
            first.path,
            f"{first.expected} (--strict: {len(estate.problems)} input problem(s) in all)",
        )
    return estate


def _frame(
    estate: Estate,
    origin: str,
    source: str,
    target: str,
    *,
    resource_group: list[str],
    vm: list[str],
    principal_id: str | None = None,
    groups: tuple[str, ...] = (),
    cache_storage_account: Sequence[str] = (),
    vault: str | None = None,
    target_subscription: str | None = None,
    target_resource_group: str | None = None,
    target_zone: str | None = None,
) -> Context:
    """The question for one pair: which VMs, who, which targets."""
    exported = {v.location for v in estate.vms.values()}
    zone = zone_option(target_zone, source, target)
    vms = select_vms(estate, Scope(source, target, tuple(resource_group), tuple(vm)))
    new, protected = split_protected(estate, vms)
    if not vms:
        where = ", ".join(sorted(exported)) or "no region (the snapshot holds no VMs)"
        filters = [f"--vm {v}" for v in vm] + [f"--resource-group {g}" for g in resource_group]
        raise InputError(
            origin,
            "",
            f"expected VMs in {regions.display(source)} matching {' '.join(filters)}; none do"
            if filters and source in exported
            else f"expected VMs in {regions.display(source)}; the snapshot's VMs are in: {where}",
        )
    return Context(
        estate=estate,
        source_region=source,
        target_region=target,
        vms=new,
        protected_vms=protected,
        target_subscription=target_subscription.lower() if target_subscription else None,
        target_resource_group=target_resource_group,
        principal_id=principal_id,
        principal_groups=groups,
        cache_accounts=tuple(cache_storage_account),
        vault_id=vault,
        target_zone=zone,
    )


def _context(
    snapshot: Path | None, source_region: str, target_region: str, **question: Any
) -> Context:
    """Load the snapshot and frame the question for one pair."""
    contexts, _ = _pair_contexts(snapshot, source_region, target_region, [], **question)
    return contexts[0]


PairSourceOpt = Annotated[
    str | None,
    typer.Option(help="Region the VMs run in, e.g. eastus; `all`: every region with VMs."),
]
PairTargetOpt = Annotated[
    str | None,
    typer.Option(
        help="Region to replicate to, e.g. centralus; `paired`: each source region's Azure pair."
    ),
]
PairOpt = Annotated[
    list[str],
    typer.Option(
        help="A source region and its target, SOURCE=TARGET (repeatable; with `paired` or a "
        "target region as the default for the other sources).",
        metavar="SOURCE=TARGET",
    ),
]


@app.command()
def check(
    source_region: PairSourceOpt = None,
    target_region: PairTargetOpt = None,
    pair: PairOpt = [],  # noqa: B006
    snapshot: LiveOrSnapshotOpt = None,
    resource_group: GroupsOpt = [],  # noqa: B006
    vm: VmsOpt = [],  # noqa: B006
    principal_id: PrincipalOpt = None,
    group_id: GroupIdOpt = [],  # noqa: B006
    cache_storage_account: CacheOpt = [],  # noqa: B006
    vault: VaultOpt = None,
    target_subscription: TargetSubOpt = None,
    target_resource_group: TargetRgOpt = None,
    target_zone: TargetZoneOpt = None,
    guest_dir: GuestOpt = [],  # noqa: B006
    output: Annotated[
        Format, typer.Option(help="Report format, to standard output (or --out).")
    ] = Format.TABLE,
    report_dir: Annotated[
        Path | None,
        typer.Option(
            help="Also write every format into this folder (report.json, report.sarif and so on)."
        ),
    ] = None,
    waivers: Annotated[
        Path | None,
        typer.Option(
            help="TOML file of waivers (rule, resource, reason, expires): matching findings are "
            "shown as waived and decide nothing until they expire."
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(help="An earlier JSON report: say what is new, changed or fixed since."),
    ] = None,
    all_findings: Annotated[
        bool,
        typer.Option(
            help="JSON: list passing findings too (they are always counted in the summary)."
        ),
    ] = False,
    fail_on: Annotated[
        FailOn,
        typer.Option(help="Exit 1 when a VM is blocked (default), or also when one is unknown."),
    ] = FailOn.BLOCKED,
    live: LiveOpt = False,
    subscription: SubscriptionOpt = [],  # noqa: B006
    tenant: TenantOpt = None,
    cloud: CloudOpt = "AzureCloud",
    arm_endpoint: ArmEndpointOpt = None,
    strict: StrictOpt = False,
    details: Annotated[
        bool, typer.Option(help="Table: list every finding by area, passes included.")
    ] = False,
    out: OutFileOpt = None,
    guest: GuestRunOpt = None,
    yes_run_in_vms: YesRunOpt = False,
    guest_timeout: GuestTimeoutOpt = 600.0,
    guest_concurrency: GuestConcurrencyOpt = 8,
    guest_poll_interval: GuestPollOpt = 5.0,
) -> None:
    """Check every prerequisite for each VM in the source region and print the verdicts."""
    in_guests = guest_request(
        guest,
        yes_run_in_vms,
        guest_timeout,
        guest_concurrency,
        guest_poll_interval,
        vm,
        resource_group,
    )
    question = {
        "resource_group": resource_group,
        "vm": vm,
        "principal_id": principal_id,
        "group_id": group_id,
        "cache_storage_account": cache_storage_account,
        "vault": vault,
        "target_subscription": target_subscription,
        "target_resource_group": target_resource_group,
        "guest_dir": guest_dir,
        "strict": strict,
        "target_zone": target_zone,
    }
    accepted = load_waivers(waivers) if waivers else None
    if _several(source_region, target_region, pair):
        pairs.asked(source_region, target_region, pair)  # before anything is read
        with batch_gc():
            results, stranded, shared = _check_pairs(
                snapshot,
                source_region,
                target_region,
                pair,
                waivers=accepted,
                live=live_source(
                    live, snapshot, subscription, tenant, cloud, arm_endpoint, in_guests
                ),
                **question,
            )
            with _destination(out) as stream:
                _report_pairs(
                    output, results, stranded, shared, stream, out, details, all_findings, baseline
                )
            if report_dir:
                _write_pairs(report_dir, results, stranded, shared)
        raise typer.Exit(
            _exit_code(
                [f for r in results for f in r.findings],
                [v for r in results for v in r.verdicts],
                fail_on,
                unknown=bool(stranded),
            )
        )
    with batch_gc():
        context = _context(
            snapshot,
            source_region,
            target_region,
            live=live_source(live, snapshot, subscription, tenant, cloud, arm_endpoint, in_guests),
            **question,
        )
        result = run_check(context, waivers=accepted)
        changes = None
        if baseline:
            earlier, findings = load_findings(baseline)
            changes = compare(earlier, findings, result.findings)
        report = build_report(result, all_findings, changes)
        with _destination(out) as stream:
            formats.write(output, result, report, stream, details=details, terminal=out is None)
        if report_dir:
            formats.write_all(report_dir, result, report)
    raise typer.Exit(_exit_code(result.findings, result.verdicts, fail_on))


@app.command()
def fix(
    source_region: PairSourceOpt = None,
    target_region: PairTargetOpt = None,
    pair: PairOpt = [],  # noqa: B006
    snapshot: LiveOrSnapshotOpt = None,
    resource_group: GroupsOpt = [],  # noqa: B006
    vm: VmsOpt = [],  # noqa: B006
    principal_id: PrincipalOpt = None,
    group_id: GroupIdOpt = [],  # noqa: B006
    cache_storage_account: CacheOpt = [],  # noqa: B006
    vault: VaultOpt = None,
    target_subscription: TargetSubOpt = None,
    target_resource_group: TargetRgOpt = None,
    target_zone: TargetZoneOpt = None,
    guest_dir: GuestOpt = [],  # noqa: B006
    script: Annotated[
        Path | None,
        typer.Option(help="Write a bash script of az commands that makes the estate ready."),
    ] = None,
    simulate: Annotated[
        bool,
        typer.Option(
            help="Apply every fix to the estate in memory and check again: that report, in "
            "--output's format, with the same exit codes, and what still needs a person."
        ),
    ] = False,
    output: Annotated[
        Format, typer.Option(help="Report format, to standard output (or --out).")
    ] = Format.TABLE,
    waivers: Annotated[
        Path | None, typer.Option(help="TOML file of waivers, as for check.")
    ] = None,
    live: LiveOpt = False,
    subscription: SubscriptionOpt = [],  # noqa: B006
    tenant: TenantOpt = None,
    cloud: CloudOpt = "AzureCloud",
    arm_endpoint: ArmEndpointOpt = None,
    strict: StrictOpt = False,
    details: Annotated[
        bool, typer.Option(help="Table: list every finding by area, passes included.")
    ] = False,
    out: OutFileOpt = None,
) -> None:
    """What a script can fix, as a script (--script) and as a check of the estate it would
    leave (--simulate). Read-only: it writes a file and changes nothing in Azure."""
    accepted = load_waivers(waivers) if waivers else None
    with batch_gc():
        contexts, stranded = _pair_contexts(
            snapshot,
            source_region,
            target_region,
            pair,
            resource_group=resource_group,
            vm=vm,
            principal_id=principal_id,
            group_id=group_id,
            cache_storage_account=cache_storage_account,
            vault=vault,
            target_subscription=target_subscription,
            target_resource_group=target_resource_group,
            guest_dir=guest_dir,
            strict=strict,
            target_zone=target_zone,
            live=live_source(live, snapshot, subscription, tenant, cloud, arm_endpoint),
        )
        shown, shared = pairs.add_competitions([run_check(c, waivers=accepted) for c in contexts])
        plan_ = build_fix_plan(shown)
        if script:
            _write_script(script, write_script(plan_, _question(shown)))
        after = None
        if simulate:  # the check again, on the estate as the script would leave it
            changed = simulate_fixes(contexts, plan_.actions)
            after, shared = pairs.add_competitions(
                [run_check(c, waivers=accepted) for c in changed]
            )
            shown = after
        summary = fix_report(plan_, after, str(script) if script else None)
        several = _several(source_region, target_region, pair)
        with _destination(out) as stream:
            _report_fix(output, shown, stranded, shared, summary, stream, out, details, several)
    raise typer.Exit(
        _exit_code(
            [f for r in shown for f in r.findings],
            [v for r in shown for v in r.verdicts],
            FailOn.BLOCKED,
        )
    )


def _question(results: list) -> str:
    """The options a fix script answers, for its header."""
    return " ".join(
        f"--pair {r.context.source_region}={r.context.target_region}" for r in results
    ) + (
        f" --principal-id {results[0].context.principal_id}"
        if results[0].context.principal_id
        else ""
    )


def _write_script(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)
    except OSError as exc:
        raise InputError(str(path), "", f"cannot write the script ({exc.strerror})") from None


def _report_fix(
    output: Format,
    results: list,
    stranded: dict,
    shared: list,
    summary: FixReport,
    stream: BinaryIO,
    out: Path | None,
    details: bool,
    several: bool,
) -> None:
    """The check (as simulated, or as it stands) in --output's format, and the fix section:
    in the JSON report's `fix`, the table's last sections, else on standard error."""
    if output is Format.JSON:
        whole = (
            estate_report.combine(results, stranded, shared)
            if several
            else build_report(results[0])
        )
        write_report(msgspec.structs.replace(whole, fix=summary), stream)
        return
    text = io.TextIOWrapper(stream, encoding="utf-8", write_through=True)
    console = (
        Console(highlight=False)
        if out is None
        else Console(highlight=False, file=text, width=100, color_system=None)
    )
    if output is Format.TABLE:
        if several:
            estate_report.render(results, stranded, shared, console, details)
        else:
            console_report.render(results[0], console, details=details)
        fix_console.render(summary, console)
        text.detach()
        return
    text.detach()
    if several:
        _report_pairs(output, results, stranded, shared, stream, out, details, False, None)
    else:
        formats.write(output, results[0], build_report(results[0]), stream)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    fix_console.render(summary, errors)


def _several(source: str | None, target: str | None, pair: list[str]) -> bool:
    """Whether the question is about several pairs (or must be resolved as if it were)."""
    return (
        bool(pair)
        or source is None
        or target is None
        or source.lower() == ALL
        or target.lower() == PAIRED
    )


def _exit_code(findings: list, verdicts: list, fail_on: FailOn, unknown: bool = False) -> int:
    """Every failure blocks something: a VM's verdict, or the estate (a vault, a region pair).
    A waived failure blocks nothing until its waiver expires."""
    blocked = any(f.status is Status.FAIL and not f.waived for f in findings)
    unknown = unknown or any(v.verdict is Verdict.UNKNOWN for v in verdicts)
    return EXIT_BLOCKED if blocked or (fail_on is FailOn.UNKNOWN and unknown) else EXIT_READY


def _report_pairs(
    output: Format,
    results: list,
    stranded: dict,
    shared: list,
    stream: BinaryIO,
    out: Path | None,
    details: bool,
    all_findings: bool,
    baseline: Path | None,
) -> None:
    """A run over several pairs: the estate's JSON report, or its table; other formats come
    one pair at a time (--report-dir)."""
    if output is Format.JSON:
        whole = estate_report.combine(results, stranded, shared, all_findings)
        if baseline:  # findings compare with their pair: the same rule may judge a VM twice
            earlier, before = load_findings(baseline)
            after = [f for r in results for f in r.findings]
            whole = msgspec.structs.replace(whole, changes=compare(earlier, before, after))
        write_report(whole, stream)
    elif output in estate_report.JOINED:
        stream.write(estate_report.joined(output, results, stranded, shared, all_findings))
    elif output is Format.TABLE:
        text = io.TextIOWrapper(stream, encoding="utf-8", write_through=True)
        console = (
            Console(highlight=False)
            if out is None
            else Console(highlight=False, file=text, width=100, color_system=None)
        )
        estate_report.render(results, stranded, shared, console, details)
        text.detach()
    else:
        raise InputError(
            "--output",
            "",
            f"expected table, json, sarif, junit, markdown or csv when one run checks several "
            f"pairs; for {output.value}, use --report-dir (one folder per pair)",
        )


def _pair_contexts(
    snapshot: Path | None,
    source_region: str | None,
    target_region: str | None,
    pair: list[str],
    *,
    resource_group: list[str],
    vm: list[str],
    principal_id: str | None = None,
    group_id: Sequence[str] = (),
    cache_storage_account: Sequence[str] = (),
    vault: str | None = None,
    target_subscription: str | None = None,
    target_resource_group: str | None = None,
    guest_dir: Sequence[Path] = (),
    strict: bool = False,
    target_zone: str | None = None,
    live: LiveSource | None = None,
) -> tuple[list[Context], dict]:
    """The question of every pair, framed on one loaded estate; and the source regions left
    without a target, with their VMs."""
    pairs.asked(source_region, target_region, pair)
    principal_id = object_id_option(principal_id, "--principal-id")
    groups = object_ids_option(group_id, "--group-id")
    named = _live_pairs(source_region, target_region, pair) if live else [("", "")]
    estate = _load(
        snapshot,
        named[0][0],
        named[0][1],
        principal_id=principal_id,
        cache_storage_account=cache_storage_account,
        guest_dir=guest_dir,
        live=live,
        strict=strict,
        more_pairs=tuple(named[1:]),
    )
    exported = {v.location for v in estate.vms.values()}
    kept = {
        v.key for v in select_vms_anywhere(estate, Scope("", "", tuple(resource_group), tuple(vm)))
    }
    question = pairs.resolve(
        estate,
        source_region,
        target_region,
        pair,
        {v.location for v in estate.vms.values() if v.key in kept},
        lambda name, option: region_option(name, option, exported),
    )
    contexts = [
        _frame(
            estate,
            str(snapshot or "--live"),
            source,
            target,
            resource_group=resource_group,
            vm=vm,
            principal_id=principal_id,
            groups=groups,
            cache_storage_account=cache_storage_account,
            vault=vault,
            target_subscription=target_subscription,
            target_resource_group=target_resource_group,
            target_zone=target_zone,
        )
        for source, target in question.pairs
    ]
    stranded = {
        region: (why, [v for v in estate.vms.values() if v.location == region and v.key in kept])
        for region, why in question.unpaired.items()
    }
    return contexts, stranded


def _live_pairs(source: str | None, target: str | None, pair: list[str]) -> list[tuple[str, str]]:
    """Reading live, what to read is decided before anything is: the pairs must be named."""
    if (source or "").lower() == ALL or (target or "").lower() == PAIRED:
        raise InputError(
            "--live",
            "",
            "expected the pairs named with --pair SOURCE=TARGET when reading live (`all` and "
            "`paired` need the estate first: collect it, then check the snapshot)",
        )
    named = [tuple(region_option(r, "--pair") for r in p.split("=", 1)) for p in pair]
    if any(len(p) != 2 for p in named):
        raise InputError("--pair", "", "expected SOURCE=TARGET")
    if source and target:
        named.insert(
            0, (region_option(source, "--source-region"), region_option(target, "--target-region"))
        )
    return named  # type: ignore[return-value]


def _check_pairs(
    snapshot: Path | None,
    source_region: str | None,
    target_region: str | None,
    pair: list[str],
    *,
    waivers: list | None,
    **question: Any,
) -> tuple[list, dict, list]:
    """Every pair the question names, checked on one loaded estate, with shared quotas."""
    contexts, stranded = _pair_contexts(snapshot, source_region, target_region, pair, **question)
    results, shared = pairs.add_competitions([run_check(c, waivers=waivers) for c in contexts])
    return results, stranded, shared


def _write_pairs(folder: Path, results: list, stranded: dict, shared: list) -> None:
    """The estate's JSON report, and every format of each pair in a folder of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    whole = estate_report.combine(results, stranded, shared)
    with (folder / "report.json").open("wb") as stream:
        write_report(whole, stream)
    (folder / "index.html").write_text(estate_report.index_html(whole, shared), encoding="utf-8")
    for result in results:
        name = f"{result.context.source_region}-{result.context.target_region}"
        formats.write_all(folder / name, result, build_report(result))


@app.command()
def plan(
    snapshot: SnapshotOpt,
    source_region: PairSourceOpt = None,
    target_region: PairTargetOpt = None,
    pair: PairOpt = [],  # noqa: B006
    resource_group: GroupsOpt = [],  # noqa: B006
    vm: VmsOpt = [],  # noqa: B006
    cache_storage_account: CacheOpt = [],  # noqa: B006
    vault: VaultOpt = None,
    target_subscription: TargetSubOpt = None,
    target_resource_group: TargetRgOpt = None,
    target_zone: TargetZoneOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """The target resources ASR would create with default settings: vault, resource groups,
    VNets, cache accounts, a size and zone per VM with the reason, replica disks and the
    quota requests to make."""
    with batch_gc():
        contexts, stranded = _pair_contexts(
            snapshot,
            source_region,
            target_region,
            pair,
            resource_group=resource_group,
            vm=vm,
            cache_storage_account=cache_storage_account,
            vault=vault,
            target_subscription=target_subscription,
            target_resource_group=target_resource_group,
            target_zone=target_zone,
        )
        if _several(source_region, target_region, pair):
            estate_plan = plan_estate.merge(contexts, stranded)
            if output is OutputFormat.JSON:
                sys.stdout.buffer.write(msgspec.json.encode(estate_plan) + b"\n")
            else:
                plan_estate.render(estate_plan, Console(highlight=False))
            return
        target = contexts[0].plan.target
        if output is OutputFormat.JSON:
            sys.stdout.buffer.write(msgspec.json.encode(target) + b"\n")
        else:
            plan_report.render(target, Console(highlight=False))


explain_app = typer.Typer(
    help="Show how a verdict was reached.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(explain_app, name="explain")


@explain_app.command("permissions")
def explain_permissions(
    snapshot: SnapshotOpt,
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
    target_zone: TargetZoneOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
    source_region: PairSourceOpt = None,
    target_region: PairTargetOpt = None,
    pair: PairOpt = [],  # noqa: B006
    guest: Annotated[
        str | None,
        typer.Option(
            "--guest",
            metavar="run-command",
            help="run-command: also whether the principal may run the guest probe in each VM "
            "(Microsoft.Compute/virtualMachines/runCommand/action).",
        ),
    ] = None,
) -> None:
    """For each action enabling replication needs and the scope where it is needed: the role
    assignment that grants it, or what is missing and the role that would grant it."""
    if guest not in (None, "run-command"):
        raise InputError("--guest", "", f"expected run-command, found {guest!r}")
    contexts = _contexts(
        snapshot,
        source_region,
        target_region,
        pair,
        resource_group=resource_group,
        vm=vm,
        principal_id=principal_id,
        group_id=group_id,
        cache_storage_account=cache_storage_account,
        vault=vault,
        target_subscription=target_subscription,
        target_resource_group=target_resource_group,
        target_zone=target_zone,
    )
    answers = {
        pairs.label(c.source_region, c.target_region): explain_rows(c)
        + (run_command_rows(c) if guest else [])
        for c in contexts
    }
    grants = {pairs.label(c.source_region, c.target_region): fewest_grants(c) for c in contexts}
    _explained(
        answers,
        output,
        lambda rows, console, pair: explain_report.render(rows, console, grants[pair]),
    )
    rows = [r for pair_rows in answers.values() for r in pair_rows]
    raise typer.Exit(
        EXIT_BLOCKED if any(r.access in ("missing", "denied") for r in rows) else EXIT_READY
    )


@explain_app.command("network")
def explain_network(
    snapshot: SnapshotOpt,
    source_region: PairSourceOpt = None,
    target_region: PairTargetOpt = None,
    pair: PairOpt = [],  # noqa: B006
    vm: VmsOpt = [],  # noqa: B006
    resource_group: GroupsOpt = [],  # noqa: B006
    cache_storage_account: CacheOpt = [],  # noqa: B006
    guest_dir: GuestOpt = [],  # noqa: B006
    target_zone: TargetZoneOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """For each VM and each destination ASR needs: the path (NIC NSG → subnet NSG → route →
    exit) and the rule, route or setting that decides it. Exit 1 if a needed path is blocked."""
    from asr_preflight.report import explain_network as network_report
    from asr_preflight.rules.networking import explain_network as network_rows

    contexts = _contexts(
        snapshot,
        source_region,
        target_region,
        pair,
        resource_group=resource_group,
        vm=vm,
        cache_storage_account=cache_storage_account,
        guest_dir=guest_dir,
        target_zone=target_zone,
    )
    answers = {pairs.label(c.source_region, c.target_region): network_rows(c) for c in contexts}
    _explained(answers, output, lambda rows, console, _: network_report.render(rows, console))
    rows = [r for pair_rows in answers.values() for r in pair_rows]
    blocked = any(p.required and p.decision == "blocked" for r in rows for p in r.paths)
    raise typer.Exit(EXIT_BLOCKED if blocked else EXIT_READY)


def _contexts(
    snapshot: Path | None,
    source_region: str | None,
    target_region: str | None,
    pair: list[str],
    **question: Any,
) -> list[Context]:
    """One pair's question, or every pair's (its unpaired regions said on stderr)."""
    if not _several(source_region, target_region, pair):
        assert source_region and target_region
        return [_context(snapshot, source_region, target_region, **question)]
    contexts, stranded = _pair_contexts(snapshot, source_region, target_region, pair, **question)
    for _, (why, _) in stranded.items():
        typer.echo(f"asr-preflight: {why}", err=True)
    return contexts


def _explained(answers: dict[str, list], output: OutputFormat, render: Any) -> None:
    """One pair as before; several pairs keyed by pair (JSON) or one after the other.
    `render(rows, console, pair)` prints a pair's table."""
    if output is OutputFormat.JSON:
        body = next(iter(answers.values())) if len(answers) == 1 else answers
        sys.stdout.buffer.write(msgspec.json.encode(body) + b"\n")
        return
    console = Console(highlight=False)
    for pair, rows in answers.items():
        if len(answers) > 1:
            console.rule(Text(pair, style="bold"), align="left")
        render(rows, console, pair)


from asr_preflight.cli_guest import guest_command  # noqa: E402

app.command("guest")(guest_command)
app.command("collect")(collect_command)


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
                "asr_error_codes": list(r.codes),
                "docs": r.docs,
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
        more = f" (also {', '.join(map(str, r.also))})" if r.also else ""
        out.print(f"{r.id:14} {r.area.value:13} {code:7} {r.title}{more}  [{r.docs}]", markup=False)


@app.command("export-script")
def export_script_command(
    subscription: Annotated[
        list[str], typer.Option(help="Subscription to export (repeatable).", metavar="ID")
    ],
    source_region: SourceOpt,
    target_region: TargetOpt,
    principal_id: PrincipalOpt = None,
    folder: Annotated[
        str, typer.Option(help="Folder the script exports into.", metavar="DIR")
    ] = "asr-export",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the script here, not to stdout.")
    ] = None,
) -> None:
    """Print a bash script of az calls that exports what `check --snapshot` reads: a fixed number
    of calls per subscription (none per VM), progress, optional calls skipped when they fail."""
    script = export_script(
        subscription,
        region_option(source_region, "--source-region"),
        region_option(target_region, "--target-region"),
        object_id_option(principal_id, "--principal-id"),
        folder,
    )
    if out is None:
        sys.stdout.write(script)
        return
    out.write_text(script)
    out.chmod(0o755)
    typer.echo(f"wrote {out}: run it where az is logged in (Cloud Shell works)", err=True)


@app.command("diff")
def diff_reports(
    old: Annotated[Path, typer.Argument(help="The earlier JSON report.", metavar="OLD")],
    new: Annotated[Path, typer.Argument(help="The later JSON report.", metavar="NEW")],
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """What changed between two JSON reports: new, changed and fixed findings. Exit 1 when
    something is new or got worse."""
    earlier, before = load_findings(old)
    later, after = load_findings(new)
    changes = compare(earlier, before, after)
    if output is OutputFormat.JSON:
        sys.stdout.buffer.write(msgspec.json.encode(changes) + b"\n")
    else:
        console = Console(highlight=False)
        console.print(f"since {earlier}, in {later}:", soft_wrap=True)
        report_changes.render(changes, console)
    worse = changes.new or any(c.after is Status.FAIL for c in changes.changed)
    raise typer.Exit(EXIT_BLOCKED if worse else EXIT_READY)


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


def _plain_metavars(command: Any) -> None:
    """Name each option's value after the option (--resource-group GROUP), not after its Python
    type (<list[str]>): help reads as a person would write it. (Typer vendors click: the
    parameters are recognised by what they have, not by class.)"""
    for param in command.params:
        is_value = param.param_type_name == "option" and not getattr(param, "is_flag", False)
        descriptor = getattr(param, "type_descriptor", None)
        choice = bool(descriptor and descriptor.is_choice)
        if is_value and param.metavar is None and not choice:
            param.metavar = param.opts[0].lstrip("-").rsplit("-", 1)[-1].upper()
    for sub in getattr(command, "commands", {}).values():
        _plain_metavars(sub)


def main() -> None:
    """Entry point: every error, bad input or bad usage, is one line `asr-preflight: error: …`
    and its exit code; never a traceback."""
    command = typer.main.get_command(app)
    _plain_metavars(command)
    try:
        code = command(prog_name="asr-preflight", standalone_mode=False)
    except InputError as exc:
        print(f"asr-preflight: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the promise is no traceback; keep a way to get one
        if hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int):
            # click's usage errors (typer vendors click): one line, and where help is
            if type(exc).__name__ == "NoArgsIsHelpError":  # no command given: the help itself
                print(exc.format_message(), file=sys.stderr)
                sys.exit(exc.exit_code)
            where = getattr(getattr(exc, "ctx", None), "command_path", "asr-preflight")
            print(
                f"asr-preflight: error: {scrub(exc.format_message())} (see {where} --help)",
                file=sys.stderr,
            )
            sys.exit(exc.exit_code)
        if os.environ.get("ASR_PREFLIGHT_DEBUG"):
            raise
        print(
            f"asr-preflight: internal error: {type(exc).__name__}: {scrub(str(exc))} "
            "(set ASR_PREFLIGHT_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(code if isinstance(code, int) else 0)
