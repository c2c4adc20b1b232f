"""Checks shared by the commands' options."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from asr_preflight.errors import InputError
from asr_preflight.knowledge import regions


def region_option(name: str, option: str, known_here: Collection[str] = ()) -> str:
    """The ARM name of a region given on the command line; `known_here` adds regions the
    snapshot itself uses, so a region newer than the knowledge base still works."""
    normalized = regions.normalize(name) or (name.lower() if name.lower() in known_here else None)
    if normalized is None:
        raise InputError(
            option,
            "",
            f"expected an Azure region name such as eastus or 'Central US', found {name!r}",
        )
    return normalized


ZONES = ("1", "2", "3")


def zone_option(zone: str | None, source: str, target: str) -> str | None:
    """The target zone; zone to zone (one region) cannot go without one."""
    if zone is None:
        if source == target:
            raise InputError(
                "--target-zone",
                "",
                f"expected the zone to fail over to (1, 2 or 3): source and target are both "
                f"{regions.display(source)}, which makes this zone to zone",
            )
        return None
    if zone not in ZONES:
        raise InputError("--target-zone", "", f"expected 1, 2 or 3, found {zone!r}")
    return zone


_OBJECT_ID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
HOW_TO_FIND = (
    "print it with: az ad signed-in-user show --query id -o tsv (yourself), "
    "az ad user show --id <user@domain> --query id -o tsv (a user), "
    "az ad sp show --id <app id> --query id -o tsv (a service principal or managed identity)"
)


def object_id_option(value: str | None, option: str) -> str | None:
    """A Microsoft Entra object id: RBAC assignments name principals by it, never by name."""
    if value is None or _OBJECT_ID.match(value):
        return value.lower() if value else None
    raise InputError(option, "", f"expected an object id (a GUID), found {value!r}; {HOW_TO_FIND}")


def object_ids_option(values: Sequence[str], option: str) -> tuple[str, ...]:
    return tuple(object_id_option(v, option) or "" for v in values)
