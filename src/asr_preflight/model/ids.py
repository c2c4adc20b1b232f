"""ARM ids compare case-insensitively; these helpers read their parts."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1 << 18)  # the same NSG, subnet and group ids come up for every VM
def key(resource_id: str | None) -> str:
    """The comparison key of an ARM id: lower case, no trailing slash."""
    return (resource_id or "").rstrip("/").lower()


def part(resource_id: str | None, name: str) -> str | None:
    """The segment after `name` (e.g. 'resourceGroups'), case-insensitively."""
    parts = (resource_id or "").split("/")
    wanted = name.lower()
    for index in range(len(parts) - 1):
        if parts[index].lower() == wanted:
            return parts[index + 1]
    return None


@lru_cache(maxsize=1 << 16)
def subscription(resource_id: str | None) -> str | None:
    sub = part(resource_id, "subscriptions")
    return sub.lower() if sub else None


@lru_cache(maxsize=1 << 16)  # scopes repeat: each VM's group, subscription and target group
def resource_group_id(resource_id: str | None) -> str | None:
    sub, rg = part(resource_id, "subscriptions"), part(resource_id, "resourceGroups")
    return f"/subscriptions/{sub}/resourceGroups/{rg}".lower() if sub and rg else None


def name(resource_id: str | None) -> str:
    return (resource_id or "").rstrip("/").rsplit("/", 1)[-1]


def parent(resource_id: str | None, levels: int = 2) -> str:
    """The id `levels` segments up: a subnet's VNet, a blob service's storage account."""
    return "/".join(key(resource_id).split("/")[:-levels])
