"""`explain network`: per VM, each destination's path hop by hop and what decided it."""

from __future__ import annotations

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from asr_preflight.rules.networking import ExplainPath, ExplainVm

_STYLE = {
    "allowed": "green",
    "direct": "green",
    "blocked": "bold red",
    "unknown": "yellow",
    "tunnelled": "magenta",
    "maybe tunnelled": "magenta",
    "appliance": "magenta",
}
_QUIET = ("allowed", "direct")  # steps whose detail adds nothing to the decision


def render(rows: list[ExplainVm], console: Console) -> None:
    _summary(rows, console)
    for row in rows:
        console.print()
        _vm(row, console)


def _summary(rows: list[ExplainVm], console: Console) -> None:
    """Before the paths: how many VMs reach everything they need, and which do not, and why."""
    blocked, unsure = [], []
    for row in rows:
        needed = [p for p in row.paths if p.required]
        if any(p.decision == "blocked" for p in needed):
            blocked.append(row)
        elif any(p.decision != "allowed" for p in needed):
            unsure.append(row)
    clear = len(rows) - len(blocked) - len(unsure)
    console.print(
        Text.assemble(
            (f"{len(rows)} VMs: ", "bold"),
            (f"{clear} reach every destination", "green"),
            "   ",
            (f"{len(blocked)} blocked", "bold red"),
            "   ",
            (f"{len(unsure)} not decided", "yellow"),
        )
    )
    for row, word in [(r, "blocked") for r in blocked] + [(r, "undecided") for r in unsure]:
        paths = [p for p in row.paths if p.required and p.decision != "allowed"]
        deciders = sorted({p.decided_by.split(" (")[0] for p in paths})
        console.print(
            Padding(
                Text(
                    f"{row.vm}: {word} to {', '.join(p.service_tag for p in paths)}, by "
                    f"{'; '.join(deciders)}"
                ),
                (0, 0, 0, 2),
            )
        )


def _vm(row: ExplainVm, console: Console) -> None:
    where = f"subnet {row.vnet}/{row.subnet}" if row.subnet else "subnet ?"
    console.print(
        Text.assemble(
            (row.vm, "bold"), f"  NIC {row.nic or '?'} {row.private_ip or ''}  ·  {where}"
        )
    )
    if row.missing:
        console.print(Text(f"  not exported: {', '.join(row.missing)}", style="yellow"))
    ranges = row.service_tag_ranges or "names only (no service-tag export: IP prefixes undecided)"
    console.print(Text(f"  compared with {ranges}", style="dim"))
    for path in row.paths:
        _path(path, console)
    for label, text in (
        ("proxy", row.proxy),
        ("DNS", row.dns),
        ("target network", row.target_network),
    ):
        console.print(
            Padding(Text.assemble((f"{label}: ", "bold"), text), (0, 0, 0, 2), expand=False)
        )


def _path(path: ExplainPath, console: Console) -> None:
    code = f"  {path.asr_error_code}" if path.asr_error_code else ""
    optional = "" if path.required else f"  (optional: {path.need})"
    console.print(
        Text.assemble(
            (f"{path.decision.upper():9}", _STYLE.get(path.decision, "")),
            (path.service_tag, "bold"),
            f"  {path.url or ''}",
            (code, "bold red"),
            (optional, "dim"),
        )
    )
    for step in path.steps:
        name = step.name or "none"
        rule = f"  {step.rule}" if step.rule and step.rule != step.name else ""
        line = Text.assemble(
            f"{step.hop:15}",
            (f"{step.decision:10}", _STYLE.get(step.decision, "")),
            name,
            (rule, "dim"),
        )
        console.print(Padding(line, (0, 0, 0, 9), expand=False))
        if step.decision not in _QUIET and step.detail:
            console.print(Padding(Text(step.detail, style="dim"), (0, 0, 0, 11), expand=False))
    if path.decision != "allowed":
        console.print(Padding(Text(f"decided by {path.decided_by}"), (0, 0, 0, 9), expand=False))
