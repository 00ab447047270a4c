"""Real components for the browser tests and ``scripts/screenshots``: ``autoconfig serve`` on a free
loopback port, and Debian's Chromium driven by Playwright.

Chromium resolves the providers' help hosts to 127.0.0.1 and every other name to nothing, so a page
can only ever reach our server: a request to any other site would fail, and is also recorded.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autoconfig.settings import demo_directory
from tests import lyon, servers
from tests.tools import HarnessError

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
HOSTS = ("autoconfig.ac-aix-marseille.fr", "autoconfig.example.org", lyon.LYON_HOST)
"""The help sites the browser can reach: one per profile of the project, and the fictional Lyon
académie of the tests (:mod:`tests.lyon`)."""
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
PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 900}


class MissingTool(HarnessError):
    """A tool the browser tests need is not installed; the message says how to get it."""


@dataclass(frozen=True)
class Server:
    port: int
    log: Path

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"


@contextlib.contextmanager
def serve(workdir: Path) -> Iterator[Server]:
    """``autoconfig serve`` with the project's profiles, the Lyon test profile (its notices dated
    from today) and the demo directory, run from ``workdir`` (not the project folder: the
    installed command must find its templates by itself)."""
    folder = workdir / "profiles"
    shutil.copytree(servers.PROFILES, folder)
    lyon.write_profile(folder)
    args = ("--profiles", str(folder), "--directory", str(demo_directory()))
    with servers.serve(workdir, *args, "--log-level", "warning", cwd=workdir) as app:
        yield Server(app.port, app.log)


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
