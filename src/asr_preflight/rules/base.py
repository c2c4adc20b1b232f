"""The rule registry: a rule is metadata plus a pure function from the check context to findings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from asr_preflight.context import Context
from asr_preflight.findings import Area, Finding, Status
from asr_preflight.fix.actions import AnyAction
from asr_preflight.knowledge.data import cite, dated, sources, url
from asr_preflight.model.entities import VirtualMachine
from asr_preflight.model.estate import Estate


@dataclass
class Out:
    """Collects one rule's findings, stamping each with the rule's metadata."""

    rule: Rule
    findings: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        # A rule adds a finding per VM, most of them passes: at 10^5 VMs the attribute lookups
        # and keyword arguments of a plain call cost more than building the finding itself.
        self._stamp = (self.rule.id, self.rule.area)
        self._code = self.rule.asr_error_code
        self._references = self.rule.references
        self._append = self.findings.append

    def add(
        self,
        status: Status,
        resource_id: str | None,
        message: str,
        remedy: str | None = None,
        *,
        code: int | None = None,
        affected_vms: tuple[str, ...] | None = None,
        actions: tuple[AnyAction, ...] = (),
    ) -> None:
        # Only a fail or warn predicts an error: the rule's, or a finer one it names.
        if code is None and status not in _NO_ERROR:
            code = self._code
        rule, area = self._stamp
        self._append(
            Finding(
                rule,
                area,
                status,
                resource_id,
                code,
                message,
                remedy,
                self._references,
                affected_vms,
                None,
                None,
                actions,
            )
        )

    # Shorthands (plain methods: functools.partialmethod costs 3x the call at 10^6 findings).
    def pass_(
        self,
        resource_id: str | None,
        message: str,
        *,
        code: int | None = None,
        affected_vms: tuple[str, ...] | None = None,
    ) -> None:
        rule, area = self._stamp
        self._append(
            Finding(
                rule,
                area,
                Status.PASS,
                resource_id,
                code,
                message,
                None,
                self._references,
                affected_vms,
            )
        )

    def fail(
        self,
        resource_id: str | None,
        message: str,
        remedy: str,
        *,
        code: int | None = None,
        affected_vms: tuple[str, ...] | None = None,
        actions: tuple[AnyAction, ...] = (),
    ) -> None:
        self.add(
            Status.FAIL,
            resource_id,
            message,
            remedy,
            code=code,
            affected_vms=affected_vms,
            actions=actions,
        )

    def warn(
        self,
        resource_id: str | None,
        message: str,
        remedy: str | None = None,
        *,
        code: int | None = None,
        affected_vms: tuple[str, ...] | None = None,
        actions: tuple[AnyAction, ...] = (),
    ) -> None:
        self.add(
            Status.WARN,
            resource_id,
            message,
            remedy,
            code=code,
            affected_vms=affected_vms,
            actions=actions,
        )

    def unknown(
        self,
        resource_id: str | None,
        message: str,
        remedy: str,
        *,
        code: int | None = None,
        affected_vms: tuple[str, ...] | None = None,
    ) -> None:
        self.add(Status.UNKNOWN, resource_id, message, remedy, code=code, affected_vms=affected_vms)

    def skip(self, resource_id: str | None, message: str) -> None:
        self.add(Status.SKIP, resource_id, message)


_NO_ERROR = (Status.PASS, Status.SKIP, Status.UNKNOWN)

# VM facets a rule may need that an export can lack: (attribute, words, what to export)
_FACETS = {
    "disks": (
        "its disks (the storage profile)",
        "az vm list, or the VM's REST or Resource Graph record",
    ),
    "nic_ids": (
        "its network interfaces (the network profile)",
        "az vm list, or the VM's REST or Resource Graph record",
    ),
}


def vms_with(ctx: Context, out: Out, *facets: str) -> Iterator[VirtualMachine]:
    """The VMs in scope whose `facets` were exported and understood; each other VM gets an
    `unknown` naming what is missing, so no rule reads "not exported" as "none"."""
    for vm in ctx.vms:
        lacking = [f for f in facets if getattr(vm, f) is None]
        if not lacking:
            yield vm
            continue
        words = " and ".join(_FACETS[f][0] for f in lacking)
        out.unknown(
            vm.id,
            f"the VM's record lacks {words}{ctx.estate.unreadable(vm.id)}",
            f"export the VM in full: {_FACETS[lacking[0]][1]}",
        )


def not_whole(estate: Estate, what: str, *kinds: str) -> str:
    """An unknown's words for records the estate does not hold whole, with the real reason:
    not exported, a failed collection call, or records the boundary left out."""
    why = next(filter(None, map(estate.missing, kinds)), "they are whole")  # callers check first
    return f"{what}: {why}"


Evaluate = Callable[[Context, Out], None]


@dataclass(frozen=True)
class Rule:
    id: str
    area: Area
    title: str
    label: str  # a few words for a VM's story in the console: "root certificates"
    asr_error_code: int | None
    sources: tuple[str, ...]
    evaluate: Evaluate
    description: str = ""
    also: tuple[int, ...] = ()  # finer ASR errors a finding may predict instead

    @property
    def codes(self) -> tuple[int, ...]:
        """Every ASR error code this rule's findings can predict: the catalog lists them all."""
        main = (self.asr_error_code,) if self.asr_error_code is not None else ()
        return tuple(dict.fromkeys((*main, *self.also)))

    @cached_property
    def references(self) -> tuple[str, ...]:
        """Addresses of the docs the rule rests on (what each finding carries)."""
        return tuple(dict.fromkeys(url(tag) for tag in self.sources))

    @cached_property
    def docs(self) -> str:
        """The newest doc version the rule rests on, dated: what its verdicts follow."""
        newest = max(self.sources, key=lambda tag: sources().get(tag, {}).get("date", ""))
        return dated(newest)

    @cached_property
    def citations(self) -> tuple[str, ...]:
        """Title, date and address of each source (rule catalog and report header)."""
        return tuple(cite(tag) for tag in self.sources)

    def run(self, ctx: Context) -> list[Finding]:
        out = Out(self)
        self.evaluate(ctx, out)
        return out.findings


REGISTRY: dict[str, Rule] = {}


def rule(
    rule_id: str,
    area: Area,
    title: str,
    *,
    label: str,
    sources: tuple[str, ...],
    code: int | None = None,
    also: tuple[int, ...] = (),
) -> Callable[[Evaluate], Evaluate]:
    """Register a rule; its docstring becomes the description in `asr-preflight rules`."""

    def register(fn: Evaluate) -> Evaluate:
        if rule_id in REGISTRY:
            raise ValueError(f"duplicate rule id {rule_id}")
        REGISTRY[rule_id] = Rule(
            id=rule_id,
            area=area,
            title=title,
            label=label,
            asr_error_code=code,
            sources=sources,
            evaluate=fn,
            description=" ".join((fn.__doc__ or "").split()),
            also=also,
        )
        return fn

    return register
