"""What changed since an earlier run: findings that are new, whose status changed, or that are
fixed. A finding is the same finding when its rule, resource and VMs are (its wording may
change with the docs); passes are not compared, since the JSON report lists them only on demand."""

from __future__ import annotations

from pathlib import Path

import msgspec
from rich.console import Console
from rich.text import Text

from asr_preflight.errors import InputError
from asr_preflight.findings import Finding, Status
from asr_preflight.snapshot.jsonfile import read_bytes

Key = tuple[str, str, tuple[str, ...]]


class Change(msgspec.Struct, frozen=True):
    rule: str
    resource_id: str | None
    affected_vms: list[str]
    before: Status | None  # None: not there before (new)
    after: Status | None  # None: gone (fixed)
    message: str


class Changes(msgspec.Struct):
    baseline: str  # the earlier report: its file, and when it was made
    new: list[Change]
    changed: list[Change]
    fixed: list[Change]


class _Earlier(msgspec.Struct):
    """What comparing needs of a report written by this or an earlier version."""

    generated_at: str = ""
    findings: list[Finding] = msgspec.field(default_factory=list)


def load_findings(path: Path) -> tuple[str, list[Finding]]:
    data = read_bytes(path)
    try:
        earlier = msgspec.json.decode(data, type=_Earlier)
    except msgspec.ValidationError as exc:
        raise InputError(str(path), "", f"expected an asr-preflight JSON report ({exc})") from None
    except msgspec.DecodeError as exc:
        raise InputError(str(path), "", f"expected JSON ({exc})") from None
    return f"{path} ({earlier.generated_at or 'undated'})", earlier.findings


def _key(f: Finding) -> Key:
    return (f.rule, (f.resource_id or "").lower(), tuple(sorted(f.affected_vms or ())))


def compare(baseline: str, before: list[Finding], after: list[Finding]) -> Changes:
    old = {_key(f): f for f in before if f.status is not Status.PASS}
    new = {_key(f): f for f in after if f.status is not Status.PASS}

    def change(f: Finding, was: Status | None, now: Status | None) -> Change:
        return Change(f.rule, f.resource_id, list(f.affected_vms or ()), was, now, f.message)

    return Changes(
        baseline=baseline,
        new=[change(f, None, f.status) for k, f in new.items() if k not in old],
        changed=[
            change(f, old[k].status, f.status)
            for k, f in new.items()
            if k in old and old[k].status is not f.status
        ],
        fixed=[change(f, f.status, None) for k, f in old.items() if k not in new],
    )


def render(changes: Changes, console: Console) -> None:
    """The changes in words: what is new first (the work), then what changed, then what is fixed."""
    sections = (
        ("new", changes.new),
        ("changed", changes.changed),
        ("fixed", changes.fixed),
    )
    if not any(items for _, items in sections):
        console.print("nothing changed")
        return
    for name, items in sections:
        if not items:
            continue
        console.print(Text(f"{name} ({len(items)})", style="bold"))
        for c in items:
            was = c.before.value if c.before else "-"
            now = c.after.value if c.after else "gone"
            about = c.resource_id or "estate"
            console.print(Text(f"  {was} -> {now}  {c.rule}  {about}: {c.message}"))
