"""The PACC endpoint: the profile's bytes on ``ua-auto-config.<domain>``, 404 elsewhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from autoconfig.formats import pacc
from autoconfig.service import Service
from autoconfig.web import create_app
from autoconfig.web.responses import Cache


@pytest.fixture
def app(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service)) as c:
        yield c


@pytest.mark.parametrize("host", ["ua-auto-config.example.org", "UA-Auto-Config.Example.NET"])
def test_document_is_served_on_the_pacc_host(app: TestClient, service: Service, host: str) -> None:
    response = app.get(pacc.PATH, headers={"Host": host})
    assert response.status_code == 200
    assert response.content == pacc.render(service.catalog.lookup("example.org")).body
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == Cache.PUBLIC
    assert "content-encoding" not in response.headers


def test_head_gives_the_headers_only(app: TestClient) -> None:
    response = app.head(pacc.PATH, headers={"Host": "ua-auto-config.example.org"})
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize(
    ("host", "text"),
    [
        ("ua-auto-config.ac-aix-marseille.fr", "does not offer PACC"),
        ("ua-auto-config.unknown.example", "no profile serves the host"),
    ],
)
def test_other_hosts_get_a_clear_404(app: TestClient, host: str, text: str) -> None:
    response = app.get(pacc.PATH, headers={"Host": host})
    assert response.status_code == 404
    assert text in response.text
