"""Finding M3 of issue 16: every setup page drew its QR codes (5 to 20 ms of CPU), for any
address, known or not, and unknown addresses were not limited: one client asking 50 unique
addresses a second slowed every request. Now a drawing is kept (one per distinct text), and one
client gets drawings for at most ``QR_PER_CLIENT`` distinct addresses a minute; past that its
pages come without the codes. (The load figure: ``bench/run attacks``.)"""

from __future__ import annotations

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
QR = b'class="qr-code"'


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    args = ("--directory", str(DEMO), "--trusted-proxy", "127.0.0.1")
    with serve(tmp_path_factory.mktemp("setup-cost"), *args) as started:
        yield started


def setup_page(app: App, address: str, client: str) -> bytes:
    query = urllib.parse.urlencode({"email": address})
    request = urllib.request.Request(
        f"{app.url}/aide/configurer?{query}",
        headers={"Host": f"autoconfig.{D}", "X-Forwarded-For": client},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        page: bytes = response.read()
        return page


def test_one_client_gets_codes_for_a_bounded_number_of_addresses(app: App) -> None:
    drawn = [
        QR in setup_page(app, f"nobody{n}@{D}", ATTACKER)
        for n in range(personal.QR_PER_CLIENT + 10)
    ]
    assert drawn == [True] * personal.QR_PER_CLIENT + [False] * 10
    # An address it already got the codes for costs nothing more: they are still there.
    assert QR in setup_page(app, f"nobody0@{D}", ATTACKER)
    # Past the bound the page still answers, with the download link.
    page = setup_page(app, f"nobody-more@{D}", ATTACKER)
    assert b'id="profile-link"' in page
    # Another client is not concerned.
    assert QR in setup_page(app, f"pierre.dupont@{D}", OTHER)


def test_a_code_is_drawn_once_per_text() -> None:
    personal.qr_code.cache_clear()
    text = f"https://autoconfig.{D}/mobileconfig?email=marie.martin%40{D}"
    first = personal.qr_code(text)
    again = personal.qr_code(text)
    assert again == first
    info = personal.qr_code.cache_info()
    assert (info.hits, info.misses, info.maxsize) == (1, 1, personal.QR_CACHED)
