"""The server's log lines: the two formats, the request id, what is left out (the operations
endpoints, WebSocket query strings, people), in process and from a real ``autoconfig serve``."""

from __future__ import annotations

import json
import logging
import re
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from autoconfig.server.logs import JsonFormatter, PlainFormatter, log_config
from autoconfig.settings import parse_networks
from autoconfig.web.observe import REQUEST_ID, request_id
from tests.conftest import DEMO, PIERRE, PIERRE_LOGIN
from tests.servers import App, send, serve
from tests.tools import wait_until

UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
TRUSTED = parse_networks("127.0.0.1", [], "test")


def record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("autoconfig.test", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_json_lines_carry_time_level_pid_and_the_request_id() -> None:
    token = REQUEST_ID.set("abc-123")
    try:
        line = JsonFormatter().format(record("hello %s", "world", fields={"status": 200}))
    finally:
        REQUEST_ID.reset(token)
    entry = json.loads(line)
    assert "\n" not in line
    assert UTC_TIME.fullmatch(entry["time"])
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "autoconfig.test"
    assert entry["message"] == "hello world"
    assert entry["request_id"] == "abc-123"
    assert entry["status"] == 200
    assert isinstance(entry["pid"], int)


def test_json_lines_outside_a_request_have_no_request_id() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = record("failed")
        failed.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(failed))
    assert "request_id" not in entry
    assert "ValueError: boom" in entry["exception"]


def test_plain_lines_are_utc_with_the_pid() -> None:
    formatter = PlainFormatter(log_config("info")["formatters"]["main"]["format"])
    line = formatter.format(record("hello"))
    stamp, level, name, pid, message = line.split(" ", 4)
    assert UTC_TIME.fullmatch(stamp)
    assert (level, name, message) == ("WARNING", "autoconfig.test", "hello")
    assert re.fullmatch(r"\[\d+\]", pid)


def scope(peer: str, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {"type": "http", "client": (peer, 1234), "headers": list(headers)}


ID = (b"x-request-id", b"0f6c2a1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b")


@pytest.mark.parametrize(
    ("peer", "headers", "trusted", "kept"),
    [
        ("127.0.0.1", [ID], TRUSTED, True),
        ("192.0.2.7", [ID], TRUSTED, False),  # not the proxy: anyone may send the header
        ("127.0.0.1", [ID], (), False),  # no proxy trusted at all
        ("127.0.0.1", [(b"x-request-id", b"pierre@example.org")], TRUSTED, False),
        ("127.0.0.1", [(b"x-request-id", b"a b")], TRUSTED, False),
        ("127.0.0.1", [(b"x-request-id", b"x" * 65)], TRUSTED, False),
        ("127.0.0.1", [], TRUSTED, False),
    ],
)
def test_the_request_id_is_the_proxys_only_when_trusted_and_well_formed(
    peer: str, headers: list[tuple[bytes, bytes]], trusted: Any, kept: bool
) -> None:
    found = request_id(scope(peer, *headers), trusted)
    if kept:
        assert found == ID[1].decode()
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", found)


def test_operations_endpoints_are_logged_at_debug_only(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="autoconfig.access"):
        for path in ("/healthz", "/metrics", "/status", "/mail/config-v1.1.xml"):
            client.get(path)
    levels = {
        re.search(r"endpoint=(\S+)", r.getMessage()).group(1): r.levelno  # type: ignore[union-attr]
        for r in caplog.records
        if r.name == "autoconfig.access"
    }
    assert levels == {
        "healthz": logging.DEBUG,
        "metrics": logging.DEBUG,
        "status": logging.DEBUG,
        "thunderbird": logging.INFO,
    }


# A real server logging JSON.


def get(app: App, path: str, **headers: str) -> int:
    return send(app.url + path, None, headers, "GET")


def entries(app: App) -> list[dict[str, Any]]:
    """Every line of the server's log, each of which must be a JSON object (but for a last line
    a worker is still writing)."""
    text = app.log_text()
    found = []
    for line in text[: text.rfind("\n") + 1].splitlines():
        entry = json.loads(line)
        assert isinstance(entry, dict), line
        found.append(entry)
    return found


def access(app: App) -> list[dict[str, Any]]:
    return [e for e in entries(app) if e["logger"] == "autoconfig.access"]


@pytest.fixture(scope="module")
def json_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    args = ("--directory", str(DEMO), "--workers", "2", "--trusted-proxy", "127.0.0.1")
    with serve(tmp_path_factory.mktemp("json"), *args, "--log-format", "json", env={}) as app:
        yield app


def test_every_line_is_json_with_utc_time_level_and_pid(json_server: App) -> None:
    found = entries(json_server)
    assert found
    for entry in found:
        assert UTC_TIME.fullmatch(entry["time"]), entry
        assert entry["level"] in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
        assert isinstance(entry["pid"], int)


def test_each_worker_says_what_it_loaded(json_server: App) -> None:
    lines = [e for e in entries(json_server) if "loaded 2 profile(s)" in e["message"]]
    assert len({e["pid"] for e in lines}) == 2
    for entry in lines:
        assert entry["message"] == (
            f"worker {entry['pid']}: loaded 2 profile(s) (ac-aix-marseille.fr, example.org); "
            "directory: CSV table staff.csv (5 entries)"
        )


def test_access_lines_carry_the_proxys_request_id_and_the_autodiscover_code(
    json_server: App,
) -> None:
    caddy_id = "7d0e4a52-5f0c-4c4e-9a52-8f1c0d2b3e4f"
    assert (
        get(
            json_server,
            f"/mail/config-v1.1.xml?emailaddress={PIERRE}",
            **{"X-Request-Id": caddy_id},
        )
        == 200
    )
    request = urllib.request.Request(
        json_server.url + "/autodiscover/autodiscover.xml", data=b"<not xml", method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200

    # Each line is written once its answer is out, by either worker: wait for both.
    def both() -> bool:
        lines = access(json_server)
        return any(e.get("request_id") == caddy_id for e in lines) and any(
            e.get("autodiscover_error") == "600" for e in lines
        )

    wait_until(both, "both lines")
    lines = access(json_server)
    (mine,) = [e for e in lines if e.get("request_id") == caddy_id]
    assert (mine["endpoint"], mine["status"], mine["login"]) == ("thunderbird", 200, "directory")
    (error,) = [e for e in lines if e.get("autodiscover_error") == "600"]
    assert (error["endpoint"], error["status"]) == ("autodiscover", 200)
    assert re.fullmatch(r"[0-9a-f]{32}", error["request_id"])


def test_operations_endpoints_are_not_logged(json_server: App) -> None:
    for path in ("/healthz", "/metrics", "/status"):
        assert get(json_server, path) == 200
    assert get(json_server, "/no/such/page") == 404
    wait_until(lambda: any(e["status"] == 404 for e in access(json_server)), "the 404's line")
    endpoints = {e["endpoint"] for e in access(json_server)}
    assert endpoints.isdisjoint({"healthz", "metrics", "status"})


def test_a_websocket_attempt_is_logged_without_its_query(json_server: App) -> None:
    with socket.create_connection(("127.0.0.1", json_server.port), timeout=10) as sock:
        sock.sendall(
            f"GET /ws?email={PIERRE} HTTP/1.1\r\nHost: autoconfig.ac-aix-marseille.fr\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode()
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 404")  # plain HTTP: no WebSocket is served
    wait_until(lambda: any(e["path"] == "/ws" for e in access(json_server)), "the line")
    text = json_server.log_text()
    for secret in (PIERRE, PIERRE_LOGIN, "email=", "%40"):
        assert secret not in text


def test_the_format_comes_from_the_environment_too(tmp_path: Path) -> None:
    with serve(tmp_path, env={"AUTOCONFIG_LOG_FORMAT": "json"}) as app:
        assert get(app, "/mail/config-v1.1.xml?emailaddress=x@example.org") == 200
        wait_until(lambda: bool(access(app)), "the access line")
        assert entries(app)
