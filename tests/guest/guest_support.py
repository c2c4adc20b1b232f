"""Real servers on loopback for the probe: TLS endpoints with their own trustme CAs, a plain
HTTP server (CRL/OCSP hosts, Date headers) and an HTTP CONNECT proxy, with or without Basic
authentication; and trust stores laid out the way Debian, RHEL and SUSE lay them out."""

from __future__ import annotations

import base64
import email.utils
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from asr_preflight.guest import probe


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


class Server:
    """A threaded loopback server; `handle(conn)` serves one connection."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._guarded, args=(conn,), daemon=True).start()

    def _guarded(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            self.handle(conn)
        except (OSError, ssl.SSLError):
            pass  # clients that reject our certificate hang up mid-handshake
        finally:
            conn.close()

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stop = True
        self.sock.close()


def _date(skew: float) -> str:
    return email.utils.formatdate(time.time() - skew, usegmt=True)


class HttpServer(Server):
    """Answers any request with 200 and a Date header `skew` seconds behind real time."""

    def __init__(self, skew: float = 0.0) -> None:
        self.skew = skew
        super().__init__()

    def respond(self, conn: socket.socket) -> None:
        self.requests.append(_read_head(conn))
        conn.sendall(
            f"HTTP/1.1 200 OK\r\nDate: {_date(self.skew)}\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n".encode()
        )

    def handle(self, conn: socket.socket) -> None:
        self.respond(conn)


class TlsServer(HttpServer):
    """TLS with a leaf certificate from a trustme CA, then an HTTP answer."""

    def __init__(self, ca: trustme.CA, names: tuple[str, ...] = ("localhost",), skew=0.0):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(*names).configure_cert(self.context)
        super().__init__(skew)

    def handle(self, conn: socket.socket) -> None:
        with self.context.wrap_socket(conn, server_side=True) as tls:
            self.respond(tls)


class SilentServer(Server):
    """Accepts TCP and never says a word (a TLS handshake that never completes)."""

    def handle(self, conn: socket.socket) -> None:
        time.sleep(8)


class ConnectProxy(Server):
    """A small HTTP proxy: CONNECT tunnels bytes both ways; absolute-form requests are
    forwarded. With `password`, it asks for Basic credentials (407) first."""

    def __init__(self, password: str | None = None) -> None:
        self.password = password
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        head = _read_head(conn)
        self.requests.append(head)
        lines = head.decode("iso-8859-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
        }
        if self.password is not None:
            expected = "Basic " + base64.b64encode(f"user:{self.password}".encode()).decode()
            if headers.get("proxy-authorization") != expected:
                conn.sendall(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic "
                    b'realm="test"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
                )
                return
        if method == "CONNECT":
            host, port = probe.split_host_port(target, 443)
            try:
                upstream = socket.create_connection((host, port), timeout=5)
            except OSError:
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._pump(conn, upstream)
            return
        url = target.split("://", 1)[1]
        authority, _, path = url.partition("/")
        host, port = probe.split_host_port(authority, 80)
        try:
            upstream = socket.create_connection((host, port), timeout=5)
        except OSError:
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        rest = "\r\n".join(lines[1:])
        upstream.sendall(f"{method} /{path} HTTP/1.1\r\n{rest}\r\n\r\n".encode("iso-8859-1"))
        self._pump(conn, upstream)

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        with b:
            while True:
                ready, _, _ = select.select([a, b], [], [], 10)
                if not ready:
                    return
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        return
                    (b if src is a else a).sendall(data)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.close()


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def other_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca, servers) -> TlsServer:
    server = TlsServer(ca)
    servers.append(server)
    return server


@pytest.fixture
def http_server(servers) -> HttpServer:
    server = HttpServer()
    servers.append(server)
    return server


# --- Guest file trees ------------------------------------------------------------------------

OS_RELEASE = {
    "debian": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
    "rhel": 'NAME="Red Hat Enterprise Linux"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="8.6"\n'
    'PRETTY_NAME="Red Hat Enterprise Linux 8.6 (Ootpa)"\n',
    "suse": 'NAME="SLES"\nVERSION_ID="15.5"\nID="sles"\nID_LIKE="suse"\n'
    'PRETTY_NAME="SUSE Linux Enterprise Server 15 SP5"\n',
}


def write(root: Path, path: str, content: str | bytes, mode: int | None = None) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content)
    if mode is not None:
        target.chmod(mode)
    return target


def link(root: Path, path: str, to: str) -> None:
    """A symbolic link as the distribution makes it (absolute targets stay absolute)."""
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(to)


def pem_of(*cas: trustme.CA) -> str:
    return "".join(ca.cert_pem.bytes().decode() for ca in cas)


def layout(root: Path, distro: str, *cas: trustme.CA, extra_pem: str = "") -> Path:
    """A trust store (holding `cas` and `extra_pem`) and /etc/os-release as `distro` has them."""
    bundle = pem_of(*cas) + extra_pem
    write(root, "/etc/os-release", OS_RELEASE[distro])
    if distro == "debian":
        # /etc/ssl/certs/X.pem -> /usr/share/ca-certificates/..., plus hash links and the bundle
        for n, ca in enumerate(cas):
            write(root, f"/usr/share/ca-certificates/test/ca{n}.crt", ca.cert_pem.bytes())
            link(root, f"/etc/ssl/certs/ca{n}.pem", f"/usr/share/ca-certificates/test/ca{n}.crt")
            link(root, f"/etc/ssl/certs/{n:08x}.0", f"ca{n}.pem")
        write(root, "/etc/ssl/certs/ca-certificates.crt", bundle)
    elif distro == "rhel":
        write(root, "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", bundle)
        link(
            root,
            "/etc/pki/tls/certs/ca-bundle.crt",
            "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        )
        link(root, "/etc/pki/tls/cert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem")
    elif distro == "suse":
        write(root, "/var/lib/ca-certificates/ca-bundle.pem", bundle)
        link(root, "/etc/ssl/ca-bundle.pem", "/var/lib/ca-certificates/ca-bundle.pem")
        for n, ca in enumerate(cas):
            write(root, f"/var/lib/ca-certificates/pem/ca{n}.pem", ca.cert_pem.bytes())
        link(root, "/etc/ssl/certs", "/var/lib/ca-certificates/pem")
    else:
        raise ValueError(distro)
    return root


def run_probe(root: Path | None, *args: str, environ: dict[str, str] | None = None) -> dict:
    """The probe in-process, as `python3 probe.py` would run, without IMDS or CRL hosts unless
    asked; returns the facts it wrote."""
    argv = [*args]
    if root is not None:
        argv += ["--root", str(root)]
    if "--revocation-host" not in argv:
        argv.append("--no-revocation")
    argv += ["--no-imds", "-q"]
    return probe.collect(probe.parse_args(argv), environ or {})


def sha1_of(ca: trustme.CA) -> str:
    return probe.thumbprint(ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode()))


def real_required_roots_pem() -> str:
    """This machine's copies of the roots ASR requires, to lay out a store that passes."""
    wanted = {sha1 for _, sha1, required, _ in probe.ROOT_CAS if required}
    found = {}
    for path in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"):
        try:
            data = Path(path).read_bytes()
        except OSError:
            continue
        for der in probe.der_certificates(data):
            if probe.thumbprint(der) in wanted:
                found[probe.thumbprint(der)] = ssl.DER_cert_to_PEM_cert(der)
    if set(found) != wanted:
        pytest.skip("this machine's trust store lacks the roots ASR requires")
    return "".join(found.values())
