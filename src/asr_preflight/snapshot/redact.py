"""Keep secrets out of snapshots: custom data, protected settings, passwords and keys."""

from __future__ import annotations

from typing import Any

# Keys Azure uses for secrets in the payloads we read. They are dropped at import, so a snapshot
# can be shared in a support case without leaking anything.
_SECRET_KEYS = frozenset(
    {
        "customData",
        "userData",
        "adminPassword",
        "protectedSettings",
        "protectedSettingsFromKeyVault",
        "primaryKey",
        "secondaryKey",
        "keys",
        "connectionString",
        "sasToken",
        "accessToken",
    }
)
_NESTED = ("properties", "osProfile", "settings")


# Kinds whose payloads carry no secret fields: skipping them keeps import fast at 10^5 records.
_NO_SECRETS = frozenset(
    {
        "microsoft.compute/disks",
        "microsoft.network/networkinterfaces",
        "microsoft.network/networksecuritygroups",
        "microsoft.network/virtualnetworks",
        "microsoft.network/routetables",
        "skus",
        "usages",
        "locations",
        "providers",
        "microsoft.authorization/roleassignments",
        "microsoft.authorization/roledefinitions",
    }
)


def redact(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """Drop secret keys from the top of the record and the objects where Azure nests them."""
    if kind in _NO_SECRETS or not _has_secret(record):
        return record
    return _strip(record)


def _has_secret(record: dict[str, Any]) -> bool:
    if not _SECRET_KEYS.isdisjoint(record):
        return True
    for key in _NESTED:
        inner = record.get(key)
        if isinstance(inner, dict) and _has_secret(inner):
            return True
    return False


def _strip(record: dict[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in record.items() if k not in _SECRET_KEYS}
    for key in _NESTED:
        inner = clean.get(key)
        if isinstance(inner, dict):
            clean[key] = _strip(inner)
    return clean
