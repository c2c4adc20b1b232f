"""Keep secrets out of everything the tool writes, by name and by value.

By name: keys that hold a secret wherever they sit (custom data, passwords, account keys, SAS
tokens, extension protected settings, a Key Vault secret's value, app settings' values). By
value: strings that carry a secret whatever their key (a storage connection string's
AccountKey, a SAS signature, a bearer token or JWT, a password in a URL's userinfo or on a command
line). What is removed is replaced by a marker and counted, never echoed.

Where it applies: the records of a snapshot when it is written (`write_snapshot`), and the few
typed fields that carry free text from the input into reports (extension settings, a guest's
proxy URL, collection error messages, input problems, error lines). The checks themselves never
print a raw record, so a check reads its input without a redaction pass: that pass cost a third of
the load time at 10,000 VMs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from asr_preflight.secrets import REDACTED, scrub, scrub_counted

__all__ = ["REDACTED", "Redactor", "is_secret_name", "scrub"]


# Keys whose value is a secret wherever they appear (compared lower-cased).
SECRET_KEYS = frozenset(
    k.lower()
    for k in (
        "customData",
        "userData",
        "adminPassword",
        "protectedSettings",
        "protectedSettingsFromKeyVault",
        "additionalUnattendContent",
        "primaryKey",
        "secondaryKey",
        "connectionString",
        "connectionStrings",
        "sasToken",
        "accessToken",
        "refreshToken",
        "password",
        "secret",
        "clientSecret",
        "storageAccountKey",
        "storageAccessKey",
        "accountKey",
        "sharedKey",
        "privateKey",
        "apiKey",
        "sasUri",
        "sasUrl",
    )
)
# Setting names that say they hold a secret (extension settings, app settings, parameters):
# '…Password', 'db_pwd', 'SECRET_TOKEN'. ADE's 'KeyVaultURL' or 'KeyEncryptionKeyURL' are not.
_SECRET_NAME = re.compile(
    r"(password|passwd|pwd|secret|token|credentials?|accountkey|accesskey|apikey|sastoken|"
    r"connectionstring|privatekey)$",
    re.IGNORECASE,
)
# Kinds whose values are all secrets: a Key Vault secret, a web app's settings.
_SECRET_VALUE_KINDS = frozenset({"microsoft.keyvault/vaults/secrets", "microsoft.web/sites/config"})


def is_secret_name(name: str) -> bool:
    return name.lower() in SECRET_KEYS or bool(_SECRET_NAME.search(name))


@dataclass
class Redactor:
    """Walks JSON values, dropping secrets and counting what it dropped."""

    removed: int = 0

    def record(self, kind: str, node: Any) -> Any:
        if kind in _SECRET_VALUE_KINDS:
            return self._all_values(node)
        return self.value(node)

    def value(self, node: Any) -> Any:
        if isinstance(node, dict):
            if ("keyName" in node and node.get("value")) or (
                _is_name_value(node) and is_secret_name(node["name"])
            ):  # storage account keys (listKeys); settings as {"name": "DB_PASSWORD", "value"}
                self.removed += 1
                node = {**node, "value": REDACTED}
            out = {}
            for key, value in node.items():
                clean = self._entry(key, value)
                if clean is not _DROP:
                    out[key] = clean
            return out
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if isinstance(node, str):
            clean, count = scrub_counted(node)
            self.removed += count
            return clean
        return node

    def _entry(self, key: str, value: Any) -> Any:
        if value is None or value == "" or value == {} or value == []:
            return value  # nothing there: keep the shape ("not set" stays visible)
        if is_secret_name(key) and not isinstance(value, bool):
            self.removed += 1
            # a string keeps its place, marked; an object of secrets (protectedSettings) goes
            return REDACTED if isinstance(value, str) else _DROP
        return self.value(value)

    def _all_values(self, node: Any) -> Any:
        """A Key Vault secret or app settings: keep ids, names and types, drop the values."""
        if not isinstance(node, dict):
            return self.value(node)
        keep = {"id", "name", "type", "location", "kind", "tags", "attributes", "contentType"}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in keep:
                out[key] = self.value(value)
            elif key == "properties" and isinstance(value, dict):
                out[key] = {k: REDACTED for k in value}
                self.removed += len(value)
            else:
                out[key] = REDACTED
                self.removed += 1
        return out


_DROP = object()


def _is_name_value(node: dict[str, Any]) -> bool:
    return isinstance(node.get("name"), str) and "value" in node and node["value"] not in (None, "")
