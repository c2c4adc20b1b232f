"""The snapshot: raw Azure JSON kept verbatim, sorted by kind, plus where and when it came from.

Two inputs make one: our own snapshot file (``asr-preflight/snapshot``, version 1) or a folder
of ``az``/REST/Resource Graph exports, recognised by content (see ``detect``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec

from asr_preflight.errors import InputError
from asr_preflight.knowledge import regions
from asr_preflight.snapshot import detect
from asr_preflight.snapshot.jsonfile import read_json_bytes
from asr_preflight.snapshot.redact import may_hold_secrets, redact

SCHEMA_VERSION = 1


class CollectionError(msgspec.Struct, frozen=True):
    """Something the collector could not read; findings that needed it turn `unknown`."""

    scope: str
    operation: str
    message: str
    status: int | None = None
    code: str | None = None


class UsageBlock(msgspec.Struct):
    """Compute usages do not name their region, so the block carries it."""

    location: str
    value: list[dict[str, Any]]
    subscription_id: str | None = None


class MembershipBlock(msgspec.Struct):
    """Groups a principal belongs to; `principal_id` None means "the principal being checked"."""

    value: list[dict[str, Any]]
    principal_id: str | None = None


class Snapshot(msgspec.Struct):
    schema: str = detect.SNAPSHOT_SCHEMA
    version: int = SCHEMA_VERSION
    cloud: str = "AzureCloud"
    tenant_id: str | None = None
    subscriptions: list[str] = msgspec.field(default_factory=list)
    collected_at: str | None = None
    origin: str = ""
    collection_errors: list[CollectionError] = msgspec.field(default_factory=list)
    records: dict[str, list[dict[str, Any]]] = msgspec.field(default_factory=dict)
    usages: list[UsageBlock] = msgspec.field(default_factory=list)
    memberships: list[MembershipBlock] = msgspec.field(default_factory=list)
    # kind -> [(file, index of its first record)]: bad input is reported against its file
    origins: dict[str, list[tuple[str, int]]] = msgspec.field(default_factory=dict)
    # Kinds the exports covered, even when empty: "no route tables" differs from "not exported".
    present: list[str] = msgspec.field(default_factory=list)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return self.records.get(kind, [])

    def origin_of(self, kind: str, index: int) -> tuple[str, int]:
        """(file, index within it) of a record: where to point someone at bad input."""
        found = (self.origin, index)
        for file, start in self.origins.get(kind, ()):
            if start <= index:
                found = (file, index - start)
        return found


def load_snapshot(path: Path) -> Snapshot:
    if not path.exists():
        raise InputError(str(path), "", "no such file or folder")
    if path.is_dir():
        return _load_folder(path)
    doc, raw = read_json_bytes(path)
    if isinstance(doc, dict) and doc.get("schema") == detect.SNAPSHOT_SCHEMA:
        return _load_snapshot_file(doc, path, raw)
    snap = Snapshot(origin=str(path))
    document = _classify(doc, raw, path)
    _check_locations(
        document, path, _exported_regions([document.records.get(detect.LOCATIONS, [])])
    )
    _merge(snap, document, path)
    return _finish(snap, path)


def write_snapshot(snapshot: Snapshot, path: Path) -> None:
    path.write_bytes(msgspec.json.format(msgspec.json.encode(snapshot), indent=1))


def _classify(doc: Any, raw: bytes, file: Path) -> detect.Document:
    document = detect.classify_document(doc, str(file))
    document.may_hold_secrets = may_hold_secrets(raw, document.records)
    return document


def _load_snapshot_file(doc: dict[str, Any], path: Path, raw: bytes) -> Snapshot:
    version = doc.get("version")
    if version != SCHEMA_VERSION:
        raise InputError(
            str(path), "$.version", f"expected snapshot version {SCHEMA_VERSION}, found {version!r}"
        )
    try:
        snap = msgspec.convert(doc, Snapshot)
    except msgspec.ValidationError as exc:
        raise InputError(str(path), _json_path(str(exc)), _reason(str(exc))) from None
    for block in snap.usages:
        _check_region(block.location, path, "$.usages[].location")
    if may_hold_secrets(raw):  # a snapshot written by someone else's tool, or edited by hand
        snap.records = {
            kind: [redact(kind, r) for r in records] for kind, records in snap.records.items()
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
    docs = []
    for file in files:
        doc, raw = read_json_bytes(file)
        if isinstance(doc, dict) and doc.get("schema") == detect.SNAPSHOT_SCHEMA:
            raise InputError(
                str(file),
                "$",
                "a snapshot file cannot sit inside an export folder; "
                "pass it on its own with --snapshot",
            )
        docs.append((file, _classify(doc, raw, file)))
    snap = Snapshot(origin=str(folder))
    exported = _exported_regions(d.records.get(detect.LOCATIONS, []) for _, d in docs)
    for file, doc in docs:
        _check_locations(doc, file, exported)
        _merge(snap, doc, file)
    return _finish(snap, folder)


def _exported_regions(groups: Any) -> set[str]:
    """Regions the subscription itself lists count as known, so a new Azure region still loads."""
    return {str(r.get("name", "")).lower() for group in groups for r in group}


def _check_locations(doc: detect.Document, file: Path, exported: set[str]) -> None:
    known: set[str] = set()  # each spelling is looked up once per file, not once per record
    for kind, records in doc.records.items():
        for index, record in enumerate(records):
            location = record.get("location")
            if not isinstance(location, str) or location in known:
                continue
            if (
                location.lower() != "global"
                and regions.normalize(location) is None
                and location.lower() not in exported
            ):
                raise InputError(
                    str(file),
                    f"{kind} #{index} ({record.get('name', '?')}).location",
                    f"expected an Azure region name, found {location!r}",
                )
            known.add(location)


def _merge(snap: Snapshot, doc: detect.Document, file: Path) -> None:
    groups = doc.records.get(detect.GROUPS, [])
    if groups or doc.principal_id or (doc.empty and _empty_kind(file) == detect.GROUPS):
        principal = doc.principal_id.lower() if doc.principal_id else None
        snap.memberships.append(MembershipBlock(value=groups, principal_id=principal))
    if doc.empty:
        hinted = _empty_kind(file)
        if hinted and hinted not in snap.present:
            snap.present.append(hinted)
        return
    for kind, records in doc.records.items():
        if kind == detect.GROUPS:
            continue  # kept as membership blocks above
        if kind == detect.USAGES:
            _add_usages(snap, records, doc, file)
        else:
            kept = [redact(kind, r) for r in records] if doc.may_hold_secrets else records
            bucket = snap.records.setdefault(kind, [])
            snap.origins.setdefault(kind, []).append((str(file), len(bucket)))
            bucket.extend(kept)
        if kind not in snap.present:
            snap.present.append(kind)


def _add_usages(
    snap: Snapshot, records: list[dict[str, Any]], doc: detect.Document, file: Path
) -> None:
    location = doc.location or _region_from_ids(records) or _region_from_name(file)
    if location is None:
        raise InputError(
            str(file),
            "$",
            "usages do not name their region: name the file "
            'usages-<region>.json or wrap it as {"location": "<region>", '
            '"value": [...]}',
        )
    location = _check_region(location, file, "$.location")
    subscription = doc.subscription_id or _subscription_from_ids(records)
    snap.usages.append(
        UsageBlock(
            location=location,
            value=records,
            subscription_id=subscription.lower() if subscription else None,
        )
    )


_LOCATION_IN_ID = re.compile(r"/locations/([^/]+)/", re.IGNORECASE)


def _region_from_ids(records: list[dict[str, Any]]) -> str | None:
    """Network usages carry their region in the id; compute usages do not."""
    match = _LOCATION_IN_ID.search(str(records[0].get("id") or ""))
    return match.group(1) if match else None


def _subscription_from_ids(records: list[dict[str, Any]]) -> str | None:
    """Network usages also carry their subscription in the id."""
    return _sub_from_id(records[0].get("id"))


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


def _finish(snap: Snapshot, origin: Path) -> Snapshot:
    subs = snap.of(detect.SUBSCRIPTIONS)
    if subs and snap.tenant_id is None:
        snap.tenant_id = subs[0].get("tenantId")
        cloud = subs[0].get("cloudName")
        if isinstance(cloud, str):
            snap.cloud = cloud
    ids = {_sub_id(s) for s in subs} | {
        _sub_from_id(r.get("id")) for r in snap.of("microsoft.compute/virtualmachines")
    }
    snap.subscriptions = sorted(i for i in ids if i)
    return snap


def _sub_id(record: dict[str, Any]) -> str | None:
    sid = record.get("subscriptionId") or record.get("id")
    return str(sid).rsplit("/", 1)[-1].lower() if sid else None


def _sub_from_id(resource_id: Any) -> str | None:
    parts = str(resource_id or "").split("/")
    return parts[2].lower() if len(parts) > 2 and parts[1].lower() == "subscriptions" else None


def _json_path(message: str) -> str:
    match = re.search(r"at `(\$[^`]*)`", message)
    return match.group(1) if match else "$"


def _reason(message: str) -> str:
    return re.sub(r"\s*- at `[^`]*`", "", message)
