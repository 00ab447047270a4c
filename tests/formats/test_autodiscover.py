"""Autodiscover: the requests clients post (parsing, error codes) and every answer."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from lxml import etree

from autoconfig.address import parse
from autoconfig.errors import (
    AddressError,
    BodyTooLargeError,
    DirectoryError,
    UnknownDomainError,
    XMLError,
)
from autoconfig.formats import autodiscover
from autoconfig.formats.autodiscover import (
    MOBILESYNC_REQUEST_NS,
    MOBILESYNC_RESPONSE_NS,
    OUTLOOK_REQUEST_NS,
    OUTLOOK_RESPONSE_NS,
    RESPONSE_NS,
    ErrorCode,
    Request,
    parse_request,
)
from autoconfig.model import (
    Certainty,
    Found,
    Listed,
    LoginPolicy,
    LoginSource,
    Provider,
    Security,
    Unknown,
)
from autoconfig.service import Service
from tests import clientrules
from tests.conftest import PIERRE, PIERRE_LOGIN, each_profile, profile_id
from tests.fakes import account as make_account
from tests.formats.test_thunderbird import CASES, account_for
from tests.golden import Golden

IMAP_ORDER = ["Type", "Server", "Port", "LoginName", "DomainRequired", "SPA", "SSL"]
IMAP_ORDER += ["Encryption", "AuthRequired"]
SMTP_ORDER = [*IMAP_ORDER, "UsePOPAuth", "SMTPLast"]


def stem(provider: Provider) -> str:
    return provider.source.rsplit("/", 1)[-1].removesuffix(".toml")


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


@each_profile
@pytest.mark.parametrize(("case", "address", "login"), CASES, ids=[c[0] for c in CASES])
def test_golden(
    golden: Golden, provider: Provider, case: str, address: str | None, login: str | None
) -> None:
    rendered = autodiscover.settings(provider, account_for(provider, address, login))
    assert rendered.media_type == "application/xml; charset=utf-8"
    golden(f"{profile_id(provider)}/autodiscover-{case}.xml", rendered.body)


@pytest.mark.parametrize(
    ("name", "code", "namespace"),
    [
        ("500", ErrorCode.NOT_FOUND, RESPONSE_NS),
        ("600", ErrorCode.INVALID_REQUEST, RESPONSE_NS),
        ("601", ErrorCode.UNAVAILABLE, RESPONSE_NS),
        ("601-mobilesync", ErrorCode.UNAVAILABLE, MOBILESYNC_RESPONSE_NS),
    ],
)
def test_golden_errors(golden: Golden, name: str, code: ErrorCode, namespace: str) -> None:
    """Errors do not depend on the profile: one golden file each."""
    rendered = autodiscover.error(code, namespace)
    golden(f"autodiscover/error-{name}.xml", rendered.body)
    root = etree.fromstring(rendered.body)
    (response,) = root
    assert response.tag == f"{{{namespace}}}Response"
    assert response.findtext(f"{{{namespace}}}Error/{{{namespace}}}ErrorCode") == str(int(code))


@each_profile
def test_golden_v2(golden: Golden, provider: Provider) -> None:
    golden(f"{profile_id(provider)}/autodiscover-v2.json", autodiscover.v2_pointer(provider).body)


def test_golden_v2_invalid_protocol(golden: Golden) -> None:
    golden("autodiscover/v2-invalid-protocol.json", autodiscover.v2_invalid_protocol().body)


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
        if case in ("generic", "unknown"):
            # no address to expand the fallback for, or a login that is not known: no LoginName,
            # the client uses what was typed
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
    account = make_account(parse(PIERRE), PIERRE_LOGIN, Found.DIRECTORY, "Pierre Dupont")
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
    body = autodiscover.settings(provider, make_account(parse(PIERRE), "x", Found.DIRECTORY)).body
    assert b"<User>" not in body
    assert b"DisplayName" not in body


@pytest.mark.parametrize("unknown", list(Unknown))
def test_a_login_that_is_not_known_is_left_out(service: Service, unknown: Unknown) -> None:
    """Not listed under "ask", or no answer from the directory under either rule: no LoginName
    (clients use the address typed and ask for the login), never the fallback as if it were it."""
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    policy = replace(provider.login, unknown=unknown)
    listed = Listed.NO if unknown is Unknown.ASK else Listed.UNSURE
    account = policy.decide(parse("marie.curie@ac-aix-marseille.fr"), listed)
    assert account.certainty is Certainty.ASK
    _, protocols = clientrules.autodiscover_exchangelib(
        autodiscover.settings(replace(provider, login=policy), account).body
    )
    assert [p.login_name for p in protocols] == [None, None]


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
    provider = replace(provider, login=LoginPolicy(LoginSource.TEMPLATE, template))
    parsed = parse(address) if address else None
    account = provider.login.decide(parsed)
    assert autodiscover.login_name(account) == expected
    _, protocols = clientrules.autodiscover_exchangelib(
        autodiscover.settings(provider, account).body
    )
    assert [p.login_name for p in protocols] == [expected, expected]


def test_starttls_is_encryption_tls(service: Service) -> None:
    provider = service.catalog.lookup("example.org")
    starttls = replace(provider, smtp=replace(provider.smtp, port=587, security=Security.STARTTLS))
    body = autodiscover.settings(starttls, make_account(None, "x", Found.FALLBACK)).body
    root = etree.fromstring(body)
    ns = {"o": OUTLOOK_RESPONSE_NS}
    assert root.xpath("//o:Protocol[o:Type='SMTP']/o:Encryption/text()", namespaces=ns) == ["TLS"]
    assert root.xpath("//o:Protocol[o:Type='IMAP']/o:Encryption/text()", namespaces=ns) == ["SSL"]
    _, outgoing = clientrules.autodiscover_thunderbird("application/xml", body)
    assert (outgoing.port, outgoing.socket) == (587, "STARTTLS")


@pytest.mark.parametrize("text", ["a<b", "o'neil&co", 'q"uote', "été", "]]>"])
def test_markup_stays_well_formed(service: Service, text: str) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    account = make_account(parse(PIERRE), text, Found.DIRECTORY, text)
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


# Requests


def outlook(address: str = PIERRE, schema: str = OUTLOOK_RESPONSE_NS) -> str:
    return (
        f'<Autodiscover xmlns="{OUTLOOK_REQUEST_NS}"><Request>'
        f"<EMailAddress>{address}</EMailAddress>"
        f"<AcceptableResponseSchema>{schema}</AcceptableResponseSchema>"
        "</Request></Autodiscover>"
    )


REQUESTS = [
    # (case, body, expected request)
    ("empty", "", Request()),
    ("whitespace", " \r\n\t", Request()),
    ("default namespace", outlook(), Request(PIERRE)),
    (
        "with declaration",
        '<?xml version="1.0" encoding="utf-8"?>\n' + outlook(),
        Request(PIERRE),
    ),
    (
        "prefixed namespace",
        f'<a:Autodiscover xmlns:a="{OUTLOOK_REQUEST_NS}"><a:Request>'
        f"<a:EMailAddress>{PIERRE}</a:EMailAddress><a:AcceptableResponseSchema>"
        f"{OUTLOOK_RESPONSE_NS}</a:AcceptableResponseSchema></a:Request></a:Autodiscover>",
        Request(PIERRE),
    ),
    (
        "no namespace",
        f"<Autodiscover><Request><EMailAddress>{PIERRE}</EMailAddress></Request></Autodiscover>",
        Request(PIERRE),
    ),
    (
        "spaces, other case, LegacyDN",
        f"<autodiscover>\n <request>\n  <LegacyDN>/o=x</LegacyDN>\n  <emailaddress>  {PIERRE}\n"
        f"  </emailaddress>\n  <acceptableresponseschema> {OUTLOOK_RESPONSE_NS.upper()}"
        " </acceptableresponseschema>\n </request>\n</autodiscover>",
        Request(PIERRE),
    ),
    ("no address", outlook("").replace("<EMailAddress></EMailAddress>", ""), Request()),
    ("empty address", outlook(""), Request()),
    (
        "mobilesync",
        outlook(schema=MOBILESYNC_RESPONSE_NS),
        Request(PIERRE, MOBILESYNC_RESPONSE_NS),
    ),
    (
        "mobilesync without schema",
        f'<Autodiscover xmlns="{MOBILESYNC_REQUEST_NS}"><Request>'
        f"<EMailAddress>{PIERRE}</EMailAddress></Request></Autodiscover>",
        Request(PIERRE, MOBILESYNC_RESPONSE_NS),
    ),
    ("other schema", outlook(schema="urn:other"), Request(PIERRE, "urn:other")),
    (
        "markup in the address",
        outlook("a&amp;b&lt;c@example.org"),
        Request("a&b<c@example.org"),
    ),
]


@pytest.mark.parametrize(("case", "body", "expected"), REQUESTS, ids=[r[0] for r in REQUESTS])
def test_parse_request(case: str, body: str, expected: Request) -> None:
    assert parse_request(body.encode()) == expected


@pytest.mark.parametrize(
    "body",
    [
        b"garbage",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"<Other><Request/></Other>",
        b"<Autodiscover><NotARequest/></Autodiscover>",
        b"<Autodiscover><Request>",
        b"<!DOCTYPE Autodiscover><Autodiscover><Request/></Autodiscover>",
    ],
)
def test_what_is_not_a_request(body: bytes) -> None:
    with pytest.raises(XMLError):
        parse_request(body)


def test_served_and_mobilesync() -> None:
    assert Request().served
    assert not Request().mobilesync
    assert Request(schema=MOBILESYNC_RESPONSE_NS).mobilesync
    assert not Request(schema=MOBILESYNC_RESPONSE_NS).served
    assert not Request(schema="urn:other").served
    assert Request(schema=MOBILESYNC_RESPONSE_NS).error_namespace == MOBILESYNC_RESPONSE_NS
    assert Request(schema="urn:other").error_namespace == autodiscover.RESPONSE_NS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("AutodiscoverV1", True),
        ("Autodiscoverv1", True),
        ("autodiscoverv1", True),
        (" AUTODISCOVERV1 ", True),
        ("ActiveSync", False),
        ("Ews", False),
        ("", False),
        (None, False),
    ],
)
def test_v2_protocol(value: str | None, expected: bool) -> None:
    assert autodiscover.is_v2_protocol(value) is expected


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (XMLError("x"), ErrorCode.INVALID_REQUEST),
        (AddressError("x"), ErrorCode.INVALID_REQUEST),
        (UnknownDomainError("x"), ErrorCode.NOT_FOUND),
    ],
)
def test_error_codes(exc: XMLError | AddressError | UnknownDomainError, code: ErrorCode) -> None:
    assert isinstance(exc, autodiscover.ANSWERED)
    assert autodiscover.error_code(exc) is code


@pytest.mark.parametrize("exc", [BodyTooLargeError("x"), DirectoryError("x")])
def test_other_errors_are_not_protocol_answers(exc: BodyTooLargeError | DirectoryError) -> None:
    assert not isinstance(exc, autodiscover.ANSWERED)
    assert autodiscover.error_code(exc) is None
