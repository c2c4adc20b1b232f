"""Keep secrets out of snapshots: custom data, protected settings, passwords, keys and SAS.

ARM never returns most of these on a GET, so a file is scanned once for the markers below and
only a file that holds one is walked record by record (at any depth, lists included). That keeps
import fast for the 10^5-record exports where there is nothing to remove.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Keys Azure uses for secrets in the payloads people export. They are dropped at import, so a
# snapshot can be shared in a support case without leaking anything.
SECRET_KEYS = frozenset(
    {
        "customData",
        "userData",
        "adminPassword",
        "protectedSettings",
        "protectedSettingsFromKeyVault",
        "additionalUnattendContent",
        "primaryKey",
        "secondaryKey",
        "keys",
        "connectionString",
        "connectionStrings",
        "sasToken",
        "accessToken",
        "refreshToken",
        "password",
        "secret",
        "clientSecret",
    }
)
# Record kinds whose `value` is the secret itself.
_SECRET_VALUES = frozenset({"microsoft.keyvault/vaults/secrets"})
_MARKERS = (*(f'"{key}"'.encode() for key in SECRET_KEYS), b"sig=", b"SharedAccessSignature")
_SAS = re.compile(r"([?&])sig=[^&\"'\s]*", re.IGNORECASE)


# Kinds whose payloads have no secret fields: a file holding only these is not scanned at all.
_NO_SECRETS = frozenset(
    {
        "microsoft.compute/disks",
        "microsoft.network/networkinterfaces",
        "microsoft.network/networksecuritygroups",
        "microsoft.network/virtualnetworks",
        "microsoft.network/routetables",
        "microsoft.resources/resourcegroups",
        "skus",
        "usages",
        "locations",
        "providers",
        "microsoft.authorization/roleassignments",
        "microsoft.authorization/roledefinitions",
    }
)


def may_hold_secrets(raw: bytes, kinds: Iterable[str] = ()) -> bool:
    """Whether a file's bytes mention a secret key or a SAS signature at all (files of only
    secret-free kinds are not scanned: 20 scans of a 25 MB NIC export add up)."""
    kinds = set(kinds)
    if kinds and kinds <= _NO_SECRETS:
        return False
    return any(marker in raw for marker in _MARKERS)


def redact(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record without secret keys at any depth, SAS signatures blanked in strings."""
    clean = _strip(record)
    if kind in _SECRET_VALUES and isinstance(clean, dict):
        clean.pop("value", None)
        if isinstance(clean.get("properties"), dict):
            clean["properties"].pop("value", None)
    return clean


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in SECRET_KEYS}
    if isinstance(node, list):
        return [_strip(item) for item in node]
    if isinstance(node, str) and "sig=" in node.lower():
        return _SAS.sub(r"\1sig=REDACTED", node)
    return node
