"""Evolution's own account lookup (Debian 12's ``libevolution`` 3.46), run headless.

Evolution's account assistant looks the settings up with ``EMailAutoconfig`` of its mail library:
``https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=EVOLUTIONUSER@<domain>&
emailmd5=…`` first, then other URLs and the ISPDB. :mod:`tests.evolution_lookup` calls that
library for each address, in a D-Bus session of its own (the library needs Evolution's source
registry, which D-Bus starts) and in a mount namespace (:func:`tests.tools.private_mounts`)
where ``/etc/hosts`` sends the provider's names to 127.0.0.1 (Caddy listens there on 80 and 443),
``/etc/resolv.conf`` names a loopback address where nothing answers (its NS lookup after a 404
stays on loopback) and the system's CA bundle, the one file GnuTLS trusts, is Caddy's internal
root. What it prints is the account Evolution would create: the IMAP and SMTP user, host, port,
security and authentication, as Evolution stores them.
"""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.tools import HarnessError, private_mounts, require

LOOKUP = Path(__file__).with_name("evolution_lookup.py")
LIBRARIES = (
    Path("/usr/lib/evolution/libevolution-mail.so.0"),  # Debian package libevolution
    Path("/usr/libexec/evolution-source-registry"),  # evolution-data-server
)
TIMEOUT_S = 120
"""For every lookup of one run (each URL that does not answer costs Evolution up to 15 s)."""
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

HEADER = re.compile(r"^=== <(?P<address>[^>]*)> (?P<rest>.*)$")


@dataclass(frozen=True)
class Server:
    """A server as Evolution stores it in the account it creates."""

    user: str
    host: str
    port: int
    security: str
    """``[Security] Method``: ``ssl-on-alternate-port`` is TLS from the first byte."""
    mechanism: str
    """``[Authentication] Method``: ``LOGIN`` for SMTP, ``none`` for IMAP's own LOGIN command."""


@dataclass(frozen=True)
class Found:
    """What Evolution found for one address: a server per kind (``imap``, ``smtp``), or the
    error it stopped at."""

    servers: dict[str, Server]
    error: str = ""


def _server(text: str) -> Server:
    keys = configparser.ConfigParser(interpolation=None)
    keys.optionxform = str  # type: ignore[assignment,method-assign]
    keys.read_string(text)
    auth = keys["Authentication"]
    return Server(
        auth["User"], auth["Host"], int(auth["Port"]), keys["Security"]["Method"], auth["Method"]
    )


def parse(output: str) -> dict[str, Found]:
    """What :mod:`tests.evolution_lookup` printed, by address."""
    found: dict[str, Found] = {}
    blocks: list[tuple[str, str, list[str]]] = []
    for line in output.splitlines():
        if header := HEADER.match(line):
            blocks.append((header["address"], header["rest"], []))
        elif blocks:
            blocks[-1][2].append(line)
    for address, rest, lines in blocks:
        entry = found.setdefault(address, Found({}))
        if rest.startswith("error: "):
            found[address] = Found({}, rest.removeprefix("error: "))
        elif not rest.endswith(": none"):
            entry.servers[rest] = _server("\n".join(lines))
    return found


def look_up(
    tmp: Path, names: list[str], root_certificate: Path, *addresses: str
) -> dict[str, Found]:
    """Evolution's lookup of each address, ``names`` resolving to 127.0.0.1 and Caddy's
    ``root_certificate`` the only trusted CA."""
    for needed in LIBRARIES:
        if not needed.exists():
            raise HarnessError(
                f"{needed} is missing: Evolution's libraries (libevolution, evolution-data-server "
                "in scripts/packages/test.txt; run scripts/test)"
            )
    home = tmp / "evolution-home"
    runtime = home / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    hosts = tmp / "evolution-hosts"
    hosts.write_text("127.0.0.1 localhost " + " ".join(names) + "\n", encoding="ascii")
    command = private_mounts(
        tmp,
        {"/etc/hosts": hosts, CA_BUNDLE: root_certificate},
        [require("dbus-run-session"), "--", sys.executable, str(LOOKUP), *addresses],
        "Evolution",
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_RUNTIME_DIR": str(runtime),
        "GSETTINGS_BACKEND": "memory",
        "LANG": "C.UTF-8",
    }
    try:
        done = subprocess.run(
            command, capture_output=True, env=env, timeout=TIMEOUT_S, check=False, text=True
        )
    except subprocess.TimeoutExpired as exc:
        raise HarnessError(f"Evolution's lookup took over {TIMEOUT_S} s") from exc
    found = parse(done.stdout)
    if done.returncode != 0 or set(found) != set(addresses):
        raise HarnessError(
            f"Evolution's lookup exited with {done.returncode}:\n{done.stdout}\n{done.stderr[-3000:]}"
        )
    return found
