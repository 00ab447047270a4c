"""A real CalDAV/CardDAV server (Radicale, Debian package radicale) on loopback, over TLS with a
certificate of the test PKI, asking for a login (htpasswd users): what the doctor's DAV checks
reach."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.tools import free_port, require, stop, wait_until


@dataclass(frozen=True)
class Radicale:
    address: str
    port: int
    log: Path


@contextmanager
def run_radicale(
    folder: Path, address: str, certificate: tuple[Path, Path], users: Mapping[str, str]
) -> Iterator[Radicale]:
    """Radicale in the foreground on ``address`` and a free port, no configuration file read."""
    folder.mkdir(parents=True, exist_ok=True)
    htpasswd = folder / "users"
    htpasswd.write_text("".join(f"{login}:{pw}\n" for login, pw in users.items()))
    server = Radicale(address, free_port(), folder / "radicale.log")
    command = [
        require("radicale"),
        "--config",
        "",
        "--server-hosts",
        f"{address}:{server.port}",
        "--server-ssl",
        "--server-certificate",
        str(certificate[0]),
        "--server-key",
        str(certificate[1]),
        "--storage-filesystem-folder",
        str(folder / "collections"),
        "--auth-type",
        "htpasswd",
        "--auth-htpasswd-filename",
        str(htpasswd),
        "--auth-htpasswd-encryption",
        "plain",
    ]
    with server.log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)

    def up() -> bool:
        if process.poll() is not None:
            return True
        try:
            with socket.create_connection((address, server.port), timeout=0.5):
                return True
        except OSError:
            return False

    try:
        wait_until(up, "radicale to listen")
        assert process.poll() is None, server.log.read_text(errors="replace")
        yield server
    finally:
        stop(process)
