"""The help site in Debian's Chromium, against a real ``autoconfig serve``: each journey as a person
would take it, on a 360 × 640 phone and on a desktop, with and without JavaScript; the phone layout
(title in the first half-screen, host names never broken, the visitor's own platform first); and
axe-core finds no accessibility violation on any page, in either language, at either width."""

from __future__ import annotations

import plistlib
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from autoconfig.web.site.pages import PAGES
from tests import clientrules
from tests.browser import harness
from tests.browser.conftest import Visit
from tests.conftest import PIERRE, PIERRE_LOGIN
from tests.tools import require

ACADEMIE, EXAMPLE, LYON = harness.HOSTS
WIDTHS = {"phone": harness.PHONE, "desktop": harness.DESKTOP}
PROFILE_HREF = "/mobileconfig?email=pierre.dupont%40ac-aix-marseille.fr"
UNKNOWN = "zoe.inconnue@ac-aix-marseille.fr"
LYON_PERSONAL = "/aide/configurer?email=marie.curie%40ac-lyon.example"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)

Opener = Callable[..., Visit]


def assert_clean(visit: Visit) -> None:
    """Nothing left our server, the security policy blocked nothing, and nothing overflows."""
    assert visit.foreign_requests() == []
    assert visit.policy_violations() == []
    viewport = visit.page.viewport_size
    assert viewport is not None
    assert visit.page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_journey_is_reached_from_the_navigation(
    server: harness.Server, visit: Opener, width: str
) -> None:
    v = visit(locale="fr-FR", viewport=WIDTHS[width])
    page = v.page
    page.goto(server.url(ACADEMIE, "/"))
    assert page.url == server.url(ACADEMIE, "/aide/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    links = page.locator("nav.journeys a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs == [p.path("fr") for p in PAGES]
    for i, href in enumerate(hrefs):
        open_menu(page)
        link = page.locator("nav.journeys a").nth(i)
        name = link.inner_text()
        link.click()
        assert page.url == server.url(ACADEMIE, str(href))
        expect(page.locator("nav.journeys a[aria-current='page']")).to_have_text(name)
        expect(page.locator("h1")).to_be_visible()
        assert_clean(v)
    page.get_by_role("link", name="English").click()
    assert page.url == server.url(ACADEMIE, "/help/connection-problems")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Connection problems")
    page.get_by_role("link", name="Français").click()
    assert page.url == server.url(ACADEMIE, "/aide/problemes-de-connexion")


def open_menu(page: Any) -> None:
    """On a phone the journeys are behind the "Menu" button: open it (a no-op on a desktop)."""
    summary = page.locator("nav.journeys summary")
    if summary.is_visible():
        summary.click()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_navigation_is_a_menu_on_a_phone_and_a_row_on_a_desktop(
    server: harness.Server, visit: Opener, width: str
) -> None:
    v = visit(locale="fr-FR", viewport=WIDTHS[width], java_script_enabled=False)
    page = v.page
    page.goto(server.url(LYON, "/aide/webmail"))
    links = page.locator("nav.journeys a")
    summary = page.locator("nav.journeys summary")
    if width == "phone":
        expect(summary).to_be_visible()
        expect(summary).to_contain_text("Se connecter au webmail")  # the current page
        expect(links.first).to_be_hidden()
        summary.click()
    else:
        expect(summary).to_be_hidden()
    for i in range(links.count()):
        expect(links.nth(i)).to_be_visible()
    page.locator("nav.journeys").get_by_role("link", name="Problèmes de connexion").click()
    expect(page.locator("h1")).to_have_text("Problèmes de connexion")
    assert_clean(v)


PHONE_PAGES: list[tuple[str, str]] = [
    *(
        (host, page.path(lang))
        for host in (ACADEMIE, LYON)
        for lang in ("fr", "en")
        for page in PAGES
    ),
    (ACADEMIE, "/aide/configurer?email=pierre.dupont%40ac-aix-marseille.fr"),
    (ACADEMIE, "/help/setup?email=zoe.inconnue%40ac-aix-marseille.fr"),
    (EXAMPLE, "/aide/configurer?email=ana%40example.org"),
    (LYON, LYON_PERSONAL),
]

VALUE_LINES = """() => Array.from(document.querySelectorAll(".value")).map(el => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set(Array.from(range.getClientRects(), r => Math.round(r.top)));
    return {text: el.textContent, lines: tops.size, fits: el.scrollWidth <= el.clientWidth + 1};
})"""
HOSTS_OUTSIDE_VALUES = """(hosts) => {
    const found = [];
    const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (hosts.some(h => node.data.includes(h)) && !node.parentElement.closest(".value")) {
            found.push(node.data);
        }
    }
    return found;
}"""


@pytest.mark.parametrize(
    ("host", "path"), PHONE_PAGES, ids=[f"{h.split('.')[1]}{p}" for h, p in PHONE_PAGES]
)
def test_on_a_phone_the_title_comes_first_and_no_host_name_wraps(
    server: harness.Server, visit: Opener, host: str, path: str
) -> None:
    v = visit(viewport=harness.PHONE, java_script_enabled=False)
    page = v.page
    page.goto(server.url(host, path))
    title = page.locator("h1").bounding_box()
    assert title is not None
    assert title["y"] + title["height"] <= harness.PHONE["height"] / 2, title
    values = page.evaluate(VALUE_LINES)
    if "configurer" in path or "setup" in path:
        assert len(values) >= 4  # the hosts and ports of the manual settings at least
    for value in values:
        assert value["lines"] == 1, value
        assert value["fits"], value
    domain = host.removeprefix("autoconfig.")
    servers = [f"imap.{domain}", f"smtp.{domain}"]
    assert page.evaluate(HOSTS_OUTSIDE_VALUES, servers) == []
    assert_clean(v)


@pytest.mark.parametrize(("agent", "first"), [(IPHONE, "apple"), (ANDROID, "android")])
def test_a_phone_visitor_sees_the_steps_of_their_own_platform_first(
    server: harness.Server, visit: Opener, agent: str, first: str
) -> None:
    v = visit(locale="fr-FR", viewport=harness.PHONE, user_agent=agent, java_script_enabled=False)
    page = v.page
    page.goto(server.url(LYON, LYON_PERSONAL))
    headings = page.locator("section[aria-labelledby='apps-title'] h3")
    expect(headings.first).to_have_attribute("id", first)
    own = page.locator(f"#{first}").bounding_box()
    other = page.locator("#thunderbird").bounding_box()
    assert own is not None
    assert other is not None
    assert own["y"] < other["y"]
    expect(page.locator(".app-list a").first).to_have_attribute("href", f"#{first}")
    page.locator(".app-list a[href='#thunderbird']").click()
    assert page.url.endswith("#thunderbird")
    expect(page.locator("#thunderbird")).to_be_in_viewport()
    assert_clean(v)


@pytest.mark.parametrize("width", WIDTHS)
def test_another_academie_shows_its_logo_help_desk_and_notice(
    server: harness.Server, visit: Opener, width: str
) -> None:
    v = visit(locale="fr-FR", viewport=WIDTHS[width], java_script_enabled=False)
    page = v.page
    page.goto(server.url(LYON, "/aide/problemes-de-connexion"))
    logo = page.get_by_role("img", name="Académie de Lyon (fictive)")
    expect(logo).to_be_visible()
    assert page.evaluate("document.querySelector('img.logo').naturalWidth") > 0  # it loaded
    box = page.locator("#helpdesk")
    expect(box).to_be_visible()
    expect(box.locator("a[href='tel:+33400000000']")).to_have_text("+33 4 00 00 00 00")
    expect(page.locator("footer a[href='tel:+33400000000']")).to_be_visible()
    expect(page.locator("main [role='note']")).to_contain_text("Coupure en cours")
    assert "Aix" not in page.content()
    header = page.locator(".site-header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header == "rgb(122, 31, 61)"  # provider.colour, from /assets/brand-7a1f3d.css
    assert_clean(v)


def test_keyboard_reaches_the_content_through_the_skip_link(
    server: harness.Server, visit: Opener
) -> None:
    v = visit(locale="fr-FR", viewport=harness.PHONE)
    page = v.page
    page.goto(server.url(ACADEMIE, "/aide/configurer"))
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Votre adresse électronique professionnelle")).to_be_focused()
    page.keyboard.type(PIERRE)
    page.keyboard.press("Enter")
    expect(page.locator("#login-id")).to_have_text(PIERRE_LOGIN)


def test_english_browser_lands_on_the_english_site(server: harness.Server, visit: Opener) -> None:
    v = visit(locale="en-GB", viewport=harness.DESKTOP)
    v.page.goto(server.url(ACADEMIE, "/"))
    assert v.page.url == server.url(ACADEMIE, "/help/")
    expect(v.page.locator("h1")).to_have_text("Aix-Marseille academic mail")
    v.page.get_by_role("link", name="Forgotten password").first.click()
    expect(v.page.get_by_text("M'auto dépanner")).to_be_visible()
    assert_clean(v)


@pytest.mark.parametrize("width", WIDTHS)
def test_setup_flow_without_javascript_shows_the_academic_id(
    server: harness.Server, visit: Opener, width: str, tmp_path: Path
) -> None:
    v = visit(locale="fr-FR", viewport=WIDTHS[width], java_script_enabled=False)
    page = v.page
    page.goto(server.url(ACADEMIE, "/aide/"))
    open_menu(page)
    page.locator("nav.journeys").get_by_role("link", name="Configurer une application").click()
    page.get_by_label("Votre adresse électronique professionnelle").fill(PIERRE)
    page.get_by_role("button", name="Afficher mes paramètres").click()
    assert page.url == server.url(
        ACADEMIE, "/aide/configurer?email=pierre.dupont%40ac-aix-marseille.fr"
    )
    expect(page.locator("#login-id")).to_have_text(PIERRE_LOGIN)
    expect(page.locator("#settings-imap")).to_contain_text("imap.ac-aix-marseille.fr")
    expect(page.locator("#profile-link")).to_have_attribute("href", PROFILE_HREF)
    for code in ("#profile-code svg", "#android-code svg"):
        qr = page.locator(code)
        expect(qr).to_be_visible()
        box = qr.bounding_box()
        assert box is not None
        assert box["width"] >= 120
    # the Android code, as a phone camera sees it on this screen: the person's academic ID
    shot = tmp_path / f"android-{width}.png"
    page.locator("#android-code svg").screenshot(path=str(shot))
    read = subprocess.run(
        [require("zbarimg"), "-q", "--raw", str(shot)], capture_output=True, check=True, timeout=30
    )
    imported = clientrules.thunderbird_android_code(read.stdout.decode().strip())
    assert imported.incoming.username == imported.outgoing.username == PIERRE_LOGIN
    assert_clean(v)
    page.get_by_role("link", name="English").click()
    assert page.url.startswith(server.url(ACADEMIE, "/help/setup?email="))
    expect(page.locator("#login-id")).to_have_text(PIERRE_LOGIN)
    expect(page.get_by_label("Your professional e-mail address")).to_have_value(PIERRE)


def test_setup_for_an_address_the_directory_does_not_know(
    server: harness.Server, visit: Opener
) -> None:
    v = visit(locale="fr-FR", viewport=harness.PHONE, java_script_enabled=False)
    page = v.page
    page.goto(server.url(ACADEMIE, "/aide/configurer"))
    page.get_by_label("Votre adresse électronique professionnelle").fill(UNKNOWN)
    page.get_by_role("button", name="Afficher mes paramètres").click()
    expect(page.locator("#login-id")).to_have_count(0)
    notice = page.locator("#login-unknown")
    expect(notice).to_contain_text("identifiant académique")
    notice.get_by_role("link", name="première connexion").click()
    expect(page.locator("h1")).to_have_text("Première connexion")
    assert_clean(v)


@pytest.mark.parametrize("width", WIDTHS)
def test_setup_with_a_malformed_address_explains_the_error(
    server: harness.Server, visit: Opener, width: str
) -> None:
    v = visit(locale="fr-FR", viewport=WIDTHS[width], java_script_enabled=False)
    page = v.page
    page.goto(server.url(ACADEMIE, "/aide/configurer"))
    page.get_by_label("Votre adresse électronique professionnelle").fill("pierre.dupont")
    with page.expect_response(lambda r: "/aide/configurer?" in r.url) as answer:
        page.get_by_role("button", name="Afficher mes paramètres").click()
    assert answer.value.status == 400
    field = page.get_by_label("Votre adresse électronique professionnelle")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("pierre.dupont")
    expect(page.locator("#email-error")).to_contain_text(
        "n'est pas une adresse électronique valide"
    )
    assert page.title().startswith("Erreur")
    expect(page.locator("#profile-link")).to_have_count(0)
    assert_clean(v)


def test_each_provider_has_its_own_site(server: harness.Server, visit: Opener) -> None:
    v = visit(locale="fr-FR", viewport=harness.DESKTOP)
    v.page.goto(server.url(EXAMPLE, "/aide/configurer?email=ana%40example.org"))
    expect(v.page.locator("h1")).to_have_text("Configurer une application de messagerie")
    expect(v.page.locator("#login-id")).to_have_text("ana@example.org")
    content = v.page.content()
    assert "ac-aix-marseille" not in content
    v.page.goto(server.url(ACADEMIE, "/aide/configurer?email=ana%40example.org"))
    expect(v.page.locator("#email-error")).to_contain_text("@ac-aix-marseille.fr")
    assert "example.org" not in v.page.locator("main").inner_text().replace("ana@example.org", "")


AXE_PAGES: list[tuple[str, str]] = [
    *((ACADEMIE, page.path(lang)) for lang in ("fr", "en") for page in PAGES),
    (ACADEMIE, "/aide/configurer?email=pierre.dupont%40ac-aix-marseille.fr"),
    (ACADEMIE, "/help/setup?email=pierre.dupont%40ac-aix-marseille.fr"),
    (ACADEMIE, "/aide/configurer?email=zoe.inconnue%40ac-aix-marseille.fr"),
    (ACADEMIE, "/help/setup?email=zoe.inconnue%40ac-aix-marseille.fr"),
    (ACADEMIE, "/aide/configurer?email=pierre.dupont"),
    (ACADEMIE, "/help/setup?email="),
    (ACADEMIE, "/aide/introuvable"),
    (EXAMPLE, "/help/"),
    (EXAMPLE, "/aide/configurer?email=ana%40example.org"),
    *((LYON, page.path(lang)) for lang in ("fr", "en") for page in PAGES),
    (LYON, LYON_PERSONAL),
    (LYON, "/help/setup?email=marie.curie%40ac-lyon.example"),
]


def axe_violations(v: Visit, axe_source: str) -> list[dict[str, Any]]:
    v.page.evaluate(axe_source)
    result: list[dict[str, Any]] = v.page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ["violations"]});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ")),
            }));
        }"""
    )
    return result


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    ("host", "path"), AXE_PAGES, ids=[f"{h.split('.')[1]}{p}" for h, p in AXE_PAGES]
)
def test_axe_finds_no_violation(
    server: harness.Server, visit: Opener, axe_source: str, host: str, path: str, width: str
) -> None:
    v = visit(viewport=WIDTHS[width])
    v.page.goto(server.url(host, path))
    assert axe_violations(v, axe_source) == []
    assert_clean(v)


def test_profile_link_downloads_the_apple_profile(server: harness.Server, visit: Opener) -> None:
    """The link of the setup page gives a configuration profile, as Safari would receive it."""
    v = visit(
        locale="fr-FR", viewport=WIDTHS["phone"], java_script_enabled=False, accept_downloads=True
    )
    page = v.page
    page.goto(server.url(ACADEMIE, "/aide/configurer?email=pierre.dupont%40ac-aix-marseille.fr"))
    link = page.locator("#profile-link")
    href = link.get_attribute("href")
    assert href == PROFILE_HREF
    with (
        page.expect_download() as caught,
        page.expect_response(lambda r: "/mobileconfig" in r.url) as answered,
    ):
        link.click()
    response = answered.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/x-apple-aspen-config"
    assert response.headers["content-disposition"].startswith("attachment;")
    download = caught.value
    assert download.suggested_filename.endswith(".mobileconfig")
    path = download.path()
    profile = plistlib.loads(Path(path).read_bytes())
    (mail,) = [p for p in profile["PayloadContent"] if p["PayloadType"] == "com.apple.mail.managed"]
    assert mail["IncomingMailServerUsername"] == PIERRE_LOGIN
    assert mail["EmailAddress"] == PIERRE
    assert profile["PayloadType"] == "Configuration"
