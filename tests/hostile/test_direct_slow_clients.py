"""An instance reached directly (no Caddy in front): a client that sends nothing, sends its
request a byte at a time or sends endless headers is cut off (``autoconfig.server.protocol``)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from autoconfig.server.protocol import MAX_HEADER_BYTES, READ_TIMEOUT
from tests.conftest import DEMO
from tests.servers import App, serve
from tests.tools import wait_until

LIMIT = READ_TIMEOUT * 3
"""How long the tests wait for a connection to be cut before failing (never reached when the
bound holds: it is the test's own guard against hanging)."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with serve(tmp_path_factory.mktemp("direct"), "--directory", str(DEMO)) as started:
        yield started


def connect(app: App) -> socket.socket:
    return socket.create_connection(("127.0.0.1", app.port), timeout=LIMIT)


def until_closed(sock: socket.socket, trickle: bytes = b"") -> bytes:
    """What the server sends until it closes the connection, sending one byte of ``trickle``
    every second meanwhile; fails after :data:`LIMIT` seconds."""
    deadline = time.monotonic() + LIMIT
    answer = b""
    sock.settimeout(1.0)
    position = 0
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65_536)
        except TimeoutError:
            if position < len(trickle):
                try:
                    sock.sendall(trickle[position : position + 1])
                except OSError:
                    return answer
                position += 1
            continue
        except OSError:
            return answer
        if not chunk:
            return answer
        answer += chunk
    pytest.fail(f"the connection was still open after {LIMIT} s")


def test_a_connection_that_sends_nothing_is_closed(app: App) -> None:
    with connect(app) as sock:
        assert until_closed(sock) == b""


def test_slow_headers_are_cut_off(app: App) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 100
    with connect(app) as sock:
        assert until_closed(sock, request) == b""


def test_a_slow_body_is_cut_off_and_logged_as_a_client_gone(app: App) -> None:
    head = (
        b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: text/xml\r\nContent-Length: 16000\r\n\r\n"
    )
    with connect(app) as sock:
        sock.sendall(head)
        assert until_closed(sock, b"<" + b" " * 100) == b""
    # The app logs the client gone once the connection is closed (at the same moment).
    wait_until(lambda: "status=499" in app.log_text(), "the client-gone line")
    assert "Traceback" not in app.log_text()


def test_headers_over_the_limit_are_refused(app: App) -> None:
    with connect(app) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        filler = b"X-Filler: " + b"a" * 1000 + b"\r\n"
        try:
            for _ in range(MAX_HEADER_BYTES // len(filler) + 2):
                sock.sendall(filler)
        except OSError:
            pass  # closed while sending: the answer is already there
        answer = until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer


def test_headers_within_the_limit_pass(app: App) -> None:
    with connect(app) as sock:
        big = b"Authorization: Negotiate " + b"a" * (MAX_HEADER_BYTES // 2) + b"\r\n"
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + big + b"\r\n")
        assert until_closed(sock).startswith(b"HTTP/1.1 200 ")
