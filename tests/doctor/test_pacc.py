"""PACC through the real front: Caddy with the shipped Caddyfile and ``deploy/pacc.caddy`` in
front of ``autoconfig serve``,
BIND serving the zone ``autoconfig dns`` printed. The doctor fetches the document as a client
would (offering gzip), and checks its SHA-256 against the ``_ua-auto-config`` TXT records."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from autoconfig import cli
from autoconfig.doctor import Check, Options, Status
from autoconfig.doctor.httpschecks import Fetched, pacc_check
from autoconfig.doctor.report import diagnose
from autoconfig.formats import pacc
from autoconfig.model import Provider
from autoconfig.profiles import load
from autoconfig.service import Service
from tests.caddy import Caddy, curl, run_caddy
from tests.conftest import PROFILES
from tests.dnsserver import NameServer, run_named, zone_text
from tests.servers import serve

D = "example.org"
HOST = f"ua-auto-config.{D}"
URL = f"https://{HOST}{pacc.PATH}"
TXT_NAME = f"_ua-auto-config.{D}."
OTHER = base64.b64encode(hashlib.sha256(b"an older document").digest()).decode()


LONG_HELP = "https://autoconfig.example.org/aide/" + "a" * 800 + "/"
"""A help URL that makes the document longer than the size from which Caddy's ``encode`` would
compress (512 bytes): a front that compresses it then shows."""


def long_profiles(folder: Path) -> Path:
    folder.mkdir()
    text = (PROFILES / "example.toml").read_text(encoding="utf-8")
    old = 'url = "https://autoconfig.example.org/aide/"'
    assert old in text
    (folder / "example.toml").write_text(text.replace(old, f'url = "{LONG_HELP}"'), "utf-8")
    return folder


def printed_zone(profiles: Path) -> str:
    result = CliRunner().invoke(
        cli.cli, ["dns", D, "--address", "127.0.0.1", "--profiles", str(profiles)]
    )
    assert result.exit_code == 0, result.output
    return result.output


def other_digest(zone: str) -> str:
    lines = [line for line in zone.splitlines() if line.startswith(TXT_NAME)]
    assert len(lines) == 1, lines
    return zone.replace(lines[0], f'{TXT_NAME} 3600 IN TXT "v=UAAC1; a=sha256; d={OTHER}"')


def both_digests(zone: str) -> str:
    return f'{zone}\n{TXT_NAME} 3600 IN TXT "v=UAAC1; a=sha256; d={OTHER}"\n'


ZONES = {"printed": lambda z: z, "other-digest": other_digest, "both-digests": both_digests}


@dataclass
class Deployment:
    caddy: Caddy
    names: dict[str, NameServer]
    provider: Provider


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("pacc")
    folder = long_profiles(tmp / "profiles")
    zone = printed_zone(folder)
    (provider,) = [p for p in load(folder) if p.id == D]
    with ExitStack() as stack:
        app = stack.enter_context(
            serve(tmp, "--profiles", str(folder), "--trusted-proxy", "127.0.0.1")
        )
        caddy = stack.enter_context(run_caddy(tmp, D, [app.port], pacc=True))
        names = {
            name: stack.enter_context(
                run_named(tmp / name, {D: zone_text(D, edit(zone), "@ IN A 127.0.0.1")})
            )
            for name, edit in ZONES.items()
        }
        yield Deployment(caddy, names, with_front(provider))


def options(deployment: Deployment, zone: str) -> Options:
    return Options(
        nameserver=deployment.names[zone].address,
        port=deployment.caddy.https_port,
        ca_file=deployment.caddy.root_certificate,
        timeout=5.0,
        min_days=0,
    )


JOURNEY = ("help site", "Apple profile", "DAV well-known", "CALDAV PROPFIND", "CARDDAV PROPFIND")
"""Checks of the rest of the journey: this deployment has no mail or DAV servers, and the test
profile's help URL is only there to make the PACC document long."""


def front(checks: list[Check]) -> list[Check]:
    """The checks of the DNS records and the HTTPS front (PACC included), without those of the
    mail and DAV servers the profile names and of the rest of the journey."""
    servers = ("imap.", "smtp.", "dav.", "https://dav.")
    return [c for c in checks if c.check not in JOURNEY and not c.target.startswith(servers)]


def with_front(provider: Provider) -> Provider:
    return replace(provider, dns=replace(provider.dns, addresses=("127.0.0.1",)))


@pytest.fixture
def example(deployment: Deployment) -> Provider:
    return deployment.provider


def test_caddy_serves_the_exact_bytes_never_compressed(
    deployment: Deployment, example: Provider
) -> None:
    fetched = curl(deployment.caddy, URL, headers=("Accept-Encoding: gzip, br, zstd",))
    assert len(pacc.render(example).body) > 1024
    assert fetched.status == 200
    assert fetched.content_type == "application/json"
    assert fetched.body == pacc.render(example).body  # curl does not decode: gzip would differ


def test_caddy_serves_nothing_else_on_the_pacc_host(deployment: Deployment) -> None:
    assert curl(deployment.caddy, f"https://{HOST}/mail/config-v1.1.xml").status == 404
    assert curl(deployment.caddy, f"https://{HOST}/metrics").status == 404


def test_doctor_passes_when_dns_vouches_for_the_served_bytes(
    deployment: Deployment, example: Provider
) -> None:
    checks = diagnose(example, D, options(deployment, "printed"))
    assert [c for c in front(checks) if c.status is not Status.PASS] == []
    rows = {c.name: c for c in checks}
    row = rows[f"PACC {HOST}{pacc.PATH}"]
    assert "SHA-256 of the served bytes is in" in row.detail
    assert f"TLS {HOST}" in rows
    assert f"DNS A {HOST}." in rows


def test_doctor_accepts_an_old_digest_beside_the_right_one(
    deployment: Deployment, example: Provider
) -> None:
    checks = diagnose(example, D, options(deployment, "both-digests"))
    assert [c for c in front(checks) if c.status is not Status.PASS] == []


def test_doctor_fails_on_a_digest_of_other_bytes(deployment: Deployment, example: Provider) -> None:
    checks = {c.name: c for c in diagnose(example, D, options(deployment, "other-digest"))}
    row = checks[f"PACC {HOST}{pacc.PATH}"]
    assert row.status is Status.FAIL
    assert OTHER in row.detail
    expected = pacc.txt_value(pacc.render(example).body)
    assert f'publish: {TXT_NAME} 3600 IN TXT "{expected}"' in row.hint


def test_doctor_fails_when_the_front_serves_another_document(
    deployment: Deployment, example: Provider
) -> None:
    renamed = replace(example, help=replace(example.help, url="https://help.example.org/"))
    checks = {c.name: c for c in diagnose(renamed, D, options(deployment, "printed"))}
    row = checks[f"PACC {HOST}{pacc.PATH}"]
    assert row.status is Status.FAIL
    assert "the served bytes differ from the profile's document" in row.detail


def test_doctor_command_prints_the_pacc_row(deployment: Deployment, tmp_path: Path) -> None:
    chosen = options(deployment, "printed")
    folder = long_profiles(tmp_path / "profiles")
    result = CliRunner().invoke(
        cli.cli,
        [
            *("doctor", D, "--address", "127.0.0.1", "--nameserver", str(chosen.nameserver)),
            *("--port", str(chosen.port), "--ca-file", str(chosen.ca_file), "--min-days", "0"),
            *("--profiles", str(folder)),
        ],
    )
    # exit 1: the mail and DAV servers the profile names do not exist here (see front())
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    assert f"PASS  PACC {HOST}{pacc.PATH}" in result.output


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"content_encoding": "gzip"}, "Content-Encoding 'gzip': bytes re-encoded"),
        ({"status": 404}, "HTTP status 404"),
        ({"content_type": "text/html"}, "Content-Type 'text/html'"),
    ],
)
def test_a_front_that_changes_the_answer_fails(
    service: Service, changes: dict[str, Any], detail: str
) -> None:
    import dns.resolver

    from autoconfig.doctor.dnschecks import Resolver

    example = service.catalog.lookup(D)
    good = Fetched(200, "application/json", pacc.render(example).body, {})
    # a resolver that never asks anyone: these answers fail before any lookup
    offline = Resolver(dns.resolver.Resolver(configure=False), failure="not to be asked")
    status, found, _ = pacc_check(example, D, replace(good, **changes), offline)
    assert status is Status.FAIL
    assert detail in found
