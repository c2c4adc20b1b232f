"""The HTTP pipeline every SDK client of a collection shares: read-only, retried, throttled.

Each client gets its own policy list (policies hold their `next`), built from azure-core's
policies plus three of ours:

- `ReadOnlyPolicy`, innermost, sees every request that would reach the wire (retries and
  redirects included) and refuses anything but GET and the Resource Graph query POST;
- `GraphQuotaPolicy` holds Resource Graph queries back while the per-user quota is spent
  (`x-ms-user-quota-remaining: 0` until `x-ms-user-quota-resets-after`);
- `CountingPolicy` counts requests by outcome, for the progress line and the benchmark.

Retries are azure-core's `RetryPolicy` (429, 408, 5xx, timeouts and dropped connections, with
exponential backoff that honours `Retry-After`). `ARMAutoResourceProviderRegistrationPolicy`, which
the SDK clients add by default, is left out on purpose: it answers a 409 by POSTing a provider
registration, and a preflight check must not change the subscription.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import (
    ContentDecodePolicy,
    CustomHookPolicy,
    HeadersPolicy,
    HTTPPolicy,
    ProxyPolicy,
    RedirectPolicy,
    RequestIdPolicy,
    RetryPolicy,
    SansIOHTTPPolicy,
    SensitiveHeaderCleanupPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy
from urllib3.util.retry import Retry

from asr_preflight import __version__

GRAPH_PATH = "/providers/microsoft.resourcegraph/resources"


class ReadOnlyViolation(RuntimeError):
    """A request that could change something was about to leave; it never does."""


def is_graph_query(method: str, url: str) -> bool:
    return method.upper() == "POST" and urlsplit(url).path.rstrip("/").lower().endswith(GRAPH_PATH)


_RUN_COMMAND = re.compile(
    r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.compute/"
    r"virtualmachines/[^/]+/runcommand$"
)


def is_run_command(method: str, url: str) -> bool:
    path = urlsplit(url).path.rstrip("/").lower()
    return method.upper() == "POST" and _RUN_COMMAND.match(path) is not None


class ReadOnlyPolicy(SansIOHTTPPolicy):
    """Only GET, and POST to the Resource Graph query endpoint. Secrets are never asked for:
    no `$expand=userData`, no `listKeys` (a POST anyway). The one exception, `run_command`, is
    the clients of `--guest run-command` after the user agreed: they may also POST the VM Run
    Command action, and nothing else."""

    def __init__(self, run_command: bool = False) -> None:
        super().__init__()
        self.run_command = run_command

    def on_request(self, request: PipelineRequest) -> None:
        http = request.http_request
        method = http.method.upper()
        if method == "GET":
            query = unquote(urlsplit(http.url).query).lower()
            if "userdata" in query:
                raise ReadOnlyViolation(f"refused GET {http.url}: it would return VM user data")
            return
        if is_graph_query(method, http.url):
            return
        if self.run_command and is_run_command(method, http.url):
            return
        raise ReadOnlyViolation(
            f"refused {method} {urlsplit(http.url).path}: asr-preflight only reads "
            "(GET, and POST to Resource Graph's query endpoint)"
        )


_DURATION = re.compile(r"^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$")


def parse_duration(value: str | None) -> float | None:
    """'00:00:05' (hh:mm:ss, as Resource Graph writes quota resets) in seconds."""
    match = _DURATION.match((value or "").strip())
    if not match:
        return None
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


class GraphQuota:
    """The Resource Graph per-user quota, as the last answers told it; shared by all threads."""

    def __init__(self, clock: Any = time.monotonic, sleep: Any = time.sleep) -> None:
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep
        self._not_before = 0.0
        self.waited = 0.0

    def wait(self) -> None:
        with self._lock:  # one query at a time goes through a spent quota's reset
            delay = self._not_before - self._clock()
            if delay > 0:
                self.waited += delay
                self._sleep(delay)

    def update(self, headers: Any) -> None:
        remaining = headers.get("x-ms-user-quota-remaining")
        resets = parse_duration(headers.get("x-ms-user-quota-resets-after"))
        try:
            spent = remaining is not None and int(remaining) <= 0
        except ValueError:
            spent = False
        if spent and resets is not None:
            with self._lock:
                self._not_before = max(self._not_before, self._clock() + resets)


class GraphQuotaPolicy(HTTPPolicy):
    def __init__(self, quota: GraphQuota) -> None:
        super().__init__()
        self._quota = quota

    def send(self, request: PipelineRequest) -> PipelineResponse:
        graph = is_graph_query(request.http_request.method, request.http_request.url)
        if graph:
            self._quota.wait()
        response = self.next.send(request)
        if graph:
            self._quota.update(response.http_response.headers)
        return response


class Counts:
    """Requests sent, by outcome; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_status: Counter[str] = Counter()
        self.graph = 0

    def add(self, status: str, graph: bool) -> None:
        with self._lock:
            self.by_status[status] += 1
            self.graph += graph

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


class CountingPolicy(HTTPPolicy):
    def __init__(self, counts: Counts) -> None:
        super().__init__()
        self._counts = counts

    def send(self, request: PipelineRequest) -> PipelineResponse:
        graph = is_graph_query(request.http_request.method, request.http_request.url)
        try:
            response = self.next.send(request)
        except Exception:
            self._counts.add("error", graph)
            raise
        self._counts.add(str(response.http_response.status_code), graph)
        return response


@dataclass(frozen=True)
class PipelineSettings:
    workers: int = 8
    retry_total: int = 6
    retry_backoff_factor: float = 0.8
    retry_backoff_max: float = 60.0
    connection_timeout: float = 20.0
    read_timeout: float = 120.0
    metrics_days: int = 7  # disk write metrics read per VM for churn; 0: none


def ca_bundle() -> str | bool:
    """REQUESTS_CA_BUNDLE, else SSL_CERT_FILE, else the default trust store."""
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        value = os.environ.get(name)
        if value:
            return value
    return True


def make_transport(settings: PipelineSettings) -> RequestsTransport:
    """One connection pool for every client, as large as the thread pool."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(
        pool_connections=4,
        pool_maxsize=max(settings.workers, 4),
        max_retries=Retry(total=False, redirect=False, raise_on_status=False),
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return RequestsTransport(
        session=session,
        session_owner=False,
        connection_verify=ca_bundle(),
        connection_timeout=settings.connection_timeout,
        read_timeout=settings.read_timeout,
    )


def make_policies(
    credential: Any,
    scope: str,
    settings: PipelineSettings,
    quota: GraphQuota,
    counts: Counts,
    run_command: bool = False,
) -> list[Any]:
    return [
        RequestIdPolicy(),
        HeadersPolicy(),
        UserAgentPolicy(sdk_moniker=f"asr-preflight/{__version__}"),
        ProxyPolicy(),
        ContentDecodePolicy(),
        RedirectPolicy(),
        RetryPolicy(
            retry_total=settings.retry_total,
            retry_backoff_factor=settings.retry_backoff_factor,
            retry_backoff_max=settings.retry_backoff_max,
        ),
        ARMChallengeAuthenticationPolicy(credential, scope),
        GraphQuotaPolicy(quota),
        CustomHookPolicy(),
        SensitiveHeaderCleanupPolicy(),
        ARMHttpLoggingPolicy(),
        CountingPolicy(counts),
        ReadOnlyPolicy(run_command),
    ]
