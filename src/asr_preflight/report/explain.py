"""`explain permissions`: one line per required action and scope, grouped by answer."""

from __future__ import annotations

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from asr_preflight.analysis.permissions import Access
from asr_preflight.fix.actions import AssignRole
from asr_preflight.model import ids
from asr_preflight.rules.permissions import ExplainRow, assignment_command, not_yet_created

_STYLE = {
    Access.GRANTED: "green",
    Access.MISSING: "bold red",
    Access.DENIED: "bold red",
    Access.UNKNOWN: "yellow",
}


def _short(scope: str) -> str:
    """'rg-web', 'rg-web/vm-web-01' or 'subscription 1111…' instead of the full id."""
    group, name = ids.part(scope, "resourceGroups"), ids.name(scope)
    if group is None:
        return f"subscription {ids.subscription(scope)}"
    return group if name == group else f"{group}/{name}"


def render(
    rows: list[ExplainRow],
    console: Console,
    grants: tuple[list[AssignRole], set[str]] | None = None,
) -> None:
    """The rows, then the fewest assignments that grant what is missing (`fewest_grants`)."""
    if not rows:
        console.print("no principal given")
        return
    tally = {a: sum(1 for r in rows if r.access is a) for a in Access}
    console.print(
        Text.assemble(
            ("Permissions ", "bold"), "  ".join(f"{a.value} {n}" for a, n in tally.items() if n)
        )
    )
    for row in rows:
        head = Text.assemble(
            (f"{row.access.value.upper():8}", _STYLE[row.access]),
            (row.action, "bold"),
            f"  at {_short(row.scope)}",
            (f"  ({row.vms} VM{'s' if row.vms != 1 else ''})", "dim"),
        )
        console.print(head)
        detail = row.via or ""
        if row.role_to_grant:
            detail = (f"{detail}; " if detail else "") + (
                f"the narrowest built-in role with it: {row.role_to_grant}"
            )
        if detail:
            console.print(Padding(Text(detail), (0, 0, 0, 8), expand=False))
    plan, lifted = grants or ([], set())
    if plan:  # one plan for all of them, not a role per row
        console.print()
        console.print(Text("The fewest role assignments that grant every missing action:"))
        for grant in plan:  # whole, never wrapped: they are copied
            console.print(Text(f"  {assignment_command(grant)}"), soft_wrap=True)
    if lifted:
        console.print(Text(f"({not_yet_created(lifted)})"))
