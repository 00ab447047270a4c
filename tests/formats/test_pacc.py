from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace

import pytest

from autoconfig.formats import pacc
from autoconfig.model import Provider
from autoconfig.service import Service
from tests.golden import Golden


@pytest.fixture
def example(service: Service) -> Provider:
    return service.catalog.lookup("example.org")


def test_golden(golden: Golden, example: Provider) -> None:
    golden("example/pacc.json", pacc.render(example).body)


def test_document_names_the_servers_and_no_login(example: Provider) -> None:
    rendered = pacc.render(example)
    assert rendered.media_type == "application/json"
    data = json.loads(rendered.body)
    assert data["protocols"] == {
        "imap": {"host": "imap.example.org"},
        "submit": {"host": "smtp.example.org"},
        "caldav": {"url": "https://dav.example.org/caldav/"},
        "carddav": {"url": "https://dav.example.org/carddav/"},
    }
    assert data["authentication"] == {"password": True}
    assert data["info"]["provider"] == {"name": "Messagerie d'Exemple", "shortName": "Exemple"}
    assert data["info"]["help"] == {"documentation": example.help.url}
    assert "username" not in rendered.body.decode()
    assert "%EMAIL" not in rendered.body.decode()


def test_without_dav_only_mail_protocols(example: Provider) -> None:
    data = json.loads(pacc.render(replace(example, caldav=None, carddav=None)).body)
    assert set(data["protocols"]) == {"imap", "submit"}


def test_bytes_are_canonical_and_stable(example: Provider) -> None:
    """The digest in DNS covers the bytes: same provider, same bytes; sorted keys, no spaces,
    UTF-8 as is (no \\u escapes), no trailing newline."""
    body = pacc.render(example).body
    assert body == pacc.render(replace(example)).body
    canonical = json.dumps(
        json.loads(body), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    assert body == canonical.encode()
    accented = replace(example, name=replace(example.name, texts=(("fr", "Académie"),)))
    assert "Académie".encode() in pacc.render(accented).body


def test_digest_is_the_base64_sha256_of_the_bytes(example: Provider) -> None:
    body = pacc.render(example).body
    expected = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert pacc.digest(body) == expected
    assert pacc.txt_value(body) == f"v=UAAC1; a=sha256; d={expected}"


D1, D2 = "ZGlnZXN0IG9uZQ==", "ZGlnZXN0IHR3bw=="


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ([f"v=UAAC1; a=sha256; d={D1}"], [D1]),
        ([f"d={D1};a=SHA256;v=uaac1;"], [D1]),  # tags in any order and case, final ';'
        ([f"v=UAAC1; a=sha256; d={D1}", f"v=UAAC1; a=sha256; d={D2}"], [D1, D2]),  # a change
        ([f"v=UAAC1; a=sha256; d={D1}; x=future"], [D1]),  # unknown tags ignored
        ([f"v=UAAC2; a=sha256; d={D1}"], []),
        ([f"v=UAAC1; a=sha1; d={D1}"], []),
        (["v=spf1 -all", "v=UAAC1; a=sha256"], []),
    ],
)
def test_digests_are_read_as_clients_read_them(texts: list[str], expected: list[str]) -> None:
    assert pacc.digests_of(texts) == expected


def test_host_of_a_domain() -> None:
    assert pacc.host("example.org") == "ua-auto-config.example.org"
