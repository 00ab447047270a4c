"""Real components for the browser tests and ``scripts/screenshots``: ``autoconfig serve`` on a free
loopback port, and Debian's Chromium driven by Playwright.

Chromium resolves the providers' help hosts to 127.0.0.1 and every other name to nothing, so a page
can only ever reach our server: a request to any other site would fail, and is also recorded.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autoconfig.settings import default_profiles, demo_directory

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
HOSTS = ("autoconfig.ac-aix-marseille.fr", "autoconfig.example.org")
"""The help sites the browser can reach, one per profile of the project."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules="
    + ", ".join([*(f"MAP {host} 127.0.0.1" for host in HOSTS), "MAP * ~NOTFOUND"]),
]
START_TIMEOUT = 30.0
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


class MissingTool(RuntimeError):
    """A tool the browser tests need is not installed; the message says how to get it."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    port: int
    log: Path

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"


@contextlib.contextmanager
def serve(workdir: Path) -> Iterator[Server]:
    """``autoconfig serve`` with the project's profiles and demo directory, run from ``workdir``
    (not the project folder: the installed command must find its templates by itself)."""
    port = free_port()
    log = workdir / "server.log"
    command = [
        sys.executable,
        "-m",
        "autoconfig",
        "serve",
        "--profiles",
        str(default_profiles()),
        "--directory",
        str(demo_directory()),
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCONFIG_")}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=workdir, stdout=out, stderr=out, env=env)
    try:
        _wait_for_port(port, process, log)
        yield Server(port, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"autoconfig serve exited early:\n{log.read_text()}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(
        f"autoconfig serve did not listen within {START_TIMEOUT} s:\n{log.read_text()}"
    )


def check_tools() -> None:
    if not CHROMIUM.is_file():
        raise MissingTool(
            f"{CHROMIUM} is missing: install the Debian package chromium (scripts/test does)"
        )
    if not AXE.is_file():
        raise MissingTool(
            f"{AXE} is missing: run scripts/test (it runs npm install of package.json)"
        )


def launch(playwright: Any) -> Any:
    """Debian's Chromium, headless, with a fresh temporary profile (Playwright makes one per launch)."""
    check_tools()
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=60_000
    )
