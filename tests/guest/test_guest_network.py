"""Endpoints, revocation hosts and the clock: real sockets on loopback, bounded in time."""

from __future__ import annotations

import socket
import time

import pytest
from guest_support import HttpServer, SilentServer, TlsServer, layout, run_probe

from asr_preflight.guest import probe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_port_is_not_connected(tmp_path, ca):
    layout(tmp_path, "debian", ca)
    port = _free_port()
    [endpoint] = run_probe(tmp_path, "--endpoint", f"127.0.0.1:{port}")["endpoints"]
    assert (endpoint["resolved"], endpoint["connected"], endpoint["tls_verified"]) == (
        True,
        False,
        None,
    )
    assert endpoint["error"] == "connection refused"


def test_unresolvable_name_is_a_plain_dns_error(tmp_path, ca):
    layout(tmp_path, "debian", ca)
    [endpoint] = run_probe(tmp_path, "--endpoint", "no-such-host.invalid:443")["endpoints"]
    assert (endpoint["resolved"], endpoint["connected"]) == (False, False)
    assert endpoint["error"].startswith("DNS: ")


def test_a_server_that_never_answers_times_out(tmp_path, ca, servers):
    layout(tmp_path, "debian", ca)
    server = SilentServer()
    servers.append(server)
    started = time.monotonic()
    facts = run_probe(tmp_path, "--endpoint", f"127.0.0.1:{server.port}", "--timeout", "0.5")
    assert time.monotonic() - started < 4
    [endpoint] = facts["endpoints"]
    assert (endpoint["connected"], endpoint["tls_verified"]) == (True, None)
    assert endpoint["error"] == "TLS handshake failed: timed out"


def test_the_overall_deadline_bounds_the_run(tmp_path, ca, servers):
    layout(tmp_path, "debian", ca)
    silent = [SilentServer() for _ in range(4)]
    servers.extend(silent)
    args = [a for s in silent for a in ("--endpoint", f"127.0.0.1:{s.port}")]
    started = time.monotonic()
    facts = run_probe(tmp_path, *args, "--timeout", "5", "--deadline", "1")
    assert time.monotonic() - started < 4
    assert len(facts["endpoints"]) == 4
    for endpoint in facts["endpoints"]:
        assert endpoint["tls_verified"] is None and endpoint["error"]


def test_clock_skew_from_the_date_header(tmp_path, ca, servers):
    layout(tmp_path, "debian", ca)
    server = TlsServer(ca, skew=120)  # its clock is two minutes behind ours
    servers.append(server)
    clock = run_probe(tmp_path, "--endpoint", f"localhost:{server.port}")["clock"]
    assert clock["source"] == "localhost"
    assert 117 <= clock["skew_seconds"] <= 123


def test_no_date_anywhere_says_so(tmp_path, ca):
    layout(tmp_path, "debian", ca)
    clock = run_probe(tmp_path, "--endpoint", f"127.0.0.1:{_free_port()}")["clock"]
    assert clock["skew_seconds"] is None and "Date" in clock["error"]


def test_revocation_hosts_on_port_80_style_http(tmp_path, ca, http_server):
    layout(tmp_path, "debian", ca)
    refused = _free_port()
    facts = run_probe(
        tmp_path,
        "--endpoint",
        f"127.0.0.1:{refused}",
        "--revocation-host",
        f"127.0.0.1:{http_server.port}",
        "--revocation-host",
        f"127.0.0.1:{refused}",
    )
    ok, down = facts["revocation"]
    assert (ok["reachable"], ok["http_status"], ok["error"]) == (True, 200, None)
    assert http_server.requests[0].startswith(b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    assert (down["reachable"], down["connected"], down["error"]) == (
        False,
        False,
        "connection refused",
    )
    # the CRL host's Date header sets the clock when no endpoint gave one
    assert facts["clock"]["source"] == "127.0.0.1"


def test_default_revocation_list_is_the_knowledge_base(monkeypatch):
    seen = []
    monkeypatch.setattr(
        probe, "probe_revocation", lambda host, port, proxy, deadline: seen.append((host, port))
    )
    monkeypatch.setattr(probe, "imds", lambda *a: {})
    args = probe.parse_args(["--endpoint", "127.0.0.1:9", "--no-imds", "--root", "/nonexistent"])
    probe.collect(args, {})
    assert seen == [(h, 80) for h in probe.REVOCATION_HOSTS]


@pytest.mark.parametrize(
    ("cloud", "login", "blob"),
    [
        ("AzureCloud", "login.microsoftonline.com", "mycache.blob.core.windows.net"),
        ("AzureUSGovernment", "login.microsoftonline.us", "mycache.blob.core.usgovcloudapi.net"),
        ("AzureChinaCloud", "login.chinacloudapi.cn", "mycache.blob.core.chinacloudapi.cn"),
    ],
)
def test_endpoint_plan_per_cloud(cloud, login, blob):
    planned, skipped = probe.endpoint_plan(cloud, "MyCache", [])
    assert [(e["name"], e["host"], e["port"]) for e in planned] == [
        ("storage", blob, 443),
        ("identity", login, 443),
    ]
    assert [s["name"] for s in skipped] == ["replication", "monitoring"]
    assert all(s["pattern"].startswith("*.") and s["reason"] for s in skipped)


def test_without_a_cache_account_storage_is_not_probed():
    planned, skipped = probe.endpoint_plan("AzureCloud", None, [])
    assert [e["host"] for e in planned] == ["login.microsoftonline.com"]
    assert "--cache-account" in skipped[0]["reason"]


def test_endpoint_overrides_replace_the_list():
    planned, skipped = probe.endpoint_plan("AzureCloud", "c", ["a.test:8443", "[::1]:443", "b"])
    assert [(e["host"], e["port"]) for e in planned] == [("a.test", 8443), ("::1", 443), ("b", 443)]
    assert skipped == []


def test_cloud_from_the_instance_metadata(tmp_path, ca, servers):
    """IMDS (here a loopback double) names the VM, its region and its cloud."""

    class Imds(HttpServer):
        def respond(self, conn):
            self.requests.append(conn.recv(4096))
            body = (
                b'{"compute": {"vmId": "0d1f-42", "name": "vm-gov-01", "location": "usgovvirginia",'
                b' "azEnvironment": "AzureUSGovernmentCloud", "subscriptionId": "s",'
                b' "resourceGroupName": "rg"}}'
            )
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )

    imds = Imds()
    servers.append(imds)
    layout(tmp_path, "debian", ca)
    args = probe.parse_args(
        ["--root", str(tmp_path), "--no-revocation", "--imds", f"127.0.0.1:{imds.port}"]
    )
    facts = probe.collect(args, {})
    assert b"Metadata: true" in imds.requests[0]
    assert facts["vm"] | {"hostname": None} == {
        "vm_id": "0d1f-42",
        "name": "vm-gov-01",
        "hostname": None,
        "source": "imds",
        "location": "usgovvirginia",
        "subscription_id": "s",
        "resource_group": "rg",
    }
    assert facts["probe"]["cloud"] == "AzureUSGovernment"
    assert facts["probe"]["source_region"] == "usgovvirginia"
    assert [e["host"] for e in facts["endpoints"]] == ["login.microsoftonline.us"]
