"""Proxy discovery (ProxyInfo.conf, /etc/environment, variables) and the CONNECT test through a
real proxy on loopback, with and without authentication."""

from __future__ import annotations

import json

import pytest
from guest_support import ConnectProxy, layout, run_probe, write


@pytest.fixture
def proxy(servers) -> ConnectProxy:
    server = ConnectProxy()
    servers.append(server)
    return server


@pytest.fixture
def auth_proxy(servers) -> ConnectProxy:
    server = ConnectProxy(password="s3cret")
    servers.append(server)
    return server


def proxyinfo(root, port: int) -> None:
    write(
        root,
        "/usr/local/InMage/config/ProxyInfo.conf",
        f"[proxy]\nAddress=http://127.0.0.1\nPort={port}\n",
    )


def test_unauthenticated_proxy_from_proxyinfo_tunnels_verified_tls(tmp_path, ca, tls_server, proxy):
    layout(tmp_path, "debian", ca)
    proxyinfo(tmp_path, proxy.port)
    facts = run_probe(tmp_path, "--endpoint", f"localhost:{tls_server.port}")
    [endpoint] = facts["endpoints"]
    assert (endpoint["connected"], endpoint["tls_verified"], endpoint["error"]) == (
        True,
        True,
        None,
    )
    assert endpoint["via_proxy"] == f"http://127.0.0.1:{proxy.port}"
    assert proxy.requests[0].startswith(f"CONNECT localhost:{tls_server.port} HTTP/1.1".encode())
    assert facts["proxy"] | {"candidates": None} == {
        "source": "ProxyInfo.conf",
        "url": f"http://127.0.0.1:{proxy.port}",
        "authenticated": False,
        "auth_schemes": [],
        "credentials_configured": False,
        "no_proxy": None,
        "candidates": None,
    }


def test_authenticated_proxy_is_reported_407(tmp_path, ca, tls_server, auth_proxy):
    layout(tmp_path, "rhel", ca)
    write(tmp_path, "/etc/environment", f'https_proxy="http://127.0.0.1:{auth_proxy.port}"\n')
    facts = run_probe(tmp_path, "--endpoint", f"localhost:{tls_server.port}")
    [endpoint] = facts["endpoints"]
    assert (endpoint["connected"], endpoint["tls_verified"], endpoint["proxy_status"]) == (
        False,
        None,
        407,
    )
    assert "HTTP 407" in endpoint["error"]
    assert facts["proxy"]["source"] == "/etc/environment"
    assert (facts["proxy"]["authenticated"], facts["proxy"]["auth_schemes"]) == (True, ["Basic"])
    assert tls_server.connections == 0


def test_credentials_in_the_proxy_address_never_reach_the_output(tmp_path, ca, auth_proxy):
    layout(tmp_path, "suse", ca)
    environ = {"HTTPS_PROXY": f"http://user:s3cret@127.0.0.1:{auth_proxy.port}"}
    facts = run_probe(tmp_path, "--endpoint", "localhost:443", environ=environ)
    assert facts["proxy"]["source"] == "environment"
    assert facts["proxy"]["credentials_configured"] is True
    assert facts["proxy"]["authenticated"] is True  # the probe never sends credentials
    assert "s3cret" not in json.dumps(facts)
    assert b"Proxy-Authorization" not in auth_proxy.requests[0]


def test_proxyinfo_wins_over_etc_environment_and_variables(tmp_path, ca):
    layout(tmp_path, "debian", ca)
    proxyinfo(tmp_path, 3128)
    write(tmp_path, "/etc/environment", "export http_proxy=http://10.0.0.2:8080\n")
    facts = run_probe(
        tmp_path,
        "--endpoint",
        "127.0.0.1:9",
        "--timeout",
        "0.5",
        environ={"https_proxy": "http://10.0.0.3:8080"},
    )
    assert [c["url"] for c in facts["proxy"]["candidates"]] == [
        "http://127.0.0.1:3128",
        "http://10.0.0.2:8080",
        "http://10.0.0.3:8080",
    ]
    assert facts["proxy"]["source"] == "ProxyInfo.conf"


def test_no_proxy_sends_matching_hosts_direct(tmp_path, ca, tls_server, proxy):
    layout(tmp_path, "debian", ca)
    environ = {"https_proxy": f"http://127.0.0.1:{proxy.port}", "no_proxy": ".example,localhost"}
    facts = run_probe(tmp_path, "--endpoint", f"localhost:{tls_server.port}", environ=environ)
    [endpoint] = facts["endpoints"]
    assert endpoint["tls_verified"] is True and "via_proxy" not in endpoint
    assert proxy.requests == []


def test_revocation_hosts_through_the_proxy(tmp_path, ca, http_server, proxy):
    layout(tmp_path, "debian", ca)
    proxyinfo(tmp_path, proxy.port)
    facts = run_probe(
        tmp_path,
        "--endpoint",
        "127.0.0.1:9",
        "--revocation-host",
        f"127.0.0.1:{http_server.port}",
    )
    [crl] = facts["revocation"]
    assert (crl["reachable"], crl["http_status"]) == (True, 200)
    assert crl["via_proxy"] == f"http://127.0.0.1:{proxy.port}"
    assert any(
        r.startswith(f"HEAD http://127.0.0.1:{http_server.port}/ HTTP/1.1".encode())
        for r in proxy.requests
    )


def test_unreachable_proxy_is_a_plain_error(tmp_path, ca):
    layout(tmp_path, "debian", ca)
    facts = run_probe(tmp_path, "--endpoint", "localhost:443", "--proxy", "http://127.0.0.1:1")
    [endpoint] = facts["endpoints"]
    assert endpoint["connected"] is False
    assert endpoint["error"] == "proxy http://127.0.0.1:1: connection refused"
    assert facts["proxy"]["authenticated"] is None  # it never answered


def test_bad_proxyinfo_is_recorded_not_fatal(tmp_path, ca):
    layout(tmp_path, "debian", ca)
    write(tmp_path, "/usr/local/InMage/config/ProxyInfo.conf", "Address=nothing\n")
    facts = run_probe(tmp_path, "--endpoint", "127.0.0.1:9")
    assert facts["proxy"]["source"] == "none"
    assert [e["scope"] for e in facts["errors"]].count("proxy") == 1
