"""A local HTTPS double of Azure Resource Manager and Resource Graph, for the live collector.

It serves an estate read from exports (the bundled example, or a synthetic one) at the real
paths, checks the real `api-version` of each, pages lists with `nextLink` and Resource Graph with
`$skipToken`, and misbehaves on request: 429 with `Retry-After`, 5xx, slow answers, a subscription
the caller may not read, Resource Graph's per-user quota. It refuses every method but GET and the
Resource Graph query POST (answering 405, and logging it), so a test can prove nothing else left.

Data the exports do not hold (say, deny assignments) is answered with 403 AuthorizationFailed,
the way Resource Manager answers a caller whose role lacks that read action.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import os
import re
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import msgspec

from asr_preflight.model import ids
from asr_preflight.snapshot import Snapshot, detect

# The api-versions the pinned SDKs send; anything else is refused like ARM refuses it.
API_VERSIONS = {
    "subscription": "2022-12-01",
    "locations": "2022-12-01",
    "providers": "2025-04-01",
    "skus": "2021-07-01",
    "compute-usages": "2026-04-01",
    "vms": "2026-04-01",
    "network-usages": "2026-03-01",
    "service-tags": "2026-03-01",
    "storage-usages": "2026-09-01",
    "blob-service": "2026-09-01",
    "role-assignments": "2022-04-01",
    "role-definitions": "2022-04-01",
    "deny-assignments": "2022-04-01",
    "metrics": "2024-02-01",
    "run-command": "2026-04-01",
    "compute-operation": "2026-04-01",
    "graph": "2021-03-01",
    "metadata": "2022-09-01",
}
TOP_LEVEL = {
    "id",
    "name",
    "type",
    "location",
    "tags",
    "sku",
    "zones",
    "kind",
    "etag",
    "identity",
    "plan",
    "extendedLocation",
    "managedBy",
    "managedByExtended",
    "systemData",
    "resources",
}
AZ_ONLY = {"resourceGroup", "powerState", "publicIps", "privateIps", "fqdns", "macAddresses"}
AZ_RENAMES = {"networkRuleSet": "networkAcls", "diskSizeGb": "diskSizeGB"}
SUBRESOURCES = {
    "securityRules",
    "defaultSecurityRules",
    "subnets",
    "ipConfigurations",
    "routes",
    "frontendIPConfigurations",
    "backendAddressPools",
    "loadBalancingRules",
    "outboundRules",
    "probes",
    "inboundNatRules",
    "virtualNetworkPeerings",
    "privateEndpointConnections",
}
GRAPH_KINDS = {
    "microsoft.compute/virtualmachines",
    "microsoft.compute/disks",
    "microsoft.network/networkinterfaces",
    "microsoft.network/networksecuritygroups",
    "microsoft.network/virtualnetworks",
    "microsoft.network/routetables",
    "microsoft.network/loadbalancers",
    "microsoft.network/natgateways",
    "microsoft.network/publicipaddresses",
    "microsoft.storage/storageaccounts",
    "microsoft.recoveryservices/vaults",
    "microsoft.recoveryservices/vaults/replicationfabrics/replicationprotectioncontainers/"
    "replicationprotecteditems",
    "microsoft.compute/diskencryptionsets",
    "microsoft.keyvault/vaults",
    "microsoft.compute/virtualmachines/extensions",
    "microsoft.resources/resourcegroups",
}
VM = "microsoft.compute/virtualmachines"


# -- az (flattened) JSON → the REST / Resource Graph shape ---------------------------------------


def _strip_refs(node: Any) -> Any:
    """az adds `resourceGroup` to every nested reference; REST does not."""
    if isinstance(node, dict):
        return {k: _strip_refs(v) for k, v in node.items() if k != "resourceGroup"}
    if isinstance(node, list):
        return [_strip_refs(v) for v in node]
    return node


def _sub(element: Any) -> Any:
    if not isinstance(element, dict) or "properties" in element:
        return element
    head = {k: element[k] for k in ("name", "id", "etag", "type") if k in element}
    rest = {k: v for k, v in element.items() if k not in head and k != "resourceGroup"}
    return {**head, "properties": _nest(rest)} if rest else head


def _nest(props: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in props.items():
        key = AZ_RENAMES.get(key, key)
        if key in SUBRESOURCES and isinstance(value, list):
            value = [_sub(v) for v in value]
        out[key] = _strip_refs(value)
    return out


def to_rest(record: dict[str, Any]) -> dict[str, Any]:
    """An az-printed resource in the shape Resource Manager returns it."""
    top = {k: copy.deepcopy(v) for k, v in record.items() if k in TOP_LEVEL}
    inner = (
        dict(record.get("properties") or {}) if isinstance(record.get("properties"), dict) else {}
    )
    flat = {k: v for k, v in record.items() if k not in TOP_LEVEL | AZ_ONLY | {"properties"}}
    kind = str(record.get("type", "")).lower()
    if kind == "microsoft.authorization/roledefinitions" and "roleType" in flat:
        flat["type"] = flat.pop("roleType")
    if kind == "microsoft.authorization/roleassignments":
        flat.pop("principalName", None)
        flat.pop("roleDefinitionName", None)
    properties = _nest({**copy.deepcopy(flat), **copy.deepcopy(inner)})
    if isinstance(record.get("powerState"), str):
        code = "PowerState/" + record["powerState"].removeprefix("VM ").lower()
        properties.setdefault("extended", {}).setdefault("instanceView", {})["powerState"] = {
            "code": code,
            "displayStatus": record["powerState"],
            "level": "Info",
        }
    return {**top, "properties": properties}


def _merge(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One resource per id, the earlier export's values first (as the model merges them)."""
    by_id: dict[str, dict[str, Any]] = {}
    for record in records:
        key = ids.key(record.get("id"))
        seen = by_id.get(key)
        if seen is None:
            by_id[key] = record
            continue
        present = {k: v for k, v in record.items() if v is not None}
        merged = {**present, **{k: v for k, v in seen.items() if v is not None}}
        merged["properties"] = {
            **{k: v for k, v in record["properties"].items() if v is not None},
            **{k: v for k, v in seen["properties"].items() if v is not None},
        }
        by_id[key] = merged
    return list(by_id.values())


def graph_row(record: dict[str, Any], tenant: str | None, arm_type: str | None = None) -> dict:
    rid = record.get("id", "")
    properties = dict(record.get("properties") or {})
    properties.pop("instanceView", None)  # Resource Graph has only properties.extended
    return {
        "id": rid,
        "name": record.get("name"),
        "type": (arm_type or str(record.get("type", ""))).lower(),
        "tenantId": tenant,
        "kind": record.get("kind") or "",
        "location": record.get("location"),
        "resourceGroup": (ids.part(rid, "resourceGroups") or "").lower() or None,
        "subscriptionId": ids.subscription(rid),
        "managedBy": record.get("managedBy") or "",
        "sku": record.get("sku"),
        "plan": record.get("plan"),
        "properties": properties,
        "tags": record.get("tags"),
        "identity": record.get("identity"),
        "zones": record.get("zones"),
        "extendedLocation": record.get("extendedLocation"),
    }


def status_view(record: dict[str, Any]) -> dict[str, Any]:
    """A VM as `statusOnly=true` lists it: its instance view, whatever the exports knew of it."""
    properties = record.get("properties") or {}
    view = properties.get("instanceView")
    if not isinstance(view, dict):
        extended = (properties.get("extended") or {}).get("instanceView") or {}
        view = {k: v for k, v in extended.items() if k != "powerState"}
        power = extended.get("powerState")
        view["statuses"] = [power] if isinstance(power, dict) else []
    return {
        "id": record.get("id"),
        "name": record.get("name"),
        "type": "Microsoft.Compute/virtualMachines",
        "location": record.get("location"),
        "properties": {"instanceView": view},
    }


def _compute_usage(record: dict[str, Any]) -> dict[str, Any]:
    """az prints compute usages with string numbers and a `localName`; REST does not."""
    out = {k: v for k, v in record.items() if k != "localName"}
    for key in ("currentValue", "limit"):
        with suppress(KeyError, TypeError, ValueError):
            out[key] = int(float(out[key]))
    out.setdefault("unit", "Count")
    return out


def _records(snap: Snapshot, kind: str) -> list[Any]:
    """A snapshot's records as decoded JSON: the double serves them the way ARM would."""
    return [msgspec.json.decode(r) if isinstance(r, msgspec.Raw) else r for r in snap.of(kind)]


@dataclass
class ArmData:
    """What the double serves, by the call that returns it."""

    tenant: str | None = None
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: list[dict[str, Any]] = field(default_factory=list)  # Resource Graph rows
    status: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # sub -> VMs
    locations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    providers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    skus: list[dict[str, Any]] = field(default_factory=list)
    # (subscription or None for any, region) -> usages
    compute_usages: dict[tuple[str | None, str], list[dict[str, Any]]] = field(default_factory=dict)
    network_usages: dict[tuple[str | None, str], list[dict[str, Any]]] = field(default_factory=dict)
    storage_usages: dict[tuple[str | None, str], list[dict[str, Any]]] = field(default_factory=dict)
    role_assignments: list[dict[str, Any]] | None = None
    role_definitions: list[dict[str, Any]] | None = None
    deny_assignments: list[dict[str, Any]] | None = None
    memberships: dict[str, set[str]] = field(default_factory=dict)
    blob_services: dict[str, dict[str, Any]] = field(default_factory=dict)  # account key -> body
    service_tags: dict[str, Any] | None = None
    metrics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # VM key -> its metrics

    @classmethod
    def from_snapshot(cls, snap: Snapshot) -> ArmData:
        data = cls()
        for account in _records(snap, detect.SUBSCRIPTIONS):
            sid = str(account.get("subscriptionId") or account.get("id")).rsplit("/", 1)[-1]
            data.tenant = data.tenant or account.get("tenantId")
            data.subscriptions[sid.lower()] = {
                "id": f"/subscriptions/{sid}",
                "authorizationSource": "RoleBased",
                "managedByTenants": [],
                "subscriptionId": sid,
                "tenantId": account.get("tenantId"),
                "displayName": account.get("name") or account.get("displayName"),
                "state": account.get("state"),
                "subscriptionPolicies": {
                    "locationPlacementId": "Public_2014-09-01",
                    "quotaId": "PayAsYouGo_2014-09-01",
                    "spendingLimit": "Off",
                },
            }
        for kind in GRAPH_KINDS:
            rest = [to_rest(r) for r in _records(snap, kind)]
            if kind == VM:
                rest = _merge(rest)
                for vm in rest:
                    sub = ids.subscription(vm.get("id")) or ""
                    data.status.setdefault(sub, []).append(status_view(vm))
            arm_type = (
                "microsoft.resources/subscriptions/resourcegroups"
                if kind == "microsoft.resources/resourcegroups"
                else None
            )
            data.resources += [graph_row(r, data.tenant, arm_type) for r in rest]
        for record in _records(snap, detect.LOCATIONS):
            sub = ids.subscription(record.get("id")) or ""
            data.locations.setdefault(sub, []).append(record)
        for record in _records(snap, detect.PROVIDERS):
            sub = ids.subscription(record.get("id")) or ""
            data.providers.setdefault(sub, []).append(record)
        data.skus = list(_records(snap, detect.SKUS))
        for block in snap.usages:
            for usage in block.value:
                name = str((usage.get("name") or {}).get("value", ""))
                key = (block.subscription_id, block.location)
                if name == "StorageAccounts":
                    data.storage_usages.setdefault(key, []).append(usage)
                elif "/microsoft.network/" in str(usage.get("id", "")).lower():
                    data.network_usages.setdefault(key, []).append(usage)
                else:
                    data.compute_usages.setdefault(key, []).append(_compute_usage(usage))
        if "microsoft.authorization/roleassignments" in snap.present:
            data.role_assignments = [
                to_rest(r) for r in _records(snap, "microsoft.authorization/roleassignments")
            ]
        if "microsoft.authorization/roledefinitions" in snap.present:
            data.role_definitions = [
                to_rest(r) for r in _records(snap, "microsoft.authorization/roledefinitions")
            ]
        if "microsoft.authorization/denyassignments" in snap.present:
            data.deny_assignments = [
                to_rest(r) for r in _records(snap, "microsoft.authorization/denyassignments")
            ]
        for block in snap.memberships:
            if block.principal_id:
                data.memberships.setdefault(block.principal_id, set()).update(
                    str(g.get("id", "")).lower() for g in block.value
                )
        for tags in _records(snap, detect.SERVICE_TAGS)[:1]:
            data.service_tags = {k: v for k, v in tags.items() if k != "__kind__"}
        for service in _records(snap, "microsoft.storage/storageaccounts/blobservices"):
            data.blob_services[ids.parent(service.get("id"))] = service
        for metric in _records(snap, "microsoft.insights/metrics"):
            resource = str(metric["id"]).lower().split("/providers/microsoft.insights/metrics")[0]
            data.metrics.setdefault(resource, []).append(metric)
        return data


# -- the server --------------------------------------------------------------------------------

STREAM_LIMIT = 4096  # Run Command keeps the last 4,096 bytes of each stream


@dataclass
class Guest:
    """What a VM does with a Run Command. Linux: the script really runs here (`sh`), with
    ASR_PREFLIGHT_PROBE_OPTIONS pointing the probe at a fake root; Windows: a recorded
    RunCommandResult `value` (PowerShell does not run here). Or it refuses (`status`), never
    finishes (`hang`), or its standard output is cut to `cut` bytes, as an oversized line is."""

    options: str = ""  # probe options for a Linux VM (--root DIR --no-imds --endpoint …)
    recorded: list[dict[str, Any]] | None = None  # Windows: the result's value
    status: int | None = None  # 409 not running, 403 not allowed
    hang: bool = False
    cut: int | None = None
    path: str | None = None  # PATH for the script (a VM without Python)


@dataclass
class Operation:
    vm: str
    done: threading.Event = field(default_factory=threading.Event)
    value: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0
    script: list[str] = field(default_factory=list)
    command_id: str = ""


def linux_value(stdout: str, stderr: str) -> list[dict[str, Any]]:
    """A Linux RunCommandResult value: one status, both streams in its message."""
    return [
        {
            "code": "ProvisioningState/succeeded",
            "level": "Info",
            "displayStatus": "Provisioning succeeded",
            "message": f"Enable succeeded: \n[stdout]\n{stdout}\n[stderr]\n{stderr}\n",
        }
    ]


def _tail(text: str) -> str:
    data = text.encode()
    return data[-STREAM_LIMIT:].decode(errors="replace")


@dataclass
class Fault:
    """Answer `times` matching requests badly: `status` (with `headers`), or `delay` seconds of
    silence before the normal answer (a client with a shorter read timeout gives up)."""

    path: str  # a regular expression searched in the lower-cased path
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int = 1
    method: str | None = None
    body: bytes | None = None  # answer 200 with these bytes (malformed or wrong-shaped JSON)
    reset: bool = False  # drop the connection without an answer
    truncate: bool = False  # Resource Graph: half the rows, resultTruncated, no $skipToken
    request_contains: str | None = None  # only requests whose body holds this (one Graph query)


@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    route: str | None
    body: dict[str, Any] | None = None
    at: float = 0.0  # time.monotonic() when answered


class GraphThrottle:
    """Resource Graph's per-user quota: `limit` queries per `window` seconds, then 429."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.lock = threading.Lock()
        self.start = 0.0
        self.used = 0

    def take(self) -> tuple[bool, dict[str, str]]:
        with self.lock:
            now = time.monotonic()
            if now - self.start >= self.window:
                self.start, self.used = now, 0
            left = self.window - (now - self.start)
            resets = time.strftime("%H:%M:%S", time.gmtime(math.ceil(left)))
            if self.used >= self.limit:
                return False, {
                    "Retry-After": str(max(1, math.ceil(left))),
                    "x-ms-user-quota-remaining": "0",
                    "x-ms-user-quota-resets-after": resets,
                }
            self.used += 1
            return True, {
                "x-ms-user-quota-remaining": str(self.limit - self.used),
                "x-ms-user-quota-resets-after": resets,
            }


_ROUTES: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern))
    for name, pattern in (
        ("metadata", r"^/metadata/endpoints$"),
        ("graph", r"^/providers/microsoft\.resourcegraph/resources$"),
        ("subscription", r"^/subscriptions/(?P<sub>[^/]+)$"),
        ("locations", r"^/subscriptions/(?P<sub>[^/]+)/locations$"),
        ("providers", r"^/subscriptions/(?P<sub>[^/]+)/providers$"),
        ("skus", r"^/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.compute/skus$"),
        (
            "compute-usages",
            r"^/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.compute/locations/(?P<loc>[^/]+)/usages$",
        ),
        (
            "network-usages",
            r"^/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.network/locations/(?P<loc>[^/]+)/usages$",
        ),
        (
            "storage-usages",
            r"^/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.storage/locations/(?P<loc>[^/]+)/usages$",
        ),
        (
            "service-tags",
            r"^/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.network/locations/(?P<loc>[^/]+)/servicetags$",
        ),
        ("vms", r"^/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.compute/virtualmachines$"),
        (
            "role-assignments",
            r"^/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.authorization/roleassignments$",
        ),
        (
            "role-definitions",
            r"^/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.authorization/roledefinitions$",
        ),
        (
            "deny-assignments",
            r"^/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.authorization/denyassignments$",
        ),
        (
            "metrics",
            r"^(?P<resource>/subscriptions/(?P<sub>[^/]+)/resourcegroups/[^/]+/providers/"
            r"microsoft\.compute/virtualmachines/[^/]+)/providers/microsoft\.insights/metrics$",
        ),
        (
            "run-command",
            r"^/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)/providers/"
            r"microsoft\.compute/virtualmachines/(?P<vm>[^/]+)/runcommand$",
        ),
        (
            "compute-operation",
            r"^/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.compute/locations/"
            r"(?P<loc>[^/]+)/operations/(?P<op>[^/]+)$",
        ),
        (
            "blob-service",
            r"^(?P<account>/subscriptions/(?P<sub>[^/]+)/resourcegroups/[^/]+/providers/"
            r"microsoft\.storage/storageaccounts/[^/]+)/blobservices/default$",
        ),
    )
]


class ArmDouble:
    def __init__(
        self,
        data: ArmData,
        cert: Any,  # a trustme.LeafCert
        *,
        page_size: int = 1000,
        latency: float = 0.0,
        graph_limit: int | None = None,
        graph_window: float = 5.0,
        token: str = "test-token",
    ) -> None:
        self.data = data
        self.page_size = page_size
        self.latency = latency
        self.token = token
        self.throttle = GraphThrottle(graph_limit, graph_window) if graph_limit else None
        self.forbidden: set[str] = set()
        self.faults: list[Fault] = []
        self.log: list[Logged] = []
        self.lock = threading.Lock()
        self._cert = cert
        self._graph_cache: dict[Any, list[dict[str, Any]]] = {}
        self._server: ThreadingHTTPServer | None = None
        self.guests: dict[str, Guest] = {}  # VM name (lower case) -> what it does
        self.operations: dict[str, Operation] = {}

    # -- lifecycle

    @contextmanager
    def running(self) -> Iterator[ArmDouble]:
        handler = type("Handler", (_Handler,), {"double": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"https://localhost:{self._server.server_address[1]}"

    def requests(self, route: str | None = None) -> list[Logged]:
        with self.lock:
            return [e for e in self.log if route is None or e.route == route]

    # -- answering

    def fault_for(self, method: str, path: str, body: bytes = b"") -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if (
                    fault.times > 0
                    and (fault.method in (None, method))
                    and re.search(fault.path, path)
                    and (not fault.request_contains or fault.request_contains.encode() in body)
                ):
                    fault.times -= 1
                    return fault
        return None

    def answer(
        self, method: str, raw_path: str, query: dict[str, list[str]], headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], Any, str | None]:
        path = raw_path.rstrip("/").lower()
        route, match = next(
            ((name, m) for name, pattern in _ROUTES if (m := pattern.match(path))), (None, None)
        )
        posts = route in ("graph", "run-command")
        if method not in ("GET", "POST") or (method == "POST") != posts:
            return 405, {}, _error("MethodNotAllowed", f"{method} is not served here"), route
        if route is None or match is None:
            return 404, {}, _error("NotFound", f"no route for {raw_path}"), route
        version = (query.get("api-version") or [None])[0]
        if version != API_VERSIONS[route]:
            return (
                400,
                {},
                _error("InvalidApiVersionParameter", f"api-version {version!r} is not served"),
                route,
            )
        if route == "metadata":
            return 200, {}, self._metadata(), route
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {}, _error("AuthenticationFailed", "no valid bearer token"), route
        groups = match.groupdict()
        sub = groups.get("sub")
        if sub and sub in self.forbidden:
            return 403, {}, _forbidden(raw_path), route
        if route == "graph":
            return self._graph(json.loads(body or b"{}"))
        if route == "run-command":
            return (*self._run_command(groups, json.loads(body or b"{}")), route)
        handler = getattr(self, "_" + route.replace("-", "_"))
        result = handler(groups, query, raw_path)
        if result is None:
            return 403, {}, _forbidden(raw_path), route
        if isinstance(result, tuple):
            return (*result, route)
        return 200, {}, result, route

    def _metadata(self) -> dict[str, Any]:
        return {
            "name": "ArmDouble",
            "resourceManager": self.url + "/",
            "authentication": {
                "loginEndpoint": "https://login.microsoftonline.com/",
                "audiences": ["https://management.azure.com/"],
                "tenant": "common",
            },
        }

    def _page(self, items: list[Any], query: dict[str, list[str]], raw_path: str) -> dict:
        start = int((query.get("$skiptoken") or ["0"])[0])
        end = start + self.page_size
        page: dict[str, Any] = {"value": items[start:end]}
        if end < len(items):
            params = {k: v[0] for k, v in query.items() if k != "$skiptoken"}
            params["$skiptoken"] = str(end)
            page["nextLink"] = f"{self.url}{raw_path}?{urlencode(params)}"
        return page

    def _subscription(self, groups: dict, query: dict, raw_path: str) -> Any:
        record = self.data.subscriptions.get(groups["sub"])
        if record is None:
            return (
                404,
                {},
                _error(
                    "SubscriptionNotFound",
                    f"The subscription '{groups['sub']}' could not be found.",
                ),
            )
        return record

    def _locations(self, groups: dict, query: dict, raw_path: str) -> Any:
        items = self.data.locations.get(groups["sub"])
        return None if items is None else {"value": items}

    def _providers(self, groups: dict, query: dict, raw_path: str) -> Any:
        items = self.data.providers.get(groups["sub"])
        return None if items is None else self._page(items, query, raw_path)

    def _skus(self, groups: dict, query: dict, raw_path: str) -> Any:
        wanted = re.match(r"location eq '([^']+)'", (query.get("$filter") or [""])[0])
        if not wanted:
            return 400, {}, _error("InvalidFilter", "expected $filter=location eq '<region>'")
        region = wanted.group(1).lower()
        items = [s for s in self.data.skus if region in [x.lower() for x in s.get("locations", [])]]
        return self._page(items, query, raw_path)

    def _usages_of(self, table: dict, groups: dict, query: dict, raw_path: str) -> Any:
        loc = groups["loc"]
        items = table.get((groups["sub"], loc), table.get((None, loc)))
        return None if items is None else {"value": items}

    def _compute_usages(self, groups: dict, query: dict, raw_path: str) -> Any:
        return self._usages_of(self.data.compute_usages, groups, query, raw_path)

    def _network_usages(self, groups: dict, query: dict, raw_path: str) -> Any:
        return self._usages_of(self.data.network_usages, groups, query, raw_path)

    def _storage_usages(self, groups: dict, query: dict, raw_path: str) -> Any:
        return self._usages_of(self.data.storage_usages, groups, query, raw_path)

    def _service_tags(self, groups: dict, query: dict, raw_path: str) -> Any:
        return self.data.service_tags

    def _vms(self, groups: dict, query: dict, raw_path: str) -> Any:
        if "$expand" in query and "$filter" not in query:
            return 400, {}, _error("InvalidParameter", "$expand needs a $filter on this list")
        if (query.get("statusOnly") or [""])[0] != "true":
            return 400, {}, _error("InvalidParameter", "the double serves statusOnly=true only")
        return self._page(self.data.status.get(groups["sub"], []), query, raw_path)

    def _role_assignments(self, groups: dict, query: dict, raw_path: str) -> Any:
        if self.data.role_assignments is None:
            return None
        sub = groups["sub"]
        wanted = re.match(r"assignedTo\('([^']+)'\)", (query.get("$filter") or [""])[0])
        principals = None
        if wanted:
            principal = wanted.group(1).lower()
            principals = {principal} | self.data.memberships.get(principal, set())
        items = []
        for record in self.data.role_assignments:
            p = record["properties"]
            scope = str(p.get("scope", "")).lower()
            reaches = (
                scope.startswith(f"/subscriptions/{sub}")
                or scope in ("", "/")
                or scope.startswith("/providers/microsoft.management/")
            )
            if reaches and (principals is None or str(p.get("principalId")).lower() in principals):
                items.append(record)
        return self._page(items, query, raw_path)

    def _role_definitions(self, groups: dict, query: dict, raw_path: str) -> Any:
        items = self.data.role_definitions
        return None if items is None else self._page(items, query, raw_path)

    def _deny_assignments(self, groups: dict, query: dict, raw_path: str) -> Any:
        items = self.data.deny_assignments
        return None if items is None else self._page(items, query, raw_path)

    def _metrics(self, groups: dict, query: dict, raw_path: str) -> Any:
        """Metrics - List for one VM: each metric asked for, with its series, or with none when
        the VM has no data (as Azure answers for a metric without values)."""
        wanted = [n for n in (query.get("metricnames") or [""])[0].split(",") if n]
        known = {
            str((m.get("name") or {}).get("value", "")).lower(): m
            for m in self.data.metrics.get(groups["resource"], [])
        }
        resource = raw_path.split("/providers/Microsoft.Insights", 1)[0]
        value = [
            known.get(name.lower())
            or {
                "id": f"{resource}/providers/Microsoft.Insights/metrics/{name}",
                "type": "Microsoft.Insights/metrics",
                "name": {"value": name, "localizedValue": name},
                "unit": "BytesPerSecond" if "Bytes" in name else "CountPerSecond",
                "timeseries": [],
                "errorCode": "Success",
            }
            for name in wanted
        ]
        return {
            "cost": 0,
            "timespan": (query.get("timespan") or [""])[0],
            "interval": (query.get("interval") or ["PT1H"])[0],
            "value": value,
            "namespace": "Microsoft.Compute/virtualMachines",
            "resourceregion": "eastus",
        }

    def _run_command(self, groups: dict, body: dict[str, Any]) -> tuple[int, dict, Any]:
        """POST runCommand: 202 with Azure-AsyncOperation and Location, the script run aside."""
        name = groups["vm"]
        guest = self.guests.get(name)
        if guest is None or not isinstance(body.get("script"), list):
            return 400, {}, _error("InvalidParameter", "no script, or a VM this double cannot run")
        if guest.status == 409:
            return (
                409,
                {},
                _error(
                    "OperationNotAllowed",
                    "The operation requires the VM to be running (or set to run).",
                ),
            )
        if guest.status == 403:
            return 403, {}, _forbidden(f"/virtualMachines/{name}/runCommand/action")
        op = str(uuid.uuid4())
        operation = Operation(name, script=body["script"], command_id=body.get("commandId", ""))
        with self.lock:
            self.operations[op] = operation
        if not guest.hang:
            threading.Thread(target=self._execute, args=(operation, guest), daemon=True).start()
        status = (
            f"{self.url}/subscriptions/{groups['sub']}/providers/Microsoft.Compute/locations/"
            f"eastus/operations/{op}?api-version={API_VERSIONS['compute-operation']}"
        )
        return 202, {"Azure-AsyncOperation": status, "Location": status + "&monitor=true"}, None

    def _execute(self, operation: Operation, guest: Guest) -> None:
        if guest.recorded is not None:
            operation.value = guest.recorded
        else:
            with tempfile.TemporaryDirectory() as work:
                script = os.path.join(work, "script.sh")
                with open(script, "w") as handle:
                    handle.write("\n".join(operation.script) + "\n")
                env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
                env["ASR_PREFLIGHT_PROBE_OPTIONS"] = guest.options
                if guest.path is not None:
                    env["PATH"] = guest.path
                done = subprocess.run(
                    ["/bin/sh", script], capture_output=True, text=True, timeout=300, env=env
                )
                stdout = done.stdout if guest.cut is None else done.stdout[-guest.cut :]
                operation.value = linux_value(_tail(stdout), _tail(done.stderr))
        operation.done.set()

    def _compute_operation(self, groups: dict, query: dict, raw_path: str) -> Any:
        with self.lock:
            operation = self.operations.get(groups["op"])
        if operation is None:
            return 404, {}, _error("NotFound", "no such operation")
        operation.polls += 1
        finished = operation.done.is_set() and operation.polls > 1  # one InProgress at least
        if (query.get("monitor") or [""])[0] == "true":  # the Location: the result itself
            return (200, {}, {"value": operation.value}) if finished else (202, {}, None)
        status = {"name": groups["op"], "startTime": "2026-12-04T00:00:00+00:00"}
        if not finished:
            return {**status, "status": "InProgress"}
        return {
            **status,
            "status": "Succeeded",
            "endTime": "2026-12-04T00:00:05+00:00",
            "properties": {"output": {"value": operation.value}},
        }

    def _blob_service(self, groups: dict, query: dict, raw_path: str) -> Any:
        record = self.data.blob_services.get(ids.key(groups["account"]))
        if record is None:
            return 404, {}, _error("ResourceNotFound", f"{raw_path} was not found")
        return record

    def _graph(self, body: dict[str, Any]) -> tuple[int, dict[str, str], Any, str]:
        headers: dict[str, str] = {}
        if self.throttle is not None:
            allowed, headers = self.throttle.take()
            if not allowed:
                return (
                    429,
                    headers,
                    _error(
                        "RateLimiting",
                        "Please provide below info when asking for support: quota exceeded",
                    ),
                    "graph",
                )
        options = body.get("options") or {}
        if options.get("resultFormat") != "objectArray" or options.get("$top") != 1000:
            return 400, headers, _error("BadRequest", f"unexpected options {options}"), "graph"
        query = body.get("query", "")
        table = query.split("|", 1)[0].strip().lower()
        arm_type = re.search(r"type =~ '([^']+)'", query)
        regions = re.search(r"location in~ \(([^)]*)\)", query)
        if not arm_type or table not in (
            "resources",
            "resourcecontainers",
            "recoveryservicesresources",
        ):
            return 400, headers, _error("InvalidQuery", f"the double cannot run {query!r}"), "graph"
        wanted_type = arm_type.group(1).lower()
        wanted_regions = (
            {r.strip().strip("'").lower() for r in regions.group(1).split(",")} if regions else None
        )
        # Subscriptions the caller may not read are left out silently, as Resource Graph does.
        subs = frozenset(s.lower() for s in body.get("subscriptions") or ()) - self.forbidden
        key = (wanted_type, subs, frozenset(wanted_regions or ()), wanted_regions is None)
        with self.lock:
            rows = self._graph_cache.get(key)
        if rows is None:  # a query's rows, sorted once and paged from then on
            rows = sorted(
                (
                    r
                    for r in self.data.resources
                    if r["type"] == wanted_type
                    and r["subscriptionId"] in subs
                    and (wanted_regions is None or str(r["location"]).lower() in wanted_regions)
                ),
                key=lambda r: r["id"].lower(),
            )
            with self.lock:
                self._graph_cache[key] = rows
        token = options.get("$skipToken")
        start = int(base64.b64decode(token).decode()) if token else 0
        page = rows[start : start + 1000]
        answer: dict[str, Any] = {
            "totalRecords": len(rows),
            "count": len(page),
            "data": page,
            "facets": [],
            "resultTruncated": "false",
        }
        if start + 1000 < len(rows):
            answer["$skipToken"] = base64.b64encode(str(start + 1000).encode()).decode()
        return 200, headers, answer, "graph"


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _forbidden(path: str) -> dict[str, Any]:
    return _error(
        "AuthorizationFailed",
        "The client 'alice@contoso.com' with object id 'aaaaaaaa-0000-4000-8000-000000000001' "
        f"does not have authorization to perform this read over scope '{path}' or the scope is "
        "invalid. If access was recently granted, please refresh your credentials.",
    )


class _Handler(BaseHTTPRequestHandler):
    double: ArmDouble
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        double = self.double
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        if double.latency:
            time.sleep(double.latency)
        fault = double.fault_for(self.command, parts.path.lower(), body)
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.reset:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault and fault.body is not None:
            self._send(200, {}, fault.body)
            return
        if fault and fault.status:
            status, headers, payload, route = (
                fault.status,
                fault.headers,
                _error("Injected", f"injected {fault.status}"),
                None,
            )
        else:
            status, headers, payload, route = double.answer(
                self.command, parts.path, query, self.headers, body
            )
        parsed = json.loads(body) if body and self.command == "POST" else None
        with double.lock:
            double.log.append(
                Logged(self.command, parts.path, query, status, route, parsed, time.monotonic())
            )
        if fault and fault.truncate and isinstance(payload, dict) and "data" in payload:
            rows = payload["data"][: len(payload["data"]) // 2]
            payload = {**payload, "data": rows, "count": len(rows), "resultTruncated": "true"}
            payload.pop("$skipToken", None)
        self._send(status, headers, b"" if payload is None else json.dumps(payload).encode())

    def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-ms-request-id", "00000000-0000-0000-0000-000000000000")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client gave up (a timeout test)

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_PATCH = _serve
    do_DELETE = _serve
