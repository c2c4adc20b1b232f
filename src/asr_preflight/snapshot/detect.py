"""Recognise what an exported JSON document holds, by its content rather than its file name.

A document may be one object, a list, a REST page (``{"value": [...], "nextLink": ...}``), an
``az graph query`` result (``{"data": [...]}``), a REST API reference example
(``{"parameters": ..., "responses": {"200": {"body": ...}}}``) or a wrapper that adds the region
(``{"location": "centralus", "value": [...]}``). Every record is sorted into a *kind*: the
lower-cased ARM type for resources, or one of the non-resource kinds below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asr_preflight.errors import InputError

# Resource Graph's ResourceContainers table names these types its own way.
_TYPE_ALIASES = {
    "microsoft.resources/subscriptions/resourcegroups": "microsoft.resources/resourcegroups",
    "microsoft.resources/subscriptions": "subscriptions",
}

UNRECOGNISED = (
    "expected an Azure resource with a 'type', a VM size SKU (az vm list-skus), a usage "
    "(az vm list-usage), a provider (az provider list), a location (az account "
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
EMPTY_FILE_HINTS: tuple[tuple[str, str], ...] = (
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


@dataclass
class Document:
    """The records of one file, sorted by kind, with the context the wrapper gave."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    location: str | None = None  # from a {"location": ...} wrapper or a REST example's parameters
    subscription_id: str | None = None
    principal_id: str | None = None  # whose group memberships: {"principalId": ..., "value": [...]}
    empty: bool = False
    may_hold_secrets: bool = True  # the loader clears it when the raw bytes hold no marker

    def add(self, kind: str, record: dict[str, Any]) -> None:
        self.records.setdefault(kind, []).append(record)


def classify_document(doc: Any, file: str) -> Document:
    out = Document()
    if isinstance(doc, dict) and isinstance(doc.get("responses"), dict):
        params = doc.get("parameters") if isinstance(doc.get("parameters"), dict) else {}
        out.location = _str(params.get("location"))
        out.subscription_id = _str(params.get("subscriptionId"))
        body = _ok_body(doc["responses"])
        if body is None:
            raise InputError(file, "$.responses", "expected a 200 response with a 'body'")
        doc, base = _instance_view_as_vm(body, params), '$.responses["200"].body'
    else:
        base = "$"
    base, items, single = _items(doc, base, file, out)
    out.empty = not items
    for index, record in enumerate(items):
        path = base if single else f"{base}[{index}]"  # built only when reporting an error
        if not isinstance(record, dict):
            raise InputError(file, path, "expected a JSON object")
        kind = classify_record(record)
        if kind is None:
            raise InputError(file, path, UNRECOGNISED)
        out.add(kind, record)
    return out


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


def _ok_body(responses: dict[str, Any]) -> Any:
    for status in ("200", "201"):
        entry = responses.get(status)
        if isinstance(entry, dict) and "body" in entry:
            return entry["body"]
    return None


def _items(doc: Any, base: str, file: str, out: Document) -> tuple[str, list[Any], bool]:
    """(JSON path of the records, the records, whether the document is a single record)."""
    if isinstance(doc, list):
        return base, doc, False
    if not isinstance(doc, dict):
        raise InputError(file, base, "expected a JSON object or a list of objects")
    if doc.get("schema") == SNAPSHOT_SCHEMA:
        raise InputError(file, base, "a snapshot file cannot sit inside an export folder")
    if "changeNumber" in doc and isinstance(doc.get("values"), list):
        return base, [{"__kind__": SERVICE_TAGS, **doc}], True
    if isinstance(doc.get("data"), (list, dict)) and (
        "count" in doc or "totalRecords" in doc or "total_records" in doc
    ):
        return f"{base}.data", _arg_rows(doc["data"], f"{base}.data", file), False
    if isinstance(doc.get("value"), list):
        out.location = out.location or _str(doc.get("location"))
        out.subscription_id = out.subscription_id or _str(doc.get("subscriptionId"))
        out.principal_id = _str(doc.get("principalId"))
        return f"{base}.value", doc["value"], False
    return base, [doc], True


def _arg_rows(data: Any, path: str, file: str) -> list[Any]:
    """Resource Graph answers either objects or a table of columns and rows."""
    if isinstance(data, list):
        return data
    columns, rows = data.get("columns"), data.get("rows")
    if not isinstance(columns, list) or not isinstance(rows, list):
        raise InputError(file, path, "expected a list of rows or a table with 'columns' and 'rows'")
    names = [c.get("name") if isinstance(c, dict) else None for c in columns]
    return [dict(zip(names, row, strict=False)) for row in rows if isinstance(row, list)]


def classify_record(record: dict[str, Any]) -> str | None:
    kind = record.get("__kind__")
    if kind:
        return kind
    if record.get("schema") == GUEST_SCHEMA:
        return GUEST_FACTS
    # Microsoft Graph memberOf/transitiveMemberOf, or az ad user get-member-groups.
    if record.get("@odata.type") == "#microsoft.graph.group" or record.keys() == {
        "displayName",
        "id",
    }:
        return GROUPS
    rtype = record.get("type")
    if isinstance(rtype, str) and "/" in rtype:
        return _TYPE_ALIASES.get(rtype.lower(), rtype.lower())
    if "resourceType" in record and ("capabilities" in record or "locationInfo" in record):
        return SKUS
    if "currentValue" in record and "limit" in record and isinstance(record.get("name"), dict):
        return USAGES
    if "namespace" in record and "registrationState" in record:
        return PROVIDERS
    if rtype == "Region" or ("displayName" in record and "/locations/" in str(record.get("id"))):
        return LOCATIONS
    if (
        "tenantId" in record
        and "state" in record
        and ("subscriptionId" in record or "cloudName" in record)
    ):
        return SUBSCRIPTIONS
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
