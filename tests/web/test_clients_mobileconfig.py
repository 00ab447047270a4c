from __future__ import annotations

import plistlib
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from autoconfig.service import Service
from autoconfig.settings import Settings
from autoconfig.web import create_app
from tests import apple_schema, pki
from tests.conftest import DEMO, PIERRE, PIERRE_LOGIN, PROFILES

HEADERS = {
    "content-type": "application/x-apple-aspen-config",
    "content-disposition": 'attachment; filename="ac-aix-marseille.fr.mobileconfig"',
    "cache-control": "no-store",
}


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> pki.Pki:
    return pki.make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def signed_service(ca: pki.Pki) -> Iterator[Service]:
    cert, key, _ = ca.signer("autoconfig.ac-aix-marseille.fr")
    loaded = Service.load(Settings(PROFILES, str(DEMO), cert, key, ca.chain_file))
    yield loaded
    loaded.close()


@pytest.fixture
def signed_client(signed_service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(signed_service)) as c:
        yield c


def test_profile_download_headers_and_body(client: TestClient) -> None:
    response = client.get("/mobileconfig", params={"email": PIERRE})
    assert response.status_code == 200
    assert {k: response.headers[k] for k in HEADERS} == HEADERS
    profile = plistlib.loads(response.content)
    assert apple_schema.problems(profile) == []
    mail = profile["PayloadContent"][0]
    assert mail["IncomingMailServerUsername"] == PIERRE_LOGIN
    assert mail["EmailAccountName"] == "Pierre Dupont"


def test_unknown_login_leaves_usernames_out(client: TestClient) -> None:
    response = client.get("/mobileconfig", params={"email": "inconnu.x@ac-aix-marseille.fr"})
    assert response.status_code == 200
    mail = plistlib.loads(response.content)["PayloadContent"][0]
    assert mail["EmailAddress"] == "inconnu.x@ac-aix-marseille.fr"
    assert "IncomingMailServerUsername" not in mail
    assert "OutgoingMailServerUsername" not in mail


def test_head_gives_headers_only(client: TestClient) -> None:
    response = client.head("/mobileconfig", params={"email": PIERRE})
    assert response.status_code == 200
    assert response.headers["content-type"] == HEADERS["content-type"]
    assert response.content == b""


def test_same_request_same_bytes(client: TestClient) -> None:
    first = client.get("/mobileconfig", params={"email": PIERRE}).content
    again = client.get("/mobileconfig", params={"email": PIERRE.upper()}).content
    assert plistlib.loads(first)["PayloadIdentifier"] == plistlib.loads(again)["PayloadIdentifier"]
    assert client.get("/mobileconfig", params={"email": PIERRE}).content == first


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("", 400, "an e-mail address is required (expected ?email=name@domain)"),
        ("?email=", 400, "an e-mail address is required"),
        ("?emailaddress=" + PIERRE, 400, "an e-mail address is required"),
        ("?email=pierre.dupont", 400, "address has 0 '@' signs"),
        ("?email=a@@ac-aix-marseille.fr", 400, "address has 2 '@' signs"),
        ("?email=%00@ac-aix-marseille.fr", 400, "control characters"),
        ("?email=" + "a" * 2000 + "@ac-aix-marseille.fr", 400, "characters long"),
        ("?email=a@-bad-.fr", 400, "is not a valid host name"),
        ("?email=a@xn--.fr", 400, "domain"),
        ("?email=a@%FF%FE.fr", 400, "control characters"),
        ("?email=a b@ac-aix-marseille.fr", 400, "spaces"),
        ("?email=someone@example.com", 404, "no profile serves the domain 'example.com'"),
        ("?email=a@ac-aix-marseille.fr.", 200, ""),
        ("?email=A@AC-AIX-MARSEILLE.FR", 200, ""),
    ],
)
def test_bad_requests_get_a_human_message_never_a_500(
    client: TestClient, query: str, status: int, message: str
) -> None:
    response = client.get("/mobileconfig" + query)
    assert response.status_code == status, response.text
    if status != 200:
        assert response.headers["content-type"].startswith("text/plain")
        assert message in response.text
        assert "Traceback" not in response.text


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_read_only(client: TestClient, method: str) -> None:
    assert client.request(method, "/mobileconfig", params={"email": PIERRE}).status_code == 405


def test_signed_profile_verifies_and_embeds_the_unsigned_bytes(
    client: TestClient, signed_client: TestClient, ca: pki.Pki
) -> None:
    unsigned = client.get("/mobileconfig", params={"email": PIERRE})
    signed = signed_client.get("/mobileconfig", params={"email": PIERRE})
    assert signed.status_code == 200
    assert {k: signed.headers[k] for k in HEADERS} == HEADERS
    assert signed.content[:1] == b"\x30"  # DER SEQUENCE, not XML
    assert pki.verify(signed.content, ca.root_file) == unsigned.content
    assert pki.certificates_in(signed.content) == [
        "O = Autoconfig test PKI, CN = Autoconfig Test Intermediate CA",
        "O = Autoconfig test PKI, CN = autoconfig.ac-aix-marseille.fr",
    ]


def test_signed_service_still_refuses_bad_addresses(signed_client: TestClient) -> None:
    assert signed_client.get("/mobileconfig", params={"email": "x"}).status_code == 400
    assert signed_client.get("/mobileconfig").status_code == 400
