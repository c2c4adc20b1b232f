"""The endpoints and NSG service tags ASR needs, per cloud and region pair."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache

from asr_preflight.knowledge import regions
from asr_preflight.knowledge.data import load
from asr_preflight.knowledge.regions import service_tag_suffix

ALWAYS = "always"


@dataclass(frozen=True, slots=True)
class ServiceTag:
    name: str  # with the region filled in: Storage.EastUS
    purpose: str
    source: str


@dataclass(frozen=True, slots=True)
class Destination:
    """One place a protected VM must reach on TCP 443, as a service tag and as a host pattern."""

    name: str  # storage | identity | replication | monitoring | keyvault | automation
    service_tag: str  # region filled in: Storage.EastUS
    url: str | None  # the cloud's host pattern: *.blob.core.windows.net (None: not documented)
    need: str  # "always", or the optional need that asks for it ("ade", "auto_update")
    stage: int  # order in which registration meets it
    code: int | None  # ASR error when it is unreachable
    purpose: str
    service_endpoint: str | None  # e.g. Microsoft.Storage
    sources: tuple[str, ...]

    @property
    def required(self) -> bool:
        return self.need == ALWAYS

    def matches_host(self, host: str) -> bool:
        """Whether a host name the guest probed is this destination (`*` matches one label or
        more: contosocache.blob.core.windows.net is storage)."""
        return bool(self.url) and fnmatchcase(host.lower(), self.url.lower())  # type: ignore[union-attr]


def required_service_tags(
    source: str, target: str, needs: frozenset[str] = frozenset()
) -> list[ServiceTag]:
    """Tags a source-region VM must reach on 443; `needs` adds 'ade' or 'auto_update' ones."""
    tags = []
    for row in load("endpoints")["service_tag"]:
        if row["required"] != ALWAYS and row["required"] not in needs:
            continue
        tags.append(
            ServiceTag(_tag_name(row["name"], source, target), row["purpose"], row["source"])
        )
    return tags


def _tag_name(pattern: str, source: str, target: str) -> str:
    return pattern.format(source=service_tag_suffix(source), target=service_tag_suffix(target))


def cloud_of(region: str, fallback: str = "AzureCloud") -> str:
    """The cloud a region belongs to (AzureCloud, AzureUSGovernment, AzureChinaCloud …)."""
    known = regions.get(region)
    return known.cloud if known else fallback


@cache
def _destination_rows() -> dict[str, dict[str, object]]:
    return {row["name"]: row for row in load("endpoints")["destination"]}


def destinations(
    cloud: str, source: str, target: str, needs: frozenset[str] | None = None
) -> list[Destination]:
    """What a VM in `source` replicating to `target` must reach, in registration order.

    `needs` selects the optional destinations (None: the KB's defaults); pass
    `optional_needs()` to get every destination, as `explain network` does.
    """
    wanted = default_needs() if needs is None else needs
    table = load("endpoints")
    urls = {(row["cloud"], row["name"]): row for row in table["url"]}
    out = []
    for row in table["service_tag"]:
        need = row["required"]
        if need != ALWAYS and need not in wanted:
            continue
        name = row["destination"]
        extra = _destination_rows()[name]
        url = urls.get((cloud, name))
        out.append(
            Destination(
                name=name,
                service_tag=_tag_name(row["name"], source, target),
                url=url["pattern"] if url else None,
                need=need,
                stage=int(extra["stage"]),  # type: ignore[call-overload]
                code=extra.get("code"),  # type: ignore[arg-type]
                purpose=row["purpose"],
                service_endpoint=extra.get("service_endpoint"),  # type: ignore[arg-type]
                sources=tuple(dict.fromkeys((row["source"], *((url["source"],) if url else ())))),
            )
        )
    return sorted(out, key=lambda d: d.stage)


@cache
def destination_codes() -> tuple[int, ...]:
    """Every ASR error an unreachable destination predicts, in the order registration meets them."""
    rows = sorted(_destination_rows().values(), key=lambda r: int(r["stage"]))  # type: ignore[call-overload]
    return tuple(dict.fromkeys(int(r["code"]) for r in rows if r.get("code")))  # type: ignore[call-overload]


@cache
def optional_needs() -> frozenset[str]:
    return frozenset(row["name"] for row in load("endpoints")["need"])


@cache
def default_needs() -> frozenset[str]:
    return frozenset(row["name"] for row in load("endpoints")["need"] if row["default"])


def need_purpose(need: str) -> str:
    for row in load("endpoints")["need"]:
        if row["name"] == need:
            return row["purpose"]
    return ""
