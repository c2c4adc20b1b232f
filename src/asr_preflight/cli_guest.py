"""`asr-preflight guest`: run the in-guest probe here, or write it out to copy onto a VM."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from asr_preflight.cli_options import region_option
from asr_preflight.errors import InputError
from asr_preflight.guest import probe_source

CLOUDS = ("AzureCloud", "AzureUSGovernment", "AzureChinaCloud")  # probe.ENDPOINTS (a test checks)


def _emit(path: Path) -> None:
    data = probe_source()
    if str(path) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        path.write_bytes(data)
        path.chmod(0o755)
    except OSError as exc:
        raise InputError(str(path), "", f"cannot write the probe: {exc.strerror or exc}") from exc
    typer.echo(
        f"wrote {path} ({len(data)} bytes). Copy it to the VM and run it with Python 3.6+, e.g.\n"
        f"  python3 {path.name} --source-region <region> --target-region <region> "
        "--cache-account <name> --output guest-<vm>.json\n"
        "then check with: asr-preflight check ... --guest-dir <folder of those files>",
        err=True,
    )


def guest_command(
    source_region: Annotated[
        str | None, typer.Option(help="Region the VM runs in (default: from the VM's metadata).")
    ] = None,
    target_region: Annotated[
        str | None, typer.Option(help="Region it will replicate to (recorded).")
    ] = None,
    cache_account: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Cache storage account: its blob host is tested."),
    ] = None,
    cloud: Annotated[
        str | None,
        typer.Option(help=f"{' | '.join(CLOUDS)} (default: from the VM's metadata, else public)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Guest-facts file to write (default: stdout)."),
    ] = None,
    root: Annotated[
        Path | None, typer.Option(help="Read every file below this folder instead of /.")
    ] = None,
    endpoint: Annotated[
        list[str],
        typer.Option(
            metavar="HOST:PORT", help="Test this endpoint instead of the cloud's (repeatable)."
        ),
    ] = [],  # noqa: B006
    revocation_host: Annotated[
        list[str],
        typer.Option(
            metavar="HOST[:PORT]",
            help="Test this CRL/OCSP host instead of the built-in list (repeatable).",
        ),
    ] = [],  # noqa: B006
    no_revocation: Annotated[
        bool, typer.Option("--no-revocation", help="Do not test the CRL/OCSP hosts.")
    ] = False,
    proxy: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Test through this proxy instead of the discovered one."),
    ] = None,
    vm_name: Annotated[
        str | None,
        typer.Option(help="The VM's Azure name (default: from its metadata, else host name)."),
    ] = None,
    vm_id: Annotated[
        str | None,
        typer.Option(
            help="Which VM this is: its vmId, resource id or name (default: from its metadata)."
        ),
    ] = None,
    no_imds: Annotated[
        bool,
        typer.Option("--no-imds", help="Do not ask the Azure Instance Metadata Service."),
    ] = False,
    timeout: Annotated[
        float, typer.Option(metavar="SECONDS", help="Limit for each network operation.")
    ] = 5.0,
    deadline: Annotated[
        float, typer.Option(metavar="SECONDS", help="Limit for all network checks together.")
    ] = 60.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")] = False,
    compact: Annotated[
        bool,
        typer.Option(help="Print the facts as one compressed line (Run Command's 4 KB limit)."),
    ] = False,
    emit_script: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            help="Only write the probe script (Python 3.6+, standard library only) to PATH "
            "('-' for stdout), to copy onto a VM and run there.",
        ),
    ] = None,
) -> None:
    """Collect guest facts inside this VM: trusted roots, endpoints, proxy, OS (for --guest-dir)."""
    from asr_preflight.guest import probe  # ssl, sockets, threads: only when the probe runs

    if emit_script is not None:
        _emit(emit_script)
        return
    if cloud is not None and cloud.replace(" ", "").lower() not in probe.CLOUD_ALIASES:
        raise InputError("--cloud", "", f"expected one of {', '.join(CLOUDS)}, found {cloud!r}")
    if timeout <= 0 or deadline <= 0:
        raise InputError("--timeout/--deadline", "", "expected a positive number of seconds")
    argv: list[str] = []
    for flag, value in (
        ("--source-region", source_region and region_option(source_region, "--source-region")),
        ("--target-region", target_region and region_option(target_region, "--target-region")),
        ("--cache-account", cache_account),
        ("--cloud", cloud),
        ("--output", str(output) if output else None),
        ("--root", str(root) if root else None),
        ("--proxy", proxy),
        ("--vm-name", vm_name),
        ("--vm-id", vm_id),
        ("--timeout", str(timeout)),
        ("--deadline", str(deadline)),
    ):
        if value is not None:
            argv += [flag, value]
    for text in endpoint:
        argv += ["--endpoint", text]
    for text in revocation_host:
        argv += ["--revocation-host", text]
    for flag, on in (
        ("--no-revocation", no_revocation),
        ("--no-imds", no_imds),
        ("-q", quiet),
        ("--compact", compact),
    ):
        if on:
            argv.append(flag)
    for text in endpoint + revocation_host:
        try:
            probe.split_host_port(text, 443)
        except ValueError as exc:
            raise InputError("--endpoint", "", str(exc)) from exc
    if root is not None and not root.is_dir():
        raise InputError(str(root), "", "--root: expected a folder")
    if output is not None and str(output) != "-" and not output.parent.is_dir():
        raise InputError(str(output), "", "--output: no such folder")
    raise typer.Exit(probe.main(argv))
