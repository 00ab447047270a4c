"""Another académie's help site, over real HTTP from a real ``autoconfig serve`` that loads only
its profile (``tests/data/lyon``): its own logo, colour, help desk, notices and words, nothing of
Aix-Marseille; the manual settings without an address; any ``Host`` answered with its site."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from lxml import html

from autoconfig.web.headers import CONTENT_SECURITY_POLICY
from autoconfig.web.site.pages import BY_KEY, PAGES, ROOTS
from tests.lyon import (
    AIX_WORDS,
    CURRENT_NOTICE,
    FUTURE_NOTICE,
    LYON_DOMAIN,
    LYON_HOST,
    PAST_NOTICE,
    write_profile,
)
from tests.servers import App, run_command, serve

LANGS = tuple(ROOTS)
PHONE = "+33 4 00 00 00 00"
HOURS = {"fr": "du lundi au vendredi, de 8 h à 17 h", "en": "Monday to Friday, 8:00 to 17:00"}
DESK_URL = "https://assistance.ac-lyon.example/"
SETUP = {lang: BY_KEY["setup"].path(lang) for lang in LANGS}
EVERY_PAGE = [
    *((lang, page.path(lang)) for lang in LANGS for page in PAGES),
    *((lang, f"{SETUP[lang]}?email=marie.curie%40{LYON_DOMAIN}") for lang in LANGS),
]
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
ANDROID = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 Chrome/131.0 Mobile"
MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 Version/18.1 Safari"
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0"


@pytest.fixture(scope="module")
def profiles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lyon")
    write_profile(folder)
    return folder


@pytest.fixture(scope="module")
def lyon(profiles: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with serve(tmp_path_factory.mktemp("serve"), "--profiles", str(profiles)) as app:
        yield app


def get(app: App, path: str, host: str = LYON_HOST, **headers: str) -> httpx.Response:
    return httpx.get(f"{app.url}{path}", headers={"Host": host, **headers}, timeout=30)


def page_of(response: httpx.Response) -> html.HtmlElement:
    return html.fromstring(response.text)


def test_the_profile_passes_check(profiles: Path) -> None:
    done = run_command("check", "--profiles", str(profiles))
    assert done.returncode == 0, done.stderr.decode()


@pytest.mark.parametrize(("lang", "path"), EVERY_PAGE)
def test_every_page_shows_the_help_desk_logo_current_notice_and_no_aix_word(
    lyon: App, lang: str, path: str
) -> None:
    response = get(lyon, path)
    assert response.status_code == 200
    page = page_of(response)
    footer = page.xpath("//footer")[0]
    (tel,) = footer.xpath(".//a[starts-with(@href, 'tel:')]")
    assert tel.get("href") == "tel:+33400000000"
    assert tel.text_content() == PHONE
    assert HOURS[lang] in footer.text_content()
    assert footer.xpath(f".//a[@href='{DESK_URL}']")
    assert footer.xpath(".//a[@href='mailto:assistance@ac-lyon.example']")
    (logo,) = page.xpath("//header//img[@class='logo']")
    assert (
        logo.get("alt")
        == {"fr": "Académie de Lyon (fictive)", "en": "Académie de Lyon (fictional)"}[lang]
    )
    assert logo.get("src").startswith("/assets/logo-")
    assert logo.get("src").endswith(".svg")
    text = page.text_content()
    assert CURRENT_NOTICE[lang] in page.xpath("string(//main//*[@role='note'])")
    assert PAST_NOTICE[lang] not in text
    assert FUTURE_NOTICE[lang] not in text
    for word in AIX_WORDS:
        assert word not in response.text, f"{path} shows {word!r}"
    brand = page.xpath("//link[@rel='stylesheet']/@href")
    assert brand == ["/assets/help.css", "/assets/brand-7a1f3d.css"]


@pytest.mark.parametrize("key", ["problems", "password", "setup"])
@pytest.mark.parametrize("lang", LANGS)
def test_the_pages_of_a_stuck_person_show_the_help_desk_box(lyon: App, key: str, lang: str) -> None:
    page = page_of(get(lyon, BY_KEY[key].path(lang)))
    (box,) = page.xpath("//main//*[@id='helpdesk']")
    assert box.xpath(".//a[@href='tel:+33400000000']/text()") == [PHONE]
    assert HOURS[lang] in box.text_content()
    assert box.xpath(f".//a[@href='{DESK_URL}']")


def test_the_logo_and_the_brand_colour_are_served(lyon: App) -> None:
    page = page_of(get(lyon, "/aide/"))
    src = page.xpath("string(//header//img/@src)")
    logo = get(lyon, src)
    assert logo.status_code == 200
    assert logo.headers["content-type"] == "image/svg+xml"
    assert logo.content == (Path(__file__).parents[1] / "data" / "lyon" / "logo.svg").read_bytes()
    assert "sandbox" in logo.headers["content-security-policy"]
    assert logo.headers["cache-control"] == "public, max-age=86400"
    assert get(lyon, "/assets/logo-0000000000000000.svg").status_code == 404
    css = get(lyon, "/assets/brand-7a1f3d.css")
    assert css.status_code == 200
    assert "--accent: #7a1f3d;" in css.text
    assert get(lyon, "/assets/brand-ff0000.css").status_code == 404


@pytest.mark.parametrize("lang", LANGS)
def test_setup_shows_the_manual_settings_without_an_address(lyon: App, lang: str) -> None:
    response = get(lyon, SETUP[lang])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    page = page_of(response)
    imap = page.xpath("//*[@id='settings-imap']//dd")
    smtp = page.xpath("//*[@id='settings-smtp']//dd")
    assert [d.text_content() for d in imap[:3]] == ["imap.ac-lyon.example", "993", "SSL/TLS"]
    assert [d.text_content() for d in smtp[:3]] == ["smtp.ac-lyon.example", "465", "SSL/TLS"]
    login = {"fr": "votre identifiant Lyon", "en": "your Lyon login"}[lang]
    assert imap[4].text_content() == smtp[4].text_content() == login
    assert not page.xpath("//*[@id='profile-link']")


def test_setup_with_an_address_personalises_the_settings(lyon: App) -> None:
    page = page_of(get(lyon, f"{SETUP['en']}?email=marie.curie%40{LYON_DOMAIN}"))
    assert page.xpath("string(//*[@id='login-id'])") == "marie.curie"
    imap = page.xpath("//*[@id='settings-imap']//dd")
    assert imap[4].text_content() == "marie.curie"


@pytest.mark.parametrize(
    ("agent", "first"),
    [(IPHONE, "apple"), (ANDROID, "android"), (MAC, "mac"), (WINDOWS, "thunderbird")],
)
def test_the_visitor_s_own_platform_comes_first(lyon: App, agent: str, first: str) -> None:
    path = f"{SETUP['fr']}?email=marie.curie%40{LYON_DOMAIN}"
    page = page_of(get(lyon, path, **{"User-Agent": agent}))
    sections = page.xpath("//section[@aria-labelledby='apps-title']//h3/@id")
    links = page.xpath("//ul[@class='app-list']//a/@href")
    assert sections[0] == first
    assert sorted(sections) == sorted(["thunderbird", "outlook", "apple", "mac", "android"])
    assert links == [f"#{s}" for s in sections]


@pytest.mark.parametrize("lang", LANGS)
def test_labelled_webmail_addresses(lyon: App, lang: str) -> None:
    page = page_of(get(lyon, BY_KEY["webmail"].path(lang)))
    items = [
        " ".join(li.text_content().split()) for li in page.xpath("//ul[@class='webmail-links']/li")
    ]
    colon = " :" if lang == "fr" else ":"
    labels = {
        "fr": ("Adresse principale", "Adresse de secours"),
        "en": ("Main address", "Fallback address"),
    }[lang]
    assert items == [
        f"{labels[0]}{colon} https://webmail.ac-lyon.example/",
        f"{labels[1]}{colon} https://secours.ac-lyon.example/",
    ]
    steps = page.text_content()
    assert "Identifiant Lyon" in steps
    assert "Se connecter" in steps


def test_maintenance_is_a_calm_note_not_a_warning(lyon: App) -> None:
    page = page_of(get(lyon, BY_KEY["problems"].path("en")))
    notes = page.xpath("//main//*[@class='notice']")
    assert len(notes) == 1
    assert CURRENT_NOTICE["en"] in notes[0].text_content()
    (calm,) = page.xpath("//main//p[contains(., 'sometimes interrupted for maintenance')]")
    assert not calm.xpath("ancestor::*[@class='notice' or @class='notices']")
    assert "a notice says so at the top of every page" in calm.text_content()


@pytest.mark.parametrize("host", ["127.0.0.1", "autoconfig.ac-lyon.exmple", "[::1]:8443", ""])
def test_a_one_profile_deployment_answers_any_host(lyon: App, host: str) -> None:
    response = get(lyon, "/aide/configurer", host=host)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    page = page_of(response)
    assert "Messagerie de l'académie de Lyon (fictive)" in page.xpath("string(//title)")
    root = get(lyon, "/", host=host)
    assert root.status_code == 302
