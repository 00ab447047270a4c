"""``autoconfig`` run as a real process on loopback, the one way the tests (and the browser
harness) start it: ``python -m autoconfig`` with the developer's own ``AUTOCONFIG_*`` variables
removed, so that no test depends on the shell it was started from."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.tools import HarnessError, free_port, stop, wait_until

COMMAND_TIMEOUT = 60.0
PROFILES = Path(__file__).resolve().parent / "data" / "profiles"
"""The profiles the tests serve: the project's own and the documented example
(``docs/example-profile.toml``, not served by default), as symbolic links."""


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``AUTOCONFIG_*`` variable, serving the test
    profiles (:data:`PROFILES`), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCONFIG_")}
    return {**env, "AUTOCONFIG_PROFILES": str(PROFILES), **(extra or {})}


def autoconfig_command(*args: str, python: str = sys.executable) -> list[str]:
    return [python, "-m", "autoconfig", *args]


def run_command(
    *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``autoconfig ARGS`` in a process of its own (for what a test cannot run in-process: a
    server that exits, signals), with a clean environment plus ``env``."""
    return subprocess.run(
        autoconfig_command(*args),
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
        env=clean_env(env),
    )


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def send(url: str, body: bytes | None, headers: Mapping[str, str], method: str = "POST") -> int:
    """One request, its body read; the status (an error status too)."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code


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


WORKER_READY = "Application startup complete"
"""What uvicorn logs once for each worker ready to answer."""


def workers_of(args: tuple[str, ...], env: Mapping[str, str] | None) -> int:
    """How many workers ``autoconfig serve ARGS`` starts (``--workers``, else the environment)."""
    if "--workers" in args:
        return int(args[args.index("--workers") + 1])
    return int((env or {}).get("AUTOCONFIG_WORKERS", "1"))


@contextmanager
def serve(
    tmp: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    cwd: Path | None = None,
    python: str = sys.executable,
) -> Iterator[App]:
    """Start ``autoconfig serve ARGS`` on a loopback port (a free one by default), from ``cwd``
    (default: this one), with the ``autoconfig`` that ``python`` imports (default: this one's),
    and wait until ``/healthz`` says ready and every worker has started (the first one answers
    while the others may still be loading: a file replaced meanwhile would be what they load);
    stopped on exit."""
    port = port or free_port()
    log = tmp / f"serve-{port}.log"
    command = autoconfig_command(
        "serve", "--host", "127.0.0.1", "--port", str(port), *args, python=python
    )
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env=clean_env(env), cwd=cwd
        )
    app = App(process, port, log)
    try:
        wait_until(
            lambda: process.poll() is not None or http_status(f"{app.url}/healthz") == 200,
            f"autoconfig serve on port {port}",
        )
        if process.poll() is not None:
            raise HarnessError(
                f"autoconfig serve exited with {process.returncode}:\n{app.log_text()}"
            )
        workers = workers_of(args, env)
        if workers > 1:  # one worker is the process that answered
            wait_until(
                lambda: app.log_text().count(WORKER_READY) >= workers,
                f"{workers} workers to start (their start is logged at level info)",
            )
        yield app
    finally:
        app.stop()
