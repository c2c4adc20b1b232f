#!/usr/bin/env python3
"""asr-preflight guest probe: what only the VM itself can tell Azure Site Recovery's checks.

Run it inside a Linux or Windows Azure VM with Python 3.6 or later. It needs nothing but the
standard library and no administrator rights, and it writes exactly one thing: the guest-facts
JSON (`schema: asr-preflight/guest-facts`, version 1) to --output FILE, or to stdout. What it
could not read is listed under "errors". `asr-preflight check --guest-dir DIR` merges the files.

    python3 probe.py --source-region eastus --target-region centralus \\
        --cache-account mycache --output "$(hostname).json"

It records: the trusted root certificates (SHA-1 thumbprints) of the VM's own trust store; for
each Site Recovery endpoint of the cloud, DNS, TCP, and TLS verified against that trust store
and the host name (through the proxy ASR would use, with HTTP CONNECT); whether that proxy asks
for credentials (HTTP 407, which ASR does not support: 151072); whether the CRL/OCSP hosts
answer on port 80; the clock skew against an endpoint's HTTP Date header; OS, kernel and guest
agent; on Linux the filesystems of /, /boot, /usr, /usr/local, /var and /etc and the disks they
sit on, and GRUB configuration naming devices instead of UUIDs (151126) or LVM volumes that do
not exist (151124); on Windows the start modes of the COM+ System Application and Volume Shadow
Copy services (151025).

Every network operation has a timeout (--timeout, 5 s) and the whole run a limit (--deadline).
--root DIR reads every file below DIR instead of / (tests, or a mounted disk image).
"""

import argparse
import base64
import configparser
import datetime
import email.utils
import hashlib
import http.client
import json
import os
import platform
import re
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
import zlib

PROBE_VERSION = "1.0"
SCHEMA = "asr-preflight/guest-facts"
FORMAT_VERSION = 1

# --- Knowledge (copied from asr_preflight/knowledge/data; a test keeps them equal) -------------

# The endpoints every protected VM needs (endpoints.toml, required = "always"), per cloud.
ENDPOINTS = {
    "AzureCloud": (
        ("storage", "*.blob.core.windows.net"),
        ("identity", "login.microsoftonline.com"),
        ("replication", "*.hypervrecoverymanager.windowsazure.com"),
        ("monitoring", "*.servicebus.windows.net"),
    ),
    "AzureUSGovernment": (
        ("storage", "*.blob.core.usgovcloudapi.net"),
        ("identity", "login.microsoftonline.us"),
        ("replication", "*.hypervrecoverymanager.windowsazure.us"),
        ("monitoring", "*.servicebus.usgovcloudapi.net"),
    ),
    "AzureChinaCloud": (
        ("storage", "*.blob.core.chinacloudapi.cn"),
        ("identity", "login.chinacloudapi.cn"),
        ("replication", "*.hypervrecoverymanager.windowsazure.cn"),
        ("monitoring", "*.servicebus.chinacloudapi.cn"),
    ),
}
# IMDS azEnvironment values and other spellings of the three clouds.
CLOUD_ALIASES = {
    "azurecloud": "AzureCloud",
    "azurepubliccloud": "AzureCloud",
    "public": "AzureCloud",
    "azureusgovernment": "AzureUSGovernment",
    "azureusgovernmentcloud": "AzureUSGovernment",
    "usgov": "AzureUSGovernment",
    "azurechinacloud": "AzureChinaCloud",
    "china": "AzureChinaCloud",
}
# certificates.toml [[root_ca]]: name, SHA-1, required, recommended.
ROOT_CAS = (
    ("DigiCert Global Root G2", "df3c24f9bfd666761b268073fe06d1cc8d4f82a4", True, False),
    ("DigiCert Global Root G3", "7e04de896a3e666d00e687d33ffad93be83d349e", False, True),
    ("DigiCert Global Root CA", "a8985d3a65e5e5c4b2d7d66d40c6dd2fb19c5436", False, True),
    (
        "Microsoft RSA Root Certificate Authority 2017",
        "73a5e64a3bff8316ff0edccc618a906e4eae4d74",
        True,
        False,
    ),
    (
        "Microsoft ECC Root Certificate Authority 2017",
        "999a64c37ff47d9fab95f14769891460eec4c3c5",
        False,
        True,
    ),
    ("Baltimore CyberTrust Root", "d4de20d05e66fc53fe1a50882c78db2852cae474", False, False),
    ("D-TRUST Root Class 3 CA 2 2009", "58e8abb0361533fb80f79b1b6d29d3ff8d5f00f0", False, False),
    (
        "VeriSign Class 3 Public Primary Certification Authority - G5",
        "4eb6d578499b1ccf5f581ead56be3d9b6744a5e5",
        False,
        False,
    ),
)
# endpoints.toml [[revocation_host]] (CRL, OCSP and issuer hosts, plain HTTP on port 80).
REVOCATION_HOSTS = (
    "crl3.digicert.com",
    "crl4.digicert.com",
    "ocsp.digicert.com",
    "crl.microsoft.com",
    "oneocsp.microsoft.com",
    "ocsp.msocsp.com",
    "www.microsoft.com",
    "cacerts.digicert.com",
    "cacerts.geotrust.com",
    "mscrl.microsoft.com",
    "status.geotrust.com",
)
# certificates.toml [[remedy]]: how to refresh the trust store, by distro id.
_APT = (
    "As root: apt-get update && apt-get install --reinstall -y ca-certificates && "
    "update-ca-certificates."
)
_CHECK = (
    " Then check that TLS to login.microsoftonline.com works "
    "(e.g. curl -sI https://login.microsoftonline.com)."
)
ROOT_REMEDIES = {
    "debian": _APT + _CHECK,
    "ubuntu": _APT + _CHECK,
    "rhel": "As root: yum reinstall -y ca-certificates (dnf on RHEL 8/9) && "
    "update-ca-trust extract. A root the package lacks goes, as a PEM file, under "
    "/etc/pki/ca-trust/source/anchors/ before update-ca-trust extract." + _CHECK,
    "centos": "As root: yum reinstall -y ca-certificates && update-ca-trust extract."
    + _CHECK
    + " End-of-life CentOS releases may need an archived (vault) repository to get the package.",
    "oracle": "As root: yum reinstall -y ca-certificates (dnf on Oracle Linux 8/9) && "
    "update-ca-trust extract." + _CHECK,
    "rocky": "As root: dnf reinstall -y ca-certificates && update-ca-trust extract." + _CHECK,
    "alma": "As root: dnf reinstall -y ca-certificates && update-ca-trust extract." + _CHECK,
    "sles": "As root: zypper refresh && zypper install -f ca-certificates "
    "ca-certificates-mozilla && update-ca-certificates. SUSE keeps hashed links in "
    "/etc/ssl/certs; the ASR procedure then runs c_rehash in /etc/ssl/certs and makes sure the "
    "root files have their hash-named copies (for example 3513523f.0 for "
    "DigiCert_Global_Root_CA.pem), checking the result with ls -l.",
    "windows": "Install the latest Windows updates so the automatic root-certificate and CRL "
    "updates are present. On VMs without Windows Update access, follow the organisation's update "
    "process, or on a connected machine run certutil -generateSSTFromWU roots.sst and import the "
    "resulting roots into the VM's Trusted Root Certification Authorities store. Verify by "
    "opening https://login.microsoftonline.com from the VM.",
}

# --- Where things live in the guest -----------------------------------------------------------

# Trust stores, as each distribution family lays them out (files and directories of PEM files).
LINUX_TRUST_STORES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu
    "/etc/pki/tls/certs/ca-bundle.crt",  # RHEL, CentOS, Oracle, Rocky, Alma
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # same family, the extracted bundle
    "/etc/ssl/ca-bundle.pem",  # SUSE
    "/var/lib/ca-certificates/ca-bundle.pem",  # SUSE, the generated bundle
    "/etc/ssl/certs",  # Debian/Ubuntu *.pem links; SUSE hash links; ASR's SUSE procedure
)
PROXYINFO_LINUX = "/usr/local/InMage/config/ProxyInfo.conf"
PROXYINFO_WINDOWS = r"C:\ProgramData\Microsoft Azure Site Recovery\Config\ProxyInfo.conf"
GRUB_FILES = (
    "/boot/grub/grub.cfg",
    "/boot/grub2/grub.cfg",
    "/etc/default/grub",
    "/boot/grub/menu.lst",
)
# Support matrix: "/ (root), /boot, /usr, /usr/local, /var, /etc (if separate partitions) must all
# be on the same disk (the OS disk)".
OS_PATHS = ("/", "/boot", "/usr", "/usr/local", "/var", "/etc")
AGENT_FILES = (
    "/usr/sbin/waagent",
    "/usr/bin/waagent",
    "/usr/lib/systemd/system/waagent.service",
    "/lib/systemd/system/waagent.service",
    "/lib/systemd/system/walinuxagent.service",
    "/usr/lib/systemd/system/walinuxagent.service",
    "/etc/systemd/system/waagent.service",
    "/etc/systemd/system/walinuxagent.service",
    "/etc/init.d/waagent",
    "/etc/init.d/walinuxagent",
)
WINDOWS_SERVICES = (
    ("COMSysApp", "COM+ System Application"),
    ("VSS", "Volume Shadow Copy"),
    ("StorageReplica", "Storage Replica"),  # not supported by ASR (2026 support matrix)
)
START_TYPES = {0: "boot", 1: "system", 2: "auto", 3: "demand", 4: "disabled"}
IMDS = "169.254.169.254:80"
IMDS_PATH = "/metadata/instance?api-version=2021-02-01"
USER_AGENT = "asr-preflight-probe/" + PROBE_VERSION

_PEM = re.compile(
    rb"-----BEGIN (CERTIFICATE|TRUSTED CERTIFICATE|X509 CERTIFICATE)-----(.+?)-----END \1-----",
    re.S,
)
_HASH_NAME = re.compile(r"^[0-9a-f]{8}\.\d+$")
_CERT_SUFFIXES = (".pem", ".crt", ".cer")
_GRUB_DEVICE = re.compile(
    r"(?<![\w.])(root|resume)=(/dev/(?:sd[a-z]+|hd[a-z]+|vd[a-z]+|xvd[a-z]+|nvme\d+n\d+)"
    r"(?:p?\d+)?)(?![\w/])"
)
_GRUB_LVM = re.compile(r"(?<![\w.])(rd\.lvm\.lv|rd_LVM_LV)=([^\s\"']+)")
_AGENT_VERSION = re.compile(r"WALinuxAgent-(\d+(?:\.\d+)+)")


def is_windows() -> bool:
    return os.name == "nt"


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017  (Python 3.8)


def iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Files, always below --root -------------------------------------------------------------


MAX_FILE = 64 * 1024 * 1024  # no trust store, GRUB or os-release file comes near it


def read_regular(path: str) -> bytes:
    """A regular file's bytes. Opened without blocking and checked first: a FIFO or a device
    where a trust store should be (by mistake or malice) must not hang the probe or feed it
    forever."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(mode):
            raise OSError("not a regular file: " + path)
        chunks, size = [], 0
        while size <= MAX_FILE:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
        raise OSError("larger than %d MB: %s" % (MAX_FILE >> 20, path))
    finally:
        os.close(fd)


class Guest:
    """The guest's filesystem (below `root`) and the list of what could not be read."""

    def __init__(self, root: "str | None") -> None:
        self.root = os.path.abspath(root) if root else None
        self.errors: list = []

    def error(self, scope: str, message: str, path: "str | None" = None) -> None:
        self.errors.append({"scope": scope, "path": path, "message": message})

    def path(self, path: str) -> str:
        """Where `path` of the guest is on this machine: below --root, following symbolic links
        as if --root were /, so an absolute link target stays inside it."""
        if self.root is None:
            return path
        pending = [p for p in re.sub(r"^[A-Za-z]:", "", path).replace("\\", "/").split("/") if p]
        parts: list = []
        hops = 0
        while pending:
            part = pending.pop(0)
            if part == ".":
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(part)
            here = os.path.join(self.root, *parts)
            if os.path.islink(here):
                hops += 1
                if hops > 40:
                    raise OSError("too many levels of symbolic links: " + path)
                target = os.readlink(here)
                parts.pop()
                if target.startswith("/"):
                    parts = []
                pending = [p for p in target.split("/") if p] + pending
        return os.path.join(self.root, *parts)

    def read(self, path: str, scope: str, binary: bool = False, missing_ok: bool = True):
        """The file's content, or None (a missing file is silent unless missing_ok is False;
        anything else that stops the read is recorded)."""
        try:
            data = read_regular(self.path(path))
        except FileNotFoundError:
            if not missing_ok:
                self.error(scope, "not found", path)
            return None
        except IsADirectoryError:
            return None
        except OSError as exc:
            self.error(scope, describe(exc), path)
            return None
        return data if binary else data.decode("utf-8", "replace")

    def exists(self, path: str, scope: str) -> "bool | None":
        """True, False, or None when permissions hide the answer (recorded)."""
        try:
            os.stat(self.path(path))
            return True
        except FileNotFoundError:
            return False
        except NotADirectoryError:
            return False
        except OSError as exc:
            self.error(scope, describe(exc), path)
            return None

    def listdir(self, path: str, scope: str) -> list:
        try:
            return sorted(os.listdir(self.path(path)))
        except FileNotFoundError:
            return []
        except NotADirectoryError:
            return []
        except OSError as exc:
            self.error(scope, describe(exc), path)
            return []

    def isdir(self, path: str) -> bool:
        try:
            return os.path.isdir(self.path(path))
        except OSError:
            return False


def certificate_failure(exc: BaseException) -> bool:
    """Python 3.6 (RHEL/CentOS 7, SLES 12) has no SSLCertVerificationError: its failures are
    SSLErrors whose reason is CERTIFICATE_VERIFY_FAILED."""
    modern = getattr(ssl, "SSLCertVerificationError", None)
    if modern is not None:
        return isinstance(exc, modern)
    reason = getattr(exc, "reason", "")
    return isinstance(exc, ssl.SSLError) and reason == "CERTIFICATE_VERIFY_FAILED"


def describe(exc: BaseException) -> str:
    """A plain one-line description of an error."""
    if isinstance(exc, socket.gaierror):
        return "DNS: " + (exc.strerror or str(exc))
    if certificate_failure(exc):
        return "certificate verify failed: " + (getattr(exc, "verify_message", "") or str(exc))
    if isinstance(exc, (socket.timeout, TimeoutError)):
        text = str(exc)  # our own messages say what timed out; the ssl module's add noise
        return text if text.startswith(("DNS", "overall")) else "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if type(exc) is OSError and str(exc):  # our own messages
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# --- Certificates ---------------------------------------------------------------------------


def der_certificates(data: bytes) -> list:
    """The DER certificates in a PEM bundle (CERTIFICATE and OpenSSL's TRUSTED CERTIFICATE
    blocks), or in a DER file."""
    out = []
    if b"-----BEGIN" in data:
        for match in _PEM.finditer(data):
            try:
                der = base64.b64decode(match.group(2))
            except ValueError:
                continue
            first = first_der_element(der)
            if first:
                out.append(first)
    elif data[:1] == b"\x30":
        first = first_der_element(data)
        if first:
            out.append(first)
    return out


def first_der_element(der: bytes) -> "bytes | None":
    """The leading DER SEQUENCE (a TRUSTED CERTIFICATE appends trust settings after it)."""
    if len(der) < 2 or der[0] != 0x30:
        return None
    if der[1] < 0x80:
        end = 2 + der[1]
    else:
        count = der[1] & 0x7F
        if count == 0 or count > 4 or len(der) < 2 + count:
            return None
        end = 2 + count + int.from_bytes(der[2 : 2 + count], "big")
    return der[:end] if end <= len(der) else None


def thumbprint(der: bytes) -> str:
    return hashlib.sha1(der).hexdigest()


class TrustStore:
    def __init__(self) -> None:
        self.certs: dict = {}  # sha1 -> DER
        self.stores: list = []

    def add(self, der: bytes) -> None:
        self.certs.setdefault(thumbprint(der), der)


def read_linux_trust_store(guest: Guest) -> TrustStore:
    store = TrustStore()
    seen = set()
    defaults = ssl.get_default_verify_paths()
    candidates = list(LINUX_TRUST_STORES)
    for extra in (
        defaults.cafile,
        defaults.capath,
        defaults.openssl_cafile,
        defaults.openssl_capath,
    ):
        if extra and extra not in candidates:
            candidates.append(extra)
    for location in candidates:
        try:
            real = os.path.realpath(guest.path(location))
        except OSError as exc:
            guest.error("trusted_roots", describe(exc), location)
            continue
        if real in seen:
            continue
        seen.add(real)
        if guest.isdir(location):
            files = [
                name
                for name in guest.listdir(location, "trusted_roots")
                if name.lower().endswith(_CERT_SUFFIXES) or _HASH_NAME.match(name)
            ]
            found = 0
            for name in files:
                path = location.rstrip("/") + "/" + name
                try:
                    real_file = os.path.realpath(guest.path(path))
                except OSError as exc:
                    guest.error("trusted_roots", describe(exc), path)
                    continue
                if real_file in seen:
                    continue
                seen.add(real_file)
                data = guest.read(path, "trusted_roots", binary=True)
                for der in der_certificates(data or b""):
                    store.add(der)
                    found += 1
            if found:
                store.stores.append(location)
        else:
            data = guest.read(location, "trusted_roots", binary=True)
            if data is None:
                continue
            ders = der_certificates(data)
            for der in ders:
                store.add(der)
            if ders:
                store.stores.append(location)
    return store


def read_windows_trust_store(guest: Guest) -> TrustStore:
    store = TrustStore()
    for name in ("ROOT", "CA"):
        try:
            entries = ssl.enum_certificates(name)  # type: ignore[attr-defined]
        except (AttributeError, OSError) as exc:
            guest.error("trusted_roots", describe(exc), "Cert:\\LocalMachine\\" + name)
            continue
        count = 0
        for der, encoding, _trust in entries:
            if encoding == "x509_asn":
                if name == "ROOT":
                    store.add(bytes(der))
                count += 1
        if count and name == "ROOT":
            store.stores.append("Cert:\\LocalMachine\\Root")
    return store


def tls_context(store: TrustStore, guest: Guest) -> ssl.SSLContext:
    """A client context that trusts exactly the VM's own store (not certifi, not this machine's
    when --root is used) and checks host names."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    if is_windows() and guest.root is None:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)  # the ROOT and CA system stores
        return context
    failed = 0
    for der in store.certs.values():
        try:
            context.load_verify_locations(cadata=der)
        except (ssl.SSLError, ValueError):
            failed += 1
    if failed:
        guest.error("trusted_roots", f"{failed} certificates could not be loaded by OpenSSL")
    return context


def trusted_roots_facts(store: TrustStore, distro: "str | None") -> "dict | None":
    if not store.certs:
        return None
    present = set(store.certs)
    known = [
        {"name": name, "sha1": sha1, "required": required, "present": sha1 in present}
        for name, sha1, required, _recommended in ROOT_CAS
    ]
    missing = [k["name"] for k in known if k["required"] and not k["present"]]
    facts = {
        "stores": store.stores,
        "count": len(present),
        "sha1": sorted(present),
        "asr_roots": known,
        "missing_required": missing,
    }
    if missing:
        facts["remedy"] = ROOT_REMEDIES.get(distro or "", ROOT_REMEDIES["debian"])
    return facts


# --- Network ---------------------------------------------------------------------------------


class Deadline:
    def __init__(self, seconds: float, per_operation: float) -> None:
        self.end = time.monotonic() + seconds
        self.per_operation = per_operation

    def timeout(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("overall time limit reached")
        return min(self.per_operation, left)


def resolve(host: str, port: int, timeout: float) -> list:
    """getaddrinfo has no timeout of its own: ask in a daemon thread and stop waiting."""
    box: dict = {}

    def ask() -> None:
        try:
            box["value"] = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except Exception as exc:  # reported to the caller
            box["error"] = exc

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"DNS lookup of {host} timed out after {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def connect(addresses: list, deadline: Deadline) -> socket.socket:
    last: "BaseException | None" = None
    for family, kind, proto, _name, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(deadline.timeout())
            sock.connect(address)
            return sock
        except OSError as exc:
            last = exc
            sock.close()
    raise last or OSError("no address to connect to")


def read_head(sock, limit: int = 65536) -> tuple:
    """Status code, reason and lower-cased headers of an HTTP response."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("iso-8859-1")
    lines = head.split("\r\n")
    match = re.match(r"HTTP/\d(?:\.\d)?\s+(\d{3})\s*(.*)", lines[0] if lines else "")
    if not match:
        raise OSError("not an HTTP answer: {!r}".format(lines[0][:60] if lines else ""))
    headers: dict = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers.setdefault(key.strip().lower(), []).append(value.strip())
    return int(match.group(1)), match.group(2).strip(), headers


def host_for_url(host: str) -> str:
    return "[" + host + "]" if ":" in host else host


def split_host_port(text: str, default_port: int) -> tuple:
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    if not host or (port and not port.isdigit()):
        raise ValueError(f"expected HOST:PORT, found {text!r}")
    return host, int(port) if port else default_port


class Proxy:
    def __init__(self, url: str, source: str) -> None:
        parsed = re.match(r"^(?:([A-Za-z][\w+.-]*)://)?(?:([^@/]*)@)?([^/]+?)/?$", url.strip())
        if not parsed:
            raise ValueError(f"not a proxy address: {url!r}")
        self.scheme = (parsed.group(1) or "http").lower()
        self.credentials = bool(parsed.group(2))
        self.host, self.port = split_host_port(parsed.group(3), 1080)  # curl's default
        self.source = source
        self.authenticated: "bool | None" = None
        self.auth_schemes: list = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:  # never with the credentials
        return f"{self.scheme}://{host_for_url(self.host)}:{self.port}"

    def saw(self, status: int, headers: dict) -> None:
        with self.lock:
            if status == 407:
                self.authenticated = True
                for value in headers.get("proxy-authenticate", []):
                    scheme = value.split(" ", 1)[0]
                    if scheme and scheme not in self.auth_schemes:
                        self.auth_schemes.append(scheme)
            elif self.authenticated is None:
                self.authenticated = False


def no_proxy_matches(host: str, no_proxy: str) -> bool:
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        entry = entry.split(":")[0].lstrip("*")
        name = host.lower()
        if name == entry.lstrip(".") or (entry.startswith(".") and name.endswith(entry)):
            return True
        if not entry.startswith(".") and name.endswith("." + entry):
            return True
    return False


def open_path(host: str, port: int, proxy, deadline: Deadline, result: dict):
    """A connected socket to host:port, directly or through the proxy's CONNECT tunnel; fills
    resolved / connected / latency_ms / error."""
    started = time.monotonic()
    if proxy is None:
        try:
            addresses = resolve(host, port, deadline.timeout())
            result["resolved"] = True
        except Exception as exc:
            result["resolved"] = False
            result["connected"] = False
            result["error"] = describe(exc)
            return None
        try:
            sock = connect(addresses, deadline)
        except Exception as exc:
            result["connected"] = False
            result["error"] = describe(exc)
            return None
        result["connected"] = True
        result["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
        return sock
    result["via_proxy"] = proxy.url
    if proxy.scheme != "http":
        result["connected"] = False
        result["error"] = f"proxy scheme {proxy.scheme} is not supported by the probe"
        return None
    try:
        sock = connect(resolve(proxy.host, proxy.port, deadline.timeout()), deadline)
    except Exception as exc:
        result["connected"] = False
        result["error"] = f"proxy {proxy.url}: {describe(exc)}"
        return None
    target = f"{host_for_url(host)}:{port}"
    try:
        sock.settimeout(deadline.timeout())
        sock.sendall(
            f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
            f"User-Agent: {USER_AGENT}\r\n\r\n".encode("ascii")
        )
        status, reason, headers = read_head(sock)
    except Exception as exc:
        sock.close()
        result["connected"] = False
        result["error"] = f"proxy {proxy.url}: {describe(exc)}"
        return None
    proxy.saw(status, headers)
    result["proxy_status"] = status
    if status != 200:
        sock.close()
        result["connected"] = False
        result["error"] = (
            "the proxy asks for credentials (HTTP 407); ASR supports only unauthenticated proxies"
            if status == 407
            else f"proxy answered HTTP {status} {reason}".strip()
        )
        return None
    result["resolved"] = True  # the proxy found the name
    result["connected"] = True
    result["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
    return sock


def http_date(headers: dict):
    for value in headers.get("date", []):
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        if moment is not None and moment.tzinfo is not None:
            return moment
    return None


def probe_endpoint(endpoint: dict, context, proxy, deadline: Deadline) -> dict:
    host, port = endpoint["host"], endpoint["port"]
    result = {
        "host": host,
        "port": port,
        "name": endpoint["name"],
        "resolved": None,
        "connected": None,
        "tls_verified": None,
        "error": None,
        "latency_ms": None,
    }
    sock = open_path(host, port, proxy, deadline, result)
    if sock is None:
        return result
    try:
        sock.settimeout(deadline.timeout())
        tls = context.wrap_socket(sock, server_hostname=host)
    except Exception as exc:
        sock.close()
        if certificate_failure(exc):
            result["tls_verified"] = False
            result["error"] = describe(exc)
        else:
            result["error"] = "TLS handshake failed: " + describe(exc)
        return result
    result["tls_verified"] = True
    result["tls_version"] = tls.version()
    try:  # the Date header, for the clock
        tls.settimeout(deadline.timeout())
        tls.sendall(
            f"HEAD / HTTP/1.1\r\nHost: {host_for_url(host)}\r\nUser-Agent: {USER_AGENT}\r\n"
            "Connection: close\r\n\r\n".encode("ascii")
        )
        status, _reason, headers = read_head(tls)
        result["http_status"] = status
        moment = http_date(headers)
        if moment is not None:
            result["_date"] = (moment, time.time())
    except Exception as exc:
        result["http_error"] = describe(exc)
    finally:
        tls.close()
    return result


def probe_revocation(host: str, port: int, proxy, deadline: Deadline) -> dict:
    """Plain HTTP to a CRL/OCSP host: any HTTP answer means the VM can reach it."""
    result = {
        "host": host,
        "port": port,
        "resolved": None,
        "connected": None,
        "reachable": False,
        "http_status": None,
        "error": None,
        "latency_ms": None,
    }
    started = time.monotonic()
    if proxy is None:
        sock = open_path(host, port, None, deadline, result)
        if sock is None:
            return result
        request_target = "/"
    elif proxy.scheme != "http":
        result["via_proxy"] = proxy.url
        result["error"] = f"proxy scheme {proxy.scheme} is not supported by the probe"
        return result
    else:
        result["via_proxy"] = proxy.url
        try:
            sock = connect(resolve(proxy.host, proxy.port, deadline.timeout()), deadline)
        except Exception as exc:
            result["connected"] = False
            result["error"] = f"proxy {proxy.url}: {describe(exc)}"
            return result
        request_target = "http://{}{}/".format(host_for_url(host), "" if port == 80 else f":{port}")
    try:
        sock.settimeout(deadline.timeout())
        sock.sendall(
            f"HEAD {request_target} HTTP/1.1\r\nHost: {host_for_url(host)}\r\n"
            f"User-Agent: {USER_AGENT}\r\nConnection: close\r\n\r\n".encode("ascii")
        )
        status, reason, headers = read_head(sock)
    except Exception as exc:
        result["error"] = describe(exc)
        result["reachable"] = proxy is None and bool(result["connected"])
        return result
    finally:
        sock.close()
    result["http_status"] = status
    result["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
    if proxy is not None:
        proxy.saw(status, headers)
        result["connected"] = status not in (407, 502, 503, 504)
        result["resolved"] = True if result["connected"] else None
        if not result["connected"]:
            result["error"] = f"proxy answered HTTP {status} {reason}".strip()
    result["reachable"] = bool(result["connected"])
    moment = http_date(headers)
    if moment is not None and result["reachable"]:
        result["_date"] = (moment, time.time())
    return result


def run_all(tasks: list, deadline: Deadline) -> list:
    """Run (function, args, fallback) tasks in daemon threads; a task still running when the
    overall limit is reached is reported by its fallback."""
    boxes = []
    for function, args, fallback in tasks:
        box: dict = {"fallback": fallback}

        def work(box=box, function=function, args=args) -> None:
            try:
                box["value"] = function(*args)
            except Exception as exc:  # never lose a task to a bug in one check
                box["value"] = dict(box["fallback"], error="probe error: " + describe(exc))

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        boxes.append((thread, box))
    out = []
    for thread, box in boxes:
        thread.join(max(0.0, deadline.end - time.monotonic()) + 0.5)
        out.append(
            box.get("value")
            or dict(box["fallback"], error="not finished within the overall time limit")
        )
    return out


# --- Proxy discovery --------------------------------------------------------------------------


def read_proxyinfo(guest: Guest) -> tuple:
    path = PROXYINFO_WINDOWS if is_windows() and guest.root is None else PROXYINFO_LINUX
    if is_windows() and guest.root is None:
        program_data = os.environ.get("PROGRAMDATA")
        if program_data:
            path = os.path.join(
                program_data, "Microsoft Azure Site Recovery", "Config", "ProxyInfo.conf"
            )
    text = guest.read(path, "proxy")
    if text is None:
        return None, path
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        guest.error("proxy", "ProxyInfo.conf is not valid INI: " + str(exc).splitlines()[0], path)
        return None, path
    section = next((s for s in parser.sections() if s.lower() == "proxy"), None)
    if section is None:
        return None, path
    address = parser.get(section, "Address", fallback="").strip()
    port = parser.get(section, "Port", fallback="").strip()
    if not address:
        return None, path
    if "://" not in address:
        address = "http://" + address
    if port and not re.search(r":\d+/?$", address.split("://", 1)[1]):
        address = address.rstrip("/") + ":" + port
    return address, path


def parse_environment_file(text: str) -> dict:
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = re.sub(r"^export\s+", "", line)
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("\"'")
    return values


PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY")


def discover_proxy(guest: Guest, environ: dict, explicit: "str | None") -> tuple:
    """(Proxy or None, facts): ASR's own ProxyInfo.conf first, then /etc/environment (what the
    Mobility service reads on Linux), then this process's variables, then Windows' settings."""
    candidates = []
    if explicit:
        candidates.append(("option", explicit, ""))
    address, _where = read_proxyinfo(guest)
    if address:
        candidates.append(("ProxyInfo.conf", address, ""))
    if not is_windows() or guest.root is not None:
        text = guest.read("/etc/environment", "proxy")
        if text:
            values = parse_environment_file(text)
            for name in PROXY_VARIABLES:
                if values.get(name):
                    no_proxy = values.get("no_proxy") or values.get("NO_PROXY") or ""
                    candidates.append(("/etc/environment", values[name], no_proxy))
                    break
    for name in PROXY_VARIABLES:
        if environ.get(name):
            no_proxy = environ.get("no_proxy") or environ.get("NO_PROXY") or ""
            candidates.append(("environment", environ[name], no_proxy))
            break
    if is_windows() and guest.root is None:
        try:
            import urllib.request

            registry = urllib.request.getproxies_registry()  # type: ignore[attr-defined]
            value = registry.get("https") or registry.get("http")
            if value:
                candidates.append(("windows-internet-settings", value, ""))
        except Exception as exc:
            guest.error("proxy", "Windows Internet settings: " + describe(exc))
    facts = {
        "source": "none",
        "url": None,
        "authenticated": False,
        "auth_schemes": [],
        "credentials_configured": False,
        "no_proxy": None,
        "candidates": [],
    }
    chosen = None
    for source, url, no_proxy in candidates:
        try:
            proxy = Proxy(url, source)
        except ValueError as exc:
            guest.error("proxy", f"{source}: {exc}")
            continue
        facts["candidates"].append({"source": source, "url": proxy.url})
        if chosen is None:
            chosen = proxy
            facts.update(
                source=source,
                url=proxy.url,
                authenticated=None,
                credentials_configured=proxy.credentials,
                no_proxy=no_proxy or None,
            )
    return chosen, facts


# --- Endpoints ----------------------------------------------------------------------------


def endpoint_plan(cloud: str, cache_account: "str | None", overrides: list) -> tuple:
    """(endpoints to probe, wildcard endpoints the probe cannot name a host for)."""
    if overrides:
        return [
            {"name": "custom", "pattern": None, "host": host, "port": port}
            for host, port in (split_host_port(text, 443) for text in overrides)
        ], []
    probe, skipped = [], []
    for name, pattern in ENDPOINTS[cloud]:
        if not pattern.startswith("*."):
            probe.append({"name": name, "pattern": pattern, "host": pattern, "port": 443})
        elif name == "storage" and cache_account:
            host = cache_account.lower() + pattern[1:]
            probe.append({"name": name, "pattern": pattern, "host": host, "port": 443})
        else:
            reason = (
                "pass --cache-account NAME to test the cache storage account's blob host"
                if name == "storage"
                else "the host under this wildcard depends on the vault and region and is not "
                "documented; allow the wildcard, or test a known host with --endpoint"
            )
            skipped.append({"name": name, "pattern": pattern, "reason": reason})
    return probe, skipped


# --- OS facts -----------------------------------------------------------------------------


CANONICAL_DISTRO = {"ol": "oracle", "almalinux": "alma", "sles_sap": "sles", "redhat": "rhel"}


def linux_os(guest: Guest) -> dict:
    text = guest.read("/etc/os-release", "os")
    if text is None:
        text = guest.read("/usr/lib/os-release", "os", missing_ok=False)
    values = parse_environment_file(text or "")
    raw_id = values.get("ID", "").lower() or None
    kernel = (guest.read("/proc/sys/kernel/osrelease", "os") or "").strip() or None
    if kernel is None and guest.root is None:
        kernel = platform.release()
    return {
        "family": "linux",
        "distro_id": CANONICAL_DISTRO.get(raw_id or "", raw_id),
        "os_release_id": raw_id,
        "id_like": values.get("ID_LIKE") or None,
        "version": values.get("VERSION_ID") or None,
        "pretty_name": values.get("PRETTY_NAME") or None,
        "kernel": kernel,
    }


def windows_os(guest: Guest) -> dict:
    pretty = None
    build = platform.version()
    try:
        import winreg  # type: ignore[import-not-found]

        with winreg.OpenKey(
            winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"
        ) as key:
            pretty = winreg.QueryValueEx(key, "ProductName")[0]
            try:
                ubr = winreg.QueryValueEx(key, "UBR")[0]
                build = f"{platform.version()}.{ubr}"
            except OSError:
                pass
    except Exception as exc:
        guest.error("os", "Windows version from the registry: " + describe(exc))
    return {
        "family": "windows",
        "distro_id": "windows",
        "version": platform.version() or None,
        "pretty_name": pretty or f"Windows {platform.release()} {platform.version()}",
        "kernel": build or None,
    }


def run_command(args: list, timeout: float) -> tuple:
    """(exit code, output) of a read-only command; (None, error) when it could not run."""
    try:
        done = subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            text=True,
        )
    except Exception as exc:
        return None, describe(exc)
    return done.returncode, done.stdout or ""


def parse_sc_qc(output: str) -> "str | None":
    """The start type in `sc qc NAME` output (START_TYPE : 4   DISABLED)."""
    match = re.search(r"START_TYPE\s*:\s*(\d+)", output)
    if not match:
        return None
    return START_TYPES.get(int(match.group(1)), match.group(1))


def parse_sc_query_state(output: str) -> "str | None":
    match = re.search(r"STATE\s*:\s*\d+\s+(\w+)", output)
    return match.group(1).lower() if match else None


def windows_services(guest: Guest, timeout: float) -> list:
    out = []
    for name, display in WINDOWS_SERVICES:
        code, text = run_command(["sc", "qc", name], timeout)
        entry = {"name": name, "display_name": display, "start_type": None, "error": None}
        if code == 0:
            entry["start_type"] = parse_sc_qc(text)
            if entry["start_type"] is None:
                entry["error"] = "no START_TYPE in sc qc output"
        elif code == 1060:  # ERROR_SERVICE_DOES_NOT_EXIST
            entry["start_type"] = "missing"
        else:
            entry["error"] = "sc qc {}: {}".format(name, " ".join(str(text).split())[:200])
        out.append(entry)
    return out


def windows_agent(timeout: float) -> dict:
    code, text = run_command(["sc", "query", "WindowsAzureGuestAgent"], timeout)
    if code == 0:
        state = parse_sc_query_state(text)
        return {"present": True, "running": state == "running", "version": None, "state": state}
    if code == 1060:
        return {"present": False, "running": False, "version": None}
    return {"present": None, "running": None, "version": None, "error": text}


def linux_agent(guest: Guest) -> dict:
    files = [p for p in AGENT_FILES if guest.exists(p, "agent")]
    running = False
    version = None
    evidence = []
    pids = [p for p in guest.listdir("/proc", "agent") if p.isdigit()]
    if not pids:
        running = None
        guest.error("agent", "no processes visible in /proc", "/proc")
    own = str(os.getpid()) if guest.root is None else None
    for pid in pids:
        if pid == own:
            continue
        try:
            with open(guest.path(f"/proc/{pid}/cmdline"), "rb") as handle:
                args = handle.read(8192).decode("utf-8", "replace").split("\0")
        except OSError:
            continue  # processes come and go
        if any(os.path.basename(a) == "waagent" or "WALinuxAgent" in a for a in args):
            running = True
            evidence.append("pid {}: {}".format(pid, " ".join(a for a in args if a)[:160]))
            match = _AGENT_VERSION.search(" ".join(args))
            if match and version is None:
                version = match.group(1)
    return {
        "present": bool(files) or bool(running),
        "running": running,
        "version": version,
        "files": files,
        "processes": evidence[:5],
    }


def mounts(guest: Guest) -> list:
    text = guest.read("/proc/mounts", "filesystems", missing_ok=False) or ""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            point = fields[1].replace("\\040", " ")
            out.append({"device": fields[0], "mount_point": point, "fstype": fields[2]})
    return out


def mount_of(path: str, table: list):
    best = None
    for entry in table:
        point = entry["mount_point"].rstrip("/") or "/"
        covers = path == point or point == "/" or path.startswith(point + "/")
        if covers and (best is None or len(point) >= len(best["mount_point"].rstrip("/") or "/")):
            best = entry
    return best


def block_name(guest: Guest, device: str, st_dev) -> "str | None":
    """The kernel's name for a mounted device (sda1, dm-0, nvme0n1p2)."""
    if st_dev is not None and guest.root is None:
        link = f"/sys/dev/block/{os.major(st_dev)}:{os.minor(st_dev)}"
        if os.path.exists(link):
            return os.path.basename(os.path.realpath(link))
    if device.startswith("/dev/"):
        try:
            real = guest.path(device)
        except OSError:
            return None
        return os.path.basename(real)
    return None


def disks_of(guest: Guest, name: str, depth: int = 0) -> "list | None":
    """The whole disks under a block device: a partition's parent, an LVM/RAID device's slaves."""
    if depth > 8:
        return None
    if guest.isdir("/sys/block/" + name):
        slaves = guest.listdir(f"/sys/block/{name}/slaves", "filesystems")
        if not slaves:
            return [name]
        found: set = set()
        for slave in slaves:
            disks = disks_of(guest, slave, depth + 1)
            if disks is None:
                return None
            found.update(disks)
        return sorted(found)
    for disk in guest.listdir("/sys/block", "filesystems"):
        if guest.isdir(f"/sys/block/{disk}/{name}"):
            return disks_of(guest, disk, depth + 1)
    return None


def filesystems(guest: Guest) -> list:
    table = mounts(guest)
    root_dev = None
    out = []
    for path in OS_PATHS:
        entry = {"path": path, "exists": False}
        try:
            st_dev = os.stat(guest.path(path)).st_dev
        except FileNotFoundError:
            out.append(entry)
            continue
        except OSError as exc:
            guest.error("filesystems", describe(exc), path)
            st_dev = None
        entry["exists"] = True
        if path == "/":
            root_dev = st_dev
        mount = mount_of(path, table)
        root_mount = mount_of("/", table)
        entry["mount_point"] = mount["mount_point"] if mount else None
        entry["device"] = mount["device"] if mount else None
        entry["fstype"] = mount["fstype"] if mount else None
        # Separate from / if /proc/mounts says so, or (on the live system) if st_dev differs;
        # None when neither can tell.
        separate = (mount is not root_mount) if mount and root_mount else None
        if guest.root is None and st_dev is not None and root_dev is not None:
            separate = True if st_dev != root_dev else bool(separate)
        entry["same_device_as_root"] = (
            True if path == "/" else (None if separate is None else not separate)
        )
        name = block_name(guest, mount["device"], st_dev) if mount else None
        entry["disks"] = disks_of(guest, name) if name else None
        out.append(entry)
    return out


def grub(guest: Guest) -> dict:
    files = []
    lvm = []
    for path in GRUB_FILES:
        present = guest.exists(path, "grub")
        if present is False:
            continue
        entry = {"path": path, "readable": False, "device_refs": [], "lvm_refs": []}
        text = guest.read(path, "grub") if present else None
        if text is not None:
            entry["readable"] = True
            for line in text.splitlines():
                if line.lstrip().startswith("#"):
                    continue
                for key, device in _GRUB_DEVICE.findall(line):
                    ref = f"{key}={device}"
                    if ref not in entry["device_refs"]:
                        entry["device_refs"].append(ref)
                for _key, volume in _GRUB_LVM.findall(line):
                    if volume not in entry["lvm_refs"]:
                        entry["lvm_refs"].append(volume)
                        if volume not in lvm:
                            lvm.append(volume)
        files.append(entry)
    volumes = []
    for volume in lvm:
        group, _, name = volume.partition("/")
        mapper = "/dev/mapper/{}-{}".format(group.replace("-", "--"), name.replace("-", "--"))
        exists = None
        if name:
            found = [guest.exists(p, "grub") for p in (f"/dev/{group}/{name}", mapper)]
            exists = True if True in found else (None if None in found else False)
        volumes.append({"volume": volume, "exists": exists})
    return {"files": files, "lvm_volumes": volumes}


# --- VM identity ---------------------------------------------------------------------------


def vm_option(value):
    """--vm-id: a vmId (a GUID), an Azure resource id, or a VM name, as a dict of what it says."""
    if not value:
        return {}
    value = value.strip()
    if re.match(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", value):
        return {"vm_id": value.lower()}
    parts = value.strip("/").split("/")
    if len(parts) >= 8 and parts[0].lower() == "subscriptions":
        return {"name": parts[-1], "subscription_id": parts[1].lower(), "resource_group": parts[3]}
    return {"name": value}


def imds(address: str, timeout: float) -> dict:
    """The VM's own identity from the Azure Instance Metadata Service (never via a proxy)."""
    host, port = split_host_port(address, 80)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", IMDS_PATH, headers={"Metadata": "true"})
        response = connection.getresponse()
        body = response.read(1024 * 1024)
    finally:
        connection.close()
    if response.status != 200:
        raise OSError(f"IMDS answered HTTP {response.status} {response.reason}")
    return json.loads(body.decode("utf-8")).get("compute") or {}


# --- The run ---------------------------------------------------------------------------------


def parse_args(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="probe.py",
        description="Collect Azure Site Recovery guest facts inside this VM (asr-preflight).",
    )
    parser.add_argument(
        "--cloud",
        help="AzureCloud (default; from IMDS when it answers), "
        "AzureUSGovernment or AzureChinaCloud.",
    )
    parser.add_argument("--source-region", help="Region the VM runs in (default: from IMDS).")
    parser.add_argument("--target-region", help="Region it will replicate to (recorded).")
    parser.add_argument(
        "--cache-account",
        metavar="NAME",
        help="Cache storage account name: its blob host is tested.",
    )
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="Write the JSON here (default: stdout)."
    )
    parser.add_argument("--root", metavar="DIR", help="Read every file below DIR instead of /.")
    parser.add_argument(
        "--endpoint",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="Test this endpoint instead of the cloud's list (repeatable).",
    )
    parser.add_argument(
        "--revocation-host",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="Test this CRL/OCSP host instead of the built-in list (repeatable).",
    )
    parser.add_argument(
        "--no-revocation", action="store_true", help="Do not test the CRL/OCSP hosts."
    )
    parser.add_argument(
        "--proxy", metavar="URL", help="Test through this proxy instead of the one discovered."
    )
    parser.add_argument(
        "--vm-name", help="The VM's Azure name (default: from IMDS, else host name)."
    )
    parser.add_argument(
        "--vm-id",
        help="Which VM this is: its vmId, its Azure resource id or its name (default: from IMDS).",
    )
    parser.add_argument(
        "--no-imds", action="store_true", help="Do not ask the Azure Instance Metadata Service."
    )
    parser.add_argument("--imds", default=IMDS, metavar="HOST:PORT", help=argparse.SUPPRESS)
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="Limit for each network operation (default 5).",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="Limit for all network checks together (default 60).",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="No summary on stderr.")
    parser.add_argument(
        "--compact",
        action="store_true",
        help="Print the facts as one compressed line (for Run Command's 4 KB output limit).",
    )
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.deadline <= 0:
        parser.error("--timeout and --deadline must be positive")
    if args.cloud and args.cloud.replace(" ", "").lower() not in CLOUD_ALIASES:
        parser.error("--cloud: expected one of " + ", ".join(ENDPOINTS))
    try:
        for text in args.endpoint + args.revocation_host:
            split_host_port(text, 443)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def elevated() -> "bool | None":
    try:
        if is_windows():
            import ctypes

            return bool(ctypes.windll.shell32.IsUserAnAdmin())  # type: ignore[attr-defined]
        return os.geteuid() == 0
    except Exception:
        return None


def collect(args: argparse.Namespace, environ=None) -> dict:
    environ = os.environ if environ is None else environ
    started = time.monotonic()
    collected_at = utc_now()
    guest = Guest(args.root)
    windows = is_windows() and guest.root is None

    identity: dict = {}
    if not args.no_imds:
        try:
            identity = imds(args.imds, min(args.timeout, 3.0))
        except Exception as exc:
            guest.error("vm", "Azure Instance Metadata Service: " + describe(exc), args.imds)
    cloud_name = args.cloud or identity.get("azEnvironment") or "AzureCloud"
    cloud = CLOUD_ALIASES.get(cloud_name.replace(" ", "").lower(), "AzureCloud")
    region = (args.source_region or identity.get("location") or "").replace(" ", "").lower()
    hostname = socket.gethostname()
    given = vm_option(args.vm_id)
    vm = {
        "vm_id": given.get("vm_id") or identity.get("vmId") or None,
        "name": args.vm_name
        or given.get("name")
        or identity.get("name")
        or hostname.split(".")[0]
        or None,
        "hostname": hostname,
        "source": "option"
        if args.vm_name or given
        else ("imds" if identity.get("name") else "hostname"),
        "location": identity.get("location") or None,
        "subscription_id": given.get("subscription_id") or identity.get("subscriptionId") or None,
        "resource_group": given.get("resource_group") or identity.get("resourceGroupName") or None,
    }

    os_facts = windows_os(guest) if windows else linux_os(guest)
    store = read_windows_trust_store(guest) if windows else read_linux_trust_store(guest)
    if not store.certs:
        guest.error("trusted_roots", "no trusted certificates could be read")
    context = tls_context(store, guest)
    proxy, proxy_facts = discover_proxy(guest, environ, args.proxy)

    deadline = Deadline(args.deadline, args.timeout)
    planned, not_probed = endpoint_plan(cloud, args.cache_account, args.endpoint)
    tasks = []
    for endpoint in planned:
        via = proxy
        if via is not None and no_proxy_matches(endpoint["host"], proxy_facts["no_proxy"] or ""):
            via = None
        fallback = {
            "host": endpoint["host"],
            "port": endpoint["port"],
            "name": endpoint["name"],
            "resolved": None,
            "connected": None,
            "tls_verified": None,
            "latency_ms": None,
        }
        tasks.append((probe_endpoint, (endpoint, context, via, deadline), fallback))
    revocation_targets = []
    if not args.no_revocation:
        given = args.revocation_host
        revocation_targets = [split_host_port(t, 80) for t in given] or [
            (h, 80) for h in REVOCATION_HOSTS
        ]
    for host, port in revocation_targets:
        fallback = {
            "host": host,
            "port": port,
            "resolved": None,
            "connected": None,
            "reachable": None,
            "http_status": None,
            "latency_ms": None,
        }
        tasks.append((probe_revocation, (host, port, proxy, deadline), fallback))
    results = run_all(tasks, deadline)
    endpoints = results[: len(planned)]
    revocation = results[len(planned) :]

    clock = {"skew_seconds": None, "source": None, "server_date": None, "local_date": None}
    for item in endpoints + revocation:
        stamp = item.pop("_date", None)
        if stamp is not None and clock["source"] is None:
            server, local = stamp
            local_moment = datetime.datetime.fromtimestamp(local, datetime.timezone.utc)  # noqa: UP017
            clock.update(
                skew_seconds=round((local_moment - server).total_seconds(), 1),
                source=item["host"],
                server_date=iso(server),
                local_date=iso(local_moment),
            )
    if clock["source"] is None:
        clock["error"] = "no endpoint answered with an HTTP Date header"
    if proxy is not None:
        proxy_facts["authenticated"] = proxy.authenticated
        proxy_facts["auth_schemes"] = proxy.auth_schemes

    facts = {
        "schema": SCHEMA,
        "version": FORMAT_VERSION,
        "collected_at": iso(collected_at),
        "probe": {
            "version": PROBE_VERSION,
            "python": platform.python_version(),
            "cloud": cloud,
            "source_region": region or None,
            "target_region": (args.target_region or "").replace(" ", "").lower() or None,
            "cache_account": args.cache_account,
            "root": guest.root,
            "elevated": elevated(),
            "timeout_s": args.timeout,
            "deadline_s": args.deadline,
        },
        "vm": vm,
        "os": os_facts,
        "agent": windows_agent(args.timeout) if windows else linux_agent(guest),
        "trusted_roots": trusted_roots_facts(store, os_facts.get("distro_id")),
        "endpoints": endpoints,
        "endpoints_not_probed": not_probed,
        "proxy": proxy_facts,
        "revocation": revocation,
        "clock": clock,
    }
    if windows:
        facts["services"] = windows_services(guest, args.timeout)
    else:
        facts["filesystems"] = filesystems(guest)
        facts["grub"] = grub(guest)
    facts["probe"]["duration_ms"] = round((time.monotonic() - started) * 1000)
    facts["errors"] = list(guest.errors)
    return facts


def summary(facts: dict) -> str:
    lines = ["asr-preflight probe: {} ({})".format(facts["vm"]["name"], facts["os"]["pretty_name"])]
    roots = facts["trusted_roots"]
    if roots is None:
        lines.append("  trusted roots: could not read the trust store")
    elif roots["missing_required"]:
        lines.append("  trusted roots: MISSING " + ", ".join(roots["missing_required"]))
        lines.append("    fix: " + roots["remedy"])
    else:
        lines.append(
            "  trusted roots: the {} required roots are present".format(
                sum(1 for r in roots["asr_roots"] if r["required"])
            )
        )
    for item in facts["endpoints"]:
        state = "ok" if item["tls_verified"] else (item["error"] or "not verified")
        lines.append("  {}:{}  {}".format(item["host"], item["port"], state))
    for item in facts["endpoints_not_probed"]:
        lines.append("  {}  not probed: {}".format(item["pattern"], item["reason"]))
    proxy = facts["proxy"]
    if proxy["url"]:
        auth = {
            True: "asks for credentials (unsupported by ASR)",
            False: "no credentials asked",
            None: "did not answer",
        }[proxy["authenticated"]]
        lines.append("  proxy {} ({}): {}".format(proxy["url"], proxy["source"], auth))
    reachable = [r for r in facts["revocation"] if r["reachable"]]
    if facts["revocation"]:
        lines.append(
            "  revocation hosts reachable: {}/{}".format(len(reachable), len(facts["revocation"]))
        )
    if facts["clock"]["skew_seconds"] is not None:
        lines.append("  clock skew: {} s".format(facts["clock"]["skew_seconds"]))
    if facts["errors"]:
        lines.append('  could not read: {} item(s), see "errors"'.format(len(facts["errors"])))
    return "\n".join(lines)


# --compact: one line for Run Command, which keeps only the last 4,096 bytes of standard output.
COMPACT_MARKER = "asr-preflight-facts/1 "
COMPACT_LIMIT = 3900
# Sections given up, in this order, should the line still be too long: none decides a rule.
EXPENDABLE = ("revocation", "endpoints_not_probed", "clock", "errors")


def compact_line(facts: dict) -> str:
    """The facts as one line: only the thumbprints of the roots ASR's checks know (the whole
    store is hundreds of them), compressed and base64-encoded (guest/wire.py decodes it)."""
    facts = dict(facts)
    roots = facts.get("trusted_roots")
    if roots:
        known = {sha1 for _name, sha1, _required, _recommended in ROOT_CAS}
        facts["trusted_roots"] = dict(
            roots, sha1=[t for t in roots["sha1"] if t in known], known_only=True
        )
    dropped = []
    for section in (None, *EXPENDABLE):
        if section is not None and facts.pop(section, None) is not None:
            dropped.append(section)
            facts["dropped"] = dropped
        data = json.dumps(facts, separators=(",", ":")).encode("utf-8")
        line = COMPACT_MARKER + base64.b64encode(zlib.compress(data, 9)).decode("ascii")
        if len(line) <= COMPACT_LIMIT:
            break
    return line


def main(argv=None, environ=None) -> int:
    args = parse_args(argv)
    facts = collect(args, environ)
    if args.compact:
        sys.stdout.write(compact_line(facts) + "\n")
        sys.stdout.flush()
        return 0
    text = json.dumps(facts, indent=2, sort_keys=False) + "\n"
    if args.output and args.output != "-":
        try:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            sys.stderr.write(f"probe.py: error: cannot write {args.output}: {describe(exc)}\n")
            return 2
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if not args.quiet:
        sys.stderr.write(summary(facts) + "\n")
        if args.output and args.output != "-":
            sys.stderr.write(f"  wrote {args.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
