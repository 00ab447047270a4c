"""Finding M3 of issue 16: every setup page drew its QR codes (5 to 20 ms of CPU) and rendered
the page (about 3 ms), for any address, known or not, and unknown addresses were not limited: one
client asking 50 unique addresses a second slowed every request. Now a drawing is kept (one per
distinct text), and one client gets the setup page answered for at most ``SETUP_PER_CLIENT``
distinct addresses a minute that give nobody a login; past that a 429, the site's error page
rendered once. (The load figure: ``bench/run attacks``.)"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from autoconfig.web.site import personal
from tests.conftest import DEMO
from tests.servers import App, serve

D = "ac-aix-marseille.fr"
ATTACKER = "203.0.113.7"
OTHER = "198.51.100.9"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    args = ("--directory", str(DEMO), "--trusted-proxy", "127.0.0.1")
    with serve(tmp_path_factory.mktemp("setup-cost"), *args) as started:
        yield started


def setup_page(app: App, typed: str, client: str, lang: str = "fr") -> tuple[int, bytes, str]:
    """The status, page and ``Retry-After`` of the setup page for ``typed``, asked by ``client``."""
    path = "/aide/configurer" if lang == "fr" else "/help/setup"
    request = urllib.request.Request(
        f"{app.url}{path}?{urllib.parse.urlencode({'email': typed})}",
        headers={"Host": f"autoconfig.{D}", "X-Forwarded-For": client},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Retry-After", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Retry-After", "")


def test_one_client_gets_setup_pages_for_a_bounded_number_of_addresses(app: App) -> None:
    bound = personal.SETUP_PER_CLIENT
    # Unknown or malformed: each distinct text typed counts.
    typed = [f"nobody{n}@{D}" for n in range(bound - 1)] + ["not an address"]
    answered = [setup_page(app, text, ATTACKER) for text in typed]
    assert [status for status, _, _ in answered] == [200] * (bound - 1) + [400]
    # A person the directory gives their login to is not counted (the directory's own limit
    # bounds them): a school's teachers behind one address never meet this bound.
    for local in ("pierre.dupont", "marie.martin", "sophie.bernard"):
        status, page, _ = setup_page(app, f"{local}@{D}", ATTACKER)
        assert status == 200
        assert b'class="qr-code"' in page
    # Past the bound: 429, the site's error page, in the page's language, come back in a minute.
    for lang in ("fr", "en"):
        status, page, retry = setup_page(app, f"nobody-more@{D}", ATTACKER, lang)
        assert (status, retry) == (429, "60")
        assert f'<html lang="{lang}"'.encode() in page
    # An address it already got costs nothing more; another client is not concerned.
    assert setup_page(app, f"nobody0@{D}", ATTACKER)[0] == 200
    assert setup_page(app, f"nobody-more@{D}", OTHER)[0] == 200


def test_a_code_is_drawn_once_per_text() -> None:
    personal.qr_code.cache_clear()
    text = f"https://autoconfig.{D}/mobileconfig?email=marie.martin%40{D}"
    first = personal.qr_code(text)
    again = personal.qr_code(text)
    assert again == first
    info = personal.qr_code.cache_info()
    assert (info.hits, info.misses, info.maxsize) == (1, 1, personal.QR_CACHED)
