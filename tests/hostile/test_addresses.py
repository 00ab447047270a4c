"""Issue 16 L9 and the address in paths: characters nobody can see (bidi controls, zero-width
characters, noncharacters) never reach an answer, on any endpoint; and no part of an address in
a URL path reaches the access log, also when the address spans several path segments."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from autoconfig.web.site.pages import PAGES
from tests.conftest import ACADEMIE

HIDDEN = {
    "noncharacter U+FFFF": "\uffff",
    "noncharacter U+FDD0": "\ufdd0",
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "variation selector": "\ufe0f",
    "tag character": "\U000e0041",
    "private use": "\ue000",
}
SETUP = next(page for page in PAGES if page.key == "setup")
ENDPOINTS: dict[str, Callable[[str], tuple[str, dict[str, str]]]] = {
    "thunderbird": lambda address: ("/mail/config-v1.1.xml", {"emailaddress": address}),
    "mobileconfig": lambda address: ("/mobileconfig", {"email": address}),
    "autodiscover json": lambda address: (
        "/autodiscover/autodiscover.json",
        {"Email": address, "Protocol": "AutodiscoverV1"},
    ),
    "setup page": lambda address: (SETUP.path("fr"), {"email": address}),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINTS.keys())
@pytest.mark.parametrize("char", HIDDEN.values(), ids=HIDDEN.keys())
def test_hidden_characters_are_refused_on_every_endpoint(
    client: TestClient, endpoint: str, char: str
) -> None:
    # "moc.elpmaxe" reads "example.com" once a right-to-left override has reversed it
    path, params = ENDPOINTS[endpoint](f"pierre{char}moc.elpmaxe@{ACADEMIE}")
    response = client.get(path, params=params)
    assert response.status_code == 400
    assert char.encode() not in response.content


@pytest.mark.parametrize(
    "path",
    [
        f"/autodiscover/autodiscover.json/v1.0/marie.martin/x@{ACADEMIE}",
        f"/autodiscover/autodiscover.json/v1.0/x@{ACADEMIE}/marie.martin",
        f"/aide/marie.martin/x@{ACADEMIE}",
        f"/nowhere/marie.martin/x@{ACADEMIE}",
    ],
)
def test_no_part_of_an_address_in_a_path_is_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    with caplog.at_level(logging.INFO, logger="autoconfig"):
        assert client.get(path).status_code < 500
    access = [r.getMessage() for r in caplog.records if r.name == "autoconfig.access"]
    assert len(access) == 1
    assert "marie" not in access[0]
    assert ACADEMIE not in access[0].partition("domain=")[0]
