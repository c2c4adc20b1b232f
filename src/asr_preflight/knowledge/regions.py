"""Azure regions and the ASR rules about which pairs may replicate."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from asr_preflight.knowledge.data import load


@dataclass(frozen=True, slots=True)
class Region:
    name: str
    display_name: str
    cloud: str
    geography: str
    paired_region: str
    availability_zones: bool
    retired: bool
    source: str


def _key(name: str) -> str:
    return name.lower().replace(" ", "").replace("-", "").replace("_", "")


@cache
def _regions() -> dict[str, Region]:
    table: dict[str, Region] = {}
    for row in load("regions")["region"]:
        region = Region(**{k: row[k] for k in Region.__dataclass_fields__})
        table[_key(region.name)] = region
        table[_key(region.display_name)] = region
    return table


def normalize(name: str | None) -> str | None:
    """ARM name of a region from either spelling (`East US` == `eastus`), None if unknown."""
    if not name:
        return None
    region = _regions().get(_key(name))
    return region.name if region else None


def get(name: str) -> Region | None:
    return _regions().get(_key(name))


def display(name: str) -> str:
    region = get(name)
    return region.display_name if region else name


def service_tag_suffix(name: str) -> str:
    """Service tags use the display name without spaces: Storage.EastUS, EventHub.CentralUS."""
    return display(name).replace(" ", "")


@dataclass(frozen=True, slots=True)
class PairRule:
    """One reason a source→target pair is refused or needs an allow-list request."""

    status: str  # "fail" or "warn"
    message: str
    source: str


def pair_rules(source: str, target: str) -> list[PairRule]:
    """What the current support matrix says about replicating from `source` to `target`."""
    rules = load("region_rules")
    if source == target:
        return zone_to_zone_rules(source)
    found: list[PairRule] = []
    for row in rules.get("source_only", []):
        if row["region"] == target:
            found.append(
                PairRule(
                    "fail",
                    f"{display(target)} can only be a source region, never a target",
                    row["source"],
                )
            )
        if row["region"] == source and target not in row["allowed_targets"]:
            allowed = ", ".join(display(r) for r in row["allowed_targets"])
            found.append(
                PairRule(
                    "fail",
                    f"from {display(source)} ASR replicates only to: {allowed}",
                    row["source"],
                )
            )
    for row in rules.get("target_only", []):
        if row["region"] == source:
            found.append(
                PairRule(
                    "fail",
                    f"{display(source)} can only be a target region, never a source",
                    row["source"],
                )
            )
    for row in rules.get("restricted", []):
        if row["region"] in (source, target):
            found.append(
                PairRule(
                    "warn",
                    f"{display(row['region'])} is reserved for in-country disaster recovery "
                    f"of {display(row['reserved_for'])}: both subscriptions must be allow-listed "
                    "through a support request",
                    row["source"],
                )
            )
    jio = {row["region"] for row in rules.get("jio", [])}
    if (source in jio) != (target in jio):
        found.append(
            PairRule(
                "fail",
                "JIO regions replicate only to other JIO regions",
                next(r["source"] for r in rules["jio"]),
            )
        )
    return found


def zone_to_zone_rules(region: str) -> list[PairRule]:
    """What the zone-to-zone page says about a region: offered or not (newest list), and what
    the older list said when it differs."""
    versions = sorted(load("region_rules")["zone_to_zone"], key=lambda v: v["as_of"], reverse=True)
    latest, older = versions[0], versions[1:]
    if region not in latest["regions"]:
        offered = ", ".join(display(r) for r in latest["regions"])
        return [
            PairRule(
                "fail",
                f"{display(region)} does not offer zone-to-zone disaster recovery; the regions "
                f"that do (as of {latest['as_of']}): {offered}",
                latest["source"],
            )
        ]
    found = []
    if region == "swedencentral":
        found.append(PairRule("warn", f"{display(region)}: {latest['note']}", latest["source"]))
    missing_before = [v for v in older if region not in v["regions"]]
    if missing_before:
        found.append(
            PairRule(
                "pass",
                f"{display(region)} offers zone-to-zone disaster recovery since the list of "
                f"{latest['as_of']} (not in the list of {missing_before[0]['as_of']})",
                latest["source"],
            )
        )
    return found


def historical_cluster_note(source: str, target: str) -> str | None:
    """Pre-2025 docs allowed pairs only within one geographic cluster: say if this one was out."""
    versions = load("region_rules").get("cluster_rule", [])
    if not versions:
        return None
    latest = max(versions, key=lambda v: v["as_of"])
    homes = [c for c in latest["cluster"] if source in c["regions"]]
    if not homes or any(target in c["regions"] for c in homes):
        return None
    return (
        f"under the support matrix of {latest['as_of']} ({latest['source']}) this pair crossed "
        f"geographic clusters (source in {homes[0]['name']}); current docs allow it"
    )


def vault_allowed(name: str) -> tuple[bool, str | None]:
    for row in load("region_rules").get("no_vault", []):
        if row["region"] == name:
            return False, row["source"]
    return True, None


def premium_target_blocked(name: str) -> str | None:
    """Source tag of the 2017 rule barring premium replication targets in this region, if any."""
    for row in load("region_rules").get("premium_target_blocked", []):
        if row["region"] == name:
            return row["source"]
    return None
