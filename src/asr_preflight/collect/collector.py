"""Read an estate live into a `Snapshot`: the same kinds and raw JSON shapes the offline loader
builds from `az`/REST/Resource Graph exports, so every rule reads it unchanged.

- Resource Graph (one query per kind, all subscriptions at once, 1,000 rows a page, paged with
  `$skipToken`): VMs, disks, NICs, NSGs, VNets, route tables, load balancers, NAT gateways,
  public IPs, storage accounts, Recovery Services vaults and resource groups.
- Resource Manager, per subscription: the subscription itself (which also proves access),
  its locations and providers, compute and network usages in the target region, storage usages
  in the source region, the VMs' run-time status (agent, power state; `statusOnly=true`, paged
  with `nextLink`) and, for `principal_id`, the role assignments that reach it
  (`assignedTo()`, its groups included), role definitions and deny assignments. Per region: the
  VM sizes (`Microsoft.Compute/skus`, `location eq`). Once: the service tags' address ranges.
  Per cache account: blob soft delete.

Every call that fails (after azure-core's retries) becomes a `CollectionError`, and the kind it
feeds is left out of `present`, so the rules that need it say `unknown` instead of passing.
A subscription that cannot be read leaves every per-subscription kind out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    DeserializationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from asr_preflight.collect.auth import CachedCredential
from asr_preflight.collect.clouds import Cloud
from asr_preflight.collect.pipeline import (
    Counts,
    GraphQuota,
    PipelineSettings,
    ReadOnlyViolation,
    make_policies,
    make_transport,
)
from asr_preflight.collect.queries import QUERIES, GraphQuery
from asr_preflight.errors import InputError
from asr_preflight.model import ids
from asr_preflight.snapshot import detect
from asr_preflight.snapshot.redact import scrub
from asr_preflight.snapshot.snapshot import CollectionError, MembershipBlock, Snapshot, UsageBlock

VM = "microsoft.compute/virtualmachines"
STORAGE = "microsoft.storage/storageaccounts"
BLOB_SERVICE = "microsoft.storage/storageaccounts/blobservices"
METRICS = "microsoft.insights/metrics"
ROLE_ASSIGNMENT = "microsoft.authorization/roleassignments"
ROLE_DEFINITION = "microsoft.authorization/roledefinitions"
DENY_ASSIGNMENT = "microsoft.authorization/denyassignments"
CACHE_MARKER = "asrcache"  # plan.existing.ASR_CACHE_MARKER: names ASR gives its cache accounts
GRAPH_PAGE = 1000  # Resource Graph's maximum $top
GRAPH_SUBSCRIPTIONS = 1000  # subscriptions per Resource Graph request

# Kinds that hold one answer per subscription: a subscription that cannot be read leaves them
# incomplete, so none of them is marked present.
_PER_SUBSCRIPTION = (
    *(q.kind for q in QUERIES),
    detect.SUBSCRIPTIONS,
    detect.LOCATIONS,
    detect.PROVIDERS,
    detect.USAGES,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
    DENY_ASSIGNMENT,
)

_decode = msgspec.json.Decoder().decode


@dataclass(frozen=True)
class Target:
    """What to read: which subscriptions, for which region pair and principal."""

    subscriptions: tuple[str, ...]
    source_region: str
    target_region: str
    principal_id: str | None = None
    cache_accounts: tuple[str, ...] = ()  # names or ids, besides those named *asrcache*
    tenant_id: str | None = None
    more_pairs: tuple[tuple[str, str], ...] = ()  # further (source, target) pairs, one read

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.source_region, *(s for s, _ in self.more_pairs))))

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.target_region, *(t for _, t in self.more_pairs))))


@dataclass
class Stats:
    """What a collection cost: requests by status, Resource Graph pages, time."""

    counts: Counts
    seconds: float = 0.0
    graph_pages: int = 0
    arm_pages: int = 0
    quota_waited: float = 0.0


@dataclass
class Result:
    snapshot: Snapshot
    stats: Stats


Progress = Callable[[int, int, str], None]  # (tasks done, tasks known, what finished)


CHURN_METRICS = (
    "OS Disk Write Bytes/sec",
    "OS Disk Write Operations/Sec",
    "Data Disk Write Bytes/sec",
    "Data Disk Write Operations/Sec",
)


class UnexpectedAnswer(Exception):
    """A 200 whose body is not the shape the API documents: a collection error, not a crash."""


_RETRIED = frozenset({408, 429, 500, 502, 503, 504})  # what the retry policy retries


def _objects(value: Any, what: str) -> list[dict[str, Any]]:
    """`value` as a list of JSON objects, or UnexpectedAnswer naming what was expected."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise UnexpectedAnswer(f"expected {what} as a list of objects, got {_shape(value)}")
    return value


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UnexpectedAnswer(f"expected {what} as an object, got {_shape(value)}")
    return value


def _shape(value: Any) -> str:
    if isinstance(value, list):
        kinds = sorted({type(v).__name__ for v in value if not isinstance(v, dict)})
        return f"a list holding {', '.join(kinds)}" if kinds else "a list"
    return "nothing" if value is None else f"a JSON {type(value).__name__}"


@dataclass
class _Part:
    """What one task read: records of one kind, in a stable place in the snapshot."""

    order: tuple[Any, ...]
    kind: str
    records: list[dict[str, Any]] = field(default_factory=list)
    location: str | None = None  # usages
    subscription_id: str | None = None


def collect(
    target: Target,
    credential: Any,
    cloud: Cloud,
    settings: PipelineSettings | None = None,
    progress: Progress | None = None,
) -> Result:
    """Read everything `target` needs; never raises for a failed call, only for no credential."""
    credential = (
        credential if isinstance(credential, CachedCredential) else CachedCredential(credential)
    )
    run = _Run(target, credential, cloud, settings or PipelineSettings(), progress)
    try:
        return run.run()
    finally:
        run.close()


class _Run:
    def __init__(
        self,
        target: Target,
        credential: Any,
        cloud: Cloud,
        settings: PipelineSettings,
        progress: Progress | None,
    ) -> None:
        self.target = target
        self.credential = credential
        self.cloud = cloud
        self.settings = settings
        self.progress = progress
        self.transport = make_transport(settings)
        self.quota = GraphQuota()
        self.stats = Stats(Counts())
        self.lock = threading.Lock()
        self.parts: list[_Part] = []
        self.errors: list[CollectionError] = []
        self.attempted: set[str] = set()
        self.failed: set[str] = set()
        self.tenants: dict[str, str] = {}
        self.done = 0
        self.known = 0

    def close(self) -> None:
        if self.transport.session is not None:
            self.transport.session.close()

    # -- clients -----------------------------------------------------------------------------

    def client(self, cls: Any, *args: Any) -> Any:
        return cls(
            self.credential,
            *args,
            base_url=self.cloud.arm_endpoint,
            credential_scopes=[self.cloud.scope],
            policies=make_policies(
                self.credential, self.cloud.scope, self.settings, self.quota, self.stats.counts
            ),
            transport=self.transport,
        )

    # -- the run -----------------------------------------------------------------------------

    def run(self) -> Result:
        started = time.monotonic()
        self._check_credential()
        subscriptions = list(dict.fromkeys(s.lower() for s in self.target.subscriptions))
        with ThreadPoolExecutor(max_workers=self.settings.workers) as pool:
            readable = [
                sub
                for sub, ok in zip(
                    subscriptions,
                    pool.map(self._subscription, subscriptions),
                    strict=True,
                )
                if ok
            ]
            if len(readable) < len(subscriptions):
                self.failed.update(_PER_SUBSCRIPTION)
            futures: list[Future[None]] = []
            storage: Future[None] | None = None
            vms: Future[None] | None = None
            if readable:
                for query in QUERIES:
                    future = self._submit(pool, self._graph, query, readable)
                    futures.append(future)
                    if query.kind == STORAGE:
                        storage = future
                    elif query.kind == VM:
                        vms = future
                for sub in readable:
                    futures += [self._submit(pool, task, sub) for task in self._per_subscription()]
                for region in dict.fromkeys((*self.target.sources, *self.target.targets)):
                    futures.append(self._submit(pool, self._skus, readable[0], region))
                futures.append(self._submit(pool, self._service_tags, readable[0]))
            if storage is not None:
                storage.result()
                futures += [
                    self._submit(pool, self._blob_service, account_id)
                    for account_id in self._cache_candidates()
                ]
            if vms is not None and self.settings.metrics_days:
                vms.result()
                futures += [
                    self._submit(pool, self._metrics, vm_id) for vm_id in self._source_vms()
                ]
            wait(futures)
            for future in futures:
                future.result()  # a ReadOnlyViolation or a bug is not a collection error
        self.stats.seconds = time.monotonic() - started
        self.stats.quota_waited = self.quota.waited
        return Result(self._snapshot(readable), self.stats)

    def _per_subscription(self) -> list[Callable[[str], None]]:
        tasks: list[Callable[[str], None]] = [
            self._locations,
            self._providers,
            self._compute_usages,
            self._network_usages,
            self._storage_usages,
            self._instance_views,
        ]
        if self.target.principal_id:
            tasks += [self._role_assignments, self._role_definitions, self._deny_assignments]
        return tasks

    def _submit(self, pool: ThreadPoolExecutor, fn: Callable[..., None], *args: Any) -> Future:
        with self.lock:
            self.known += 1
        return pool.submit(self._tracked, fn, *args)

    def _tracked(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        finally:
            with self.lock:
                self.done += 1
                done, known = self.done, self.known
            if self.progress:
                self.progress(done, known, _describe(fn, args))

    def _check_credential(self) -> None:
        try:
            self.credential.get_token(self.cloud.scope)
        except ClientAuthenticationError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(
                "azure credential",
                "",
                f"no token for {self.cloud.scope} ({first}); sign in with 'az login' "
                "(or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET, or use a "
                "managed identity), or check offline with --snapshot",
            ) from None

    # -- bookkeeping -------------------------------------------------------------------------

    def _guard(self, kind: str | None, scope: str, operation: str, fn: Callable[[], None]) -> bool:
        """Run one read; a failure becomes a collection error and leaves `kind` out."""
        if kind:
            with self.lock:
                self.attempted.add(kind)
        kinds = [kind] if kind else []
        try:
            fn()
            return True
        except ReadOnlyViolation:
            raise
        except HttpResponseError as exc:
            error = CollectionError(
                scope=scope,
                operation=operation,
                message=scrub(_message(exc)),
                status=exc.status_code,
                code=_code(exc),
                kinds=kinds,
                retries=self.settings.retry_total if exc.status_code in _RETRIED else 0,
            )
        except (ServiceRequestError, ServiceResponseError) as exc:
            error = CollectionError(
                scope=scope,
                operation=operation,
                message=scrub(
                    f"no answer after {self.settings.retry_total} retries: {_first_line(exc)}"
                ),
                code="Timeout" if "timed out" in str(exc).lower() else "ConnectionError",
                kinds=kinds,
                retries=self.settings.retry_total,
            )
        except (AzureError, UnexpectedAnswer, DeserializationError, msgspec.DecodeError) as exc:
            # a 200 whose body is not what the API documents: the SDK or we could not read it
            unexpected = isinstance(exc, UnexpectedAnswer | DeserializationError)
            error = CollectionError(
                scope=scope,
                operation=operation,
                message=scrub(_first_line(exc) if isinstance(exc, AzureError) else str(exc)),
                code="UnexpectedAnswer"
                if unexpected
                else "MalformedJSON"
                if isinstance(exc, msgspec.DecodeError)
                else type(exc).__name__,
                kinds=kinds,
            )
        with self.lock:
            self.errors.append(error)
            if kind:
                self.failed.add(kind)
        return False

    def _keep(self, part: _Part) -> None:
        with self.lock:
            self.parts.append(part)

    def _pages(self, call: Callable[..., Any]) -> list[list[dict[str, Any]]]:
        """Every page of a paged SDK operation as the raw JSON it came in (`value`)."""
        raw: list[bytes] = []

        def hook(response: Any) -> None:
            if response.http_response.status_code == 200:
                raw.append(response.http_response.body())

        try:
            for page in call(raw_response_hook=hook).by_page():
                for _ in page:
                    pass
        except (AttributeError, TypeError, KeyError, DeserializationError) as exc:
            # the SDK reads `value` and `nextLink` of each page before we see it
            raise UnexpectedAnswer(
                f'expected a page ({{"value": [...]}}), got what the SDK could not read: {exc}'
            ) from None
        with self.lock:
            self.stats.arm_pages += len(raw)
        return [
            _objects(_object(_decode(body), "a page").get("value"), "a page's `value`")
            for body in raw
        ]

    def _records(self, kind: str, call: Callable[..., Any]) -> list[dict[str, Any]]:
        return [record for page in self._pages(call) for record in page]

    # -- the reads ---------------------------------------------------------------------------

    def _subscription(self, sub: str) -> bool:
        from azure.mgmt.resource.subscriptions import SubscriptionClient

        def read() -> None:
            body = self.client(SubscriptionClient).subscriptions.get(
                sub, cls=lambda response, _model, _headers: response.http_response.body()
            )
            record = _object(_decode(body), "the subscription")
            if isinstance(record.get("tenantId"), str):
                self.tenants[sub] = record["tenantId"]
            self._keep(_Part((0, sub), detect.SUBSCRIPTIONS, [record]))

        return self._guard(
            detect.SUBSCRIPTIONS, f"/subscriptions/{sub}", "read the subscription", read
        )

    def _graph(self, query: GraphQuery, subscriptions: list[str]) -> None:
        from azure.mgmt.resourcegraph import ResourceGraphClient
        from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

        text = query.text(tuple(dict.fromkeys((*self.target.sources, *self.target.targets))))
        client = self.client(ResourceGraphClient)
        for chunk_start in range(0, len(subscriptions), GRAPH_SUBSCRIPTIONS):
            chunk = subscriptions[chunk_start : chunk_start + GRAPH_SUBSCRIPTIONS]
            part = _Part((1, query.kind, chunk_start), query.kind)

            def read(chunk: list[str] = chunk, part: _Part = part) -> None:
                skip: str | None = None
                while True:
                    options = QueryRequestOptions(
                        top=GRAPH_PAGE, skip_token=skip, result_format="objectArray"
                    )
                    body = client.resources(
                        QueryRequest(subscriptions=chunk, query=text, options=options),
                        cls=lambda response, _model, _headers: response.http_response.body(),
                    )
                    with self.lock:
                        self.stats.graph_pages += 1
                    doc = _object(_decode(body), "a Resource Graph answer")
                    part.records += _objects(doc.get("data"), "Resource Graph rows (`data`)")
                    skip = doc.get("$skipToken") or doc.get("skipToken")
                    if not skip:
                        if str(doc.get("resultTruncated")).lower() == "true":
                            raise UnexpectedAnswer(
                                f"Resource Graph cut the answer short (resultTruncated) without "
                                f"a $skipToken: {len(part.records)} of "
                                f"{doc.get('totalRecords', '?')} rows read"
                            )
                        return

            scope = (
                f"/subscriptions/{chunk[0]}"
                if len(chunk) == 1
                else f"{len(chunk)} subscriptions ({chunk[0]} …)"
            )
            self._guard(query.kind, scope, f"Resource Graph: {query.arm_type}", read)
            self._keep(part)  # rows of a query that failed part-way are kept, not marked present

    def _locations(self, sub: str) -> None:
        from azure.mgmt.resource.subscriptions import SubscriptionClient

        def read() -> None:
            records = self._records(
                detect.LOCATIONS,
                lambda **kw: self.client(SubscriptionClient).subscriptions.list_locations(
                    sub, **kw
                ),
            )
            self._keep(_Part((2, sub), detect.LOCATIONS, records))

        self._guard(detect.LOCATIONS, f"/subscriptions/{sub}", "list locations", read)

    def _providers(self, sub: str) -> None:
        from azure.mgmt.resource.resources import ResourceManagementClient

        def read() -> None:
            records = self._records(
                detect.PROVIDERS,
                lambda **kw: self.client(ResourceManagementClient, sub).providers.list(**kw),
            )
            self._keep(_Part((3, sub), detect.PROVIDERS, records))

        self._guard(detect.PROVIDERS, f"/subscriptions/{sub}", "list resource providers", read)

    def _usages(self, sub: str, order: int, location: str, what: str, call: Callable) -> None:
        def read() -> None:
            records = self._records(detect.USAGES, call)
            self._keep(
                _Part(
                    (4, sub, order, location),
                    detect.USAGES,
                    records,
                    location=location,
                    subscription_id=sub,
                )
            )

        scope = f"/subscriptions/{sub}/locations/{location}"
        self._guard(detect.USAGES, scope, f"list {what} usages", read)

    def _compute_usages(self, sub: str) -> None:
        from azure.mgmt.compute import ComputeManagementClient

        for region in self.target.targets:
            self._usages(
                sub,
                0,
                region,
                "compute",
                lambda region=region, **kw: self.client(ComputeManagementClient, sub).usage.list(
                    region, **kw
                ),
            )

    def _network_usages(self, sub: str) -> None:
        from azure.mgmt.network import NetworkManagementClient

        for region in self.target.targets:
            self._usages(
                sub,
                1,
                region,
                "network",
                lambda region=region, **kw: self.client(NetworkManagementClient, sub).usages.list(
                    region, **kw
                ),
            )

    def _storage_usages(self, sub: str) -> None:
        from azure.mgmt.storage import StorageManagementClient

        for region in self.target.sources:  # cache accounts are made in each source region
            self._usages(
                sub,
                2,
                region,
                "storage",
                lambda region=region, **kw: self.client(
                    StorageManagementClient, sub
                ).usages.list_by_location(region, **kw),
            )

    def _instance_views(self, sub: str) -> None:
        """Agent and power state of every VM: one paged list per subscription, not one call per
        VM. (`$expand=instanceView` on this list needs a `$filter`; `statusOnly=true` is the
        subscription-wide form.)"""
        from azure.mgmt.compute import ComputeManagementClient

        def read() -> None:
            records = self._records(
                VM,
                lambda **kw: self.client(ComputeManagementClient, sub).virtual_machines.list_all(
                    status_only="true", **kw
                ),
            )
            self._keep(_Part((5, sub), "instance_views", records))

        self._guard(None, f"/subscriptions/{sub}", "list VM instance views (agent status)", read)

    def _skus(self, sub: str, region: str) -> None:
        from azure.mgmt.compute import ComputeManagementClient

        def read() -> None:
            records = self._records(
                detect.SKUS,
                lambda **kw: self.client(ComputeManagementClient, sub).resource_skus.list(
                    filter=f"location eq '{region}'", **kw
                ),
            )
            vm_sizes = [r for r in records if r.get("resourceType") == "virtualMachines"]
            self._keep(_Part((6, region), detect.SKUS, vm_sizes))

        self._guard(
            detect.SKUS, f"/subscriptions/{sub}/locations/{region}", "list VM sizes (skus)", read
        )

    def _service_tags(self, sub: str) -> None:
        """The address ranges of every service tag (the same list in every region), so the NSG
        analysis can decide rules written with IP prefixes instead of tags."""
        from azure.mgmt.network import NetworkManagementClient

        region = self.target.source_region

        def read() -> None:
            body = self.client(NetworkManagementClient, sub).service_tags.list(
                region, cls=lambda response, _model, _headers: response.http_response.body()
            )
            doc = _object(_decode(body), "the service tags")
            # kept as the offline loader keeps an `az network list-service-tags` file
            self._keep(
                _Part((11,), detect.SERVICE_TAGS, [{"__kind__": detect.SERVICE_TAGS, **doc}])
            )

        self._guard(
            detect.SERVICE_TAGS,
            f"/subscriptions/{sub}/locations/{region}",
            "list service tags",
            read,
        )

    def _role_assignments(self, sub: str) -> None:
        from azure.mgmt.authorization import AuthorizationManagementClient

        principal = self.target.principal_id
        assert principal

        def read() -> None:
            records = self._records(
                ROLE_ASSIGNMENT,
                lambda **kw: self.client(
                    AuthorizationManagementClient, sub
                ).role_assignments.list_for_subscription(filter=f"assignedTo('{principal}')", **kw),
            )
            self._keep(_Part((7, sub), ROLE_ASSIGNMENT, records))

        self._guard(
            ROLE_ASSIGNMENT,
            f"/subscriptions/{sub}",
            f"list role assignments of {principal} and its groups",
            read,
        )

    def _role_definitions(self, sub: str) -> None:
        from azure.mgmt.authorization import AuthorizationManagementClient

        def read() -> None:
            records = self._records(
                ROLE_DEFINITION,
                lambda **kw: self.client(AuthorizationManagementClient, sub).role_definitions.list(
                    f"/subscriptions/{sub}", **kw
                ),
            )
            self._keep(_Part((8, sub), ROLE_DEFINITION, records))

        self._guard(ROLE_DEFINITION, f"/subscriptions/{sub}", "list role definitions", read)

    def _deny_assignments(self, sub: str) -> None:
        from azure.mgmt.authorization import AuthorizationManagementClient

        def read() -> None:
            records = self._records(
                DENY_ASSIGNMENT,
                lambda **kw: self.client(AuthorizationManagementClient, sub).deny_assignments.list(
                    **kw
                ),
            )
            self._keep(_Part((9, sub), DENY_ASSIGNMENT, records))

        self._guard(DENY_ASSIGNMENT, f"/subscriptions/{sub}", "list deny assignments", read)

    def _source_vms(self) -> list[str]:
        with self.lock:
            rows = [r for p in self.parts if p.kind == VM for r in p.records]
        regions = set(self.target.sources)
        return [
            r["id"]
            for r in rows
            if isinstance(r.get("id"), str) and str(r.get("location", "")).lower() in regions
        ]

    def _metrics(self, vm_id: str) -> None:
        """A week of one VM's hourly disk write metrics (churn): one call per VM, paced like
        every other. A VM whose metrics cannot be read is `unknown` for churn, alone."""
        from azure.mgmt.monitor import MonitorManagementClient

        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(days=self.settings.metrics_days)
        sub = ids.subscription(vm_id) or ""

        def read() -> None:
            body = self.client(MonitorManagementClient, sub).metrics.list(
                vm_id,
                timespan=f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}",
                interval="PT1H",
                metricnames=",".join(CHURN_METRICS),
                aggregation="Average,Maximum",
                filter="LUN eq '*'",
                cls=lambda response, _model, _headers: response.http_response.body(),
            )
            doc = _object(_decode(body), "a metrics answer")
            self._keep(_Part((12, ids.key(vm_id)), METRICS, _objects(doc.get("value"), "metrics")))

        self._guard(None, vm_id, "read disk write metrics (churn)", read)

    def _cache_candidates(self) -> list[str]:
        """Storage accounts whose blob soft delete matters: the chosen cache accounts, else those
        named like ASR's cache accounts (one call each, never one per VM)."""
        wanted = {ids.key(c) for c in self.target.cache_accounts}
        with self.lock:
            accounts = [r for p in self.parts if p.kind == STORAGE for r in p.records]
        return [
            a["id"]
            for a in accounts
            if isinstance(a.get("id"), str)
            and (
                CACHE_MARKER in str(a.get("name", "")).lower()
                or ids.key(a["id"]) in wanted
                or str(a.get("name", "")).lower() in wanted
            )
        ]

    def _blob_service(self, account_id: str) -> None:
        from azure.mgmt.storage import StorageManagementClient

        sub = ids.subscription(account_id) or ""
        group = ids.part(account_id, "resourceGroups") or ""
        name = ids.name(account_id)

        def read() -> None:
            body = self.client(StorageManagementClient, sub).blob_services.get_service_properties(
                group, name, cls=lambda response, _model, _headers: response.http_response.body()
            )
            record = _object(_decode(body), "the blob service properties")
            self._keep(_Part((10, ids.key(account_id)), BLOB_SERVICE, [record]))

        self._guard(BLOB_SERVICE, account_id, "read blob service properties (soft delete)", read)

    # -- the snapshot ------------------------------------------------------------------------

    def _snapshot(self, readable: list[str]) -> Snapshot:
        parts = sorted(self.parts, key=lambda p: p.order)
        records: dict[str, list[dict[str, Any]]] = {}
        usages: list[UsageBlock] = []
        views: list[dict[str, Any]] = []
        for part in parts:
            if part.kind == detect.USAGES:
                usages.append(UsageBlock(part.location or "", part.records, part.subscription_id))
            elif part.kind == "instance_views":
                views += part.records
            else:
                for record in part.records:
                    kind = detect.classify_record(record) or part.kind
                    records.setdefault(kind, []).append(record)
        # Run-time status only enriches the VMs Resource Graph returned: a VM known only from its
        # status would pass checks for want of its configuration.
        known = {ids.key(r.get("id")) for r in records.get(VM, [])}
        records.setdefault(VM, []).extend(v for v in views if ids.key(v.get("id")) in known)
        for kind in (ROLE_ASSIGNMENT, DENY_ASSIGNMENT):
            if kind in records:
                records[kind] = _unique(records[kind], lambda r: ids.key(r.get("id")))
        if ROLE_DEFINITION in records:  # built-in roles repeat in every subscription
            records[ROLE_DEFINITION] = _unique(
                records[ROLE_DEFINITION], lambda r: str(r.get("name") or r.get("id")).lower()
            )
        if not records.get(VM):
            records.pop(VM, None)
        present = self.attempted - self.failed
        if BLOB_SERVICE in present:
            present.discard(BLOB_SERVICE)  # the offline loader never marks it either
        snap = Snapshot(
            cloud=self.cloud.name,
            tenant_id=self.target.tenant_id or next(iter(self.tenants.values()), None),
            subscriptions=sorted(readable),
            collected_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            origin=f"live: {self.cloud.arm_endpoint}",
            collection_errors=sorted(self.errors, key=lambda e: (e.scope, e.operation)),
            records=records,
            usages=usages,
            present=sorted(present),
        )
        principal = self.target.principal_id
        if principal and ROLE_ASSIGNMENT in present:
            snap.memberships.append(_memberships(principal, records.get(ROLE_ASSIGNMENT, [])))
        return snap


def _memberships(principal: str, assignments: list[dict[str, Any]]) -> MembershipBlock:
    """`assignedTo()` returns the assignments of the principal and of every group it is in
    (transitively), so each group named there is one of its groups: the only memberships that
    matter for Azure RBAC, read without Microsoft Graph."""
    groups: dict[str, dict[str, Any]] = {}
    for assignment in assignments:
        p = assignment.get("properties") or assignment
        pid = str(p.get("principalId") or "").lower()
        if pid and pid != principal.lower() and p.get("principalType") == "Group":
            groups.setdefault(pid, {"id": pid, "source": "assignedTo"})
    return MembershipBlock(value=list(groups.values()), principal_id=principal.lower())


def _unique(records: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], str]) -> list:
    seen: dict[str, dict[str, Any]] = {}
    for record in records:
        seen.setdefault(key(record), record)
    return list(seen.values())


def _describe(fn: Callable[..., None], args: tuple[Any, ...]) -> str:
    words = [fn.__name__.strip("_").replace("_", " ")]
    for arg in args:
        if isinstance(arg, GraphQuery):
            words.append(arg.arm_type.split("/", 1)[-1])
        elif isinstance(arg, str):
            words.append(ids.name(arg) if "/" in arg else arg)
    return " ".join(words)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _code(exc: HttpResponseError) -> str | None:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    if code:
        return str(code)
    try:
        body = exc.response.json() if exc.response is not None else None
    except Exception:  # not JSON
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None


def _message(exc: HttpResponseError) -> str:
    error = getattr(exc, "error", None)
    message = getattr(error, "message", None)
    text = str(message) if message else _first_line(exc)
    status = exc.status_code
    return f"HTTP {status}: {text.strip().splitlines()[0]}" if status else text
