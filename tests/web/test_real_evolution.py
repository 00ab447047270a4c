"""The real Evolution (Debian 12's 3.46 mail library) finding each person's settings through the
shipped Caddyfile.

Evolution never sends the address: it asks ``emailaddress=EVOLUTIONUSER@<domain>`` with the MD5
of the address (``tests/evolution.py``). The service finds the person by that digest in a CSV
table or in a SQLite file ``directory import`` wrote, and the account Evolution would create
holds their own login for IMAP and SMTP; someone the directory does not list gets the local part
of their address (the generic answer), never another person's login.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.caddy import Caddy, access_lines, run_caddy
from tests.conftest import ACADEMIE, DEMO, DEMO_STAFF
from tests.evolution import Found, Server, look_up
from tests.servers import run_command, serve

TLS = "ssl-on-alternate-port"
"""Evolution's name for TLS from the first byte (993, 465)."""
IMAP = (f"imap.{ACADEMIE}", 993, TLS, "none")  # "none": IMAP's own LOGIN command
SMTP = (f"smtp.{ACADEMIE}", 465, TLS, "LOGIN")
NAMES = [f"autoconfig.{ACADEMIE}", ACADEMIE, f"autodiscover.{ACADEMIE}"]
TYPED = {
    # as typed -> the login Evolution must end up with
    **{f"{local}@{ACADEMIE}": login for local, login in DEMO_STAFF.items()},
    f"Pierre.Dupont@{ACADEMIE}": DEMO_STAFF["pierre.dupont"],
    f"MARIE.MARTIN@{ACADEMIE.upper()}": DEMO_STAFF["marie.martin"],
    f"nobody.known@{ACADEMIE}": "nobody.known",
}


@dataclass(frozen=True)
class Deployment:
    caddy: Caddy
    tmp: Path
    log: Path


@pytest.fixture(scope="module", params=["csv", "sqlite"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """``autoconfig serve`` with the demo directory as its CSV table or as a SQLite file, behind
    Caddy (the shipped Caddyfile) on ports 80 and 443 of 127.0.0.1."""
    tmp = tmp_path_factory.mktemp(f"real-evolution-{request.param}")
    directory = DEMO
    if request.param == "sqlite":
        directory = tmp / "staff.sqlite"
        imported = run_command("directory", "import", str(DEMO), "--into", str(directory))
        assert imported.returncode == 0, imported.stderr
    with ExitStack() as stack:
        app = stack.enter_context(serve(tmp, "--directory", str(directory)))
        caddy = stack.enter_context(
            run_caddy(tmp, ACADEMIE, [app.port], http_port=80, https_port=443)
        )
        yield Deployment(caddy, tmp, app.log)


@pytest.fixture(scope="module")
def found(deployment: Deployment) -> dict[str, Found]:
    return look_up(deployment.tmp, NAMES, deployment.caddy.root_certificate, *TYPED)


@pytest.mark.parametrize("typed", TYPED)
def test_evolution_gets_each_persons_own_login(found: dict[str, Found], typed: str) -> None:
    login = TYPED[typed]
    assert found[typed].error == ""
    assert found[typed].servers == {"imap": Server(login, *IMAP), "smtp": Server(login, *SMTP)}


def test_nobody_gets_a_login_of_someone_else(found: dict[str, Found]) -> None:
    for typed, result in found.items():
        others = {login for other, login in TYPED.items() if other.lower() != typed.lower()}
        assert not {server.user for server in result.servers.values()} & others, typed


def test_evolution_asked_its_first_url_over_https_and_no_address_was_logged(
    deployment: Deployment, found: dict[str, Found]
) -> None:
    """Every lookup took the first URL of Evolution's order, over https (it trusted the
    certificate: no fall-back to http), once per address; neither Caddy's log nor the service's
    holds an address, a local part or the digest's parameter."""
    asked = [
        line["request"]
        for line in access_lines(deployment.caddy)
        if line["request"]["uri"] != "/healthz"  # the harness's, waiting for Caddy
    ]
    first = (f"autoconfig.{ACADEMIE}", "/mail/config-v1.1.xml")
    assert [(r["host"].lower(), r["uri"]) for r in asked] == [first] * len(TYPED)
    assert all(r["tls"]["server_name"].lower() == first[0] for r in asked)
    for text in (deployment.caddy.log_text(), deployment.log.read_text(errors="replace")):
        for secret in ("@", "%40", "emailmd5", "EVOLUTIONUSER"):
            assert secret not in text, secret
        for typed in TYPED:
            assert typed.split("@")[0].lower() not in text.lower(), typed
