"""The Thunderbird for Android code on the setup page, decoded from the page's own image: the SVG
drawn by ``rsvg-convert``, read by ``zbarimg`` (Debian's librsvg2-bin and zbar-tools), then read
as the app reads it (``tests/clientrules.py``)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree, html
from starlette.testclient import TestClient

from autoconfig.service import Service
from autoconfig.settings import LookupSettings, Settings
from autoconfig.web import create_app
from tests import clientrules
from tests.conftest import FALLBACK_DIRECTORY, FALLBACK_PROFILES, LYON, PIERRE, PIERRE_LOGIN
from tests.tools import require

TIMEOUT = 30


def setup_page(client: TestClient, host: str, address: str) -> html.HtmlElement:
    response = client.get("/aide/configurer", params={"email": address}, headers={"Host": host})
    assert response.status_code == 200
    return html.fromstring(response.text)


def decoded_code(page: html.HtmlElement, tmp_path: Path) -> str:
    """The text of the page's Android code, read from its image as a phone camera would."""
    (svg,) = page.xpath("//*[@id='android-code']/*[local-name()='svg']")
    drawing = tmp_path / "code.svg"
    drawing.write_bytes(etree.tostring(svg))
    picture = tmp_path / "code.png"
    subprocess.run(
        [
            require("rsvg-convert"),
            "--background-color=white",
            "--zoom=3",
            "-o",
            str(picture),
            str(drawing),
        ],
        check=True,
        timeout=TIMEOUT,
    )
    done = subprocess.run(
        [require("zbarimg"), "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(picture)],
        capture_output=True,
        check=False,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, f"zbarimg read no code: {done.stderr.decode()}"
    return done.stdout.decode().strip()


@pytest.fixture(scope="module")
def lyon() -> Iterator[TestClient]:
    settings = Settings(
        FALLBACK_PROFILES, str(FALLBACK_DIRECTORY), lookup=LookupSettings(rate_limit=0)
    )
    service = Service.load(settings)
    try:
        with TestClient(create_app(service)) as client:
            yield client
    finally:
        service.close()


def test_the_code_of_a_listed_person_carries_their_academic_id(
    client: TestClient, tmp_path: Path
) -> None:
    page = setup_page(client, "autoconfig.ac-aix-marseille.fr", PIERRE)
    account = clientrules.thunderbird_android_code(decoded_code(page, tmp_path))
    assert (account.incoming.username, account.outgoing.username) == (PIERRE_LOGIN, PIERRE_LOGIN)
    assert (account.incoming.host, account.incoming.port, account.incoming.security) == (
        "imap.ac-aix-marseille.fr",
        993,
        3,
    )
    assert (account.outgoing.host, account.outgoing.port) == ("smtp.ac-aix-marseille.fr", 465)
    assert (account.address, account.display_name) == (PIERRE, "Pierre Dupont")


def test_no_code_when_the_login_is_not_known(client: TestClient) -> None:
    page = setup_page(client, "autoconfig.ac-aix-marseille.fr", "inconnu@ac-aix-marseille.fr")
    assert not page.xpath("//*[@id='android-code']")
    assert page.xpath("//*[@id='android-no-code']")
    assert page.xpath("//*[@id='login-unknown']")


def test_the_code_under_the_fallback_rule_carries_the_certain_login(
    lyon: TestClient, tmp_path: Path
) -> None:
    page = setup_page(lyon, f"autoconfig.{LYON}", f"thomas.roux@{LYON}")
    account = clientrules.thunderbird_android_code(decoded_code(page, tmp_path))
    assert account.incoming.username == account.outgoing.username == "thomas.roux"
    assert (account.outgoing.port, account.outgoing.security) == (587, 2)  # STARTTLS
    listed = setup_page(lyon, f"autoconfig.{LYON}", f"claire.fontaine@{LYON}")
    assert (
        clientrules.thunderbird_android_code(decoded_code(listed, tmp_path)).incoming.username
        == "cfontaine7"
    )
