"""Issue 16 M1: a spelling of someone's address that the directory compares differently can
never leave an answer under that person's key (a cached miss, her share of the limit), nor be
mapped onto her entry by the tables.

Against a real slapd: ``mail`` is compared with caseIgnoreIA5Match (ASCII letters without case).
The cache used to key by the Unicode case folding while LDAP got the address as typed, so one
request for ``ſophie.bernard@…`` cached a miss under Sophie's key and she got the generic answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from autoconfig.address import Address, parse
from autoconfig.service import Service
from autoconfig.settings import LookupSettings, Settings
from autoconfig.usernames.bounded import Lookups
from autoconfig.usernames.ldap import open_ldap
from autoconfig.usernames.table import write_sqlite
from autoconfig.web import create_app
from tests import clientrules
from tests.conftest import ACADEMIE, DEMO, PROFILES
from tests.slapd import BIND_DN, BIND_PASSWORD, SLOW_MACHINE_MS, STAFF, Person, Slapd

CONFIG = "/mail/config-v1.1.xml"
BASE_URL = f"http://autoconfig.{ACADEMIE}"
GENERIC = "%EMAILLOCALPART%"
SOPHIE = f"sophie.bernard@{ACADEMIE}"
KEVIN = f"kevin.kirk@{ACADEMIE}"
PEOPLE = [
    *STAFF,
    Person("sbernard12", SOPHIE, "Sophie Bernard"),
    Person("kkirk", KEVIN, "Kevin Kirk"),
]

ATTACKS = [
    # (victim, the attacker's spelling): each folds (Unicode casefold or NFKC) onto the victim.
    (SOPHIE, f"\u017fophie.bernard@{ACADEMIE}"),  # LATIN SMALL LETTER LONG S
    (SOPHIE, f"\u017fOPHIE.BERNARD@{ACADEMIE}"),
    (SOPHIE, f"\uff53ophie.bernard@{ACADEMIE}"),  # FULLWIDTH s
    (SOPHIE, f"sophie.bernard\u200b@{ACADEMIE}"),  # ZERO WIDTH SPACE
    (SOPHIE, f"so\u00adphie.bernard@{ACADEMIE}"),  # SOFT HYPHEN
    (KEVIN, f"\u212aevin.kirk@{ACADEMIE}"),  # KELVIN SIGN
    (KEVIN, f"kevin.\u212airk@{ACADEMIE}"),
]


def login_of(client: TestClient, address: str) -> str | None:
    """The login the autoconfig answer carries, ``None`` when the address is refused."""
    response = client.get(CONFIG, params={"emailaddress": address})
    if response.status_code == 400:
        return None
    assert response.status_code == 200, response.text
    incoming, _ = clientrules.thunderbird(response.headers["content-type"], response.content)
    return incoming.username


@pytest.fixture(scope="module")
def slapd_with_victims(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    server = Slapd(tmp_path_factory.mktemp("slapd-victims"), people=PEOPLE)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def ldap(slapd_with_victims: Slapd) -> Iterator[TestClient]:
    """A fresh service (empty cache) on the real slapd; the limit on, as deployed."""
    lookup = LookupSettings(
        ldap_bind_dn=BIND_DN, ldap_password=BIND_PASSWORD, rate_limit=3, timeout_ms=SLOW_MACHINE_MS
    )
    service = Service.load(Settings(PROFILES, slapd_with_victims.url, lookup=lookup))
    try:
        with TestClient(create_app(service), base_url=BASE_URL) as client:
            yield client
    finally:
        service.close()


@pytest.mark.parametrize(("victim", "attack"), ATTACKS)
def test_the_poisoning_request_leaves_the_victims_answer_alone(
    ldap: TestClient, victim: str, attack: str
) -> None:
    for _ in range(3):  # repeated, as an attacker would
        assert login_of(ldap, attack) in (None, GENERIC)
    login = next(p.uid for p in PEOPLE if p.mail == victim)
    assert login_of(ldap, victim) == login
    assert login_of(ldap, victim.upper()) == login  # ASCII case: her own address


@pytest.fixture(params=["csv", "sqlite"])
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    directory = DEMO
    if request.param == "sqlite":
        directory = tmp_path / "staff.sqlite"
        write_sqlite(DEMO, directory)
    settings = Settings(PROFILES, str(directory), lookup=LookupSettings(rate_limit=0))
    service = Service.load(settings)
    try:
        with TestClient(create_app(service), base_url=BASE_URL) as client:
            yield client
    finally:
        service.close()


@pytest.mark.parametrize("attack", [a for v, a in ATTACKS if v == SOPHIE])
def test_the_tables_do_not_map_another_spelling_onto_her_entry(
    table: TestClient, attack: str
) -> None:
    assert login_of(table, attack) in (None, GENERIC)
    assert login_of(table, SOPHIE) == "sbernard12"


@pytest.mark.parametrize(
    ("victim", "local"),
    [(SOPHIE, "\u017fophie.bernard"), (KEVIN, "\u212aevin.kirk"), (SOPHIE, "SOPHIE.BERNARD")],
)
def test_past_the_parser_too_a_spelling_only_ever_fills_its_own_key(
    slapd_with_victims: Slapd, victim: str, local: str
) -> None:
    """The key alone closes the hole, whatever the parser lets through: an Address built
    directly (as no request can) is asked of LDAP as its key, and cached under that key only."""
    settings = LookupSettings(ldap_bind_dn=BIND_DN, ldap_password=BIND_PASSWORD, rate_limit=0)
    directory = open_ldap(slapd_with_victims.url, settings)
    lookups = Lookups(directory, settings)
    try:
        attack = Address(local, ACADEMIE)
        asyncio.run(lookups.find(attack))
        found = asyncio.run(lookups.find(parse(victim)))
        assert found.entry is not None
        assert found.entry.login == next(p.uid for p in PEOPLE if p.mail == victim)
    finally:
        lookups.close()
        directory.close()
