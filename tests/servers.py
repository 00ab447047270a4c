"""Real servers started by the tests on loopback: ``autoconfig serve`` instances (and, elsewhere,
Caddy and a DNS server). Each has timeouts and is always stopped."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stop(process: subprocess.Popen[bytes]) -> int:
    """Stop a server the tests started: SIGTERM, then SIGKILL if it does not stop in time; its
    exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
    return process.returncode


def require(tool: str) -> str:
    """The path of a system tool, or a test failure naming the Debian package list."""
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if path is None:
        pytest.fail(
            f"{tool} is not installed (listed in scripts/packages/test.txt; run scripts/test)"
        )
    return path


def wait_until(check: object, what: str, timeout: float = START_TIMEOUT) -> None:
    """Poll ``check()`` until it is true; fail with ``what`` after ``timeout`` seconds."""
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


class App:
    """One ``autoconfig serve`` process; its log (stderr) goes to ``log``."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, number: signal.Signals) -> None:
        self.process.send_signal(number)

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it does not stop in time; the exit status."""
        return stop(self.process)


@contextmanager
def serve(
    tmp: Path, *args: str, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[App]:
    """Start ``autoconfig serve`` on a loopback port (a free one by default) and wait until
    ``/healthz`` says ready."""
    port = port or free_port()
    log = tmp / f"serve-{port}.log"
    command: Sequence[str] = [
        sys.executable,
        "-m",
        "autoconfig",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *args,
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    app = App(process, port, log)
    try:
        wait_until(
            lambda: process.poll() is not None or http_status(f"{app.url}/healthz") == 200,
            f"autoconfig serve on port {port}",
        )
        if process.poll() is not None:
            pytest.fail(f"autoconfig serve exited with {process.returncode}:\n{app.log_text()}")
        yield app
    finally:
        app.stop()
