"""The whole estate in one run: every source region to its target, checked pair by pair on one
loaded estate, with the quotas that pairs share added up.

A question names its pairs with `--pair SOURCE=TARGET`, a `--target-region` (one region, or
`paired`: each source to its Azure pair, as the locations export says), and `--source-region`
(one region, or `all`: every region with VMs in scope). Two pairs that fail over into the same
region and subscription draw on one quota: each may fit alone and not together, which is what
ASR-CAP-005 reports (the second "Enable replication" would fail with 150097).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from asr_preflight.analysis.quota import QuotaCheck
from asr_preflight.engine import CheckResult, VmVerdict, verdicts
from asr_preflight.errors import InputError
from asr_preflight.findings import Area, Finding, Status, Verdict
from asr_preflight.fix.actions import RaiseQuota
from asr_preflight.knowledge import regions
from asr_preflight.model.estate import Estate
from asr_preflight.rules.base import REGISTRY

ALL, PAIRED = "all", "paired"
CROSS_PAIR_QUOTA = "ASR-CAP-005"


@dataclass(frozen=True)
class Pairs:
    """The pairs a question asks about, and the source regions that have no target."""

    pairs: list[tuple[str, str]]
    unpaired: dict[str, str]  # source region -> why it has no target, and its choices


def resolve(
    estate: Estate,
    source: str | None,
    target: str | None,
    explicit: list[str],
    in_scope: set[str],
    parse_region,
) -> Pairs:
    """`in_scope`: the regions with VMs the filters keep. `parse_region(name, option)`: a
    region name from the command line, normalized or an InputError."""
    asked(source, target, explicit)
    chosen: dict[str, str] = {}
    for text in explicit:
        left, sep, right = text.partition("=")
        if not sep or not left or not right:
            raise InputError("--pair", "", f"expected SOURCE=TARGET, found {text!r}")
        chosen[parse_region(left, "--pair")] = parse_region(right, "--pair")
    if source is None or source.lower() == ALL:
        sources = sorted(in_scope | set(chosen)) if (source or chosen or target) else []
    else:
        sources = [parse_region(source, "--source-region")]
    pairs, unpaired = [], {}
    for region in sources:
        if region in chosen:
            pairs.append((region, chosen[region]))
        elif target is None:
            unpaired[region] = (
                f"{regions.display(region)} has VMs in scope but no target: add "
                f"--pair {region}=<target> or --target-region paired"
            )
        elif target.lower() == PAIRED:
            pair = estate.paired_regions.get(region)
            if pair:
                pairs.append((region, pair))
            else:
                choices = ", ".join(sorted(estate.paired_regions)) or "none exported"
                unpaired[region] = (
                    f"{regions.display(region)} has no paired region in the locations export "
                    f"(regions with a pair there: {choices}): choose one with "
                    f"--pair {region}=<target>"
                )
        else:
            pairs.append((region, parse_region(target, "--target-region")))
    if not pairs:
        raise InputError(
            "--target-region",
            "",
            "; ".join(unpaired.values()) or "expected VMs in scope in the regions asked for",
        )
    return Pairs(pairs, unpaired)


def asked(source: str | None, target: str | None, explicit: list[str]) -> None:
    """The question names at least one pair: checked before anything is read."""
    if source is None and target is None and not explicit:
        raise InputError("--source-region", "", "expected a source region, `all`, or --pair")
    if target is None and not explicit:
        raise InputError(
            "--target-region", "", "expected a target region, `paired`, or --pair SOURCE=TARGET"
        )


@dataclass
class Competition:
    """A quota of one target region and subscription that several pairs draw on."""

    subscription: str
    region: str
    quota: str
    provider: str
    needs: dict[str, int]  # pair label -> how much it needs
    vms: dict[str, list[str]] = field(default_factory=dict)  # pair label -> VM keys
    current: int = 0
    limit: int = 0

    @property
    def needed(self) -> int:
        return sum(self.needs.values())

    @property
    def free(self) -> int:
        return self.limit - self.current


def label(source: str, target: str) -> str:
    return f"{source}->{target}"


def competitions(results: list[CheckResult]) -> list[Competition]:
    """Quotas that two or more pairs draw on and that do not hold for all of them together."""
    groups: dict[tuple[str, str, str], list[tuple[str, QuotaCheck]]] = defaultdict(list)
    for result in results:
        ctx = result.context
        for check in ctx.plan.quota:
            demand = check.demand
            if check.limit is None or check.current is None or not demand.needed:
                continue
            key = (demand.subscription, demand.region, demand.quota.lower())
            groups[key].append((label(ctx.source_region, ctx.target_region), check))
    out = []
    for (sub, region, _), checks in sorted(groups.items()):
        if len({pair for pair, _ in checks}) < 2:
            continue
        first = checks[0][1]
        competition = Competition(
            sub,
            region,
            first.demand.quota,
            first.demand.provider,
            {pair: check.demand.needed for pair, check in checks},
            {pair: list(dict.fromkeys(check.demand.vms)) for pair, check in checks},
            first.current or 0,
            first.limit or 0,
        )
        if competition.needed > competition.free:
            out.append(competition)
    return out


def _finding(competition: Competition, pair: str) -> Finding:
    rule = REGISTRY[CROSS_PAIR_QUOTA]
    scope = (
        f"/subscriptions/{competition.subscription}/providers/{competition.provider}/locations/"
        f"{competition.region}/usages/{competition.quota}"
    )
    needs = ", ".join(f"{p} needs {n}" for p, n in competition.needs.items())
    new_limit = competition.current + competition.needed
    return Finding(
        rule=rule.id,
        area=Area.CAPACITY,
        status=Status.FAIL,
        resource_id=scope,
        asr_error_code=rule.asr_error_code,
        message=f"{competition.quota} in {regions.display(competition.region)} is shared: "
        f"{needs}; together {competition.needed}, {competition.free} free (limit "
        f"{competition.limit}, used {competition.current})",
        remedy=f"request {competition.quota} in {regions.display(competition.region)} raised to "
        f"{new_limit}: az quota update --resource-name {competition.quota} --scope "
        f"/subscriptions/{competition.subscription}/providers/{competition.provider}/locations/"
        f"{competition.region} --limit-object value={new_limit}",
        references=rule.references,
        affected_vms=tuple(competition.vms[pair]),
        actions=(
            RaiseQuota(
                competition.subscription,
                competition.region,
                competition.provider,
                competition.quota,
                new_limit,
            ),
        ),
    )


def add_competitions(results: list[CheckResult]) -> tuple[list[CheckResult], list[Competition]]:
    """Each pair's result with the cross-pair quota findings that concern its VMs, and its
    verdicts decided again with them."""
    found = competitions(results)
    out = []
    for result in results:
        pair = label(result.context.source_region, result.context.target_region)
        extra = [_finding(c, pair) for c in found if pair in c.needs]
        if not extra:
            out.append(result)
            continue
        findings = [*result.findings, *extra]
        decided = verdicts(result.context.vms, findings)
        kept = [v for v in result.verdicts if v.verdict is Verdict.PROTECTED]
        out.append(CheckResult(result.context, findings, _ordered(decided + kept), result.rules))
    return out, found


def _ordered(items: list[VmVerdict]) -> list[VmVerdict]:
    return sorted(
        items,
        key=lambda v: (v.vm.subscription_id, v.vm.resource_group.lower(), v.vm.name.lower()),
    )
