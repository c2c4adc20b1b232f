"""Credentials: whatever `DefaultAzureCredential` finds (environment service principal, workload
identity, managed identity, `az login`, Azure PowerShell, azd), for one cloud and optionally one
tenant; and the cloud's metadata when Resource Manager is somewhere else (`--arm-endpoint`)."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from asr_preflight.collect.clouds import METADATA_PATH, Cloud, custom
from asr_preflight.collect.pipeline import ca_bundle


class TenantCredential:
    """Asks every token of one tenant (`--tenant`), whichever credential in the chain answers."""

    def __init__(self, inner: Any, tenant_id: str) -> None:
        self.inner = inner
        self.tenant_id = tenant_id

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        kwargs.setdefault("tenant_id", self.tenant_id)
        return self.inner.get_token(*scopes, **kwargs)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close:
            close()


class CachedCredential:
    """One token per scope and tenant until shortly before it expires, shared by every client and
    thread: `az login`'s credential runs `az account get-access-token` for each token it is asked
    for, and a collection builds dozens of clients."""

    def __init__(self, inner: Any, margin: float = 300.0) -> None:
        self.inner = inner
        self.margin = margin
        self._lock = threading.Lock()
        self._tokens: dict[tuple[Any, ...], Any] = {}

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        key = (scopes, kwargs.get("tenant_id"), kwargs.get("claims"))
        with self._lock:  # one sign-in at a time; the others wait for its token
            token = self._tokens.get(key)
            if token is None or token.expires_on - self.margin <= time.time():
                token = self._tokens[key] = self.inner.get_token(*scopes, **kwargs)
            return token

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close:
            close()


def default_credential(cloud: Cloud, tenant_id: str | None = None) -> Any:
    from azure.identity import DefaultAzureCredential

    if not os.environ.get("ASR_PREFLIGHT_DEBUG"):
        # the chain logs every credential it tried as a warning; the one-line error says it all
        logging.getLogger("azure.identity").setLevel(logging.ERROR)
    options: dict[str, Any] = {"authority": cloud.authority}
    if tenant_id:
        options.update(
            additionally_allowed_tenants=[tenant_id],
            workload_identity_tenant_id=tenant_id,
            shared_cache_tenant_id=tenant_id,
            visual_studio_code_tenant_id=tenant_id,
            interactive_browser_tenant_id=tenant_id,
            broker_tenant_id=tenant_id,
        )
    credential = DefaultAzureCredential(**options)
    return TenantCredential(credential, tenant_id) if tenant_id else credential


def resolve_cloud(base: Cloud, arm_endpoint: str | None, timeout: float = 10.0) -> Cloud:
    """`base`, or `base` moved to `arm_endpoint` with that endpoint's own audience and authority
    when it publishes them (Azure Stack Hub does; a plain GET, no token)."""
    if not arm_endpoint:
        return base
    custom(base, arm_endpoint, None)  # refuse a malformed URL before any request
    import requests

    metadata = None
    try:
        response = requests.get(
            arm_endpoint.rstrip("/") + METADATA_PATH, timeout=timeout, verify=ca_bundle()
        )
        if response.status_code == 200:
            metadata = response.content
    except requests.RequestException:
        metadata = None  # the named cloud's audience will do
    return custom(base, arm_endpoint, metadata)
