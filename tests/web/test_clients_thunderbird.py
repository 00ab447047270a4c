from __future__ import annotations

import pytest
from lxml import etree
from starlette.testclient import TestClient

from autoconfig.web.clients import THUNDERBIRD_PATHS as PATHS
from tests import clientrules
from tests.conftest import PIERRE, PIERRE_LOGIN

SPELLINGS = [
    "pierre.dupont@ac-aix-marseille.fr",
    "Pierre.Dupont@AC-Aix-Marseille.FR",
    "PIERRE.DUPONT@ac-aix-marseille.fr.",
    " pierre.dupont@ac-aix-marseille.fr ",
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_path_and_spelling_gets_the_academic_id(
    client: TestClient, path: str, spelling: str
) -> None:
    response = client.get(path, params={"emailaddress": spelling})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.headers["cache-control"] == "private, no-store"
    incoming, outgoing = clientrules.thunderbird(response.headers["content-type"], response.content)
    assert incoming.username == outgoing.username == PIERRE_LOGIN
    assert (incoming.host, incoming.port, incoming.socket) == (
        "imap.ac-aix-marseille.fr",
        993,
        "SSL",
    )
    assert (outgoing.host, outgoing.port, outgoing.socket) == (
        "smtp.ac-aix-marseille.fr",
        465,
        "SSL",
    )


def test_raw_and_encoded_at_sign_are_the_same(client: TestClient) -> None:
    raw = client.get("/mail/config-v1.1.xml?emailaddress=pierre.dupont@ac-aix-marseille.fr")
    encoded = client.get("/mail/config-v1.1.xml?emailaddress=pierre.dupont%40ac-aix-marseille.fr")
    assert raw.status_code == encoded.status_code == 200
    assert raw.content == encoded.content


def test_evolution_extra_parameter_is_ignored(client: TestClient) -> None:
    response = client.get(
        "/mail/config-v1.1.xml", params={"emailaddress": PIERRE, "emailmd5": "0" * 32}
    )
    assert f"<username>{PIERRE_LOGIN}</username>".encode() in response.content


@pytest.mark.parametrize(
    ("host", "query"),
    [
        ("autoconfig.ac-aix-marseille.fr", ""),
        ("ac-aix-marseille.fr", ""),
        ("autoconfig.ac-aix-marseille.fr", "?emailaddress="),
        ("autoconfig.ac-aix-marseille.fr", "?emailaddress=jeanne.inconnue%40ac-aix-marseille.fr"),
        ("autoconfig.example.net", "?emailaddress=jeanne.inconnue%40ac-aix-marseille.fr"),
    ],
)
def test_generic_document_never_lacks_a_username(client: TestClient, host: str, query: str) -> None:
    response = client.get(f"/mail/config-v1.1.xml{query}", headers={"host": host})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=3600"
    incoming, outgoing = clientrules.thunderbird_android(response.content)
    assert incoming.username == outgoing.username == "%EMAILLOCALPART%"
    assert (
        clientrules.substitute(incoming.username, "jeanne.inconnue@ac-aix-marseille.fr")
        == "jeanne.inconnue"
    )


def test_generic_and_unknown_answers_are_identical(client: TestClient) -> None:
    """An unknown address must not be told apart from the generic answer (no enumeration)."""
    generic = client.get("/mail/config-v1.1.xml")
    unknown = client.get(
        "/mail/config-v1.1.xml", params={"emailaddress": "nobody@ac-aix-marseille.fr"}
    )
    assert generic.content == unknown.content
    assert generic.headers["cache-control"] == unknown.headers["cache-control"]


def test_address_domain_wins_over_host(client: TestClient) -> None:
    response = client.get(
        "/mail/config-v1.1.xml",
        params={"emailaddress": "x@example.net"},
        headers={"host": "autoconfig.ac-aix-marseille.fr"},
    )
    root = etree.fromstring(response.content)
    assert root.find("emailProvider").get("id") == "example.org"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("address", "host"),
    [
        ("someone@gmail.com", "autoconfig.ac-aix-marseille.fr"),
        (None, "127.0.0.1:8000"),
        (None, "autoconfig.gmail.com"),
    ],
)
def test_unknown_domain_is_404(client: TestClient, address: str | None, host: str) -> None:
    params = {"emailaddress": address} if address else {}
    response = client.get("/mail/config-v1.1.xml", params=params, headers={"host": host})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert "no profile serves" in response.text


HOSTILE = [
    "<&\"'>@ac-aix-marseille.fr",
    "a<b>@ac-aix-marseille.fr",
    "pierre%0D%0A@ac-aix-marseille.fr",
    "pierre%0D%0AX-Injected:%201@ac-aix-marseille.fr",
    "x" * 10_000,
    "y" * 10_000 + "@ac-aix-marseille.fr",
    "%C3%28@ac-aix-marseille.fr",
    "%FF%FE@ac-aix-marseille.fr",
    "a@b@c@ac-aix-marseille.fr",
    "@@@",
    "%00@ac-aix-marseille.fr",
    "pierre@ac-aix-marseille.fr%00.evil.com",
    "pierre@[127.0.0.1]",
    "../../etc/passwd",
]


@pytest.mark.parametrize("raw", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_addresses_get_a_clear_400_or_well_formed_xml(client: TestClient, raw: str) -> None:
    response = client.get(f"/mail/config-v1.1.xml?emailaddress={raw}")
    assert response.status_code in {200, 400, 404}
    assert "Traceback" not in response.text
    assert "x-injected" not in response.headers
    if response.status_code == 200:
        clientrules.thunderbird(response.headers["content-type"], response.content)
    else:
        assert response.headers["content-type"].startswith("text/plain")
        assert 0 < len(response.text) < 300


def test_markup_that_is_a_valid_address_is_answered_generically(client: TestClient) -> None:
    response = client.get(
        "/mail/config-v1.1.xml", params={"emailaddress": "o'neil&co@ac-aix-marseille.fr"}
    )
    assert response.status_code == 200
    assert b"neil" not in response.content


def test_head_has_headers_and_no_body(client: TestClient) -> None:
    get = client.get("/mail/config-v1.1.xml", params={"emailaddress": PIERRE})
    head = client.head("/mail/config-v1.1.xml", params={"emailaddress": PIERRE})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == str(len(get.content))


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405(client: TestClient, method: str) -> None:
    response = client.request(method, "/mail/config-v1.1.xml", content=b"<x/>")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize(
    "path",
    [
        "/mail/config-v1.1.xml/",
        "/nope",
        "/%00",
        "/mail/config-v1.0.xml",
    ],
)
def test_odd_paths_are_404(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code in {404, 308}  # 308: a relative trailing-slash redirect
    assert response.headers.get("location", "/").startswith("/")
    assert "Traceback" not in response.text
