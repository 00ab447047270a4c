"""The real Thunderbird (Debian 12's ESR) setting up accounts through the shipped Caddyfile.

Thunderbird asks ``https://autoconfig.<domain>/``, ``https://<domain>/.well-known/…``, the ISPDB,
MX and Exchange Autodiscover at once (``tests/thunderbird.py``), all answered on 127.0.0.1 by
Caddy in front of ``autoconfig serve``; the account it creates holds the login it will use.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.caddy import Caddy, curl, run_caddy
from tests.conftest import ACADEMIE, DEMO_STAFF
from tests.servers import App, serve
from tests.thunderbird import Server, Setup, Thunderbird, run_thunderbird
from tests.tools import wait_until

SIMULATED = 25
"""The training session of the issue: 25 setups as Thunderbird sends them, plus 3 real ones."""
REAL = 3
LIMIT = 30
"""``--directory-rate-limit``'s default: distinct people a minute for one client address."""

TLS = 3
"""Thunderbird's socket type for TLS from the first byte (993, 465)."""

STAFF = {f"enseignant{n:02d}.formation@{ACADEMIE}": f"ens{n:02d}x" for n in range(1, LIMIT + 2)}
"""A school's teachers: one more than the limit, each with a login that no rule derives from
the address."""


AUTOCONFIG = f"https://autoconfig.{ACADEMIE}/mail/config-v1.1.xml?emailaddress="
WELL_KNOWN = f"https://{ACADEMIE}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress="
AUTODISCOVER = (
    f"https://autodiscover.{ACADEMIE}/autodiscover/autodiscover.xml",
    f"https://{ACADEMIE}/autodiscover/autodiscover.xml",
)
SETUP_REQUESTS = (AUTOCONFIG, WELL_KNOWN, AUTOCONFIG, WELL_KNOWN, *AUTODISCOVER, AUTODISCOVER[0])
"""What one Thunderbird setup sends at once: its four autoconfig URLs (the http ones end on the
https ones) and three Autodiscover POSTs."""
AUTODISCOVER_REQUEST = (
    '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/'
    'exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>{}</EMailAddress>'
    "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/"
    "responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
)
LOGIN = re.compile(rb"<(?:username|LoginName)>([^<]*)</")


def answered_login(caddy: Caddy, url: str, address: str) -> str:
    """The login of one answer: ``<username>`` of autoconfig, ``<LoginName>`` of Autodiscover
    (none when the Autodiscover answer carries no login)."""
    if url in AUTODISCOVER:
        fetched = curl(
            caddy,
            url,
            method="POST",
            headers=("Content-Type: text/xml; charset=utf-8",),
            body=AUTODISCOVER_REQUEST.format(address).encode(),
        )
    else:
        fetched = curl(caddy, url + address.replace("@", "%40"))
    assert fetched.status == 200, (url, fetched.status)
    found = LOGIN.search(fetched.body)
    return found.group(1).decode() if found else "(none)"


def simulated_setup(caddy: Caddy, address: str) -> list[str]:
    """The seven requests of one Thunderbird setup, sent together; the login of each answer."""
    with ThreadPoolExecutor(max_workers=len(SETUP_REQUESTS)) as pool:
        return list(pool.map(lambda url: answered_login(caddy, url, address), SETUP_REQUESTS))


def login_of(caddy: Caddy, address: str) -> str:
    return answered_login(caddy, AUTOCONFIG, address)


@dataclass
class Deployment:
    """Caddy (the shipped Caddyfile, on ports 80 and 443 where Thunderbird asks) in front of one
    ``autoconfig serve`` on a fixed port, and Thunderbird trusting Caddy's CA."""

    caddy: Caddy
    thunderbird: Thunderbird
    tmp: Path
    args: tuple[str, ...]
    port: int


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("real-thunderbird")
    directory = tmp / "staff.csv"
    rows = [f"{address},{login},Enseignant {login}" for address, login in STAFF.items()]
    rows += [f"{local}@{ACADEMIE},{login},{local}" for local, login in DEMO_STAFF.items()]
    directory.write_text("email,login,name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    args = ("--directory", str(directory), "--trusted-proxy", "127.0.0.1")
    with ExitStack() as stack:
        app = stack.enter_context(serve(tmp, *args))
        caddy = stack.enter_context(
            run_caddy(tmp, ACADEMIE, [app.port], http_port=80, https_port=443)
        )
        thunderbird = stack.enter_context(run_thunderbird(tmp, caddy.root_certificate))
        app.stop()
        yield Deployment(caddy, thunderbird, tmp, args, app.port)


@pytest.fixture
def app(deployment: Deployment) -> Iterator[App]:
    """A new ``autoconfig serve`` behind the deployment's Caddy, with the default limit and
    nothing counted yet; ready once Caddy sends it requests again."""
    with serve(deployment.tmp, *deployment.args, port=deployment.port) as app:
        wait_until(
            lambda: curl(deployment.caddy, f"https://autoconfig.{ACADEMIE}/healthz").status == 200,
            "caddy to send requests to the new instance",
        )
        yield app


def own_everywhere(setup: Setup, login: str) -> bool:
    return setup.incoming.username == login and setup.outgoing.username == login


def test_thunderbird_sets_up_each_person_with_their_own_login(
    deployment: Deployment, app: App
) -> None:
    for local, login in list(DEMO_STAFF.items())[:2]:
        setup = deployment.thunderbird.set_up(f"{local}@{ACADEMIE}")
        # Settings from the autoconfig URL over https, the first in Thunderbird's order.
        assert setup.source == "xml-from-isp-https"
        assert setup.incoming == Server("imap", f"imap.{ACADEMIE}", 993, TLS, login)
        assert setup.outgoing == Server("smtp", f"smtp.{ACADEMIE}", 465, TLS, login)


def test_someone_the_directory_does_not_know_gets_nobody_elses_login(
    deployment: Deployment, app: App
) -> None:
    """An address the directory does not list: the address's local part, which Thunderbird
    shows for the person to correct (the profile's ``unknown = "ask"``), never a login of the
    directory."""
    setup = deployment.thunderbird.set_up(f"nobody.known@{ACADEMIE}")
    assert setup.incoming.username == setup.outgoing.username == "nobody.known"


def test_a_training_session_of_28_teachers_behind_one_address(
    deployment: Deployment, app: App
) -> None:
    """Issue 13's school: 25 setups as Thunderbird sends them and 3 real Thunderbird setups, all
    from one address (Caddy's client, 127.0.0.1) within a minute, with the default limit: every
    teacher gets their own login in every answer. Then the limit is shown to be in force for
    that address: two more people still get theirs (30 in all), the 31st does not."""
    people = list(STAFF.items())
    simulated, real, after = people[:SIMULATED], people[SIMULATED : SIMULATED + REAL], people[-3:]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = pool.map(lambda person: simulated_setup(deployment.caddy, person[0]), simulated)
        setups = [deployment.thunderbird.set_up(address) for address, _ in real]
        simulated_logins = list(answers)
    for (address, login), logins in zip(simulated, simulated_logins, strict=True):
        assert logins == [login] * len(SETUP_REQUESTS), address
    for (address, login), setup in zip(real, setups, strict=True):
        assert own_everywhere(setup, login), (address, setup)
    assert [login_of(deployment.caddy, address) for address, _ in after] == [
        after[0][1],
        after[1][1],
        "%EMAILLOCALPART%",
    ]
