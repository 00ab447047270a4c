"""HTTPS checks against servers whose certificate is wrong, and the comparison of served settings."""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from autoconfig.doctor import Options
from autoconfig.doctor.dnschecks import Resolver
from autoconfig.doctor.httpschecks import FetchFailed, fetch, settings_of
from autoconfig.formats import thunderbird
from autoconfig.service import Service
from tests.dnsserver import run_named, zone_text
from tests.fakes import account
from tests.tools import require

ZONE = "doctor.test"


def certificate(tmp: Path, name: str, days: int = 30) -> tuple[Path, Path]:
    key, cert = tmp / f"{name}.key", tmp / f"{name}.pem"
    subprocess.run(
        [
            require("openssl"),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha256",
            "-days",
            str(days),
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return key, cert


class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """An HTTPS server on loopback whose certificate names another host."""
    tmp = tmp_path_factory.mktemp("tls")
    key, cert = certificate(tmp, f"other.{ZONE}")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], cert
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def resolver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Resolver]:
    records = "autoconfig IN A 127.0.0.1\nother IN A 127.0.0.1\n"
    with run_named(tmp_path_factory.mktemp("named-tls"), {ZONE: zone_text(ZONE, records)}) as ns:
        yield Resolver.from_options(Options(nameserver=ns.address, timeout=5))


def test_certificate_for_another_name_is_refused_with_a_hint(
    tls_server: tuple[int, Path], resolver: Resolver
) -> None:
    port, cert = tls_server
    with pytest.raises(FetchFailed) as failure:
        fetch(f"autoconfig.{ZONE}", "/", resolver, Options(port=port, ca_file=cert))
    assert "certificate refused" in failure.value.detail
    assert f"does not name autoconfig.{ZONE}" in failure.value.hint


def test_certificate_from_an_unknown_ca_is_refused_with_a_hint(
    tls_server: tuple[int, Path], resolver: Resolver
) -> None:
    port, _ = tls_server
    with pytest.raises(FetchFailed) as failure:
        fetch(f"other.{ZONE}", "/", resolver, Options(port=port))
    assert "--ca-file" in failure.value.hint


def test_right_name_and_trusted_ca_fetches(
    tls_server: tuple[int, Path], resolver: Resolver
) -> None:
    port, cert = tls_server
    fetched = fetch(f"other.{ZONE}", "/", resolver, Options(port=port, ca_file=cert))
    assert fetched.status == 200
    assert fetched.body == b"ok\n"
    assert ("DNS", f"other.{ZONE}") in fetched.certificate["subjectAltName"]


def test_nothing_listening_is_a_fast_failure(resolver: Resolver) -> None:
    from tests.tools import free_port

    with pytest.raises(FetchFailed) as failure:
        fetch(f"other.{ZONE}", "/", resolver, Options(port=free_port(), timeout=2))
    assert "is the HTTPS front (Caddy) running" in failure.value.hint


def test_settings_of_reads_what_clients_read(service: Service) -> None:
    from autoconfig.model import Found

    provider = service.catalog.lookup("ac-aix-marseille.fr")
    body = thunderbird.render(provider, account(None, "x", Found.FALLBACK)).body
    settings = settings_of(body)
    assert settings["imap hostname"] == "imap.ac-aix-marseille.fr"
    assert settings["smtp port"] == "465"
    assert settings["imap socketType"] == "SSL"
    assert settings["smtp username"] == "present"
    assert settings["domains"] == "ac-aix-marseille.fr"


def test_autodiscover_settings_of_reads_what_clients_read(service: Service) -> None:
    from autoconfig.doctor.httpschecks import autodiscover_settings_of
    from autoconfig.formats import autodiscover
    from autoconfig.model import Found

    provider = service.catalog.lookup("ac-aix-marseille.fr")
    body = autodiscover.settings(provider, account(None, "x", Found.FALLBACK)).body
    settings = autodiscover_settings_of(body)
    assert settings["imap Server"] == "imap.ac-aix-marseille.fr"
    assert settings["smtp Port"] == "465"
    assert settings["imap SSL"] == "on"
    assert settings["smtp Encryption"] == "SSL"
    assert settings["imap SPA"] == "off"
    with pytest.raises(ValueError, match="no Protocol"):
        autodiscover_settings_of(b"<Autodiscover/>")
