"""Through the shipped Caddyfile, in front of two instances: a client sending slowly or an instance
that hangs costs the other clients nothing (findings H1 and I4/I5 of issue 16).

The only timings asserted are the issue's own criterion, "answered in under 1 s", for requests
that take some 50 ms when nothing happens (curl's start and TLS handshake included): twenty times
that, generous on a loaded machine, yet far below what the attack caused (a time-out, or 503)."""

from __future__ import annotations

import signal
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from functools import partial

import pytest

from tests.caddy import FRONT_DOMAIN, Fetched, Front, curl
from tests.hostile.slowstreams import SlowStreams
from tests.servers import App, http_status
from tests.tools import wait_until

D = FRONT_DOMAIN
NORMAL = 1.0
"""Seconds within which a normal request must be answered during an attack (the issue's figure)."""
ATTACK_STREAMS = 200
PASSWORD = "Z2FlbGxlOnNlY3JldA=="
AUTODISCOVER = f"https://autodiscover.{D}/autodiscover/autodiscover.xml"
REQUEST = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">'
    b"<Request><EMailAddress>pierre.dupont@ac-aix-marseille.fr</EMailAddress>"
    b"<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
    b"</AcceptableResponseSchema></Request></Autodiscover>"
)


def normal_requests(front: Front) -> list[Callable[[], Fetched]]:
    """What other clients ask meanwhile: Thunderbird's autoconfig, an Autodiscover POST, a page."""
    caddy = front.caddy
    return [
        lambda: curl(
            caddy, f"https://autoconfig.{D}/mail/config-v1.1.xml?emailaddress=marie.martin%40{D}"
        ),
        lambda: curl(
            caddy,
            AUTODISCOVER,
            method="POST",
            headers=["Content-Type: text/xml"],
            body=REQUEST,
        ),
        lambda: curl(caddy, f"https://autoconfig.{D}/aide/"),
    ]


def slowest(front: Front, rounds: int = 3) -> float:
    """The longest a normal request took over ``rounds`` of them; each must be answered 200."""
    worst = 0.0
    for _ in range(rounds):
        for ask in normal_requests(front):
            started = time.monotonic()
            fetched = ask()
            took = time.monotonic() - started
            assert fetched.status == 200, fetched
            worst = max(worst, took)
    return worst


SITES = [f"autodiscover.{D}", D]
"""Where Autodiscover is proxied: the project's Caddyfile, and the main website's snippet
(deploy/main-site.caddy)."""


def slow_streams(front: Front, host: str = f"autodiscover.{D}", **options: object) -> SlowStreams:
    caddy = front.caddy
    return SlowStreams(
        caddy.https_port,
        host,
        f"/autodiscover/autodiscover.xml?email=gaelle.lheritier%40{D}",
        caddy.root_certificate,
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("site", SITES)
def test_slow_body_streams_on_one_connection_leave_others_answered(front: Front, site: str) -> None:
    """H1: 200 streams on one HTTP/2 connection, each sending its 16 kB body a byte a second,
    held every connection Caddy may open to both instances. Caddy now reads a body whole before
    asking an instance (buffer_requests): the streams tie up nothing but their own connection.
    (Through the main website's snippet, which sets no connection limit, the streams used to
    reach the instances, which now cut them off after 10 s; Caddy buffers there too.)"""
    password = ("authorization", f"Basic {PASSWORD}")
    with slow_streams(front, site, streams=ATTACK_STREAMS, headers=(password,)) as attack:
        time.sleep(1.5)  # the attack is established: every stream has sent a few bytes
        assert attack.opened == ATTACK_STREAMS
        assert attack.open_streams == ATTACK_STREAMS, attack.ended
        took = slowest(front)
        assert attack.open_streams == ATTACK_STREAMS, "the attack stopped before the check"
    assert took < NORMAL, f"a normal request took {took:.2f} s during the attack"
    # The attacker gone, its 200 bodies cut short: that is no failure of the instances (Caddy
    # counted each as one, took both out, and answered everyone 503).
    took = slowest(front)
    assert took < NORMAL, f"a normal request took {took:.2f} s after the attack"
    logged = front.caddy.log_text()
    assert "gaelle" not in logged
    assert PASSWORD not in logged


def slow_http1_body(front: Front, interval: float = 1.0, limit: float = 40.0) -> bytes:
    """An HTTP/1.1 request over TLS announcing a 16,000-byte body and sending a byte of it every
    ``interval`` seconds; what Caddy answered before it closed the connection (``limit``: the
    test's own bound)."""
    context = ssl.create_default_context(cafile=str(front.caddy.root_certificate))
    context.set_alpn_protocols(["http/1.1"])
    raw = socket.create_connection(("127.0.0.1", front.caddy.https_port), timeout=limit)
    answer = b""
    with context.wrap_socket(raw, server_hostname=f"autodiscover.{D}") as tls:
        tls.sendall(
            b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\n"
            + f"Host: autodiscover.{D}\r\n".encode()
            + b"Content-Type: text/xml\r\nContent-Length: 16000\r\n\r\n<"
        )
        deadline = time.monotonic() + limit
        tls.settimeout(interval)
        while time.monotonic() < deadline:
            try:
                chunk = tls.recv(65_536)
            except TimeoutError:
                try:
                    tls.sendall(b" ")
                except OSError:
                    break
                continue
            except OSError:
                break
            if not chunk:
                break
            answer += chunk
        else:
            pytest.fail(f"Caddy still read the slow body after {limit} s")
    return answer


def test_a_slow_http1_body_is_cut_off(front: Front) -> None:
    """A request whose body has not come whole within the read time-out (10 s) is ended by Caddy
    (HTTP/1.1; Caddy 2.6 applies no read time-out to an HTTP/2 stream, whose slow body still
    holds nothing beyond its own connection: see the test above)."""

    def asked() -> int:
        return sum(app.log_text().count("endpoint=autodiscover ") for app in front.apps)

    before = asked()
    answer = slow_http1_body(front)
    # Caddy 2.6 closes the connection with an empty answer; no instance ever saw the request.
    assert b"Autodiscover" not in answer, answer
    assert asked() == before


def resume(front: Front, stopped: list[App]) -> None:
    """Let the stopped instances go on, and wait until Caddy sends requests to each of them
    again (it avoids them for a while after they failed), so that later tests find both."""
    for app in stopped:
        app.signal(signal.SIGCONT)

    def back(app: App) -> bool:
        marker = f"/hostile-marker-{uuid.uuid4().hex}"
        assert curl(front.caddy, f"https://autoconfig.{D}{marker}").status == 404
        return f"path={marker} " in app.log_text()

    for app in stopped:
        wait_until(partial(back, app), "Caddy to use the resumed instance again", 60)


def refused_by_apps(front: Front) -> int:
    """How many requests the instances have refused as too large, once every answer they gave
    before is logged (a request of a path of our own, sent to each, is logged after them)."""
    marker = f"/hostile-marker-{uuid.uuid4().hex}"
    for app in front.apps:
        assert http_status(app.url + marker) == 404
    wait_until(lambda: all(f"path={marker} " in app.log_text() for app in front.apps), "the marker")
    return sum(app.log_text().count(" status=413 ") for app in front.apps)


@pytest.mark.parametrize(
    ("size", "chunked"),
    [(16 * 1024 + 1, False), (100_000, False), (16 * 1024 + 1, True), (100_000, True)],
)
@pytest.mark.parametrize("site", SITES)
def test_a_body_over_16_kib_is_refused(front: Front, size: int, chunked: bool, site: str) -> None:
    """Said to be larger (Content-Length): refused by Caddy before an instance is asked; sent
    without a length: Caddy passes one byte over the limit, and the app refuses it. (HTTP/1.1:
    over HTTP/2 Caddy may reset the stream it has answered before curl has sent the body, which
    curl reports as an error, not as the 413.)"""
    before = refused_by_apps(front)
    fetched = curl(
        front.caddy,
        f"https://{site}/autodiscover/autodiscover.xml",
        method="POST",
        headers=["Content-Type: text/xml", *(["Transfer-Encoding: chunked"] if chunked else [])],
        body=b"<" + b" " * (size - 1),
        options=["--http1.1"],
    )
    assert fetched.status == 413
    assert refused_by_apps(front) == before + (1 if chunked else 0)


@pytest.mark.parametrize("size", [16 * 1024, 16 * 1024 - 1])
def test_a_body_of_16_kib_passes(front: Front, size: int) -> None:
    """Up to the app's own limit, the body reaches the app (whose answer for this junk is an
    Autodiscover error document, HTTP 200)."""
    fetched = curl(
        front.caddy,
        AUTODISCOVER,
        method="POST",
        headers=["Content-Type: text/xml"],
        body=b"<" + b" " * (size - 1),
    )
    assert fetched.status == 200
    assert b"<ErrorCode>600</ErrorCode>" in fetched.body


def test_a_hung_instance_leaves_others_answered(front: Front) -> None:
    """I4/I5: an instance stopped with SIGSTOP still accepts connections (the kernel does), so
    Caddy used to wait for it until the client gave up (curl's 10 s here). Now it gives up after
    3 s without response headers and tries the GET on the other instance, which the health check
    has taken out by then (within 2 s: with 4 s, about half of these runs had the retry meet the
    hung instance again, a 504); afterwards every request is answered in normal time."""
    hung = front.apps[0]
    hung.signal(signal.SIGSTOP)
    fast_in_a_row = retried = 0
    deadline = time.monotonic() + 30
    try:
        # Asked back to back until one GET has met the hung instance and been retried (the
        # instances share the requests, least_conn breaking ties at random, until the health
        # check takes it out: a score of requests land meanwhile), then until four in a row are
        # fast: the hung one is out from then on.
        while retried == 0 or fast_in_a_row < 4:
            assert time.monotonic() < deadline, f"no GET met the hung instance ({retried})"
            started = time.monotonic()
            fetched = curl(
                front.caddy,
                f"https://autoconfig.{D}/mail/config-v1.1.xml?emailaddress=jean-luc.nguyen%40{D}",
                headers=["Authorization: Basic amVhbi1sdWM6c2VjcmV0"],
            )
            took = time.monotonic() - started
            assert fetched.status == 200
            assert took < 6, took  # the 3 s time-out and a retry, never curl's 10 s
            retried += took >= 3
            fast_in_a_row = fast_in_a_row + 1 if took < NORMAL else 0
        took = slowest(front)
    finally:
        resume(front, [hung])
    assert took < NORMAL, f"a normal request took {took:.2f} s with one instance hung"
    assert "jean-luc" not in front.caddy.log_text()


def test_caddy_error_lines_name_no_one(front: Front) -> None:
    """Caddy's own error lines (here: both instances hung, the request fails) name the request
    like its access lines: without the query string (an address) and without headers (a
    password in Authorization)."""
    for app in front.apps:
        app.signal(signal.SIGSTOP)
    try:
        fetched = curl(
            front.caddy,
            AUTODISCOVER + f"?email=sophie.bernard%40{D}",
            method="POST",
            headers=["Content-Type: text/xml", f"Authorization: Basic {PASSWORD}"],
            body=REQUEST,
        )
        assert fetched.status in (502, 503, 504)
    finally:
        resume(front, front.apps)
    wait_until(lambda: '"logger":"http.log.error' in front.caddy.log_text(), "Caddy's error line")
    logged = front.caddy.log_text()
    assert "sophie" not in logged
    assert PASSWORD not in logged
