"""Process helpers shared by the tests and the benchmarks: free loopback ports, system tools,
waiting and stopping. No pytest here, so ``bench/`` can use the same real-component harnesses.

A tool that is missing or a server that does not start raises :class:`HarnessError` with a
message that says what to install or what the server printed: under pytest that is a test error
(never a skip), in a benchmark a stop with that message.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


NO_RESOLVER = "127.0.0.9"
"""The name server of a real client's ``/etc/resolv.conf`` (:func:`private_mounts`): a loopback
address nothing listens on, so that its own DNS queries (MX, SRV, NS) fail at once, on loopback,
whatever the machine runs (a system BIND on 127.0.0.1 would recurse to the Internet)."""


class HarnessError(RuntimeError):
    """A real component the tests need is missing or did not start; the message says why."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def require(tool: str) -> str:
    """The path of a system tool, or :class:`HarnessError` naming the Debian package list."""
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if path is None:
        raise HarnessError(
            f"{tool} is not installed (listed in scripts/packages/test.txt; run scripts/test)"
        )
    return path


def wait_until(check: Callable[[], object], what: str, timeout: float = START_TIMEOUT) -> None:
    """Poll ``check()`` until it is true; :class:`HarnessError` naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise HarnessError(f"timed out waiting for {what}")


def stop(process: subprocess.Popen[bytes]) -> int:
    """Stop a server: SIGTERM, then SIGKILL if it does not stop in time; its exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
    return process.returncode


def private_mounts(tmp: Path, binds: Mapping[str, Path], command: list[str], who: str) -> list[str]:
    """The command line that runs ``command`` in a mount namespace of its own where
    ``/etc/resolv.conf`` names :data:`NO_RESOLVER` (a file written in ``tmp``) and each other
    file of ``binds`` (e.g. ``/etc/hosts``) is replaced by the given one: the machine's files are
    untouched. Needs root (CI runs as root); ``who`` names the client for the message."""
    if os.geteuid() != 0:
        raise HarnessError(f"the {who} tests need root (a mount namespace, ports 80 and 443)")
    try:
        socket.create_connection((NO_RESOLVER, 53), timeout=1).close()
    except OSError:
        pass
    else:
        raise HarnessError(f"something listens on {NO_RESOLVER}:53; {who}'s DNS must go nowhere")
    resolv = tmp / f"resolv-{who.lower()}.conf"
    resolv.write_text(f"nameserver {NO_RESOLVER}\n", encoding="ascii")
    mounts = [
        f"mount --bind {shlex.quote(str(source))} {shlex.quote(target)}"
        for target, source in {"/etc/resolv.conf": resolv, **binds}.items()
    ]
    inner = " && ".join([*mounts, "exec " + shlex.join(command)])
    return [require("unshare"), "--mount", "--propagation", "private", "sh", "-c", inner]
