"""The README's table "The login in every answer", cell by cell, against the real HTTP answers.

Each cell starts with a bold word saying what the output carries: **login** (the person's own
login: looked up, or the rule's when it is certain), **template** (the profile's template, which
the client expands), **none** (no login: the client or the device asks), **refused** (no answer
for that case), **ask** (the help site says it cannot tell and what to type), **form** (the help
site asks for the address). A row names a case, set up here for real: the académie's profile
(``unknown = "ask"``) or the fictional académie of ``tests/data/fallback`` (``unknown =
"fallback"``), a CSV directory, a directory that is down, a client over its limit.
"""

from __future__ import annotations

import hashlib
import plistlib
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree, html
from starlette.testclient import TestClient

from autoconfig.service import Service
from autoconfig.settings import LookupSettings, Settings
from autoconfig.web import create_app
from tests import clientrules
from tests.conftest import (
    DEMO,
    FALLBACK_DIRECTORY,
    FALLBACK_PROFILES,
    LYON,
    PIERRE,
    PIERRE_LOGIN,
    PROFILES,
)
from tests.tools import free_port, require

README = Path(__file__).resolve().parents[2] / "README.md"
ACADEMIE = "ac-aix-marseille.fr"


def readme_table() -> dict[str, dict[str, str]]:
    """The table of the README section, as {row: {column: the cell's bold word}}."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## The login in every answer\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    table: dict[str, dict[str, str]] = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        words = {}
        for column, cell in zip(header[1:], cells[1:], strict=True):
            found = re.match(r"\*\*(\w+)\*\*", cell)
            assert found, f"{cells[0]} / {column}: the cell does not start with a bold word"
            words[column] = found.group(1)
        table[cells[0]] = words
    return table


TABLE = readme_table()


@dataclass(frozen=True)
class Case:
    """One row: the settings it is served with, the address (``None``: no address), the login
    that is the person's when it is known or certain, and a request made before (to spend the
    client's limit)."""

    settings: Settings
    domain: str
    address: str | None
    login: str
    before: str | None = None


def academie() -> Settings:
    return Settings(PROFILES, str(DEMO), lookup=LookupSettings(rate_limit=0))


DOWN = f"ldap://127.0.0.1:{free_port()}/dc=ac-aix-marseille,dc=fr"
"""A directory that refuses every connection (nothing listens on that loopback port)."""

CASES = {
    "listed person": Case(academie(), ACADEMIE, PIERRE, PIERRE_LOGIN),
    'unlisted, `unknown = "ask"`': Case(academie(), ACADEMIE, f"thomas.roux@{ACADEMIE}", "-"),
    'unlisted, `unknown = "fallback"`': Case(
        Settings(FALLBACK_PROFILES, str(FALLBACK_DIRECTORY), lookup=LookupSettings(rate_limit=0)),
        LYON,
        f"thomas.roux@{LYON}",
        "thomas.roux",
    ),
    "no address (`GET`)": Case(academie(), ACADEMIE, None, "-"),
    "directory down, or over its time budget": Case(
        Settings(PROFILES, DOWN, lookup=LookupSettings(rate_limit=0, ldap_timeout=1.0)),
        ACADEMIE,
        PIERRE,
        PIERRE_LOGIN,
    ),
    "client over its limit of looked-up logins": Case(
        Settings(PROFILES, str(DEMO), lookup=LookupSettings(rate_limit=1)),
        ACADEMIE,
        PIERRE,
        PIERRE_LOGIN,
        before=f"marie.martin@{ACADEMIE}",
    ),
}


def word_for(login: str | None, case: Case, template: str) -> str:
    """The table's word for a login an output carries."""
    if login is None:
        return "none"
    if login == case.login:
        return "login"
    assert login == template, f"{login!r}: neither the person's login nor the template"
    return "template"


def thunderbird(client: TestClient, case: Case, _tmp: Path) -> str:
    params = {"emailaddress": case.address} if case.address else {}
    response = client.get(
        "/mail/config-v1.1.xml", params=params, headers={"Host": f"autoconfig.{case.domain}"}
    )
    assert response.status_code == 200
    incoming, outgoing = clientrules.thunderbird(response.headers["content-type"], response.content)
    assert incoming.username == outgoing.username
    return word_for(incoming.username, case, "%EMAILLOCALPART%")


def autodiscover(client: TestClient, case: Case, _tmp: Path) -> str:
    headers = {"Host": f"autodiscover.{case.domain}", "Content-Type": "text/xml"}
    body = b""
    if case.address:
        body = (
            '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/'
            f'requestschema/2006"><Request><EMailAddress>{case.address}</EMailAddress>'
            "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/"
            "outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
        ).encode()
    response = client.post("/autodiscover/autodiscover.xml", content=body, headers=headers)
    assert response.status_code == 200
    _, protocols = clientrules.autodiscover_exchangelib(response.content)
    (login,) = {p.login_name for p in protocols}
    return word_for(login, case, "%EMAILLOCALPART%")


def apple(client: TestClient, case: Case, _tmp: Path) -> str:
    response = client.get(
        "/mobileconfig",
        params={"email": case.address or ""},
        headers={"Host": f"autoconfig.{case.domain}"},
    )
    if response.status_code == 400:
        return "refused"
    assert response.status_code == 200
    profile = plistlib.loads(response.content)
    (mail,) = [p for p in profile["PayloadContent"] if p["PayloadType"] == "com.apple.mail.managed"]
    logins = {mail.get("IncomingMailServerUsername"), mail.get("OutgoingMailServerUsername")}
    (login,) = logins
    return word_for(login, case, "%EMAILLOCALPART%")


def setup_page(client: TestClient, case: Case) -> html.HtmlElement:
    params = {"email": case.address} if case.address else {}
    response = client.get(
        "/aide/configurer", params=params, headers={"Host": f"autoconfig.{case.domain}"}
    )
    assert response.status_code == 200
    return html.fromstring(response.text)


def android(client: TestClient, case: Case, tmp: Path) -> str:
    page = setup_page(client, case)
    found = page.xpath("//*[@id='android-code']/*[local-name()='svg']")
    if not found:
        return "none"
    (svg,) = found
    (tmp / "code.svg").write_bytes(etree.tostring(svg))
    subprocess.run(
        [
            require("rsvg-convert"),
            "-b",
            "white",
            "-z",
            "3",
            "-o",
            str(tmp / "code.png"),
            str(tmp / "code.svg"),
        ],
        check=True,
        timeout=30,
    )
    read = subprocess.run(
        [require("zbarimg"), "-q", "--raw", str(tmp / "code.png")],
        capture_output=True,
        check=True,
        timeout=30,
    )
    imported = clientrules.thunderbird_android_code(read.stdout.decode().strip())
    assert imported.incoming.username == imported.outgoing.username
    return word_for(imported.incoming.username, case, "%EMAILLOCALPART%")


def evolution(client: TestClient, case: Case, _tmp: Path) -> str:
    params = {"emailaddress": f"EVOLUTIONUSER@{case.domain}"}
    if case.address:
        params["emailmd5"] = hashlib.md5(case.address.lower().encode()).hexdigest()
    response = client.get(
        "/mail/config-v1.1.xml", params=params, headers={"Host": f"autoconfig.{case.domain}"}
    )
    assert response.status_code == 200
    incoming, outgoing = clientrules.evolution(response.content)
    assert incoming.username == outgoing.username
    return word_for(incoming.username, case, "%EMAILLOCALPART%")


def help_site(client: TestClient, case: Case, _tmp: Path) -> str:
    page = setup_page(client, case)
    shown = page.xpath("//*[@id='login-id']")
    unknown = page.xpath("//*[@id='login-unknown']")
    assert not (shown and unknown)
    if shown:
        assert shown[0].text_content() == case.login, "a login shown as theirs that is not"
        return "login"
    if unknown:
        return "ask"
    assert page.xpath("//form//input[@id='email']")
    return "form"


COLUMNS: dict[str, Callable[[TestClient, Case, Path], str]] = {
    "Thunderbird autoconfig": thunderbird,
    "Autodiscover POX": autodiscover,
    "Apple profile": apple,
    "Android QR": android,
    "Evolution": evolution,
    "help site": help_site,
}


def test_the_table_has_every_row_and_column() -> None:
    assert list(TABLE) == list(CASES)
    for row in TABLE.values():
        assert list(row) == list(COLUMNS)


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    case: Case = CASES[request.param]
    service = Service.load(case.settings)
    try:
        with TestClient(create_app(service)) as client:
            if case.before:
                assert (
                    thunderbird(
                        client, Case(case.settings, case.domain, case.before, "mmartin3"), Path()
                    )
                    == "login"
                )
            yield client
    finally:
        service.close()


CELLS = [(row, column) for row in CASES for column in COLUMNS]


@pytest.mark.parametrize(
    ("served", "column"), CELLS, indirect=["served"], ids=[f"{r} / {c}" for r, c in CELLS]
)
def test_every_cell_says_what_the_output_carries(
    served: TestClient, column: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    row = request.node.callspec.params["served"]
    assert COLUMNS[column](served, CASES[row], tmp_path) == TABLE[row][column]
