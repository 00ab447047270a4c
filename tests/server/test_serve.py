"""The real server: ``autoconfig serve`` with two workers in a subprocess, over loopback HTTP."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from lxml import etree

from tests.conftest import DEMO, DEMO_STAFF, PIERRE, logins_learnt
from tests.servers import App, run_command, serve
from tests.tools import free_port, wait_until


def get(app: App, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(app.url + path, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    tmp = tmp_path_factory.mktemp("serve")
    with serve(tmp, "--directory", str(DEMO), "--workers", "2", "--log-level", "debug") as app:
        yield app


def test_serves_the_academic_id(server: App) -> None:
    status, headers, body = get(server, f"/mail/config-v1.1.xml?emailaddress={PIERRE}")
    assert status == 200
    assert headers["content-type"] == "text/xml; charset=utf-8"
    assert b"<username>pdupont</username>" in body
    assert "server" not in {k.lower() for k in headers}


def test_generic_by_host_and_404(server: App) -> None:
    status, headers, body = get(
        server, "/.well-known/autoconfig/mail/config-v1.1.xml", host="ac-aix-marseille.fr"
    )
    assert (status, headers["cache-control"]) == (200, "public, max-age=3600")
    assert b"%EMAILLOCALPART%" in body
    status, _, body = get(server, "/mail/config-v1.1.xml")
    assert status == 404


def test_log_has_requests_but_no_addresses_or_logins(server: App) -> None:
    get(server, f"/mail/config-v1.1.xml?emailaddress={PIERRE}")
    get(server, "/mail/config-v1.1.xml?emailaddress=marie.martin%40ac-aix-marseille.fr")
    deadline = time.monotonic() + 10
    log = ""
    while time.monotonic() < deadline and log.count("login=directory") < 2:
        time.sleep(0.05)
        log = server.log_text()
    assert (
        "endpoint=thunderbird domain=ac-aix-marseille.fr login=directory directory=directory status=200"
        in log
    )
    for secret in ("pierre", "dupont", "pdupont", "marie", "mmartin3", "emailaddress", "%40"):
        assert secret not in log.lower()


def test_a_client_that_aborts_its_body_hurts_only_itself(server: App) -> None:
    """Half a body, then the connection closed: one access-log line with status 499 (the client
    went away), no traceback, no 500, and the service answers the next request."""
    import socket
    import time

    from tests.tools import wait_until

    before = server.log_text().count("status=499")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\n"
            b"Host: autodiscover.ac-aix-marseille.fr\r\nContent-Length: 1000\r\n"
            b"Content-Type: text/xml\r\n\r\n<Autodiscover>"
        )
        time.sleep(0.2)
    wait_until(lambda: server.log_text().count("status=499") > before, "the aborted request's line")
    log = server.log_text()
    assert "Traceback" not in log
    assert "ClientDisconnect" not in log
    assert "endpoint=autodiscover domain=- login=- directory=- status=500" not in log
    assert get(server, f"/mail/config-v1.1.xml?emailaddress={PIERRE}")[0] == 200


def logins_from(apps: list[App]) -> set[str]:
    """:func:`logins_learnt` with each request on a new connection, to the next of ``apps``."""

    def username_of(address: str, turn: int) -> str:
        _, _, body = get(apps[turn % len(apps)], f"/mail/config-v1.1.xml?emailaddress={address}")
        usernames = {u.text for u in etree.fromstring(body).iter("username")}
        assert len(usernames) == 1, usernames  # incoming and outgoing servers alike
        return str(usernames.pop())

    return logins_learnt(username_of)


def test_two_workers_hold_one_limit(tmp_path_factory: pytest.TempPathFactory) -> None:
    """With --workers 2 the limit is the server's, not each worker's: asking each of the five
    people of the demo directory four times, on new connections that the two workers share,
    gives exactly two people their login."""
    tmp = tmp_path_factory.mktemp("limit")
    args = ("--directory", str(DEMO), "--workers", "2", "--directory-rate-limit", "2")
    with serve(tmp, *args) as app:
        assert len(logins_from([app])) == 2


def test_instances_naming_one_folder_hold_one_limit(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The production layout: two instances of two workers each, as Caddy spreads one client's
    requests over them. Naming the same --directory-rate-limit-dir, they hold one limit: two
    people in all, not two per instance."""
    folder = tmp_path_factory.mktemp("limit-folder")
    args = ("--directory", str(DEMO), "--workers", "2", "--directory-rate-limit", "2")
    shared = ("--directory-rate-limit-dir", str(folder))
    with (
        serve(tmp_path_factory.mktemp("first"), *args, *shared) as first,
        serve(tmp_path_factory.mktemp("second"), *args, *shared) as second,
    ):
        assert len(logins_from([first, second])) == 2


def test_a_limit_folder_that_cannot_be_written_stops_the_start(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("not-a-folder") / "file"
    folder.write_text("")
    result = run_command(
        "serve", "--port", str(free_port()), "--directory-rate-limit-dir", str(folder)
    )
    assert result.returncode == 2
    assert b"AUTOCONFIG_DIRECTORY_RATE_LIMIT_DIR" in result.stderr
    assert b"Traceback" not in result.stderr


def test_a_stuck_holder_of_the_limit_file_costs_no_login(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Another instance stopped in the middle of its transaction on the shared limit file (here a
    connection that holds its write lock): every known person still gets their own login, no
    request fails, and the log says the limit is counted per process meanwhile."""
    import sqlite3

    from autoconfig.usernames.ratelimit import SHARED_FILE

    folder = tmp_path_factory.mktemp("stuck-folder")
    args = ("--directory", str(DEMO), "--workers", "2", "--directory-rate-limit-dir", str(folder))
    with serve(tmp_path_factory.mktemp("stuck"), *args) as app:
        stuck = sqlite3.connect(folder / SHARED_FILE, isolation_level=None)
        stuck.execute("BEGIN IMMEDIATE")
        try:
            for local, login in DEMO_STAFF.items():
                status, _, body = get(
                    app, f"/mail/config-v1.1.xml?emailaddress={local}@ac-aix-marseille.fr"
                )
                assert status == 200
                assert f"<username>{login}</username>".encode() in body
        finally:
            stuck.execute("ROLLBACK")
            stuck.close()
        wait_until(lambda: "shared file is locked" in app.log_text(), "the log line")
        assert "Traceback" not in app.log_text()
