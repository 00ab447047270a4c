"""A fuzz test of the HTTP surface (issue 16): addresses, query strings, headers and Autodiscover
bodies drawn by Hypothesis and sent, as raw bytes, to one real ``autoconfig serve``.

Only the invariants are asserted, never a particular answer: no 5xx; an answer that says it is
XML, a property list, JSON or HTML is well-formed (and valid UTF-8 without noncharacters); the log
never shows a traceback, an address or a login. The examples are derandomized and bounded
(:data:`EXAMPLES` per test), so the test is the same on every run and takes seconds in CI.
"""

from __future__ import annotations

import http.client
import json
import plistlib
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from autoconfig.formats.autodiscover import MOBILESYNC_REQUEST_NS, OUTLOOK_REQUEST_NS
from autoconfig.web.clients import (
    AUTODISCOVER_PATH,
    MOBILECONFIG_PATH,
    THUNDERBIRD_PATHS,
)
from autoconfig.web.site.pages import PAGES, ROOTS
from tests.conftest import ACADEMIE, DEMO, DEMO_STAFF
from tests.servers import App, serve

EXAMPLES = 120
"""Requests per test: enough to meet every kind of input, few enough for seconds in CI."""
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TIMEOUT = 10.0
PLIST = "application/x-apple-aspen-config"
NONCHARACTER = re.compile(
    "[\ufdd0-\ufdef"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17))
    + "]"
)
"""The 66 noncharacters of Unicode (U+FDD0..U+FDEF and the last two code points of every plane)."""
LOGINS = set(DEMO_STAFF.values())
LOCALS = sorted(DEMO_STAFF)


@dataclass
class Target:
    """The server under fuzz, and what was sent to it that the log must never show."""

    app: App
    sent: set[str] = field(default_factory=set)
    kinds: set[tuple[int, str]] = field(default_factory=set)
    read: int = 0

    def new_log(self) -> str:
        """What the server logged since the last call."""
        data = self.app.log.read_bytes()
        new, self.read = data[self.read :], len(data)
        return new.decode(errors="replace")


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    tmp = tmp_path_factory.mktemp("fuzz")
    with serve(tmp, "--directory", str(DEMO)) as app:
        fuzzed = Target(app)
        yield fuzzed
    # The whole log once more, now that every line is written (also those that came late).
    log = app.log_text()
    assert "Traceback" not in log
    assert not re.search(r"status=5\d\d", log)
    assert [a for a in fuzzed.sent if a in log] == []
    # The draws reach the answers themselves, not only the refusals.
    assert {(200, "text/xml"), (200, PLIST), (200, "text/html"), (400, "text/plain")} <= {
        (status, kind.split(";")[0]) for status, kind in fuzzed.kinds
    }, fuzzed.kinds


# What is drawn.

HOSTILE_CHARACTERS = (
    "\x00\t\n\r\x1b\x7f\x85\xa0\xad\u034f\u061c\u200b\u200c\u200d\u200e\u202a\u202e"
    "\u2066\u2069\u2028\u3164\ufe0f\ufeff\ufdd0\ufffd\ufffe\uffff\U0001fffe\U0010ffff"
    "\ue000\U000e0001\u017f\u212a\u212b\uff21\ufb01<>&\"'%@./\\"
)
"""Characters an address must never carry into an answer (controls, bidi, zero-width,
noncharacters, private use, look-alikes) and those markup and URLs give a meaning to."""
hostile_text = st.text(
    alphabet=st.one_of(st.sampled_from(HOSTILE_CHARACTERS), st.characters()), max_size=30
)
local_parts = st.one_of(
    st.sampled_from([*LOCALS, "Pierre.Dupont", "PIERRE.DUPONT", "\u017fophie.bernard"]),
    st.text(max_size=70),
    st.builds(
        lambda a, b, c: a + b + c, st.sampled_from(LOCALS), hostile_text, st.text(max_size=5)
    ),
    st.from_regex(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]{1,70}", fullmatch=True),
)
domains = st.one_of(
    st.sampled_from([ACADEMIE, ACADEMIE.upper(), "example.org", "école.example", "gmail.com"]),
    st.text(max_size=40),
    st.from_regex(r"[a-z0-9.-]{1,70}", fullmatch=True),
)
addresses = st.one_of(
    st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains),
    st.text(max_size=120),
)
texts = st.one_of(st.text(max_size=60), addresses)
raw_values = st.one_of(
    texts.map(lambda t: quote(t.encode("utf-8", "surrogatepass"), safe="")),
    st.binary(max_size=60).map(lambda b: quote(b, safe="")),  # not always UTF-8
    st.from_regex(r"[\x21-\x7e]{0,40}", fullmatch=True).map(lambda t: t.replace("#", "%23")),
)
query_keys = st.one_of(
    st.sampled_from(["emailaddress", "email", "Email", "EMAIL", "emailmd5", "Protocol", "lang"]),
    st.from_regex(r"[A-Za-z0-9_.%-]{0,12}", fullmatch=True),
)
queries = st.lists(st.tuples(query_keys, raw_values), max_size=4).map(
    lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)
)
header_names = st.one_of(
    st.sampled_from(
        [
            "Host",
            "X-Forwarded-For",
            "Forwarded",
            "X-Real-IP",
            "Accept-Language",
            "User-Agent",
            "Accept",
            "Content-Type",
            "Cookie",
            "Authorization",
            "Referer",
            "Origin",
        ]
    ),
    st.from_regex(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}", fullmatch=True),
)
header_values = st.one_of(
    texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=80).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    st.sampled_from(
        [b"autoconfig." + ACADEMIE.encode(), b"evil.example", b"[::1]:8080", b"127.0.0.1, ::1"]
    ),
)
headers = st.lists(st.tuples(header_names, header_values), max_size=5)
hosts = st.one_of(
    st.sampled_from([f"autoconfig.{ACADEMIE}", f"autodiscover.{ACADEMIE}", "127.0.0.1"]),
    header_values.map(lambda b: b.decode("latin-1")),
)
SCHEMAS = [
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a",
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006",
]


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def autodiscover_body(namespace: str, address: str, schema: str, raw: bool) -> bytes:
    value = address if raw else escaped(address)
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{namespace}"><Request>'
        f"<EMailAddress>{value}</EMailAddress>"
        f"<AcceptableResponseSchema>{schema}</AcceptableResponseSchema></Request></Autodiscover>"
    ).encode("utf-8", "surrogatepass")


request_bodies = st.builds(
    autodiscover_body,
    st.sampled_from([OUTLOOK_REQUEST_NS, MOBILESYNC_REQUEST_NS, "urn:other", ""]),
    addresses,
    st.one_of(st.sampled_from(SCHEMAS), st.text(max_size=30)),
    st.booleans(),
)
bodies = st.one_of(
    request_bodies,
    st.tuples(request_bodies, st.integers(0, 400)).map(lambda b: b[0][: b[1]]),  # cut short
    st.binary(max_size=2000),
    st.sampled_from(
        [
            b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
            b'<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>',
            b"<a>" * 3000 + b"</a>" * 3000,
            b"\xef\xbb\xbf" + autodiscover_body(OUTLOOK_REQUEST_NS, "x@" + ACADEMIE, "", False),
            b"<a>" + b"x" * 20_000 + b"</a>",  # over the body limit
        ]
    ),
)
page_paths = st.sampled_from(
    [page.path(lang) for page in PAGES for lang in ROOTS] + ["/", *ROOTS.values()]
)


# How it is sent and judged.


def exchange(
    target: Target,
    method: str,
    path: str,
    host: str,
    extra: list[tuple[str, bytes]],
    body: bytes | None = None,
) -> tuple[int, str, bytes]:
    """One raw HTTP/1.1 request: (status, content type, body) of the answer."""
    lines = [f"{method} {path} HTTP/1.1".encode("utf-8", "surrogatepass")]
    lines.append(b"Host: " + host.encode("latin-1"))
    lines += [name.encode() + b": " + value for name, value in extra]
    if body is not None:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    lines.append(b"Connection: close")
    payload = b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")
    with socket.create_connection(("127.0.0.1", target.app.port), timeout=TIMEOUT) as sock:
        sock.sendall(payload)
        response = http.client.HTTPResponse(sock)
        response.begin()
        content = response.read()
        return response.status, response.getheader("content-type", ""), content


def check(target: Target, sent: list[str], answer: tuple[int, str, bytes]) -> None:
    """Every invariant, for one answer and what the log said since the last one."""
    status, content_type, content = answer
    target.kinds.add((status, content_type))
    assert status < 500, (status, content[:300])
    kind = content_type.split(";")[0].strip().lower()
    textual = kind.startswith("text/") or kind == "application/json" or kind.endswith("xml")
    if textual:
        text = content.decode("utf-8")  # strictly
        assert not NONCHARACTER.search(text)
    if kind == "text/html":
        etree.fromstring(content, etree.HTMLParser(recover=False))
    elif kind == "application/json":
        json.loads(content)
    elif kind.endswith("xml") or (kind == PLIST and content.startswith(b"<?xml")):
        etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
        if kind == PLIST:
            plistlib.loads(content)
    target.sent.update(a for a in sent if "@" in a.strip("@") and len(a) >= 5)
    log = target.new_log()
    assert "Traceback" not in log
    assert not re.search(r"status=5\d\d", log)
    for address in sent:
        if "@" in address.strip("@") and len(address) >= 5:
            assert address not in log
    for secret in (*LOGINS, *LOCALS):
        assert secret not in log


@FUZZ
@given(
    path=st.sampled_from(THUNDERBIRD_PATHS),
    address=addresses,
    query=queries,
    host=hosts,
    extra=headers,
)
def test_thunderbird(
    target: Target,
    path: str,
    address: str,
    query: str,
    host: str,
    extra: list[tuple[str, bytes]],
) -> None:
    encoded = quote(address.encode("utf-8", "surrogatepass"), safe="@")
    url = f"{path}?emailaddress={encoded}" + (f"&{query}" if query else "")
    check(target, [address], exchange(target, "GET", url, host, extra))


@FUZZ
@given(address=addresses, query=queries, host=hosts, extra=headers, page=page_paths)
def test_mobileconfig_and_the_help_site(
    target: Target,
    address: str,
    query: str,
    host: str,
    extra: list[tuple[str, bytes]],
    page: str,
) -> None:
    encoded = quote(address.encode("utf-8", "surrogatepass"), safe="@")
    for path in (MOBILECONFIG_PATH, page):
        url = f"{path}?email={encoded}" + (f"&{query}" if query else "")
        check(target, [address], exchange(target, "GET", url, host, extra))


@FUZZ
@given(address=addresses, query=queries, extra=headers)
def test_autodiscover_json(
    target: Target, address: str, query: str, extra: list[tuple[str, bytes]]
) -> None:
    encoded = quote(address.encode("utf-8", "surrogatepass"), safe="@")
    url = f"/autodiscover/autodiscover.json/v1.0/{encoded}?Protocol=AutodiscoverV1" + (
        f"&{query}" if query else ""
    )
    check(target, [address], exchange(target, "GET", url, f"autodiscover.{ACADEMIE}", extra))


@FUZZ
@given(
    body=bodies,
    content_type=st.one_of(
        st.sampled_from([b"text/xml", b"application/xml; charset=utf-8", b""]), header_values
    ),
    query=queries,
    extra=headers,
)
def test_autodiscover_post(
    target: Target, body: bytes, content_type: bytes, query: str, extra: list[tuple[str, bytes]]
) -> None:
    url = AUTODISCOVER_PATH + (f"?{query}" if query else "")
    found = re.search(rb"<EMailAddress>(.*?)</EMailAddress>", body, re.S)
    sent = [found.group(1).decode("utf-8", "replace")] if found else []
    answer = exchange(
        target,
        "POST",
        url,
        f"autodiscover.{ACADEMIE}",
        [("Content-Type", content_type), *extra],
        body,
    )
    check(target, sent, answer)
