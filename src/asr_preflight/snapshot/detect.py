"""Recognise what an exported JSON document holds, by its content rather than its file name.

A document may be one object, a list, a REST page (``{"value": [...], "nextLink": ...}``), an
``az graph query`` result (``{"data": [...]}``), a REST API reference example
(``{"parameters": ..., "responses": {"200": {"body": ...}}}``) or a wrapper that adds the region
(``{"location": "centralus", "value": [...]}``). Records stay raw bytes (``msgspec.Raw``): only
the few keys that tell their kind are read here; the model decodes each record once, typed.
Every record is sorted into a *kind*: the lower-cased ARM type (from ``type``, else from the
id), or one of the non-resource kinds below. A record of no kind is an input problem, not an
error: the rest of the file still counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import msgspec

from asr_preflight.errors import InputError

# Resource Graph's ResourceContainers table names these types its own way.
_TYPE_ALIASES = {
    "microsoft.resources/subscriptions/resourcegroups": "microsoft.resources/resourcegroups",
    "microsoft.resources/subscriptions": "subscriptions",
}

UNRECOGNISED = (
    "expected an Azure resource (with a 'type' or an ARM 'id'), a VM size SKU (az vm list-skus), "
    "a usage (az vm list-usage), a provider (az provider list), a location (az account "
    "list-locations), a subscription (az account list), a group membership (az ad user "
    "get-member-groups) or guest facts"
)

# Non-resource kinds (everything else is keyed by lower-cased ARM resource type).
SKUS = "skus"
USAGES = "usages"
LOCATIONS = "locations"
PROVIDERS = "providers"
SUBSCRIPTIONS = "subscriptions"
GUEST_FACTS = "guest_facts"
GROUPS = "groups"  # the checked principal's group memberships
SERVICE_TAGS = "service_tags"

SNAPSHOT_SCHEMA = "asr-preflight/snapshot"
GUEST_SCHEMA = "asr-preflight/guest-facts"

# Only used for an *empty* export, which has no content to recognise: "az network route-table
# list" printing [] still tells us there are no route tables, which is not the same as not knowing.
PROTECTED_ITEMS = (
    "microsoft.recoveryservices/vaults/replicationfabrics/replicationprotectioncontainers/"
    "replicationprotecteditems"
)
EMPTY_FILE_HINTS: tuple[tuple[str, str], ...] = (
    ("protected-item", PROTECTED_ITEMS),  # before "vault": vault-protected-items.json
    ("protecteditem", PROTECTED_ITEMS),
    ("disk-encryption-set", "microsoft.compute/diskencryptionsets"),
    ("keyvault", "microsoft.keyvault/vaults"),
    ("key-vault", "microsoft.keyvault/vaults"),
    ("extension", "microsoft.compute/virtualmachines/extensions"),
    ("route-table", "microsoft.network/routetables"),
    ("routetable", "microsoft.network/routetables"),
    ("nsg", "microsoft.network/networksecuritygroups"),
    ("vnet", "microsoft.network/virtualnetworks"),
    ("nic", "microsoft.network/networkinterfaces"),
    ("vault", "microsoft.recoveryservices/vaults"),
    ("storage", "microsoft.storage/storageaccounts"),
    ("disk", "microsoft.compute/disks"),
    ("role-assignment", "microsoft.authorization/roleassignments"),
    ("deny", "microsoft.authorization/denyassignments"),
    ("sku", SKUS),
    ("usage", USAGES),
    ("member", GROUPS),
)

_ABSENT = msgspec.Raw(b"")


class _Probe(msgspec.Struct):
    """The keys that tell a record's kind; everything else in the record is skipped unread."""

    kind: Any = msgspec.field(default=None, name="__kind__")
    schema: Any = None
    odata_type: Any = msgspec.field(default=None, name="@odata.type")
    type: Any = None
    id: Any = None
    name: msgspec.Raw = _ABSENT
    resourceType: msgspec.Raw = _ABSENT
    capabilities: msgspec.Raw = _ABSENT
    locationInfo: msgspec.Raw = _ABSENT
    currentValue: msgspec.Raw = _ABSENT
    limit: msgspec.Raw = _ABSENT
    namespace: msgspec.Raw = _ABSENT
    registrationState: msgspec.Raw = _ABSENT
    displayName: msgspec.Raw = _ABSENT
    tenantId: msgspec.Raw = _ABSENT
    state: msgspec.Raw = _ABSENT
    subscriptionId: msgspec.Raw = _ABSENT
    cloudName: msgspec.Raw = _ABSENT


@dataclass
class Unrecognised:
    """A record that is not an object, or of no kind the tool knows: reported, then skipped."""

    path: str
    expected: str


@dataclass
class Document:
    """The records of one file, sorted by kind, with the context the wrapper gave."""

    records: dict[str, list[Any]] = field(default_factory=dict)  # msgspec.Raw, or dicts
    base: str = "$"  # JSON path of the record list ("$", "$.value", "$.data" …)
    single: bool = False  # the document is one record, not a list of them
    location: str | None = None  # from a {"location": ...} wrapper or a REST example's parameters
    subscription_id: str | None = None
    principal_id: str | None = None  # whose group memberships: {"principalId": ..., "value": [...]}
    empty: bool = False
    unrecognised: list[Unrecognised] = field(default_factory=list)
    positions: dict[str, list[int]] = field(default_factory=dict)  # kind -> index in the list

    def add(self, kind: str, record: Any, index: int) -> None:
        self.records.setdefault(kind, []).append(record)
        self.positions.setdefault(kind, []).append(index)

    def path_of(self, index: int) -> str:
        return self.base if self.single else f"{self.base}[{index}]"


def decode_top(data: bytes, file: str) -> dict[str, msgspec.Raw] | list[msgspec.Raw]:
    """The document's top level, its values left raw: enough to tell what the file is."""
    try:
        return msgspec.json.decode(data, type=dict[str, msgspec.Raw] | list[msgspec.Raw])
    except msgspec.ValidationError:
        raise InputError(file, "$", "expected a JSON object or a list of objects") from None


def read_document(
    top: dict[str, msgspec.Raw] | list[msgspec.Raw], data: bytes, file: str
) -> Document:
    """Sort the records of one file by kind. Raises InputError only when the document as a
    whole is not an export (a snapshot inside a folder, a REST example without a body)."""
    if isinstance(top, dict) and "responses" in top:
        return _rest_example(top, file)
    out = Document()
    items = _items(top, data, file, out)
    out.empty = not items
    for index, record in enumerate(items):
        kind = kind_of(record)
        if kind is None:
            out.unrecognised.append(Unrecognised(out.path_of(index), _what_is_wrong(record)))
        else:
            out.add(kind, record, index)
    return out


def is_snapshot(top: dict[str, msgspec.Raw] | list[msgspec.Raw]) -> bool:
    return isinstance(top, dict) and _scalar(top.get("schema")) == SNAPSHOT_SCHEMA


def _rest_example(top: dict[str, msgspec.Raw], file: str) -> Document:
    """A REST API reference example: its 200 (or 201) body is the export; its parameters name
    the region and subscription the body may not."""
    params = _decode_object(top.get("parameters"))
    responses = _decode_object(top.get("responses"))
    body = next(
        (
            entry["body"]
            for status in ("200", "201")
            if isinstance(entry := responses.get(status), dict) and "body" in entry
        ),
        None,
    )
    if body is None:
        raise InputError(file, "$.responses", "expected a 200 response with a 'body'")
    body = _instance_view_as_vm(body, params)
    data = msgspec.json.encode(body)
    out = read_document(decode_top(data, file), data, file)
    out.base = '$.responses["200"].body' + out.base[1:]
    out.location = out.location or _str(params.get("location"))
    out.subscription_id = out.subscription_id or _str(params.get("subscriptionId"))
    return out


def _decode_object(raw: msgspec.Raw | None) -> dict[str, Any]:
    value = msgspec.json.decode(raw) if raw is not None else None
    return value if isinstance(value, dict) else {}


def _instance_view_as_vm(body: Any, params: dict[str, Any]) -> Any:
    """A VirtualMachines_InstanceView answer names no VM; the request parameters do."""
    names = [params.get(k) for k in ("subscriptionId", "resourceGroupName", "vmName")]
    if not (isinstance(body, dict) and "vmAgent" in body and "id" not in body and all(names)):
        return body
    sub, group, vm = names
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Compute/"
        f"virtualMachines/{vm}",
        "name": vm,
        "type": "Microsoft.Compute/virtualMachines",
        "properties": {"instanceView": body},
    }


def _items(top: Any, data: bytes, file: str, out: Document) -> list[msgspec.Raw]:
    if isinstance(top, list):
        return top
    if is_snapshot(top):
        raise InputError(file, "$", "a snapshot file cannot sit inside an export folder")
    if "changeNumber" in top and _is_list(top.get("values")):
        out.single = True
        return [_tagged(SERVICE_TAGS, data)]
    graph = top.get("data")
    if graph is not None and ("count" in top or "totalRecords" in top or "total_records" in top):
        out.base = "$.data"
        return _graph_rows(graph, file)
    value = top.get("value")
    if value is not None and _is_list(value):
        out.base = "$.value"
        out.location = _str(_scalar(top.get("location")))
        out.subscription_id = _str(_scalar(top.get("subscriptionId")))
        out.principal_id = _str(_scalar(top.get("principalId")))
        return msgspec.json.decode(value, type=list[msgspec.Raw])
    out.single = True
    return [msgspec.Raw(data)]


def _tagged(kind: str, data: bytes) -> dict[str, Any]:
    """A record whose kind is told by its whole document (service tags): kept decoded."""
    return {"__kind__": kind, **msgspec.json.decode(data)}


def _graph_rows(graph: msgspec.Raw, file: str) -> list[Any]:
    """Resource Graph answers either objects or a table of columns and rows."""
    if _is_list(graph):
        return msgspec.json.decode(graph, type=list[msgspec.Raw])
    table = _decode_object(graph)
    columns, rows = table.get("columns"), table.get("rows")
    if not isinstance(columns, list) or not isinstance(rows, list):
        raise InputError(
            file, "$.data", "expected a list of rows or a table with 'columns' and 'rows'"
        )
    names = [c.get("name") if isinstance(c, dict) else None for c in columns]
    return [
        {n: v for n, v in zip(names, row, strict=False) if isinstance(n, str)}
        for row in rows
        if isinstance(row, list)
    ]


def kind_of(record: Any) -> str | None:
    """The kind of one record (raw bytes or a decoded object), or None when it has none."""
    try:
        probe = (
            msgspec.json.decode(record, type=_Probe)
            if isinstance(record, msgspec.Raw)
            else msgspec.json.decode(msgspec.json.encode(record), type=_Probe)
        )
    except msgspec.ValidationError:
        return None  # not an object
    return _kind(probe)


def classify_record(record: dict[str, Any]) -> str | None:
    """The kind of a decoded record (what live collection holds)."""
    return kind_of(record)


def _kind(p: _Probe) -> str | None:
    if isinstance(p.kind, str) and p.kind:
        return p.kind
    if p.schema == GUEST_SCHEMA:
        return GUEST_FACTS
    if p.odata_type == "#microsoft.graph.group":
        return GROUPS
    if isinstance(p.type, str) and "/" in p.type:
        return _TYPE_ALIASES.get(p.type.lower(), p.type.lower())
    has = _present
    if has(p.resourceType) and (has(p.capabilities) or has(p.locationInfo)):
        return SKUS
    if has(p.currentValue) and has(p.limit) and _first(p.name) == b"{":
        return USAGES
    if has(p.namespace) and has(p.registrationState):
        return PROVIDERS
    rid = p.id if isinstance(p.id, str) else ""
    if p.type == "Region" or (has(p.displayName) and "/locations/" in rid):
        return LOCATIONS
    if has(p.tenantId) and has(p.state) and (has(p.subscriptionId) or has(p.cloudName)):
        return SUBSCRIPTIONS
    if has(p.displayName) and rid and "/" not in rid and p.type is None:
        return GROUPS  # az ad user get-member-groups: {"displayName", "id"}
    return kind_from_id(rid)


def _present(raw: msgspec.Raw) -> bool:
    return bool(raw) and _first(raw) != b"n"


def _first(raw: msgspec.Raw) -> bytes:
    """The first byte of a raw JSON value, which tells its type, without copying the value."""
    return memoryview(raw)[:1].tobytes()


_PROVIDER_PATH = re.compile(r"/providers/([^/]+)/(.+)$", re.IGNORECASE)


def kind_from_id(resource_id: str) -> str | None:
    """The resource type an ARM id names: `.../providers/NS/T1/n1/T2/n2` is `ns/t1/t2`.
    REST examples and Resource Graph projections often leave `type` out."""
    parts = resource_id.strip("/").split("/")
    if len(parts) < 2 or parts[0].lower() != "subscriptions":
        return None
    match = _PROVIDER_PATH.search(resource_id.rstrip("/"))
    if match is None:
        if len(parts) == 4 and parts[2].lower() == "resourcegroups":
            return "microsoft.resources/resourcegroups"
        return SUBSCRIPTIONS if len(parts) == 2 else None
    namespace, rest = match.group(1), match.group(2).split("/")
    if len(rest) % 2:  # a type without a name: not a resource id
        return None
    return "/".join([namespace, *rest[0::2]]).lower()


def _what_is_wrong(record: Any) -> str:
    first = _first(record) if isinstance(record, msgspec.Raw) else b"{"
    return UNRECOGNISED if first == b"{" else "expected a JSON object"


def _scalar(raw: msgspec.Raw | None) -> Any:
    if raw is None or _first(raw) in (b"{", b"["):
        return None
    return msgspec.json.decode(raw)


def _is_list(raw: msgspec.Raw | None) -> bool:
    return raw is not None and _first(raw) == b"["


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
