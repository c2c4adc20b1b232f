from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from azure.core.credentials import AccessToken

sys.path.insert(0, str(Path(__file__).parent))

from arm_double import ArmData, ArmDouble

from asr_preflight.snapshot import load_snapshot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "contoso"
PROD = "11111111-1111-4111-8111-111111111111"
DEV = "22222222-2222-4222-8222-222222222222"
ALICE = "aaaaaaaa-0000-4000-8000-000000000001"
BOB = "bbbbbbbb-0000-4000-8000-000000000002"


class StaticCredential:
    """The one fake: no token service exists offline. Implements azure-core's TokenCredential."""

    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(autouse=True)
def trust_the_double(monkeypatch: pytest.MonkeyPatch, ca_file: Path) -> None:
    """The collector honours REQUESTS_CA_BUNDLE, as az and requests do."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)


@pytest.fixture(scope="session")
def example_data() -> ArmData:
    return ArmData.from_snapshot(load_snapshot(EXAMPLE))


@pytest.fixture
def credential() -> StaticCredential:
    return StaticCredential()


@pytest.fixture
def double(ca: trustme.CA, example_data: ArmData) -> Iterator[ArmDouble]:
    """The example estate behind a local HTTPS Resource Manager, paging every 5 items."""
    server = ArmDouble(example_data, ca.issue_cert("localhost", "127.0.0.1"), page_size=5)
    with server.running():
        yield server


@pytest.fixture
def cli_credential(monkeypatch: pytest.MonkeyPatch, credential: StaticCredential) -> None:
    """The CLI's collect and check --live sign in with the test credential."""
    from asr_preflight import cli_collect

    monkeypatch.setattr(cli_collect, "credential_factory", lambda cloud, tenant: credential)
