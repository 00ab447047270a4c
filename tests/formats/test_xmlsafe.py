from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from autoconfig.errors import BodyTooLargeError, XMLError
from autoconfig.formats import xmlsafe

SECRET = "file-content-that-must-stay-put-7f3a"

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + "]><lolz>&lol9;</lolz>"
)


class Hits(http.server.BaseHTTPRequestHandler):
    count = 0

    def do_GET(self) -> None:
        Hits.count += 1
        body = f'<!ENTITY x "{SECRET}">'.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@pytest.fixture(scope="module")
def loopback_http() -> Iterator[str]:
    """A real HTTP server on loopback that counts every request it gets."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hits)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    dtd = tmp_path / "secret.dtd"
    dtd.write_text(f'<!ENTITY x "{SECRET}">')
    return tmp_path


@pytest.mark.parametrize(
    "body",
    [
        b"<a><b>text</b></a>",
        b'<?xml version="1.0" encoding="utf-8"?>\n<a><b>text</b></a>',
        b'<p:a xmlns:p="urn:x"><p:b>text</p:b></p:a>',
        "<a><b>text</b></a>".encode("utf-16"),
        '<?xml version="1.0" encoding="iso-8859-1"?><a><b>text</b></a>'.encode("latin-1"),
        b"<a><!-- comment --><b>text</b><?pi x?></a>",
    ],
)
def test_accepts_plain_documents(body: bytes) -> None:
    root = xmlsafe.parse(body)
    (child,) = root
    assert child.text == "text"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"\x00\x01\x02\xff\xfe binary",
        b"not xml at all",
        b"<a><b></a>",
        b"<a>caf\xe9</a>",  # Latin-1 bytes without a declaration: not UTF-8
        b'<?xml version="1.0" encoding="x-no-such-charset"?><a/>',
        b"<a/><b/>",
        b"<a>&undefined;</a>",
    ],
)
def test_refuses_what_is_not_well_formed(body: bytes) -> None:
    with pytest.raises(XMLError, match="not well-formed XML"):
        xmlsafe.parse(body)


def refused(body: bytes) -> str:
    with pytest.raises(XMLError) as info:
        xmlsafe.parse(body)
    return str(info.value)


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE a><a/>",
        b'<!DOCTYPE a [<!ELEMENT a ANY><!ATTLIST a x CDATA "default">]><a/>',
        b'<!DOCTYPE a [<!ENTITY x "small">]><a>&x;</a>',
        b"<!DOCTYPE a [<!ENTITY % p \"<!ENTITY x 'y'>\"> %p;]><a>&x;</a>",
    ],
)
def test_refuses_any_doctype(body: bytes) -> None:
    assert "DOCTYPE" in refused(body)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_billion_laughs_is_refused(encoding: str) -> None:
    """Refused by libxml2's amplification guard or by the DOCTYPE rule, whichever comes first;
    either way nothing is expanded."""
    body = LAUGHS.encode(encoding)
    assert len(body) < xmlsafe.MAX_BYTES
    message = refused(body)
    assert "lol" not in message


@pytest.mark.parametrize(
    "template",
    [
        '<!DOCTYPE a [<!ENTITY x SYSTEM "file://{dir}/secret.txt">]><a>&x;</a>',
        '<!DOCTYPE a [<!ENTITY x SYSTEM "{dir}/secret.txt">]><a>&x;</a>',
        '<!DOCTYPE a SYSTEM "{dir}/secret.dtd"><a>&x;</a>',
        '<!DOCTYPE a [<!ENTITY % d SYSTEM "{dir}/secret.dtd"> %d;]><a>&x;</a>',
    ],
)
def test_external_entities_read_no_file(secret_file: Path, template: str) -> None:
    body = template.format(dir=secret_file).encode()
    message = refused(body)
    assert SECRET not in message
    assert "DOCTYPE" in message


@pytest.mark.parametrize(
    "template",
    [
        '<!DOCTYPE a [<!ENTITY x SYSTEM "{url}/entity">]><a>&x;</a>',
        '<!DOCTYPE a SYSTEM "{url}/a.dtd"><a>&x;</a>',
        '<!DOCTYPE a [<!ENTITY % d SYSTEM "{url}/p.dtd"> %d;]><a>&x;</a>',
        '<a xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{url}/inc"/></a>',
    ],
)
def test_no_network_fetch(loopback_http: str, template: str) -> None:
    before = Hits.count
    body = template.format(url=loopback_http).encode()
    if "xi:include" in template:
        root = xmlsafe.parse(body)  # well-formed, and XInclude is never processed
        assert root[0].get("href", "").endswith("/inc")
    else:
        assert SECRET not in refused(body)
    assert Hits.count == before, "the parser fetched something over the network"


def test_the_server_in_that_test_does_count() -> None:
    """The loopback server counts real fetches (so the test above can fail)."""
    import urllib.request

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hits)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        before = Hits.count
        url = f"http://127.0.0.1:{server.server_address[1]}/x"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert SECRET.encode() in response.read()
        assert Hits.count == before + 1
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_a_doctype_naming_a_fifo_opens_nothing(tmp_path: Path) -> None:
    """Opening a FIFO for reading blocks until a writer comes: if the parser opened the external
    DTD, this parse would never return."""
    fifo = tmp_path / "pipe.dtd"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            xmlsafe.parse(f'<!DOCTYPE a SYSTEM "{fifo}"><a/>'.encode())
        except BaseException as exc:  # reported below
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():
        # unblock the parser so the thread ends, then fail
        with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb") as writer:
            writer.write(b"")
        thread.join(10)
        pytest.fail("the parser opened the DTD named by the DOCTYPE")
    assert len(outcome) == 1
    assert isinstance(outcome[0], XMLError)


def test_size_cap() -> None:
    at_limit = b"<a>" + b"x" * (xmlsafe.MAX_BYTES - 7) + b"</a>"
    assert len(at_limit) == xmlsafe.MAX_BYTES
    assert xmlsafe.parse(at_limit).tag == "a"
    with pytest.raises(BodyTooLargeError):
        xmlsafe.parse(at_limit + b" ")
    with pytest.raises(BodyTooLargeError):
        xmlsafe.parse(b"<a/>", limit=3)


def test_deep_nesting_is_refused_not_crashing() -> None:
    depth = 5000
    body = b"<a>" * depth + b"</a>" * depth
    assert len(body) <= xmlsafe.MAX_BYTES * 3
    with pytest.raises(XMLError):
        xmlsafe.parse(body, limit=len(body))
