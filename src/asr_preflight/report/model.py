"""The JSON report's shape; docs/report-schema.json is generated from these types."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from operator import attrgetter
from typing import BinaryIO

import msgspec

from asr_preflight import __version__
from asr_preflight.engine import CheckResult
from asr_preflight.findings import Area, Finding, Status, Verdict
from asr_preflight.report.changes import Changes
from asr_preflight.report.fix import FixReport

REPORT_SCHEMA = "asr-preflight/report"
REPORT_VERSION = 1


class SnapshotInfo(msgspec.Struct):
    origin: str
    cloud: str
    tenant_id: str | None
    subscriptions: list[str]
    collected_at: str | None
    collection_errors: int


class InputProblemEntry(msgspec.Struct):
    """A record that could not be understood, left out of the check: the findings that needed
    it are `unknown`."""

    file: str
    path: str
    expected: str
    kind: str | None = None
    resource_id: str | None = None


class CollectionErrorEntry(msgspec.Struct):
    """A live call that failed: the findings that needed the kinds it feeds are `unknown`."""

    call: str
    scope: str
    status: int | None
    code: str | None
    message: str
    retries: int | None
    kinds: list[str]


class Summary(msgspec.Struct):
    source_region: str
    target_region: str
    principal_id: str | None
    vms: int
    verdicts: dict[Verdict, int]
    statuses: dict[Status, int]
    areas: dict[Area, dict[Status, int]]
    snapshot: SnapshotInfo
    # Records the boundary could not understand: the findings that needed them are `unknown`.
    input_problems: list[InputProblemEntry] = msgspec.field(default_factory=list)
    unused_records: int = 0  # records of kinds no rule reads, counted and otherwise ignored
    collection_errors: list[CollectionErrorEntry] = msgspec.field(default_factory=list)
    waived: int = 0  # findings a waiver holds today (listed with it, deciding nothing)


class VmEntry(msgspec.Struct):
    id: str
    name: str
    subscription_id: str
    resource_group: str
    verdict: Verdict
    rules: list[str]  # the failing (blocked) or unknown (unknown) rules behind the verdict
    pair: str | None = None  # "source->target", when one run checks several pairs


class PairSummary(msgspec.Struct):
    """One pair of a run over several: its VMs by verdict, and the pairs it shares quota with;
    or a source region left without a target (`target` null, `note` says why)."""

    source: str
    target: str | None
    vms: int
    verdicts: dict[Verdict, int]
    shares_quota_with: list[str] = msgspec.field(default_factory=list)
    note: str | None = None


class RuleInfo(msgspec.Struct):
    title: str
    area: Area
    asr_error_code: int | None
    asr_error_codes: list[int]  # every error its findings can predict: the main one first
    citations: list[str]  # title, date and address of each doc the rule rests on


class Report(msgspec.Struct):
    schema: str
    version: int
    tool_version: str
    generated_at: str
    summary: Summary
    rules: dict[str, RuleInfo]
    vms: list[VmEntry]
    changes: Changes | None  # since --baseline, when one was given
    pairs: list[PairSummary] | None  # when one run checks several pairs
    fix: FixReport | None  # `fix --simulate`: the steps applied and what needs a person
    findings: list[Finding]


def build_report(
    result: CheckResult, include_passes: bool = False, changes: Changes | None = None
) -> Report:
    """The report; passes are counted in the summary and listed only when asked for, since at
    tens of thousands of VMs they are most of the bytes and none of the work to do."""
    ctx = result.context
    snap = ctx.estate.snapshot
    # Counted in C (map, attrgetter, Counter): a Python loop over 1.4 million findings of
    # 50,000 VMs took a quarter of a second, twice.
    tally = Counter(map(attrgetter("area", "status"), result.findings))
    areas = {a: {s: tally[(a, s)] for s in Status} for a in Area}
    statuses = {s: sum(areas[a][s] for a in Area) for s in Status}
    marks = filter(None, map(attrgetter("waiver"), result.findings))
    waived = sum(1 for mark in marks if not mark.expired)
    verdicts = {v: 0 for v in Verdict}
    for item in result.verdicts:
        verdicts[item.verdict] += 1
    return Report(
        schema=REPORT_SCHEMA,
        version=REPORT_VERSION,
        tool_version=__version__,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        summary=Summary(
            source_region=ctx.source_region,
            target_region=ctx.target_region,
            principal_id=ctx.principal_id,
            vms=len(result.verdicts),
            verdicts=verdicts,
            statuses=statuses,
            areas=areas,
            snapshot=SnapshotInfo(
                origin=snap.origin,
                cloud=snap.cloud,
                tenant_id=snap.tenant_id,
                subscriptions=snap.subscriptions,
                collected_at=snap.collected_at,
                collection_errors=len(snap.collection_errors),
            ),
            input_problems=[
                InputProblemEntry(p.file, p.path, p.expected, p.kind, p.resource_id)
                for p in ctx.estate.problems
            ],
            unused_records=ctx.estate.unused_records,
            waived=waived,
            collection_errors=[
                CollectionErrorEntry(
                    e.operation, e.scope, e.status, e.code, e.message, e.retries, e.kinds
                )
                for e in snap.collection_errors
            ],
        ),
        rules={
            r.id: RuleInfo(r.title, r.area, r.asr_error_code, list(r.codes), list(r.citations))
            for r in result.rules
        },
        vms=[
            VmEntry(
                id=v.vm.id,
                name=v.vm.name,
                subscription_id=v.vm.subscription_id,
                resource_group=v.vm.resource_group,
                verdict=v.verdict,
                rules=list(v.blocking),
            )
            for v in result.verdicts
        ],
        changes=changes,
        pairs=None,
        fix=None,
        findings=result.findings
        if include_passes
        else [f for f in result.findings if f.status is not Status.PASS],
    )


_encoder = msgspec.json.Encoder()


def encode(report: Report) -> bytes:
    return _encoder.encode(report)


def write(report: Report, stream: BinaryIO, chunk: int = 20_000) -> None:
    """Write the report as `encode` would, findings a chunk at a time: one 300 MB buffer for a
    50,000-VM estate costs more in reallocation than the encoding itself."""
    head = _encoder.encode(msgspec.structs.replace(report, findings=[]))
    assert head.endswith(b"[]}"), "findings must stay the report's last field"
    stream.write(head[:-2])
    for start in range(0, len(report.findings), chunk):
        if start:
            stream.write(b",")
        stream.write(_encoder.encode(report.findings[start : start + chunk])[1:-1])
    stream.write(b"]}\n")


def json_schema() -> dict:
    schema = msgspec.json.schema(Report)
    schema["title"] = "asr-preflight check report"
    schema["$id"] = "https://github.com/asr-preflight/asr-preflight/docs/report-schema.json"
    return schema
