"""Azure clouds: where Resource Manager is and which token audience and authority it wants.

A custom endpoint (`--arm-endpoint`, for Azure Stack Hub or a test double) is asked for its own
metadata (`GET /metadata/endpoints`), as `az cloud register` does; when it has none, the named
cloud's audience and authority are used, so any credential that works there works here too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from asr_preflight.errors import InputError


@dataclass(frozen=True)
class Cloud:
    name: str
    arm_endpoint: str  # https://management.azure.com
    audience: str  # the token audience; the scope is audience + "/.default"
    authority: str  # login.microsoftonline.com

    @property
    def scope(self) -> str:
        return self.audience.rstrip("/") + "/.default"


CLOUDS: dict[str, Cloud] = {
    c.name.lower(): c
    for c in (
        Cloud(
            "AzureCloud",
            "https://management.azure.com",
            "https://management.azure.com",
            "login.microsoftonline.com",
        ),
        Cloud(
            "AzureUSGovernment",
            "https://management.usgovcloudapi.net",
            "https://management.usgovcloudapi.net",
            "login.microsoftonline.us",
        ),
        Cloud(
            "AzureChinaCloud",
            "https://management.chinacloudapi.cn",
            "https://management.chinacloudapi.cn",
            "login.chinacloudapi.cn",
        ),
    )
}
METADATA_PATH = "/metadata/endpoints?api-version=2022-09-01"


def named(name: str) -> Cloud:
    cloud = CLOUDS.get(name.replace(" ", "").lower())
    if cloud is None:
        choices = ", ".join(c.name for c in CLOUDS.values())
        raise InputError("--cloud", "", f"expected one of {choices}, found {name!r}")
    return cloud


def custom(base: Cloud, arm_endpoint: str, metadata: bytes | None) -> Cloud:
    """`base` at another Resource Manager endpoint; `metadata` is its /metadata/endpoints body."""
    parts = urlsplit(arm_endpoint)
    if parts.scheme != "https" or not parts.netloc:
        raise InputError(
            "--arm-endpoint",
            "",
            f"expected an https:// URL such as https://management.local, found {arm_endpoint!r}",
        )
    cloud = replace(base, name=base.name, arm_endpoint=arm_endpoint.rstrip("/"))
    try:
        doc = json.loads(metadata) if metadata else None
    except ValueError:
        doc = None
    auth = doc.get("authentication") if isinstance(doc, dict) else None
    if isinstance(auth, dict):
        audiences = auth.get("audiences")
        if isinstance(audiences, list) and audiences and isinstance(audiences[0], str):
            cloud = replace(cloud, audience=audiences[0])
        login = auth.get("loginEndpoint")
        if isinstance(login, str) and login:
            cloud = replace(cloud, authority=urlsplit(login).netloc or login.strip("/"))
    return cloud
