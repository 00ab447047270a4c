"""Evolution finds the person's login although it never sends their address.

Evolution 3.46 (Debian 12) asks ``/mail/config-v1.1.xml?emailaddress=EVOLUTIONUSER@<domain>&
emailmd5=<md5 of the address with its ASCII letters lower-cased>``, the ``Host`` in the letter
case typed. The tables (CSV in memory, SQLite written by ``directory import``) find the person by
that digest; LDAP cannot search by a hash and gives the generic answer.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from autoconfig.service import Service
from autoconfig.settings import LookupSettings, Settings
from autoconfig.usernames.table import write_sqlite
from autoconfig.web import create_app
from tests import clientrules
from tests.conftest import DEMO, PIERRE, PIERRE_LOGIN, PROFILES
from tests.slapd import BIND_DN, BIND_PASSWORD, SLOW_MACHINE_MS, Slapd

DOMAIN = "ac-aix-marseille.fr"


def evolution_md5(address: str) -> str:
    """What Evolution sends: the MD5 of the address with its ASCII letters lower-cased."""
    lowered = "".join(c.lower() if c.isascii() else c for c in address)
    return hashlib.md5(lowered.encode()).hexdigest()


def ask(client: TestClient, address: str, host: str = f"autoconfig.{DOMAIN}") -> tuple[int, str]:
    """The request Evolution sends for ``address``; the status and the login Evolution keeps."""
    response = client.get(
        "/mail/config-v1.1.xml",
        params={"emailaddress": f"EVOLUTIONUSER@{DOMAIN}", "emailmd5": evolution_md5(address)},
        headers={"Host": host},
    )
    if response.status_code != 200:
        return response.status_code, ""
    incoming, outgoing = clientrules.evolution(response.content)
    assert incoming.username == outgoing.username
    return 200, clientrules.substitute(incoming.username, address)


def app_for(settings: Settings) -> Iterator[TestClient]:
    service = Service.load(settings)
    try:
        with TestClient(create_app(service), base_url=f"http://autoconfig.{DOMAIN}") as client:
            yield client
    finally:
        service.close()


@pytest.fixture(params=["csv", "sqlite"])
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    directory = DEMO
    if request.param == "sqlite":
        directory = tmp_path / "staff.sqlite"
        write_sqlite(DEMO, directory)
    yield from app_for(Settings(PROFILES, str(directory), lookup=LookupSettings(rate_limit=0)))


@pytest.mark.parametrize(
    ("typed", "login"),
    [
        (PIERRE, PIERRE_LOGIN),
        ("Marie.Martin@AC-Aix-Marseille.FR", "mmartin3"),
        ("Jean-Luc.Nguyen@ac-aix-marseille.fr", "jnguyen1"),
    ],
)
def test_the_person_is_found_by_the_digest(table: TestClient, typed: str, login: str) -> None:
    assert ask(table, typed, host=f"Autoconfig.{DOMAIN.upper()}") == (200, login)


def test_a_digest_nobody_has_gets_the_generic_answer(table: TestClient) -> None:
    status, login = ask(table, "inconnu.x@ac-aix-marseille.fr")
    assert (status, login) == (200, "inconnu.x")  # the template, expanded by Evolution itself
    response = table.get(
        "/mail/config-v1.1.xml",
        params={
            "emailaddress": f"EVOLUTIONUSER@{DOMAIN}",
            "emailmd5": evolution_md5("inconnu.x@ac-aix-marseille.fr"),
        },
    )
    assert b"<username>%EMAILLOCALPART%</username>" in response.content
    assert response.headers["cache-control"] == "public, max-age=3600"


def test_a_digest_of_another_domain_is_not_answered_here(table: TestClient) -> None:
    assert ask(table, "someone@example.org") == (200, "someone")


@pytest.mark.parametrize("digest", ["zz" * 16, "abc", "0" * 33, ""])
def test_a_malformed_digest_is_refused_with_a_reason(table: TestClient, digest: str) -> None:
    response = table.get(
        "/mail/config-v1.1.xml",
        params={"emailaddress": f"EVOLUTIONUSER@{DOMAIN}", "emailmd5": digest},
    )
    assert response.status_code == 400
    assert "emailmd5 is not an MD5" in response.text


def test_a_real_address_wins_over_a_digest(table: TestClient) -> None:
    response = table.get(
        "/mail/config-v1.1.xml",
        params={"emailaddress": PIERRE, "emailmd5": evolution_md5("marie.martin@" + DOMAIN)},
    )
    assert b"<username>pdupont</username>" in response.content


def test_digest_lookups_count_against_the_limit() -> None:
    settings = Settings(PROFILES, str(DEMO), lookup=LookupSettings(rate_limit=1))
    for client in app_for(settings):
        assert ask(client, PIERRE) == (200, PIERRE_LOGIN)
        assert ask(client, PIERRE) == (200, PIERRE_LOGIN)  # the same person again: free
        marie = "marie.martin@ac-aix-marseille.fr"
        assert ask(client, marie) == (200, "marie.martin")  # limited: the generic answer


def test_the_digest_is_never_logged(table: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        ask(table, PIERRE)
    digest = evolution_md5(PIERRE)
    server_side = [r.getMessage() for r in caplog.records if r.name.startswith("autoconfig")]
    assert server_side  # the access log line, at least
    for message in server_side:
        assert digest not in message
        assert PIERRE_LOGIN not in message


def test_ldap_cannot_search_by_a_hash_and_gives_the_generic_answer(slapd: Slapd) -> None:
    lookup = LookupSettings(
        ldap_bind_dn=BIND_DN, ldap_password=BIND_PASSWORD, rate_limit=0, timeout_ms=SLOW_MACHINE_MS
    )
    for client in app_for(Settings(PROFILES, slapd.url, lookup=lookup)):
        assert ask(client, PIERRE) == (200, "pierre.dupont")
        assert (
            b"<username>pdupont</username>"
            in client.get("/mail/config-v1.1.xml", params={"emailaddress": PIERRE}).content
        )
