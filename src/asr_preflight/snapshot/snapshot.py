"""The snapshot: raw Azure JSON kept verbatim, sorted by kind, plus where and when it came from.

Two inputs make one: our own snapshot file (``asr-preflight/snapshot``, version 1) or a folder
of ``az``/REST/Resource Graph exports, recognised by content (see ``detect``). Records stay raw
bytes until the model decodes them, once and typed; the snapshot remembers where each came from
so that a record the model cannot understand is reported against its file and JSON path.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from asr_preflight.errors import InputError
from asr_preflight.knowledge import regions
from asr_preflight.snapshot import detect
from asr_preflight.snapshot.jsonfile import checked, read_bytes
from asr_preflight.snapshot.redact import Redactor, scrub

SCHEMA_VERSION = 1
H = TypeVar("H", bound=msgspec.Struct)


class CollectionError(msgspec.Struct, frozen=True):
    """Something the collector could not read; findings that needed it turn `unknown`."""

    scope: str
    operation: str
    message: str
    status: int | None = None
    code: str | None = None
    kinds: list[str] = msgspec.field(default_factory=list)  # the kinds it would have filled
    retries: int | None = None  # how many times the call was retried before it gave up


class LoadProblem(msgspec.Struct, frozen=True):
    """A record the loader could not place (no kind, usages with no region): left out."""

    file: str
    path: str
    expected: str
    # The kinds of the file's other records: a record lost among them leaves them incomplete.
    kinds: list[str] = msgspec.field(default_factory=list)


class UsageBlock(msgspec.Struct):
    """Compute usages do not name their region, so the block carries it."""

    location: str
    value: list[Any]
    subscription_id: str | None = None
    file: str = ""  # where the usages came from: quota figures name it


class MembershipBlock(msgspec.Struct):
    """Groups a principal belongs to; `principal_id` None means "the principal being checked"."""

    value: list[Any]
    principal_id: str | None = None


class Origin(msgspec.Struct, frozen=True, array_like=True):
    """Where a run of one kind's records came from: its file, the JSON path of the record list
    and, for each record, its index there (None: the file is that one record)."""

    file: str
    start: int  # index of the run's first record within the kind
    base: str
    positions: list[int] | None = None


class Snapshot(msgspec.Struct):
    schema: str = detect.SNAPSHOT_SCHEMA
    version: int = SCHEMA_VERSION
    cloud: str = "AzureCloud"
    tenant_id: str | None = None
    subscriptions: list[str] = msgspec.field(default_factory=list)
    collected_at: str | None = None
    origin: str = ""
    collection_errors: list[CollectionError] = msgspec.field(default_factory=list)
    # kind -> records, each raw JSON (msgspec.Raw) or, from live collection, decoded JSON
    records: dict[str, list[Any]] = msgspec.field(default_factory=dict)
    usages: list[UsageBlock] = msgspec.field(default_factory=list)
    memberships: list[MembershipBlock] = msgspec.field(default_factory=list)
    # Kinds the exports covered, even when empty: "no route tables" differs from "not exported".
    present: list[str] = msgspec.field(default_factory=list)
    problems: list[LoadProblem] = msgspec.field(default_factory=list)
    origins: dict[str, list[Origin]] = msgspec.field(default_factory=dict)
    redacted: int = 0  # secrets removed when the snapshot was written (a count, never what)

    def of(self, kind: str) -> list[Any]:
        return self.records.get(kind, [])

    def origin_of(self, kind: str, index: int) -> tuple[str, str]:
        """(file, JSON path) of a kind's record: where to point someone at bad input."""
        found: Origin | None = None
        for origin in self.origins.get(kind, ()):
            if origin.start > index:
                break
            found = origin
        if found is None:
            return self.origin or "(live)", f"{kind} record #{index}"
        offset = index - found.start
        if found.positions is None:
            return found.file, found.base
        position = found.positions[offset] if offset < len(found.positions) else offset
        return found.file, f"{found.base}[{position}]"


class _SnapshotFile(Snapshot):
    """A snapshot file as decoded: records stay raw until the model reads them."""

    records: dict[str, list[msgspec.Raw]] = msgspec.field(default_factory=dict)


def load_snapshot(path: Path) -> Snapshot:
    if not path.exists():
        raise InputError(str(path), "", "no such file or folder")
    if path.is_dir():
        return _load_folder(path)
    data = read_bytes(path)
    top = _top(data, path)
    if detect.is_snapshot(top):
        return _load_snapshot_file(data, path)
    snap = Snapshot(origin=str(path))
    _merge(snap, _document(top, data, path), path)
    return _finish(snap)


def write_snapshot(snapshot: Snapshot, path: Path) -> None:
    """The snapshot without a secret in it (redact.py), to share in a support case. Origins
    point into the exports it was read from: a snapshot file is its own."""
    redactor = Redactor()
    records = {
        kind: [redactor.record(kind, _decoded(r)) for r in items]
        for kind, items in snapshot.records.items()
    }
    memberships = [
        msgspec.structs.replace(m, value=redactor.value(m.value)) for m in snapshot.memberships
    ]
    own = msgspec.structs.replace(
        snapshot,
        origins={},
        records=records,
        memberships=memberships,
        collection_errors=[
            msgspec.structs.replace(e, message=scrub(e.message)) for e in snapshot.collection_errors
        ],
        redacted=snapshot.redacted + redactor.removed,
    )
    path.write_bytes(msgspec.json.format(msgspec.json.encode(own), indent=1))


def _top(data: bytes, file: Path) -> Any:
    return checked(lambda: detect.decode_top(data, str(file)), file, data)


def _document(top: Any, data: bytes, file: Path) -> detect.Document:
    return checked(lambda: detect.read_document(top, data, str(file)), file, data)


def _decoded(record: Any) -> Any:
    return msgspec.json.decode(record) if isinstance(record, msgspec.Raw) else record


def _load_snapshot_file(data: bytes, path: Path) -> Snapshot:
    try:
        snap: Snapshot = msgspec.json.decode(data, type=_SnapshotFile)
    except msgspec.ValidationError as exc:
        raise InputError(str(path), _json_path(str(exc)), _reason(str(exc))) from None
    if snap.version != SCHEMA_VERSION:
        raise InputError(
            str(path),
            "$.version",
            f"expected snapshot version {SCHEMA_VERSION}, found {snap.version!r}",
        )
    for block in snap.usages:
        _check_region(block.location, path, "$.usages[].location")
    snap.origins = {
        kind: [Origin(str(path), 0, f'$.records["{kind}"]', list(range(len(records))))]
        for kind, records in snap.records.items()
    }
    return snap


def _load_folder(folder: Path) -> Snapshot:
    files = sorted(p for p in folder.rglob("*.json") if p.is_file())
    if not files:
        raise InputError(
            str(folder),
            "",
            "expected a snapshot file or a folder of JSON exports; this folder has no *.json files",
        )
    snap = Snapshot(origin=str(folder))
    for file in files:
        data = read_bytes(file)
        top = _top(data, file)
        if detect.is_snapshot(top):
            raise InputError(
                str(file),
                "$",
                "a snapshot file cannot sit inside an export folder; "
                "pass it on its own with --snapshot",
            )
        _merge(snap, _document(top, data, file), file)
    return _finish(snap)


def _merge(snap: Snapshot, doc: detect.Document, file: Path) -> None:
    kinds = sorted(doc.records)
    snap.problems += [LoadProblem(str(file), u.path, u.expected, kinds) for u in doc.unrecognised]
    groups = doc.records.get(detect.GROUPS, [])
    if groups or doc.principal_id or (doc.empty and _empty_kind(file) == detect.GROUPS):
        principal = doc.principal_id.lower() if doc.principal_id else None
        snap.memberships.append(
            MembershipBlock(value=[_decoded(g) for g in groups], principal_id=principal)
        )
    if doc.empty:
        hinted = _empty_kind(file)
        if hinted and hinted not in snap.present:
            snap.present.append(hinted)
        return
    for kind, records in doc.records.items():
        if kind == detect.GROUPS:
            continue  # kept as membership blocks above
        if kind == detect.USAGES:
            if not _add_usages(snap, records, doc, file):
                continue
        else:
            bucket = snap.records.setdefault(kind, [])
            positions = None if doc.single else doc.positions[kind]
            snap.origins.setdefault(kind, []).append(
                Origin(str(file), len(bucket), doc.base, positions)
            )
            bucket.extend(records)
        if kind not in snap.present:
            snap.present.append(kind)


def _add_usages(snap: Snapshot, records: list[Any], doc: detect.Document, file: Path) -> bool:
    values = [_decoded(r) for r in records]
    location = doc.location or _region_from_ids(values) or _region_from_name(file)
    known = regions.normalize(location) if location else None
    if known is None:
        found = f"found {location!r}" if location else "they do not name it"
        snap.problems.append(
            LoadProblem(
                str(file),
                doc.base,
                "usages need their region: name the file usages-<region>.json or wrap it as "
                f'{{"location": "<region>", "value": [...]}} ({found})',
                [detect.USAGES],
            )
        )
        return False
    subscription = doc.subscription_id or _subscription_from_ids(values)
    snap.usages.append(
        UsageBlock(
            location=known,
            value=values,
            subscription_id=subscription.lower() if subscription else None,
            file=str(file),
        )
    )
    return True


_LOCATION_IN_ID = re.compile(r"/locations/([^/]+)/", re.IGNORECASE)


def _first_id(values: list[Any]) -> str:
    first = values[0] if values else None
    rid = first.get("id") if isinstance(first, dict) else None
    return rid if isinstance(rid, str) else ""


def _region_from_ids(values: list[Any]) -> str | None:
    """Network usages carry their region in the id; compute usages do not."""
    match = _LOCATION_IN_ID.search(_first_id(values))
    return match.group(1) if match else None


def _subscription_from_ids(values: list[Any]) -> str | None:
    """Network usages also carry their subscription in the id."""
    return _sub_from_id(_first_id(values))


def _region_from_name(file: Path) -> str | None:
    for token in re.split(r"[-_.\s]+", file.stem.lower()):
        if regions.normalize(token):
            return token
    return None


def _check_region(name: str, file: Path, path: str) -> str:
    known = regions.normalize(name)
    if known is None:
        raise InputError(str(file), path, f"expected an Azure region name, found {name!r}")
    return known


def _empty_kind(file: Path) -> str | None:
    name = file.name.lower()
    return next((kind for hint, kind in detect.EMPTY_FILE_HINTS if hint in name), None)


class _SubscriptionHead(msgspec.Struct, rename="camel"):
    id: Any = None
    subscription_id: Any = None
    tenant_id: Any = None
    cloud_name: Any = None


class _Id(msgspec.Struct):
    id: Any = None


def _finish(snap: Snapshot) -> Snapshot:
    subs = [_head(r, _SubscriptionHead) for r in snap.of(detect.SUBSCRIPTIONS)]
    subs = [s for s in subs if s is not None]
    if subs and snap.tenant_id is None:
        tenant = subs[0].tenant_id
        snap.tenant_id = tenant if isinstance(tenant, str) else None
        if isinstance(subs[0].cloud_name, str):
            snap.cloud = subs[0].cloud_name
    found = {_sub_id(s.subscription_id or s.id) for s in subs}
    for vm in snap.of("microsoft.compute/virtualmachines"):
        head = _head(vm, _Id)
        found.add(_sub_from_id(head.id if head else None))
    snap.subscriptions = sorted(i for i in found if i)
    return snap


def _head(record: Any, head: type[H]) -> H | None:
    """The few top-level keys the loader itself needs, from a raw or decoded record."""
    try:
        if isinstance(record, msgspec.Raw):
            return msgspec.json.decode(record, type=head)
        return msgspec.convert(record, head)
    except msgspec.ValidationError:
        return None  # the model reports the record; the loader only skips it


def _sub_id(value: Any) -> str | None:
    return value.rsplit("/", 1)[-1].lower() if isinstance(value, str) and value else None


def _sub_from_id(resource_id: Any) -> str | None:
    parts = resource_id.split("/") if isinstance(resource_id, str) else []
    return parts[2].lower() if len(parts) > 2 and parts[1].lower() == "subscriptions" else None


def _json_path(message: str) -> str:
    match = re.search(r"at `(\$[^`]*)`", message)
    return match.group(1) if match else "$"


def _reason(message: str) -> str:
    return re.sub(r"\s*- at `[^`]*`", "", message)
