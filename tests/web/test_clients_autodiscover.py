from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from starlette.testclient import TestClient

from autoconfig.cli import EXIT
from autoconfig.errors import AddressError, UnknownDomainError
from autoconfig.formats.autodiscover import (
    MOBILESYNC_REQUEST_NS,
    MOBILESYNC_RESPONSE_NS,
    OUTLOOK_REQUEST_NS,
    OUTLOOK_RESPONSE_NS,
    RESPONSE_NS,
)
from autoconfig.formats.xmlsafe import MAX_BYTES
from tests import clientrules
from tests.conftest import DEMO, PIERRE, PIERRE_LOGIN, PROFILES, Invoke

PATHS = [
    "/autodiscover/autodiscover.xml",
    "/Autodiscover/Autodiscover.xml",
    "/AutoDiscover/AutoDiscover.xml",
    "/AUTODISCOVER/AUTODISCOVER.XML",
]
CONTENT_TYPES = [
    "text/xml; charset=utf-8",
    "text/xml",
    "application/xml",
    "application/xml; charset=UTF-8",
    None,
]
PASSWORD = "Tr0ub4dor&3-never-logged"
MARKER = "BODY-MARKER-5c1e9d"


def request_body(address: str = PIERRE, form: str = "default", extra: str = "") -> bytes:
    """An Outlook request, written the ways clients write it."""
    schema = OUTLOOK_RESPONSE_NS
    if form == "prefixed":
        text = (
            f'<a:Autodiscover xmlns:a="{OUTLOOK_REQUEST_NS}"><a:Request>{extra}'
            f"<a:EMailAddress>{address}</a:EMailAddress>"
            f"<a:AcceptableResponseSchema>{schema}</a:AcceptableResponseSchema>"
            "</a:Request></a:Autodiscover>"
        )
    else:
        xmlns = "" if form == "no-namespace" else f' xmlns="{OUTLOOK_REQUEST_NS}"'
        text = (
            f"<Autodiscover{xmlns}>\n  <Request>{extra}\n"
            f"    <EMailAddress>{address}</EMailAddress>\n"
            f"    <AcceptableResponseSchema>{schema}</AcceptableResponseSchema>\n"
            "  </Request>\n</Autodiscover>\n"
        )
    if form != "no-declaration":
        text = '<?xml version="1.0" encoding="utf-8"?>\n' + text
    return text.encode()


def post(
    client: TestClient,
    body: bytes,
    path: str = PATHS[0],
    content_type: str | None = "text/xml; charset=utf-8",
    **headers: str,
) -> bytes:
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = client.post(path, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    return response.content


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def error_of(body: bytes, namespace: str = RESPONSE_NS) -> str | None:
    root = etree.fromstring(body)
    assert root.tag == f"{{{RESPONSE_NS}}}Autodiscover"
    return root.findtext(f"{{{namespace}}}Response/{{{namespace}}}Error/{{{namespace}}}ErrorCode")


@pytest.mark.parametrize("form", ["default", "prefixed", "no-namespace", "no-declaration"])
@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("path", PATHS)
def test_request_variants(
    client: TestClient, path: str, method: str, content_type: str | None, form: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.request(method, path, content=request_body(form=form), headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    assert response.headers["cache-control"] == "private, no-store"
    name, protocols = clientrules.autodiscover_exchangelib(response.content)
    assert name == "Pierre Dupont"
    assert [(p.type, p.server, p.port, p.login_name) for p in protocols] == [
        ("IMAP", "imap.ac-aix-marseille.fr", 993, PIERRE_LOGIN),
        ("SMTP", "smtp.ac-aix-marseille.fr", 465, PIERRE_LOGIN),
    ]


@pytest.mark.parametrize(
    "host", ["autodiscover.ac-aix-marseille.fr", "ac-aix-marseille.fr", "127.0.0.1:8000"]
)
def test_thunderbird_parallel_post(client: TestClient, host: str) -> None:
    """Thunderbird's POST: exact content type, Basic auth with the address, any host."""
    body = request_body()
    without = post(client, body, Host=host)
    with_auth = post(client, body, Host=host, Authorization=basic(PIERRE, PASSWORD))
    assert with_auth == without
    incoming, outgoing = clientrules.autodiscover_thunderbird(
        "application/xml; charset=utf-8", with_auth, PIERRE
    )
    assert incoming == clientrules.ClientServer(
        "imap.ac-aix-marseille.fr", 993, "SSL", PIERRE_LOGIN, "password-cleartext"
    )
    assert outgoing == clientrules.ClientServer(
        "smtp.ac-aix-marseille.fr", 465, "SSL", PIERRE_LOGIN, "password-cleartext"
    )


def test_outlook_post(client: TestClient) -> None:
    body = post(
        client,
        request_body(form="no-declaration", extra="<LegacyDN>/o=First Organization</LegacyDN>"),
        path="/Autodiscover/Autodiscover.xml",
        content_type="text/xml",
        **{
            "User-Agent": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.4266; Pro)",
            "Authorization": basic(PIERRE, PASSWORD),
        },
    )
    _, protocols = clientrules.autodiscover_exchangelib(body)
    assert {p.login_name for p in protocols} == {PIERRE_LOGIN}


@pytest.mark.parametrize("host", ["ac-aix-marseille.fr", "autodiscover.ac-aix-marseille.fr"])
def test_deltachat_get_without_body(client: TestClient, host: str) -> None:
    response = client.get("/autodiscover/autodiscover.xml", headers={"Host": host})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=3600"
    imap, smtp = clientrules.autodiscover_deltachat(response.content)
    assert imap == ("imap.ac-aix-marseille.fr", 993, True)
    assert smtp == ("smtp.ac-aix-marseille.fr", 465, True)
    # the académie's fallback is %EMAILLOCALPART%: nothing to expand without an address
    assert b"LoginName" not in response.content
    assert b"%" not in response.content


@pytest.mark.parametrize("body", [b"", b"\r\n"])
def test_empty_post_gets_the_generic_settings(client: TestClient, body: bytes) -> None:
    answer = post(client, body, Host="autodiscover.example.org")
    _, protocols = clientrules.autodiscover_exchangelib(answer)
    assert [(p.server, p.port) for p in protocols] == [
        ("imap.example.org", 993),
        ("smtp.example.org", 465),
    ]


def test_unknown_address_in_a_served_domain_gets_no_guessed_login(client: TestClient) -> None:
    """The académie's login of a person the directory does not list is not known ("ask"): the
    settings, without a LoginName made up from the fallback."""
    body = post(client, request_body("inconnu.personne@ac-aix-marseille.fr"))
    name, protocols = clientrules.autodiscover_exchangelib(body)
    assert name is None
    assert {p.login_name for p in protocols} == {None}
    known = post(client, request_body())
    # same shape as a known address, but for the login
    assert body.count(b"<Protocol>") == known.count(b"<Protocol>") == 2


@pytest.mark.parametrize(
    ("case", "body", "code", "namespace"),
    [
        (
            "mobilesync",
            request_body().replace(
                b"outlook/responseschema/2006a", b"mobilesync/responseschema/2006"
            ),
            "601",
            MOBILESYNC_RESPONSE_NS,
        ),
        (
            "mobilesync request namespace",
            f'<Autodiscover xmlns="{MOBILESYNC_REQUEST_NS}"><Request><EMailAddress>{PIERRE}</EMailAddress></Request></Autodiscover>'.encode(),
            "601",
            MOBILESYNC_RESPONSE_NS,
        ),
        (
            "unknown schema",
            request_body().replace(OUTLOOK_RESPONSE_NS.encode(), b"urn:something-else"),
            "601",
            RESPONSE_NS,
        ),
        ("malformed", b"<Autodiscover><Request>", "600", RESPONSE_NS),
        ("not autodiscover", b"<html><body>hello</body></html>", "600", RESPONSE_NS),
        ("malformed address", request_body("not an address"), "600", RESPONSE_NS),
        ("domain not served", request_body("someone@gmail.com"), "500", RESPONSE_NS),
    ],
)
def test_protocol_errors(
    client: TestClient, case: str, body: bytes, code: str, namespace: str
) -> None:
    answer = post(client, body, Authorization=basic(PIERRE, PASSWORD))
    assert error_of(answer, namespace) == code
    if namespace == RESPONSE_NS:
        assert clientrules.autodiscover_exchangelib_error(answer)[0] == code


def test_get_on_a_host_not_served_is_a_well_formed_error(client: TestClient) -> None:
    response = client.get(
        "/autodiscover/autodiscover.xml", headers={"Host": "autodiscover.other.org"}
    )
    assert response.status_code == 200
    assert error_of(response.content) == "500"
    assert response.headers["cache-control"] == "private, no-store"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("LOCAL-FILE-SECRET-91b2")
    return path


def hostile_bodies(secret: Path) -> list[tuple[str, bytes]]:
    laughs = (
        '<!DOCTYPE a [<!ENTITY l "lol">'
        + "".join(
            f'<!ENTITY l{i} "{("&l" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)
        )
        + "]>"
    )
    return [
        (
            "xxe",
            f'<?xml version="1.0"?><!DOCTYPE Autodiscover [<!ENTITY x SYSTEM "file://{secret}">]>'.encode()
            + request_body("&x;", form="no-declaration"),
        ),
        ("billion laughs", laughs.encode() + request_body("&l9;", form="no-declaration")),
        ("doctype", b"<!DOCTYPE Autodiscover>" + request_body(form="no-declaration")),
        ("binary", bytes(range(256)) * 4),
        (
            "latin-1 without declaration",
            request_body("pi\xe8rre@ac-aix-marseille.fr", form="no-declaration")
            .decode()
            .encode("latin-1"),
        ),
        ("utf-16", request_body(form="no-declaration").decode().encode("utf-16")),
        ("nul bytes", b"\x00" * 100),
        ("json", b'{"EMailAddress": "pierre.dupont@ac-aix-marseille.fr"}'),
        ("deep", b"<a>" * 2000 + b"</a>" * 2000),
        ("huge address", request_body("a" * 5000 + "@ac-aix-marseille.fr")),
    ]


def test_hostile_bodies_get_a_well_formed_answer_and_change_nothing(
    client: TestClient, secret_file: Path
) -> None:
    before = post(client, request_body())
    for case, body in hostile_bodies(secret_file):
        for content_type in ("text/xml; charset=utf-8", None, "application/octet-stream"):
            answer = post(
                client, body, content_type=content_type, Authorization=basic(PIERRE, PASSWORD)
            )
            assert b"LOCAL-FILE-SECRET" not in answer, case
            assert b"lollol" not in answer, case
            root = etree.fromstring(answer)
            assert root.tag == f"{{{RESPONSE_NS}}}Autodiscover", case
            if case == "utf-16":
                assert b"<LoginName>pdupont</LoginName>" in answer
            else:
                assert error_of(answer) == "600", case
    assert post(client, request_body()) == before


@pytest.mark.parametrize("declared", [True, False])
def test_oversized_body_is_413(client: TestClient, declared: bool) -> None:
    big = request_body(extra="<LegacyDN>" + "x" * MAX_BYTES + "</LegacyDN>")

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    response = client.post(
        PATHS[1],
        content=big if declared else chunks(),
        headers={"Content-Type": "text/xml", "Authorization": basic(PIERRE, PASSWORD)},
    )
    assert response.status_code == 413
    assert response.headers["cache-control"] == "no-store"
    assert f"over {MAX_BYTES} bytes" in response.text
    assert b"xxxx" not in response.content


def test_a_body_at_the_limit_is_read(client: TestClient) -> None:
    body = request_body(extra="<LegacyDN></LegacyDN>")
    body = body.replace(b"<LegacyDN>", b"<LegacyDN>" + b"x" * (MAX_BYTES - len(body)))
    assert len(body) == MAX_BYTES
    _, protocols = clientrules.autodiscover_exchangelib(post(client, body))
    assert {p.login_name for p in protocols} == {PIERRE_LOGIN}


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_refused_plainly(client: TestClient, method: str) -> None:
    response = client.request(method, PATHS[2])
    assert response.status_code == 405


def test_never_401_403_or_500(client: TestClient, secret_file: Path) -> None:
    bodies = [body for _, body in hostile_bodies(secret_file)] + [b"", request_body()]
    for path in PATHS:
        for body in bodies:
            for headers in (
                {},
                {"Authorization": basic(PIERRE, "wrong")},
                {"Authorization": "Negotiate xyz"},
                {"Authorization": "garbage"},
            ):
                status = client.post(path, content=body, headers=headers).status_code
                assert status == 200, (path, headers)


V2 = [
    # (path, params, status, expected JSON)
    (
        "/autodiscover/autodiscover.json",
        {"Email": PIERRE, "Protocol": "AutodiscoverV1", "RedirectCount": "1"},
        200,
        "académie",
    ),
    (
        "/autodiscover/autodiscover.json",
        {"Email": PIERRE, "Protocol": "Autodiscoverv1"},
        200,
        "académie",
    ),
    (
        "/Autodiscover/Autodiscover.json",
        {"email": PIERRE, "protocol": "autodiscoverv1"},
        200,
        "académie",
    ),
    ("/autodiscover/autodiscover.json", {"Protocol": "AutodiscoverV1"}, 200, "académie"),
    (
        f"/autodiscover/autodiscover.json/v1.0/{PIERRE}",
        {"Protocol": "AutodiscoverV1"},
        200,
        "académie",
    ),
    (
        f"/AutoDiscover/AutoDiscover.json/V1.0/{PIERRE}",
        {"Protocol": "AUTODISCOVERV1"},
        200,
        "académie",
    ),
    (
        "/autodiscover/autodiscover.json/v1.0/someone@example.net",
        {"Protocol": "AutodiscoverV1"},
        200,
        "example",
    ),
    (
        "/autodiscover/autodiscover.json",
        {"Email": PIERRE, "Protocol": "ActiveSync"},
        400,
        "invalid",
    ),
    ("/autodiscover/autodiscover.json", {"Email": PIERRE, "Protocol": "Ews"}, 400, "invalid"),
    ("/autodiscover/autodiscover.json", {"Email": PIERRE}, 400, "invalid"),
    (f"/autodiscover/autodiscover.json/v1.0/{PIERRE}", {"Protocol": "Rest"}, 400, "invalid"),
]
V2_ANSWERS = {
    "académie": {
        "Protocol": "AutodiscoverV1",
        "Url": "https://autodiscover.ac-aix-marseille.fr/autodiscover/autodiscover.xml",
    },
    "example": {
        "Protocol": "AutodiscoverV1",
        "Url": "https://autodiscover.example.org/autodiscover/autodiscover.xml",
    },
}


@pytest.mark.parametrize(("path", "params", "status", "expected"), V2)
def test_autodiscover_v2(
    client: TestClient, path: str, params: dict[str, str], status: int, expected: str
) -> None:
    response = client.get(path, params=params, headers={"Host": "autodiscover.ac-aix-marseille.fr"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    if expected == "invalid":
        assert answer["ErrorCode"] == "InvalidProtocol"
        assert answer["ErrorMessage"]
    else:
        assert answer == V2_ANSWERS[expected]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/autodiscover/autodiscover.json/v1.0/someone@gmail.com", 404),
        ("/autodiscover/autodiscover.json/v1.0/not-an-address", 400),
    ],
)
def test_autodiscover_v2_address_errors(client: TestClient, path: str, status: int) -> None:
    response = client.get(path, params={"Protocol": "AutodiscoverV1"})
    assert response.status_code == status


CLI_ADDRESSES = [
    PIERRE,
    "marie.martin@ac-aix-marseille.fr",
    "inconnu@ac-aix-marseille.fr",
    "x@example.net",
    "Pierre.Dupont@AC-Aix-Marseille.FR",
]


@pytest.mark.parametrize("address", CLI_ADDRESSES)
def test_cli_prints_what_a_post_returns(runner: Invoke, client: TestClient, address: str) -> None:
    result = runner(
        "render", "autodiscover", "--profiles", str(PROFILES), "--directory", str(DEMO), address
    )
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == post(client, request_body(address))


def test_cli_for_a_domain_prints_what_a_get_returns(runner: Invoke, client: TestClient) -> None:
    result = runner("render", "autodiscover", "--profiles", str(PROFILES), "example.org")
    assert result.exit_code == 0, result.output
    response = client.get(PATHS[0], headers={"Host": "autodiscover.example.org"})
    assert result.stdout_bytes == response.content


@pytest.mark.parametrize(
    ("address", "error"),
    [
        ("someone@gmail.com", UnknownDomainError),
        ("nope.example", UnknownDomainError),
        ("nope", AddressError),  # a single label is no domain
        ("a@@b.org", AddressError),
    ],
)
def test_cli_refuses_what_has_no_settings(
    runner: Invoke, address: str, error: type[Exception]
) -> None:
    result = runner("render", "autodiscover", "--profiles", str(PROFILES), address)
    assert result.exit_code == EXIT[error]
    assert result.stdout_bytes == b""
    assert result.stderr.startswith("error: ")


CONSISTENCY = [
    PIERRE,
    "marie.martin@ac-aix-marseille.fr",
    "gaelle.lheritier@ac-aix-marseille.fr",
    "inconnu.x@ac-aix-marseille.fr",
    "someone@example.org",
    "Someone@Example.NET",
]


@pytest.mark.parametrize("address", CONSISTENCY)
def test_thunderbird_and_autodiscover_agree(client: TestClient, address: str) -> None:
    """Host, port, security and login agree, each answer read the way Thunderbird reads it; for a
    login that is not known, Autodiscover gives none (the client uses the address typed) where
    autoconfig, which must carry one, gives the fallback to fill in."""
    config = client.get("/mail/config-v1.1.xml", params={"emailaddress": address})
    assert config.status_code == 200
    tb_in, tb_out = clientrules.thunderbird(config.headers["content-type"], config.content)
    response = client.post(
        PATHS[0], content=request_body(address), headers={"Content-Type": "text/xml; charset=utf-8"}
    )
    ad_in, ad_out = clientrules.autodiscover_thunderbird(
        response.headers["content-type"], response.content, address
    )
    unknown = address.startswith("inconnu")
    for tb, ad in ((tb_in, ad_in), (tb_out, ad_out)):
        assert (ad.host, ad.port, ad.socket) == (tb.host, tb.port, tb.socket)
        # the service writes the domain in lower case; clients substitute the address as typed
        local, _, domain = address.partition("@")
        if unknown:
            assert (tb.username, ad.username) == ("%EMAILLOCALPART%", address)
        else:
            assert ad.username == clientrules.substitute(tb.username, f"{local}@{domain.lower()}")


def test_head_is_answered_without_a_body(client: TestClient) -> None:
    response = client.head(PATHS[1], headers={"Host": "autodiscover.ac-aix-marseille.fr"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    assert response.content == b""
