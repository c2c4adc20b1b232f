"""`asr-preflight plan`: the target resources and per-VM sizes, as a console report."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from asr_preflight.knowledge.regions import display
from asr_preflight.plan.model import TargetPlan, TargetResource

_CHOICE_STYLE = {"same": "green", "closest": "yellow", "none": "bold red", "unknown": "yellow"}


def _resource(resource: TargetResource) -> Text:
    state = ("exists", "green") if resource.exists else ("create", "cyan")
    note = f"  ({resource.note})" if resource.note else ""
    return Text.assemble(
        f"  {resource.kind.replace('_', ' '):20}",
        (f"{state[0]:7}", state[1]),
        f"{resource.name} in {display(resource.location)}{note}",
    )


def render(plan: TargetPlan, console: Console) -> None:
    console.print(
        Text.assemble(
            ("Target plan ", "bold"),
            f"{display(plan.source_region)}, zone to zone → zone {plan.target_zone}, ASR defaults"
            if plan.target_zone and plan.source_region == plan.target_region
            else f"{display(plan.source_region)} → {display(plan.target_region)}, ASR defaults",
        )
    )
    for resource in [
        plan.vault,
        *plan.resource_groups,
        *plan.virtual_networks,
        *plan.availability_sets,
        *plan.cache_accounts,
        *plan.encryption,
    ]:
        console.print(_resource(resource))
    table = Table(title="Virtual machines", title_justify="left", pad_edge=False)
    for column in ("VM", "size now", "target size", "zone", "replica disks"):
        table.add_column(column, no_wrap=column != "replica disks")
    for vm in plan.vms:
        disks = ", ".join(sorted({d.replica_sku or "not replicated" for d in vm.disks}))
        table.add_row(
            vm.name,
            vm.source_size or "?",
            Text(vm.target_size or vm.choice, _CHOICE_STYLE[vm.choice]),
            vm.target_zone or "-",
            disks,
        )
    console.print()
    console.print(table)
    changed = [vm for vm in plan.vms if vm.choice != "same"]
    for vm in changed:
        console.print(Text.assemble("  ", (vm.name, "bold"), f": {vm.reason}"))
        if vm.smaller:
            keep = ", ".join(vm.larger_sizes) or "none offered"
            console.print(f"    smaller than today: {vm.smaller}; sizes that are not: {keep}")
    _replication(plan, console)
    console.print()
    subscription = None
    for ask in sorted(plan.quota, key=lambda a: (a.subscription, a.region, a.quota.lower())):
        if ask.subscription != subscription:
            subscription = ask.subscription
            console.print(Text(f"Quota, subscription {subscription}", style="bold"))
        free = "?" if ask.limit is None or ask.current is None else ask.limit - ask.current
        line = f"  {ask.quota} in {display(ask.region)}: needs {ask.needed}, free {free}"
        if ask.source:
            line += f" (from {Path(ask.source).name})"
        if ask.state == "short":
            console.print(
                Text.assemble(line, (f"  → request a limit of {ask.request_limit}", "bold red"))
            )
        elif ask.state == "unknown":
            console.print(Text.assemble(line, ("  (usage not exported)", "yellow")))
        else:
            console.print(line)
    for note in plan.notes:
        console.print(f"  note: {note}")


def _replication(plan: TargetPlan, console: Console) -> None:
    """Churn per VM and how long the first copy takes: an estimate, with its assumption."""
    hours = [vm.initial_replication_hours for vm in plan.vms if vm.initial_replication_hours]
    console.print()
    console.print(Text("Churn and initial replication (estimate)", style="bold"))
    for vm in plan.vms:
        first = (
            f"{vm.initial_replication_hours:g} h"
            if vm.initial_replication_hours is not None
            else "? (disk sizes unknown)"
        )
        console.print(f"  {vm.name}: churn {vm.churn or 'unknown'}; initial replication {first}")
    if hours:
        console.print(
            f"  estate: {max(hours):g} h when every VM starts at once (the largest), "
            f"{sum(hours):g} h one VM after another"
        )
    console.print(
        Text(
            "  assumes each VM copies its provisioned disks at 54 MB/s, ASR's per-VM churn limit "
            "(SM-2026): a best case; Azure reports no used size for managed disks",
            style="dim",
        )
    )
