"""The real server: ``autoconfig serve`` in a subprocess, spoken to over loopback HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import DEMO, PIERRE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def get(self, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url + path, headers={"Host": host} if host else {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()


def wait_until_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"autoconfig serve exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"autoconfig serve did not listen on port {port} within {timeout} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "autoconfig",
                "serve",
                "--port",
                str(port),
                "--workers",
                "2",
                "--log-level",
                "debug",
            ],
            env={**os.environ, "AUTOCONFIG_DIRECTORY": str(DEMO)},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            wait_until_listening(port, process)
            yield Server(f"http://127.0.0.1:{port}", process, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_serves_the_academic_id(server: Server) -> None:
    status, headers, body = server.get(f"/mail/config-v1.1.xml?emailaddress={PIERRE}")
    assert status == 200
    assert headers["content-type"] == "text/xml; charset=utf-8"
    assert b"<username>pdupont</username>" in body
    assert "server" not in {k.lower() for k in headers}


def test_generic_by_host_and_404(server: Server) -> None:
    status, headers, body = server.get(
        "/.well-known/autoconfig/mail/config-v1.1.xml", host="ac-aix-marseille.fr"
    )
    assert (status, headers["cache-control"]) == (200, "public, max-age=3600")
    assert b"%EMAILLOCALPART%" in body
    status, _, body = server.get("/mail/config-v1.1.xml")
    assert status == 404


def test_log_has_requests_but_no_addresses_or_logins(server: Server) -> None:
    server.get(f"/mail/config-v1.1.xml?emailaddress={PIERRE}")
    server.get("/mail/config-v1.1.xml?emailaddress=marie.martin%40ac-aix-marseille.fr")
    deadline = time.monotonic() + 10
    log = ""
    while time.monotonic() < deadline and log.count("login=directory") < 2:
        time.sleep(0.05)
        log = server.log_path.read_text(encoding="utf-8", errors="replace")
    assert (
        "endpoint=thunderbird domain=ac-aix-marseille.fr login=directory directory=directory status=200"
        in log
    )
    for secret in ("pierre", "dupont", "pdupont", "marie", "mmartin3", "emailaddress", "%40"):
        assert secret not in log.lower()
