from __future__ import annotations

import json
from dataclasses import replace

import pytest
from lxml import etree

from autoconfig.address import parse
from autoconfig.autodiscover import (
    MOBILESYNC_RESPONSE_NS,
    OUTLOOK_RESPONSE_NS,
    RESPONSE_NS,
    ErrorCode,
)
from autoconfig.model import Account, Found, LoginPolicy, LoginSource, Provider, Security
from autoconfig.render import autodiscover
from autoconfig.service import Service
from tests import clientrules
from tests.conftest import PIERRE, PIERRE_LOGIN
from tests.golden import assert_golden
from tests.render.test_thunderbird import CASES, account_for

IMAP_ORDER = ["Type", "Server", "Port", "LoginName", "DomainRequired", "SPA", "SSL"]
IMAP_ORDER += ["Encryption", "AuthRequired"]
SMTP_ORDER = [*IMAP_ORDER, "UsePOPAuth", "SMTPLast"]


def stem(provider: Provider) -> str:
    return provider.source.rsplit("/", 1)[-1].removesuffix(".toml")


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


@pytest.mark.parametrize(("case", "address", "login"), CASES)
def test_golden_for_every_profile(
    service: Service, case: str, address: str | None, login: str | None
) -> None:
    for provider in service.catalog:
        rendered = autodiscover.settings(provider, account_for(provider, address, login))
        assert rendered.media_type == "application/xml; charset=utf-8"
        assert_golden(f"{stem(provider)}/autodiscover-{case}.xml", rendered.body)


@pytest.mark.parametrize(
    ("name", "code", "namespace"),
    [
        ("500", ErrorCode.NOT_FOUND, RESPONSE_NS),
        ("600", ErrorCode.INVALID_REQUEST, RESPONSE_NS),
        ("601", ErrorCode.UNAVAILABLE, RESPONSE_NS),
        ("601-mobilesync", ErrorCode.UNAVAILABLE, MOBILESYNC_RESPONSE_NS),
    ],
)
def test_golden_errors(name: str, code: ErrorCode, namespace: str) -> None:
    """Errors do not depend on the profile: one golden file each."""
    rendered = autodiscover.error(code, namespace)
    assert_golden(f"autodiscover/error-{name}.xml", rendered.body)
    root = etree.fromstring(rendered.body)
    (response,) = root
    assert response.tag == f"{{{namespace}}}Response"
    assert response.findtext(f"{{{namespace}}}Error/{{{namespace}}}ErrorCode") == str(int(code))


def test_golden_v2(service: Service) -> None:
    for provider in service.catalog:
        assert_golden(
            f"{stem(provider)}/autodiscover-v2.json", autodiscover.v2_pointer(provider).body
        )
    assert_golden("autodiscover/v2-invalid-protocol.json", autodiscover.v2_invalid_protocol().body)


@pytest.mark.parametrize(("case", "address", "login"), CASES)
def test_every_profile_reads_as_clients_read_it(
    service: Service, case: str, address: str | None, login: str | None
) -> None:
    for provider in service.catalog:
        account = account_for(provider, address, login)
        rendered = autodiscover.settings(provider, account)
        incoming, outgoing = clientrules.autodiscover_thunderbird(
            rendered.media_type, rendered.body, "typed@example.org"
        )
        assert (incoming.host, incoming.port) == (provider.imap.host, provider.imap.port)
        assert (outgoing.host, outgoing.port) == (provider.smtp.host, provider.smtp.port)
        assert incoming.auth == outgoing.auth == "password-cleartext"
        if case == "generic":
            # the fallback has placeholders: no LoginName, the client uses what was typed
            assert incoming.username == outgoing.username == "typed@example.org"
        else:
            assert incoming.username == outgoing.username == account.login
            assert "%" not in account.login
        name, protocols = clientrules.autodiscover_exchangelib(rendered.body)
        assert name == account.name
        assert [p.type for p in protocols] == ["IMAP", "SMTP"]
        for protocol in protocols:
            assert protocol.ssl
            assert not protocol.spa
            assert protocol.auth_required
        imap, smtp = clientrules.autodiscover_deltachat(rendered.body)
        assert imap == (provider.imap.host, provider.imap.port, True)
        assert smtp == (provider.smtp.host, provider.smtp.port, True)


def test_academie_answer_has_what_clients_need(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    account = Account(parse(PIERRE), PIERRE_LOGIN, Found.DIRECTORY, "Pierre Dupont")
    root = etree.fromstring(autodiscover.settings(provider, account).body)
    assert root.tag == f"{{{RESPONSE_NS}}}Autodiscover"
    (response,) = root
    assert response.tag == f"{{{OUTLOOK_RESPONSE_NS}}}Response"
    assert [local(e) for e in response] == ["User", "Account"]
    ns = {"o": OUTLOOK_RESPONSE_NS}
    assert response.findtext("o:User/o:DisplayName", namespaces=ns) == "Pierre Dupont"
    account_element = response.find("o:Account", ns)
    assert account_element is not None
    assert [local(e) for e in account_element] == ["AccountType", "Action", "Protocol", "Protocol"]
    imap, smtp = account_element.findall("o:Protocol", ns)
    assert [local(e) for e in imap] == IMAP_ORDER
    assert [local(e) for e in smtp] == SMTP_ORDER
    expected = {
        "DomainRequired": "off",
        "SPA": "off",
        "SSL": "on",
        "Encryption": "SSL",
        "AuthRequired": "on",
        "LoginName": PIERRE_LOGIN,
    }
    for protocol, kind, host, port in (
        (imap, "IMAP", "imap", "993"),
        (smtp, "SMTP", "smtp", "465"),
    ):
        values = {local(e): e.text for e in protocol}
        assert values["Type"] == kind
        assert values["Server"] == f"{host}.ac-aix-marseille.fr"
        assert values["Port"] == port
        assert {k: values[k] for k in expected} == expected
    assert smtp.findtext("o:UsePOPAuth", namespaces=ns) == "on"
    assert smtp.findtext("o:SMTPLast", namespaces=ns) == "off"


@pytest.mark.parametrize(("case", "address", "login"), CASES)
def test_never_an_empty_element_nor_a_prefix(
    service: Service, case: str, address: str | None, login: str | None
) -> None:
    bodies = [
        autodiscover.settings(p, account_for(p, address, login)).body for p in service.catalog
    ]
    bodies += [autodiscover.error(code).body for code in ErrorCode]
    for body in bodies:
        for element in etree.fromstring(body).iter():
            assert element.prefix is None
            assert len(element) or (element.text or "").strip(), f"empty {element.tag}"


def test_no_user_element_without_a_name(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    body = autodiscover.settings(provider, Account(parse(PIERRE), "x", Found.DIRECTORY)).body
    assert b"<User>" not in body
    assert b"DisplayName" not in body


@pytest.mark.parametrize(
    ("template", "address", "expected"),
    [
        ("%EMAILLOCALPART%", None, None),
        ("%EMAILADDRESS%", None, None),
        ("staff-%EMAILDOMAIN%", None, None),
        ("shared-login", None, "shared-login"),
        ("%EMAILLOCALPART%", "marie.curie@ac-aix-marseille.fr", "marie.curie"),
        ("%EMAILADDRESS%", "marie.curie@ac-aix-marseille.fr", "marie.curie@ac-aix-marseille.fr"),
    ],
)
def test_login_name_is_never_a_placeholder(
    service: Service, template: str, address: str | None, expected: str | None
) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    provider = replace(provider, login=LoginPolicy(LoginSource.DIRECTORY, template))
    parsed = parse(address) if address else None
    login = provider.login.expand(parsed) if parsed else template
    account = Account(parsed, login, Found.FALLBACK)
    assert autodiscover.login_name(account) == expected
    _, protocols = clientrules.autodiscover_exchangelib(
        autodiscover.settings(provider, account).body
    )
    assert [p.login_name for p in protocols] == [expected, expected]


def test_starttls_is_encryption_tls(service: Service) -> None:
    provider = service.catalog.lookup("example.org")
    starttls = replace(provider, smtp=replace(provider.smtp, port=587, security=Security.STARTTLS))
    body = autodiscover.settings(starttls, Account(None, "x", Found.FALLBACK)).body
    root = etree.fromstring(body)
    ns = {"o": OUTLOOK_RESPONSE_NS}
    assert root.xpath("//o:Protocol[o:Type='SMTP']/o:Encryption/text()", namespaces=ns) == ["TLS"]
    assert root.xpath("//o:Protocol[o:Type='IMAP']/o:Encryption/text()", namespaces=ns) == ["SSL"]
    _, outgoing = clientrules.autodiscover_thunderbird("application/xml", body)
    assert (outgoing.port, outgoing.socket) == (587, "STARTTLS")


@pytest.mark.parametrize("text", ["a<b", "o'neil&co", 'q"uote', "été", "]]>"])
def test_markup_stays_well_formed(service: Service, text: str) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    account = Account(parse(PIERRE), text, Found.DIRECTORY, text)
    name, protocols = clientrules.autodiscover_exchangelib(
        autodiscover.settings(provider, account).body
    )
    assert name == text
    assert {p.login_name for p in protocols} == {text}


def test_v2_pointer_names_the_provider_domain(service: Service) -> None:
    for provider in service.catalog:
        answer = json.loads(autodiscover.v2_pointer(provider).body)
        assert answer == {
            "Protocol": "AutodiscoverV1",
            "Url": f"https://autodiscover.{provider.domains[0]}/autodiscover/autodiscover.xml",
        }
    error = json.loads(autodiscover.v2_invalid_protocol().body)
    assert error["ErrorCode"] == "InvalidProtocol"
    assert error["ErrorMessage"]


def test_the_500_message_is_the_one_exchangelib_knows() -> None:
    code, message = clientrules.autodiscover_exchangelib_error(
        autodiscover.error(ErrorCode.NOT_FOUND).body
    )
    assert code == "500"
    assert message in ("The e-mail address cannot be found.", "The email address can't be found.")
