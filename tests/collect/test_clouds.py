"""Clouds, custom endpoints, tenants and CA bundles."""

from __future__ import annotations

import time

import pytest

from asr_preflight.collect.auth import TenantCredential, default_credential, resolve_cloud
from asr_preflight.collect.clouds import CLOUDS, custom, named
from asr_preflight.collect.pipeline import ca_bundle
from asr_preflight.errors import InputError


def test_each_cloud_has_its_endpoint_audience_and_authority():
    assert named("AzureCloud").scope == "https://management.azure.com/.default"
    gov = named("AzureUSGovernment")
    assert gov.arm_endpoint == "https://management.usgovcloudapi.net"
    assert gov.authority == "login.microsoftonline.us"
    china = named("azurechinacloud")
    assert china.scope == "https://management.chinacloudapi.cn/.default"
    assert china.authority == "login.chinacloudapi.cn"
    assert len(CLOUDS) == 3
    with pytest.raises(InputError, match="expected one of AzureCloud"):
        named("AzureGermanCloud")


def test_a_custom_endpoint_takes_its_published_audience_and_login():
    metadata = (
        b'{"authentication": {"loginEndpoint": "https://login.stack.local/adfs/",'
        b' "audiences": ["https://management.stack.local/abc"]}}'
    )
    cloud = custom(named("AzureCloud"), "https://management.stack.local/", metadata)
    assert cloud.arm_endpoint == "https://management.stack.local"
    assert cloud.scope == "https://management.stack.local/abc/.default"
    assert cloud.authority == "login.stack.local"


def test_a_custom_endpoint_without_metadata_keeps_the_clouds_audience():
    cloud = custom(named("AzureUSGovernment"), "https://127.0.0.1:8443", None)
    assert cloud.scope == "https://management.usgovcloudapi.net/.default"
    assert cloud.arm_endpoint == "https://127.0.0.1:8443"
    with pytest.raises(InputError, match="https://"):
        custom(named("AzureCloud"), "http://management.local", None)


def test_resolve_cloud_reads_the_doubles_metadata(double):
    cloud = resolve_cloud(named("AzureCloud"), double.url)
    assert cloud.arm_endpoint == double.url
    assert cloud.scope == "https://management.azure.com/.default"
    assert [e.route for e in double.requests()] == ["metadata"]
    assert resolve_cloud(named("AzureCloud"), None) == named("AzureCloud")


def test_tenant_is_asked_for_every_token(credential):
    wrapped = TenantCredential(credential, "72f988bf-0000-4000-8000-00000000c0de")
    calls = []
    credential.get_token = lambda *scopes, **kw: calls.append((scopes, kw))  # type: ignore
    wrapped.get_token("https://management.azure.com/.default")
    assert calls == [
        (
            ("https://management.azure.com/.default",),
            {"tenant_id": "72f988bf-0000-4000-8000-00000000c0de"},
        )
    ]


def test_default_credential_is_built_for_the_cloud_and_tenant():
    plain = default_credential(named("AzureUSGovernment"))
    assert type(plain).__name__ == "DefaultAzureCredential"
    scoped = default_credential(named("AzureCloud"), "72f988bf-0000-4000-8000-00000000c0de")
    assert isinstance(scoped, TenantCredential)


def test_ca_bundle_settings_are_honoured(monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    assert ca_bundle() is True
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/b.pem")
    assert ca_bundle() == "/etc/ssl/b.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/a.pem")
    assert ca_bundle() == "/etc/ssl/a.pem"


def test_an_untrusted_endpoint_is_a_collection_error_not_a_crash(double, monkeypatch, credential):
    """Without the test CA, TLS verification fails: every read is a collection error."""
    from asr_preflight.collect import PipelineSettings, Target, collect

    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    cloud = custom(named("AzureCloud"), double.url, None)
    result = collect(
        Target(("11111111-1111-4111-8111-111111111111",), "eastus", "centralus"),
        credential,
        cloud,
        PipelineSettings(retry_total=1, retry_backoff_factor=0.01),
    )
    assert result.snapshot.collection_errors
    assert result.snapshot.present == []
    assert double.requests() == []


def test_tokens_are_cached_until_shortly_before_they_expire(credential):
    from azure.core.credentials import AccessToken

    from asr_preflight.collect.auth import CachedCredential

    expiries = iter([time.time() + 100, time.time() + 3600])
    calls = []

    def get_token(*scopes, **kwargs):
        calls.append(scopes)
        return AccessToken("t", int(next(expiries)))

    credential.get_token = get_token  # type: ignore[method-assign]
    cached = CachedCredential(credential, margin=300)
    cached.get_token("a/.default")  # expires within the margin: not kept
    cached.get_token("a/.default")
    cached.get_token("a/.default")
    assert calls == [("a/.default",), ("a/.default",)]
