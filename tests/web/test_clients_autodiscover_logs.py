"""Outlook and Thunderbird send the user's password to Autodiscover: prove it never reaches a log,
nor do request bodies, in the app (every logger at DEBUG) and in a real ``autoconfig serve``."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from autoconfig.formats.xmlsafe import MAX_BYTES
from tests.conftest import DEMO, PIERRE, PIERRE_LOGIN, PROFILES
from tests.servers import send, serve
from tests.web.test_clients_autodiscover import MARKER, PASSWORD, PATHS, basic, post, request_body


def test_credentials_and_bodies_are_never_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    auth = basic(PIERRE, PASSWORD)
    marked = request_body(extra=f"<LegacyDN>{MARKER}</LegacyDN>")
    for path in PATHS:
        post(client, marked, path=path, Authorization=auth)
    post(client, MARKER.encode(), Authorization=auth)
    post(client, b"<Autodiscover>" + MARKER.encode(), Authorization=auth)
    post(client, request_body(f"{MARKER}@gmail.com"), Authorization=auth)
    post(client, request_body(f"{MARKER}"), Authorization=auth)
    client.post(PATHS[0], content=marked + b"x" * MAX_BYTES, headers={"Authorization": auth})
    client.get(
        f"/autodiscover/autodiscover.json/v1.0/{PIERRE}",
        params={"Protocol": "AutodiscoverV1"},
        headers={"Authorization": auth},
    )
    client.get(
        "/autodiscover/autodiscover.json",
        params={"Email": PIERRE, "Protocol": "x"},
        headers={"Authorization": auth},
    )
    records = caplog.records
    assert any(
        r.name == "autoconfig.access" and "endpoint=autodiscover" in r.getMessage() for r in records
    )
    secrets = [PASSWORD, auth, auth.split()[1], MARKER]
    personal = [PIERRE, PIERRE_LOGIN]  # the test client logs the URLs it asks for; the service not
    for record in records:
        text = " ".join(
            [record.getMessage(), str(record.args), record.exc_text or "", str(record.__dict__)]
        )
        server_side = not record.name.startswith("httpx")
        for secret in secrets + (personal if server_side else []):
            assert secret not in text, f"{secret!r} logged by {record.name}"
    for secret in secrets:
        assert secret not in caplog.text


def test_the_log_capture_would_see_a_leak(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The capture above does see every logger at DEBUG (so it can fail)."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger("some.library").debug("password %s", PASSWORD)
    logging.getLogger("autoconfig.deep.module").debug("marker %s", MARKER)
    assert PASSWORD in caplog.text
    assert MARKER in caplog.text


@pytest.fixture(scope="module")
def debug_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``autoconfig serve --log-level debug`` on loopback, its stderr in a file."""
    args = ("--profiles", str(PROFILES), "--directory", str(DEMO), "--log-level", "debug")
    with serve(tmp_path_factory.mktemp("serve"), *args) as app:
        yield app.url, app.log


def test_a_real_server_at_debug_level_logs_no_secret(debug_server: tuple[str, Path]) -> None:
    base, stderr_path = debug_server
    auth = basic(PIERRE, PASSWORD)
    xml = {"Content-Type": "text/xml; charset=utf-8", "Authorization": auth}
    marked = request_body(extra=f"<LegacyDN>{MARKER}</LegacyDN>")
    statuses = [
        send(base + PATHS[0], marked, xml),
        send(base + PATHS[1], marked, xml),
        send(base + PATHS[0], MARKER.encode(), xml),
        send(base + PATHS[0], request_body(f"{MARKER}@gmail.com"), xml),
        send(base + PATHS[0], marked + b"x" * MAX_BYTES, xml),
        send(base + PATHS[0], None, {"Authorization": auth}, "GET"),
        send(
            f"{base}/autodiscover/autodiscover.json/v1.0/{PIERRE}?Protocol=AutodiscoverV1",
            None,
            {"Authorization": auth, "Host": "autodiscover.ac-aix-marseille.fr"},
            "GET",
        ),
        send(
            f"{base}/autodiscover/autodiscover.json?Email={PIERRE}&Protocol=Ews",
            None,
            {"Authorization": auth},
            "GET",
        ),
    ]
    assert statuses == [200, 200, 200, 200, 413, 200, 200, 400]
    deadline = time.monotonic() + 10
    while stderr_path.read_text().count("endpoint=autodiscover") < 8:
        if time.monotonic() > deadline:
            pytest.fail(f"access log lines missing from stderr:\n{stderr_path.read_text()}")
        time.sleep(0.1)
    logged = stderr_path.read_text()
    for secret in (PASSWORD, auth, auth.split()[1], MARKER, PIERRE, PIERRE_LOGIN):
        assert secret not in logged, f"{secret!r} in the server's log"
