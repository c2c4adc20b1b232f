"""The endpoints and NSG service tags ASR needs, per cloud and region pair."""

from __future__ import annotations

from dataclasses import dataclass

from asr_preflight.knowledge.data import load
from asr_preflight.knowledge.regions import service_tag_suffix


@dataclass(frozen=True, slots=True)
class ServiceTag:
    name: str  # with the region filled in: Storage.EastUS
    purpose: str
    source: str


def required_service_tags(
    source: str, target: str, needs: frozenset[str] = frozenset()
) -> list[ServiceTag]:
    """Tags a source-region VM must reach on 443; `needs` adds 'ade' or 'auto_update' ones."""
    tags = []
    for row in load("endpoints")["service_tag"]:
        if row["required"] != "always" and row["required"] not in needs:
            continue
        name = row["name"].format(
            source=service_tag_suffix(source), target=service_tag_suffix(target)
        )
        tags.append(ServiceTag(name, row["purpose"], row["source"]))
    return tags
