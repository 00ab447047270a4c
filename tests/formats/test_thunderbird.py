from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from autoconfig.address import parse
from autoconfig.formats import thunderbird
from autoconfig.model import Account, Certainty, Found, Provider, Security
from autoconfig.service import Service
from tests import clientrules
from tests.conftest import PIERRE, PIERRE_LOGIN, TESTS, each_profile, profile_id
from tests.fakes import account as make_account
from tests.golden import GOLDEN, Golden

RULE = "=rule"
"""In a case: the login is the profile's rule, certain (``unknown = "fallback"`` for a person the
directory does not list)."""

# (case name, address or None, login found in the directory, RULE, or None: not known)
CASES = [
    ("generic", None, None),
    ("known", "{local}@{domain}", "jdoe42"),
    ("unknown", "{local}@{domain}", None),
    ("certain", "{local}@{domain}", RULE),
]


def account_for(provider: Provider, address: str | None, login: str | None) -> Account:
    if address is None:
        return make_account(None, provider.login.template, Found.FALLBACK)
    parsed = parse(address.format(local="prenom.nom", domain=provider.domains[0]))
    if login == RULE:
        return make_account(
            parsed, provider.login.expand(parsed), Found.FALLBACK, certainty=Certainty.CERTAIN
        )
    if login is not None:
        return make_account(parsed, login, Found.DIRECTORY, "Prénom Nom")
    return make_account(parsed, provider.login.expand(parsed), Found.FALLBACK)


@each_profile
@pytest.mark.parametrize(("case", "address", "login"), CASES, ids=[c[0] for c in CASES])
def test_golden(
    golden: Golden, provider: Provider, case: str, address: str | None, login: str | None
) -> None:
    rendered = thunderbird.render(provider, account_for(provider, address, login))
    golden(f"{profile_id(provider)}/thunderbird-{case}.xml", rendered.body)


@pytest.mark.parametrize(("case", "address", "login"), CASES)
def test_every_profile_reads_as_clients_read_it(
    service: Service, case: str, address: str | None, login: str | None
) -> None:
    for provider in service.catalog:
        rendered = thunderbird.render(provider, account_for(provider, address, login))
        incoming, outgoing = clientrules.thunderbird(rendered.media_type, rendered.body)
        android = clientrules.thunderbird_android(rendered.body)
        assert android == (incoming, outgoing)
        assert (incoming.host, incoming.port) == (provider.imap.host, provider.imap.port)
        assert (outgoing.host, outgoing.port) == (provider.smtp.host, provider.smtp.port)
        expected_login = login if login and login != RULE else provider.login.template
        assert incoming.username == outgoing.username == expected_login


def test_academie_answer_has_what_clients_need(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    account = make_account(parse(PIERRE), PIERRE_LOGIN, Found.DIRECTORY)
    root = etree.fromstring(thunderbird.render(provider, account).body)
    email = root.find("emailProvider")
    assert email is not None
    assert email.get("id") == "ac-aix-marseille.fr"
    assert [d.text for d in email.findall("domain")] == ["ac-aix-marseille.fr"]
    (imap,) = email.findall("incomingServer")
    (smtp,) = email.findall("outgoingServer")
    assert imap.get("type") == "imap"
    assert smtp.get("type") == "smtp"
    for server, host, port in ((imap, "imap", "993"), (smtp, "smtp", "465")):
        assert server.findtext("hostname") == f"{host}.ac-aix-marseille.fr"
        assert server.findtext("port") == port
        assert [s.text for s in server.findall("socketType")] == ["SSL"]
        assert server.findtext("username") == PIERRE_LOGIN
        assert server.findtext("authentication") == "password-cleartext"
    docs = email.find("documentation")
    assert docs is not None
    assert docs.get("url") == provider.help.url
    assert {d.get("lang") for d in docs.findall("descr")} == {"fr", "en"}
    login_page = root.find("webMail/loginPage")
    assert login_page is not None
    assert login_page.get("url") == "https://webmail.ac-aix-marseille.fr/"


def test_starttls_maps_to_starttls_socket_type(service: Service) -> None:
    provider = service.catalog.lookup("example.org")
    starttls = replace(provider, imap=replace(provider.imap, port=143, security=Security.STARTTLS))
    body = thunderbird.render(starttls, make_account(None, "x", Found.FALLBACK)).body
    incoming, _ = clientrules.thunderbird_android(body)
    assert (incoming.port, incoming.socket) == (143, "STARTTLS")


@pytest.mark.parametrize("login", ["a<b", "o'neil&co", 'q"uote', "été"])
def test_markup_in_logins_stays_well_formed(service: Service, login: str) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    body = thunderbird.render(provider, make_account(parse(PIERRE), login, Found.DIRECTORY)).body
    incoming, _ = clientrules.thunderbird("text/xml", body)
    assert incoming.username == login


@pytest.mark.parametrize(
    ("found", "login", "expected"),
    [
        (Found.DIRECTORY, "jdoe42", "jdoe42"),
        (Found.FALLBACK, "prenom.nom@example.org", "%EMAILADDRESS%"),
    ],
)
def test_dav_servers_follow_the_mail_login(
    service: Service, found: Found, login: str, expected: str
) -> None:
    provider = service.catalog.lookup("example.org")
    assert provider.caldav is not None
    assert provider.carddav is not None
    account = make_account(parse("prenom.nom@example.org"), login, found)
    root = etree.fromstring(thunderbird.render(provider, account).body)
    for tag, kind, server in (
        ("addressbook", "carddav", provider.carddav),
        ("calendar", "caldav", provider.caldav),
    ):
        (element,) = root.findall(tag)
        assert element.get("type") == kind
        assert element.findtext("url") == server.url
        auth = element.find("authentication")
        assert auth is not None
        assert (auth.get("system"), auth.text) == ("http", "Basic")
        assert element.findtext("username") == expected
    # the mail servers are still read the same way by clients that ignore the DAV elements
    incoming, _ = clientrules.thunderbird("text/xml", etree.tostring(root))
    assert incoming.username == expected


def test_no_dav_elements_without_dav_servers(service: Service) -> None:
    provider = service.catalog.lookup("example.org")
    bare = replace(provider, caldav=None, carddav=None)
    root = etree.fromstring(thunderbird.render(bare, make_account(None, "x", Found.FALLBACK)).body)
    assert root.find("addressbook") is None
    assert root.find("calendar") is None


# The draft's RELAX NG schema (tests/data/autoconfig_draft/README.md: source and licence).
SCHEMA = TESTS / "data" / "autoconfig_draft" / "autoconfig.rng"


@pytest.fixture(scope="module")
def draft_schema() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(SCHEMA)))


def assert_valid(schema: etree.RelaxNG, body: bytes) -> None:
    document = etree.fromstring(body)
    assert schema.validate(document), schema.error_log


@pytest.mark.parametrize(
    "path", sorted(GOLDEN.glob("*/thunderbird-*.xml")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_every_golden_answer_is_valid_against_the_draft_schema(
    draft_schema: etree.RelaxNG, path: Path
) -> None:
    assert_valid(draft_schema, path.read_bytes())


def test_golden_answers_are_there_to_validate() -> None:
    assert len(list(GOLDEN.glob("*/thunderbird-*.xml"))) >= len(CASES) * 2


@pytest.mark.parametrize(("case", "address", "login"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("login_text", [None, "a<b", "o'neil&co", "été"])
def test_every_rendered_answer_is_valid_against_the_draft_schema(
    draft_schema: etree.RelaxNG,
    service: Service,
    case: str,
    address: str | None,
    login: str | None,
    login_text: str | None,
) -> None:
    for provider in service.catalog:
        variants = [
            provider,
            replace(provider, caldav=None, carddav=None),
            replace(provider, imap=replace(provider.imap, port=143, security=Security.STARTTLS)),
        ]
        for variant in variants:
            account = account_for(variant, address, login_text or login)
            assert_valid(draft_schema, thunderbird.render(variant, account).body)


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        (lambda root: root.attrib.pop("version"), "clientConfig without its version"),
        (lambda root: root.find("emailProvider").attrib.pop("id"), "emailProvider without id"),
        (
            lambda root: setattr(root.find("emailProvider/incomingServer/port"), "text", "993a"),
            "a port that is not a positive integer",
        ),
        (
            lambda root: root.find("emailProvider/documentation").attrib.pop("url"),
            "documentation without url",
        ),
    ],
    ids=["no-version", "no-id", "bad-port", "no-doc-url"],
)
def test_the_schema_catches_what_a_broken_renderer_would_write(
    draft_schema: etree.RelaxNG, service: Service, broken: Any, why: str
) -> None:
    provider = service.catalog.lookup("example.org")
    root = etree.fromstring(
        thunderbird.render(provider, make_account(None, "x", Found.FALLBACK)).body
    )
    broken(root)
    assert not draft_schema.validate(root), why


@pytest.mark.parametrize("version", ["1.1", thunderbird.VERSION])
def test_the_version_changes_nothing_for_the_clients_the_suite_checks(
    service: Service, version: str
) -> None:
    """The measurement behind ``VERSION``: each client rule reads the same servers from the 1.1 and
    the 1.2 spelling of one document (none of them reads the attribute)."""
    for provider in service.catalog:
        body = thunderbird.render(provider, make_account(None, "x", Found.FALLBACK)).body
        root = etree.fromstring(body)
        root.set("version", version)
        relabelled = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        for read in (
            lambda b: clientrules.thunderbird(thunderbird.MEDIA_TYPE, b),
            clientrules.thunderbird_android,
            clientrules.evolution,
        ):
            assert read(relabelled) == read(body)


def test_the_answer_says_version_1_2(service: Service) -> None:
    provider = service.catalog.lookup("example.org")
    root = etree.fromstring(
        thunderbird.render(provider, make_account(None, "x", Found.FALLBACK)).body
    )
    assert root.get("version") == "1.2"
