"""The help site through the ASGI app: pages, languages, headers, the personalised setup page, and
the rule that every fact comes from the provider's own profile."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import html
from starlette.testclient import TestClient

from autoconfig.model import Provider
from autoconfig.service import Service
from autoconfig.settings import Settings
from autoconfig.web import create_app
from autoconfig.web.headers import CONTENT_SECURITY_POLICY
from autoconfig.web.site.pages import BY_KEY, PAGES, ROOTS, Page
from tests.conftest import PIERRE, PIERRE_LOGIN, PROFILES

ACADEMIE_HOST = "http://autoconfig.ac-aix-marseille.fr"
UNKNOWN = "zoe.inconnue@ac-aix-marseille.fr"
LANGS = tuple(ROOTS)
ALL_PATHS = [page.path(lang) for lang in LANGS for page in PAGES]


def host_client(service: Service, domain: str) -> TestClient:
    return TestClient(create_app(service), base_url=f"http://autoconfig.{domain}")


def parse(text: str) -> html.HtmlElement:
    return html.fromstring(text)


def visible_text(page: html.HtmlElement) -> str:
    return " ".join(page.xpath("//body//text()"))


def server_settings(page: html.HtmlElement, server: str) -> dict[str, str]:
    """The manual settings of ``server`` (``imap``, ``smtp``) shown by a setup page, by label."""
    rows = page.xpath(f"//*[@id='settings-{server}']//dl/div")
    return {
        row.xpath("string(dt)").strip(): " ".join(row.xpath("string(dd)").split()) for row in rows
    }


def hosts_and_ports(page: html.HtmlElement) -> list[str]:
    """Host and port of the IMAP then the SMTP server, as the setup page shows them."""
    return [
        " ".join(page.xpath(f"string((//*[@id='settings-{server}']//dd)[{row}])").split())
        for server in ("imap", "smtp")
        for row in (1, 2)
    ]


@pytest.fixture(scope="module")
def academie(service: Service) -> Iterator[TestClient]:
    with host_client(service, "ac-aix-marseille.fr") as c:
        yield c


@pytest.mark.parametrize("path", ALL_PATHS)
def test_every_page_answers_in_its_language_with_security_headers(
    academie: TestClient, path: str
) -> None:
    response = academie.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "public, max-age=300"
    page = parse(response.text)
    lang = "fr" if path.startswith("/aide/") else "en"
    assert page.get("lang") == lang
    assert not page.xpath("//script | //style | //*[@style] | //iframe")
    assert page.xpath("//link[@rel='stylesheet']/@href") == ["/assets/help.css"]
    assert len(page.xpath("//h1")) == 1
    current = page.xpath("//nav[@class='journeys']//a[@aria-current='page']/@href")
    assert current == [path]


@pytest.mark.parametrize("page", PAGES, ids=[p.key for p in PAGES])
def test_language_switch_links_the_same_page_in_the_other_language(
    academie: TestClient, page: Page
) -> None:
    for lang, other in (("fr", "en"), ("en", "fr")):
        tree = parse(academie.get(page.path(lang)).text)
        switch = tree.xpath("//nav[@class='language-switch']//a")
        assert [(a.get("href"), a.get("hreflang"), a.get("lang")) for a in switch] == [
            (page.path(other), other, other)
        ]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/aide/", "Votre messagerie"),
        ("/help/", "Your mailbox"),
        ("/aide/premiere-connexion", "NUMEN"),
        ("/help/forgotten-password", "M'auto dépanner"),
        ("/aide/mot-de-passe-oublie", "Oubli de mot de passe ou d'identification"),
        ("/aide/problemes-de-connexion", "Effacez les cookies"),
        ("/help/connection-problems", "Clear your browser's cookies"),
        ("/aide/webmail", "Valider"),
    ],
)
def test_pages_carry_their_journey(academie: TestClient, path: str, text: str) -> None:
    assert text in visible_text(parse(academie.get(path).text))


@pytest.mark.parametrize(
    ("accept_language", "location"),
    [
        (None, "/aide/"),
        ("fr-FR,fr;q=0.9", "/aide/"),
        ("en-GB,en;q=0.9", "/help/"),
        ("de-DE, en;q=0.5", "/help/"),
        ("de-DE", "/aide/"),
        ("en;q=0.4, fr;q=0.8", "/aide/"),
    ],
)
def test_root_redirects_by_accept_language(
    academie: TestClient, accept_language: str | None, location: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = academie.get("/", headers=headers, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == location
    assert response.headers["vary"] == "Accept-Language"


@pytest.mark.parametrize("path", ["/", "/aide/", "/help/setup", "/aide/nowhere"])
def test_unknown_host_gets_a_neutral_404_page(service: Service, path: str) -> None:
    with TestClient(create_app(service), base_url="http://mail.elsewhere.test") as c:
        response = c.get(path, follow_redirects=False)
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    text = response.text.lower()
    for provider in service.catalog:
        for word in (*provider.domains, provider.imap.host, provider.name.default.lower()):
            assert word.lower() not in text


def test_unknown_page_of_a_known_host_is_an_html_404(academie: TestClient) -> None:
    response = academie.get("/aide/nulle-part")
    assert response.status_code == 404
    assert parse(response.text).get("lang") == "fr"


def test_stylesheet_is_served_by_the_app(academie: TestClient) -> None:
    response = academie.get("/assets/help.css")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert b"@import" not in response.content
    assert b"url(" not in response.content


def setup(client: TestClient, address: str, lang: str = "fr") -> tuple[int, html.HtmlElement]:
    response = client.get(BY_SETUP[lang], params={"email": address})
    assert response.headers["cache-control"] == "private, no-store"
    return response.status_code, parse(response.text)


BY_SETUP = {lang: BY_KEY["setup"].path(lang) for lang in LANGS}


@pytest.mark.parametrize("lang", LANGS)
def test_setup_shows_the_academic_id_the_directory_knows(academie: TestClient, lang: str) -> None:
    status, page = setup(academie, PIERRE, lang)
    assert status == 200
    assert page.xpath("string(//*[@id='login-id'])") == PIERRE_LOGIN
    assert not page.xpath("//*[@id='login-unknown']")
    assert hosts_and_ports(page) == [
        "imap.ac-aix-marseille.fr",
        "993",
        "smtp.ac-aix-marseille.fr",
        "465",
    ]
    for server in ("imap", "smtp"):
        assert PIERRE_LOGIN in server_settings(page, server).values()
    assert page.xpath("//*[@id='profile-link']/@href") == [
        "/mobileconfig?email=pierre.dupont%40ac-aix-marseille.fr"
    ]
    for code in ("profile-code", "android-code"):
        svg = page.xpath(f"//*[@id='{code}'][@role='img']/*[local-name()='svg']")
        assert len(svg) == 1, code
        assert svg[0].get("aria-hidden") == "true"
    assert page.xpath("//input[@id='email']/@value") == [PIERRE]


@pytest.mark.parametrize(
    ("base_url", "origin"),
    [
        ("http://autoconfig.ac-aix-marseille.fr", "https://autoconfig.ac-aix-marseille.fr"),
        (
            "http://AUTOCONFIG.ac-aix-marseille.fr:8443",
            "https://autoconfig.ac-aix-marseille.fr:8443",
        ),
        ("http://ac-aix-marseille.fr", "https://ac-aix-marseille.fr"),
    ],
)
def test_setup_qr_code_encodes_the_absolute_https_download_url(
    service: Service, base_url: str, origin: str
) -> None:
    import segno

    with TestClient(create_app(service), base_url=base_url) as client:
        _, page = setup(client, PIERRE)
    drawn = page.xpath(
        "string(//*[@id='profile-code']/*[local-name()='svg']//*[local-name()='path']/@d)"
    )
    expected = segno.make(
        f"{origin}/mobileconfig?email=pierre.dupont%40ac-aix-marseille.fr", error="m"
    ).svg_inline(scale=4, border=2, omitsize=True)
    assert drawn
    assert f'd="{drawn}"' in expected


@pytest.mark.parametrize(
    "typed", [" Pierre.Dupont@AC-Aix-Marseille.FR ", "pierre.dupont@ac-aix-marseille.fr."]
)
def test_setup_finds_the_login_whatever_the_spelling(academie: TestClient, typed: str) -> None:
    status, page = setup(academie, typed)
    assert status == 200
    assert page.xpath("string(//*[@id='login-id'])") == PIERRE_LOGIN


def test_setup_without_a_known_login_says_how_to_find_it(academie: TestClient) -> None:
    status, page = setup(academie, UNKNOWN)
    assert status == 200
    assert not page.xpath("//*[@id='login-id']")
    notice = " ".join(page.xpath("//*[@id='login-unknown']//text()"))
    assert "identifiant académique" in notice
    assert "zoe.inconnue" in notice  # what the apps will propose, to be replaced
    links = page.xpath("//*[@id='login-unknown']//a/@href")
    assert links == ["/aide/premiere-connexion", "/aide/mot-de-passe-oublie"]
    assert page.xpath("//*[@id='profile-link']/@href")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("pierre.dupont", "n'est pas une adresse électronique valide"),
        ("a@@b", "n'est pas une adresse électronique valide"),
        ("<script>@x.fr", "n'est pas une adresse électronique valide"),
        ("x" * 3000, "n'est pas une adresse électronique valide"),
        ("pierre\x00@ac-aix-marseille.fr", "n'est pas une adresse électronique valide"),
        ("pierre..dupont@ac-aix-marseille.fr", "n'est pas une adresse électronique valide"),
        ("pierre@ac-aix-marseille", "n'est pas une adresse électronique valide"),
        ("", "Saisissez votre adresse"),
        ("   ", "Saisissez votre adresse"),
        (
            "someone@example.org",
            "ne configure que les adresses se terminant par @ac-aix-marseille.fr",
        ),
    ],
)
def test_setup_with_a_bad_address_shows_the_form_again(
    academie: TestClient, typed: str, message: str
) -> None:
    status, page = setup(academie, typed)
    assert status == 400
    assert message in page.xpath("string(//*[@id='email-error'])")
    field = page.xpath("//input[@id='email']")[0]
    assert field.get("aria-invalid") == "true"
    assert "email-error" in field.get("aria-describedby")
    assert page.xpath("string(//title)").startswith("Erreur")
    assert not page.xpath("//*[@id='profile-link'] | //*[@id='apps-title']")
    assert "<script>" not in html.tostring(page, encoding="unicode")


def test_setup_form_works_as_a_plain_get_form(academie: TestClient) -> None:
    page = parse(academie.get("/help/setup").text)
    form = page.xpath("//form")[0]
    assert (form.get("method"), form.get("action")) == ("get", "/help/setup")
    assert page.xpath("//form//input/@name") == ["email"]
    label = page.xpath("//label[@for='email']")
    assert label
    assert label[0].text_content().strip()


def test_help_requests_are_logged_without_the_address(
    academie: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="autoconfig.access"):
        academie.get("/aide/configurer", params={"email": PIERRE})
    lines = [r.getMessage() for r in caplog.records if r.name == "autoconfig.access"]
    assert len(lines) == 1
    assert "endpoint=help" in lines[0]
    assert "domain=ac-aix-marseille.fr" in lines[0]
    assert "pierre" not in lines[0]
    assert PIERRE_LOGIN not in lines[0]


# Every host, port, URL and name on a provider's pages comes from its profile, and nothing of
# another provider shows.

HOST_RE = re.compile(r"\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}\b")


def profile_hosts(provider: Provider) -> set[str]:
    urls = profile_urls(provider)
    return (
        set(provider.domains)
        | {provider.imap.host, provider.smtp.host}
        | {urlsplit(url).hostname or "" for url in urls if url.startswith("https:")}
    )


def profile_urls(provider: Provider) -> set[str]:
    urls = {*provider.webmail.urls, provider.help.url}
    if provider.webmail.login_portal:
        urls.add(provider.webmail.login_portal)
    if provider.guide and provider.guide.password:
        urls.add(provider.guide.password.portal)
    desk = provider.guide.helpdesk if provider.guide else None
    if desk:
        urls |= {link for link in (desk.url, desk.tel) if link}
        urls |= {f"mailto:{desk.email}"} if desk.email else set()
    for dav in (provider.caldav, provider.carddav):
        if dav:
            urls.add(dav.url)
    return urls


def profile_words(provider: Provider) -> set[str]:
    texts = {t for loc in (provider.name, provider.organization) for _, t in loc.texts}
    return texts | profile_hosts(provider) | profile_urls(provider)


def site_pages(client: TestClient, provider: Provider) -> Iterator[tuple[str, str]]:
    sample = f"someone@{provider.domains[0]}"
    for lang in LANGS:
        for page in PAGES:
            if page.shown(provider):
                yield page.path(lang), client.get(page.path(lang)).text
        yield BY_SETUP[lang], client.get(BY_SETUP[lang], params={"email": sample}).text


@pytest.mark.parametrize("stem", sorted(p.stem for p in PROFILES.glob("*.toml")))
def test_hosts_urls_ports_and_names_come_from_the_profile(service: Service, stem: str) -> None:
    provider = next(p for p in service.catalog if Path(p.source).stem == stem)
    allowed_hosts = profile_hosts(provider)
    allowed_urls = profile_urls(provider)
    with host_client(service, provider.domains[0]) as client:
        for path, text in site_pages(client, provider):
            page = parse(text)
            for href in page.xpath("//a/@href"):
                if urlsplit(href).scheme:
                    assert href in allowed_urls, f"{path}: link {href} is not in the profile"
            domains_only = re.sub(r"[^\s@]+@", "@", visible_text(page).lower())
            for host in HOST_RE.findall(domains_only):
                assert host in allowed_hosts, f"{path}: {host} is not in the profile"
            assert provider.name.get(path_lang(path)) in page.xpath("string(//title)")
            if "email=" in path or page.xpath("//dl[@class='settings']"):
                assert hosts_and_ports(page) == [
                    provider.imap.host,
                    str(provider.imap.port),
                    provider.smtp.host,
                    str(provider.smtp.port),
                ]


def path_lang(path: str) -> str:
    return next(lang for lang, root in ROOTS.items() if path.startswith(root))


def test_nothing_of_one_provider_shows_on_another_s_site(service: Service) -> None:
    providers = list(service.catalog)
    assert len(providers) >= 2
    for shown in providers:
        others = {w.lower() for p in providers if p is not shown for w in profile_words(p)}
        others -= {w.lower() for w in profile_words(shown)}
        with host_client(service, shown.domains[0]) as client:
            for path, text in site_pages(client, shown):
                lowered = text.lower()
                leaked = sorted(word for word in others if word in lowered)
                assert not leaked, f"{shown.id} {path} shows {leaked}"


# A provider that declares no [guide] table: the pages about its processes do not exist.

MINIMAL = """
[provider]
domains = ["minimal.test"]
name.fr = "Messagerie minimale"
name.en = "Minimal mail"
short_name.fr = "Minimale"
short_name.en = "Minimal"
organization.fr = "Organisation minimale"
organization.en = "Minimal organisation"

[imap]
host = "imap.minimal.test"
port = 143
security = "starttls"
auth = "password"

[smtp]
host = "smtp.minimal.test"
port = 587
security = "starttls"
auth = "password"

[login]
source = "template"
template = "%EMAILADDRESS%"

[help]
url = "https://autoconfig.minimal.test/aide/"
title.fr = "Aide"
title.en = "Help"

[webmail]
urls = ["https://webmail.minimal.test/"]
"""


@pytest.fixture(scope="module")
def minimal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("profiles")
    (folder / "minimal.toml").write_text(MINIMAL, encoding="utf-8")
    loaded = Service.load(Settings(folder))
    with host_client(loaded, "minimal.test") as client:
        yield client
    loaded.close()


@pytest.mark.parametrize(
    "path",
    ["/aide/premiere-connexion", "/help/first-connection", "/aide/mot-de-passe-oublie"],
)
def test_undeclared_journeys_are_not_shown(minimal: TestClient, path: str) -> None:
    assert minimal.get(path).status_code == 404
    nav = parse(minimal.get("/aide/").text).xpath("//nav[@class='journeys']//a/@href")
    assert path not in nav
    assert nav == ["/aide/", "/aide/webmail", "/aide/configurer", "/aide/problemes-de-connexion"]


@pytest.mark.parametrize(
    "absent",
    [
        "NUMEN",
        "DSDEN",
        "rectorat",
        "Valider",
        "Maintenance",
        "INA",
        "supprimé",
        "prenom.nom",
        "mot-de-passe-oublie",
        "premiere-connexion",
    ],
)
def test_undeclared_facts_are_not_shown(minimal: TestClient, absent: str) -> None:
    for path in ("/aide/", "/aide/webmail", "/aide/problemes-de-connexion", "/aide/configurer"):
        assert absent not in minimal.get(path).text


def test_template_login_is_shown_as_known(minimal: TestClient) -> None:
    page = parse(minimal.get("/aide/configurer", params={"email": "Ana@minimal.test"}).text)
    assert page.xpath("string(//*[@id='login-id'])") == "Ana@minimal.test"
    assert server_settings(page, "imap")["Sécurité"] == "STARTTLS"


def test_help_desk_hours_show_without_a_phone(tmp_path: Path) -> None:
    text = MINIMAL + (
        '\n[guide.helpdesk]\nurl = "https://aide.minimal.test/"\n'
        'hours.fr = "en semaine"\nhours.en = "on weekdays"\n'
    )
    (tmp_path / "minimal.toml").write_text(text, encoding="utf-8")
    loaded = Service.load(Settings(tmp_path))
    try:
        with host_client(loaded, "minimal.test") as client:
            page = parse(client.get("/aide/problemes-de-connexion").text)
    finally:
        loaded.close()
    assert "Ouverte en semaine" in page.xpath("string(//*[@id='helpdesk'])")
    assert "(en semaine)" in page.xpath("string(//footer)")
    assert not page.xpath("//a[starts-with(@href, 'tel:')]")
