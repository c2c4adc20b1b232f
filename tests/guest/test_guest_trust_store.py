"""The probe reads the VM's own trust store, as each distribution lays it out, and verifies TLS
against it (not against this machine's store, not certifi)."""

from __future__ import annotations

import base64
import ssl

import pytest
from guest_support import (
    TlsServer,
    layout,
    real_required_roots_pem,
    run_probe,
    sha1_of,
    write,
)

from asr_preflight.guest import probe

DISTROS = ("debian", "rhel", "suse")
STORES = {
    "debian": {"/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs"},
    "rhel": {
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    },
    "suse": {"/etc/ssl/ca-bundle.pem", "/etc/ssl/certs"},
}


@pytest.mark.parametrize("distro", DISTROS)
def test_store_holding_the_ca_verifies_tls(tmp_path, distro, ca, other_ca, tls_server):
    layout(tmp_path, distro, other_ca, ca)
    facts = run_probe(tmp_path, "--endpoint", f"localhost:{tls_server.port}")
    [endpoint] = facts["endpoints"]
    assert (
        endpoint.items()
        >= {
            "host": "localhost",
            "port": tls_server.port,
            "resolved": True,
            "connected": True,
            "tls_verified": True,
            "error": None,
        }.items()
    )
    assert endpoint["latency_ms"] is not None and endpoint["http_status"] == 200
    roots = facts["trusted_roots"]
    assert {sha1_of(ca), sha1_of(other_ca)} <= set(roots["sha1"])
    # the hash-named links and the bundle hold the same certificates: counted once
    assert roots["count"] == 2
    # Exactly this layout's files were read: RHEL's ca-bundle.crt is a link to the extracted
    # bundle, so only one of them yields certificates; SUSE's bundle link and its pem folder.
    assert set(roots["stores"]) <= STORES[distro] and roots["stores"]
    assert [e for e in facts["errors"] if e["scope"] == "trusted_roots"] == []


@pytest.mark.parametrize("distro", DISTROS)
def test_store_without_the_ca_does_not_verify(tmp_path, distro, other_ca, tls_server):
    layout(tmp_path, distro, other_ca)
    facts = run_probe(tmp_path, "--endpoint", f"localhost:{tls_server.port}")
    [endpoint] = facts["endpoints"]
    assert (endpoint["resolved"], endpoint["connected"], endpoint["tls_verified"]) == (
        True,
        True,
        False,
    )
    assert endpoint["error"] == "certificate verify failed: unable to get local issuer certificate"
    assert facts["trusted_roots"]["sha1"] == [sha1_of(other_ca)]


def test_host_name_is_verified_too(tmp_path, ca, servers):
    server = TlsServer(ca, names=("login.example.test",))
    servers.append(server)
    layout(tmp_path, "debian", ca)
    [endpoint] = run_probe(tmp_path, "--endpoint", f"localhost:{server.port}")["endpoints"]
    assert endpoint["tls_verified"] is False
    assert endpoint["error"].startswith("certificate verify failed: Hostname mismatch")


def test_missing_required_roots_are_named_with_the_distro_remedy(tmp_path, ca):
    layout(tmp_path, "rhel", ca)
    roots = run_probe(tmp_path, "--endpoint", "localhost:9")["trusted_roots"]
    required = [name for name, _, needed, _ in probe.ROOT_CAS if needed]
    assert roots["missing_required"] == required and "DigiCert Global Root G2" in required
    assert roots["remedy"].startswith("As root: yum reinstall -y ca-certificates")
    assert all(not r["present"] for r in roots["asr_roots"])


def test_store_with_the_asr_roots_misses_none(tmp_path, ca):
    layout(tmp_path, "debian", ca, extra_pem=real_required_roots_pem())
    roots = run_probe(tmp_path, "--endpoint", "localhost:9")["trusted_roots"]
    assert roots["missing_required"] == [] and "remedy" not in roots
    assert {r["name"] for r in roots["asr_roots"] if r["present"]} >= {
        r["name"] for r in roots["asr_roots"] if r["required"]
    }


def test_no_trust_store_is_unknown_not_empty(tmp_path):
    write(tmp_path, "/etc/os-release", "ID=debian\nVERSION_ID=12\n")
    facts = run_probe(tmp_path, "--endpoint", "localhost:9")
    assert facts["trusted_roots"] is None  # ASR-VM-005 then says unknown, not "all missing"
    assert {
        "scope": "trusted_roots",
        "path": None,
        "message": "no trusted certificates could be read",
    } in facts["errors"]


def test_absolute_links_resolve_inside_root(tmp_path, ca):
    """A Debian link to /usr/share/ca-certificates/... must be read below --root."""
    write(tmp_path, "/usr/share/ca-certificates/x/ca.crt", ca.cert_pem.bytes())
    (tmp_path / "etc/ssl/certs").mkdir(parents=True)
    (tmp_path / "etc/ssl/certs/ca.pem").symlink_to("/usr/share/ca-certificates/x/ca.crt")
    guest = probe.Guest(str(tmp_path))
    assert guest.path("/etc/ssl/certs/ca.pem") == str(
        tmp_path / "usr/share/ca-certificates/x/ca.crt"
    )
    assert set(probe.read_linux_trust_store(guest).certs) == {sha1_of(ca)}


def test_pem_trusted_certificate_and_der_forms(ca):
    der = ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode())
    trust_aux = b"\x30\x0c\x30\x0a\x06\x08\x2b\x06\x01\x05\x05\x07\x03\x01"  # serverAuth
    trusted = (
        b"-----BEGIN TRUSTED CERTIFICATE-----\n"
        + base64.encodebytes(der + trust_aux)
        + b"-----END TRUSTED CERTIFICATE-----\n"
    )
    assert probe.der_certificates(trusted) == [der]
    assert probe.der_certificates(der) == [der]
    assert probe.der_certificates(b"# comment\n" + ca.cert_pem.bytes() * 2) == [der, der]
    assert probe.der_certificates(b"not a certificate") == []
    assert probe.thumbprint(der) == sha1_of(ca)
