"""Findings L5 and I7 of issue 16: trailing-slash redirects were absolute (``http://`` built from
``Host``: cleartext behind Caddy, any host a client named directly); two ``Host`` headers were
accepted, the first one winning."""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest

from tests.caddy import FRONT_DOMAIN, Front, curl
from tests.conftest import DEMO
from tests.servers import App, serve

D = FRONT_DOMAIN
PIERRE_QUERY = f"emailaddress=pierre.dupont%40{D}"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with serve(tmp_path_factory.mktemp("hosts"), "--directory", str(DEMO)) as started:
        yield started


def ask(
    app: App, path: str, hosts: tuple[str, ...] = (f"autoconfig.{D}",)
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
    connection.putrequest("GET", path, skip_host=True)
    for host in hosts:
        connection.putheader("Host", host)
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/aide", "/aide/"),
        ("/help", "/help/"),
        (f"/mail/config-v1.1.xml/?{PIERRE_QUERY}", f"/mail/config-v1.1.xml?{PIERRE_QUERY}"),
        ("/Autodiscover/Autodiscover.xml/", "/Autodiscover/Autodiscover.xml"),
        ("/aide?email=jos%C3%A9%40x&a=b+c", "/aide/?email=jos%C3%A9%40x&a=b+c"),
    ],
)
@pytest.mark.parametrize("host", [f"autoconfig.{D}", "evil.example"])
def test_trailing_slash_redirects_are_relative(
    app: App, path: str, location: str, host: str
) -> None:
    response = ask(app, path, (host,))
    assert response.status == 308
    assert response.getheader("Location") == location


@pytest.mark.parametrize("path", ["//evil.example/", "/\\evil.example/", "/nowhere/", "/aide//"])
def test_no_redirect_elsewhere(app: App, path: str) -> None:
    response = ask(app, path)
    assert response.status == 404
    assert response.getheader("Location") is None


def test_redirect_through_caddy_stays_on_https(front: Front) -> None:
    """Behind Caddy the app saw http:// and redirected there; Caddy then answered 400."""
    fetched = curl(front.caddy, f"https://autoconfig.{D}/mail/config-v1.1.xml/?{PIERRE_QUERY}")
    assert fetched.status == 308
    port = front.caddy.https_port
    assert fetched.location == f"https://autoconfig.{D}:{port}/mail/config-v1.1.xml?{PIERRE_QUERY}"


@pytest.mark.parametrize(
    "hosts",
    [
        (f"autoconfig.{D}", "evil.example"),
        ("evil.example", f"autoconfig.{D}"),
        (f"autoconfig.{D}",) * 2,
    ],
)
def test_two_host_headers_are_refused(app: App, hosts: tuple[str, ...]) -> None:
    response = ask(app, f"/mail/config-v1.1.xml?{PIERRE_QUERY}", hosts)
    assert response.status == 400


def test_one_host_header_is_answered(app: App) -> None:
    assert ask(app, f"/mail/config-v1.1.xml?{PIERRE_QUERY}").status == 200
