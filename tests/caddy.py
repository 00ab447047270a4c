"""The real Caddy (Debian's ``caddy``) on loopback, running the project's Caddyfile with its
internal CA, and curl to talk to it as a client on the Internet would (names resolved to loopback)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.servers import App, serve
from tests.tools import free_port, require, stop, wait_until

ROOT = Path(__file__).resolve().parent.parent
CADDYFILE = ROOT / "Caddyfile"
MAIN_SITE = ROOT / "deploy" / "main-site.caddy"
PACC_SITE = ROOT / "deploy" / "pacc.caddy"
CURL_TIMEOUT = 10


@dataclass(frozen=True)
class Caddy:
    domain: str
    http_port: int
    https_port: int
    data: Path
    log: Path

    @property
    def root_certificate(self) -> Path:
        """Caddy's internal CA, the one ``tls internal`` certificates chain to."""
        return self.data / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def port_of(self, url: str) -> int:
        return self.https_port if url.startswith("https://") else self.http_port

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def lines_of(caddy: Caddy) -> list[dict[str, Any]]:
    """Caddy's JSON log lines (its access and error logs among them), but for a last line it is
    still writing."""
    text = caddy.log_text()
    lines = text[: text.rfind("\n") + 1].splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def access_lines(caddy: Caddy) -> list[dict[str, Any]]:
    return [
        line for line in lines_of(caddy) if line.get("logger", "").startswith("http.log.access")
    ]


@dataclass(frozen=True)
class Fetched:
    status: int
    content_type: str
    location: str
    body: bytes


def curl(
    caddy: Caddy,
    url: str,
    *,
    method: str = "GET",
    headers: Sequence[str] = (),
    body: bytes | None = None,
    options: Sequence[str] = (),
) -> Fetched:
    """One request with curl, the URL's host name resolved to 127.0.0.1 and Caddy's root trusted
    (``options``: more of curl's, e.g. ``--http1.1``)."""
    host = url.split("/")[2]
    port = caddy.port_of(url)
    scheme_port = 443 if url.startswith("https://") else 80
    target = url.replace(f"//{host}/", f"//{host}:{port}/", 1) if port != scheme_port else url
    command = [
        require("curl"),
        "--silent",
        "--show-error",
        "--max-time",
        str(CURL_TIMEOUT),
        "--resolve",
        f"{host}:{port}:127.0.0.1",
        "--cacert",
        str(caddy.root_certificate),
        "--request",
        method,
        "--output",
        "-",
        "--write-out",
        "\n%{http_code} %{content_type}\n%{redirect_url}",
    ]
    for header in headers:
        command += ["--header", header]
    command += options
    if body is not None:
        command += ["--data-binary", "@-"]
    done = subprocess.run(
        [*command, target], input=body or b"", capture_output=True, timeout=CURL_TIMEOUT + 5
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    content, _, trailer = done.stdout.rpartition(b"\n")
    content, _, status_line = content.rpartition(b"\n")
    status, _, content_type = status_line.decode().partition(" ")
    return Fetched(int(status), content_type, trailer.decode(), content)


@contextmanager
def run_caddy(
    tmp: Path,
    domain: str,
    upstreams: Sequence[int],
    caddyfile: Path = CADDYFILE,
    *,
    main_site: str = "",
    http_port: int | None = None,
    https_port: int | None = None,
    pacc: bool = False,
) -> Iterator[Caddy]:
    """Caddy with the project's Caddyfile (or ``caddyfile``, one ``autoconfig caddyfile``
    wrote), with ``deploy/pacc.caddy`` imported after it when ``pacc`` (as for a domain whose
    profile offers PACC), plus the main website of ``domain`` using the snippet (and the
    ``main_site`` directives, e.g. the ``.well-known/caldav`` redirects), on the given ports of
    127.0.0.1 (free ones by default)."""
    caddy_bin = require("caddy")
    config = tmp / "Caddyfile"
    config.write_text(
        f"import {caddyfile}\n" + (f"import {PACC_SITE}\n" if pacc else "") + "\n"
        "{$AUTOCONFIG_DOMAIN} {\n"
        "\ttls {$AUTOCONFIG_TLS}\n"
        f"\timport {MAIN_SITE}\n"
        f"{main_site}"
        '\trespond "the main website" 200\n'
        "}\n",
        encoding="utf-8",
    )
    caddy = Caddy(
        domain,
        http_port or free_port(),
        https_port or free_port(),
        tmp / "data",
        tmp / "caddy.log",
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "XDG_DATA_HOME": str(caddy.data),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "AUTOCONFIG_DOMAIN": domain,
        "AUTOCONFIG_TLS": "internal",
        "AUTOCONFIG_UPSTREAMS": " ".join(f"127.0.0.1:{port}" for port in upstreams),
        "HTTP_PORT": str(caddy.http_port),
        "HTTPS_PORT": str(caddy.https_port),
        "CADDY_BIND": "127.0.0.1",
        "CADDY_ADMIN": "off",
    }
    with caddy.log.open("wb") as sink:
        process = subprocess.Popen(
            [caddy_bin, "run", "--adapter", "caddyfile", "--config", str(config)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:

        def up() -> bool:
            if process.poll() is not None:
                pytest.fail(f"caddy exited with {process.returncode}:\n{caddy.log_text()}")
            if not caddy.root_certificate.is_file():
                return False
            try:
                return curl(caddy, f"https://autoconfig.{domain}/healthz").status == 200
            except AssertionError:
                return False

        wait_until(up, "caddy to answer over https")
        yield caddy
    finally:
        stop(process)


FRONT_DOMAIN = "ac-aix-marseille.fr"


@dataclass
class Front:
    """Caddy in front of two ``autoconfig serve`` instances (the production layout)."""

    caddy: Caddy
    apps: list[App]
    tmp: Path
    args: tuple[str, ...]
    stack: ExitStack = field(repr=False)

    def restart(self, index: int) -> None:
        """Start instance ``index`` again on its port (after a test stopped it)."""
        old = self.apps[index]
        old.stop()
        self.apps[index] = self.stack.enter_context(serve(self.tmp, *self.args, port=old.port))


@pytest.fixture(scope="session")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    from tests.conftest import DEMO

    tmp = tmp_path_factory.mktemp("front")
    args = ("--directory", str(DEMO), "--trusted-proxy", "127.0.0.1")
    with ExitStack() as stack:
        apps = [stack.enter_context(serve(tmp, *args)) for _ in range(2)]
        caddy = stack.enter_context(run_caddy(tmp, FRONT_DOMAIN, [app.port for app in apps]))
        yield Front(caddy, apps, tmp, args, stack)
