"""`plan` for several pairs: each pair's plan, with what pairs share planned once (a vault per
target region, resource groups and networks named alike) and quotas summed per target region and
subscription, since the pairs that fail over there draw on the same ones."""

from __future__ import annotations

from collections import defaultdict

import msgspec
from rich.console import Console
from rich.text import Text

from asr_preflight.context import Context
from asr_preflight.knowledge.regions import display
from asr_preflight.pairs import label
from asr_preflight.plan.model import TargetPlan, TargetResource
from asr_preflight.report import plan as plan_report


class SharedResource(msgspec.Struct):
    resource: TargetResource
    pairs: list[str]  # the pairs that use it: planned once for all of them


class SharedQuota(msgspec.Struct):
    subscription: str
    region: str
    quota: str
    needs: dict[str, int]  # pair -> what it needs
    needed: int
    free: int | None  # None: the usage was not exported
    short: bool | None


class EstatePlan(msgspec.Struct):
    pairs: list[TargetPlan]
    shared: list[SharedResource]  # used by two or more pairs
    quota: list[SharedQuota]  # drawn on by two or more pairs
    unpaired: dict[str, str]  # source region -> why it has no target


def merge(contexts: list[Context], stranded: dict) -> EstatePlan:
    plans = [c.plan.target for c in contexts]
    users: dict[tuple[str, str, str], tuple[TargetResource, list[str]]] = {}
    for plan in plans:
        pair = label(plan.source_region, plan.target_region)
        for resource in (
            plan.vault,
            *plan.resource_groups,
            *plan.virtual_networks,
            *plan.cache_accounts,
            *plan.encryption,
        ):
            key = (resource.kind, resource.name.lower(), resource.location)
            users.setdefault(key, (resource, []))[1].append(pair)
    shared = [
        SharedResource(resource, sorted(set(pairs)))
        for resource, pairs in users.values()
        if len(set(pairs)) > 1
    ]
    quota: dict[tuple[str, str, str], list] = defaultdict(list)
    for plan in plans:
        for ask in plan.quota:
            quota[(ask.subscription, ask.region, ask.quota.lower())].append(
                (label(plan.source_region, plan.target_region), ask)
            )
    summed = []
    for (sub, region, _), asks in sorted(quota.items()):
        if len({pair for pair, _ in asks}) < 2:
            continue
        first = asks[0][1]
        free = None if first.limit is None or first.current is None else first.limit - first.current
        needed = sum(a.needed for _, a in asks)
        summed.append(
            SharedQuota(
                sub,
                region,
                first.quota,
                {pair: a.needed for pair, a in asks},
                needed,
                free,
                None if free is None else needed > free,
            )
        )
    return EstatePlan(plans, shared, summed, {r: why for r, (why, _) in stranded.items()})


def render(plan: EstatePlan, console: Console) -> None:
    console.print(Text("The whole estate: what pairs share", style="bold"))
    for item in plan.shared:
        r = item.resource
        state = "exists" if r.exists else "create"
        console.print(
            f"  {r.kind.replace('_', ' ')} {state} {r.name} in {display(r.location)}, planned "
            f"once for {', '.join(item.pairs)}"
        )
    for q in plan.quota:
        needs = " + ".join(f"{n} ({p})" for p, n in q.needs.items())
        verdict = "unknown" if q.short is None else "SHORT" if q.short else "enough"
        console.print(
            Text(
                f"  {q.quota} in {display(q.region)}: {needs} = {q.needed}, free "
                f"{'?' if q.free is None else q.free}: {verdict}",
                style="bold red" if q.short else "",
            )
        )
    for region, why in plan.unpaired.items():
        console.print(Text(f"  {region}: {why}", style="yellow"))
    for target in plan.pairs:
        console.print()
        console.rule(
            Text(
                f"{display(target.source_region)} → {display(target.target_region)}", style="bold"
            ),
            align="left",
        )
        plan_report.render(target, console)
