from __future__ import annotations

import pytest

from autoconfig import autodiscover
from autoconfig.autodiscover import (
    MOBILESYNC_REQUEST_NS,
    MOBILESYNC_RESPONSE_NS,
    OUTLOOK_REQUEST_NS,
    OUTLOOK_RESPONSE_NS,
    ErrorCode,
    Request,
    parse_request,
)
from autoconfig.errors import (
    AddressError,
    BodyTooLargeError,
    DirectoryError,
    UnknownDomainError,
    XMLError,
)
from tests.conftest import PIERRE


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
    with pytest.raises(LookupError):
        autodiscover.error_code(exc)
