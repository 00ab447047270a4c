"""What the doctor's tests check, shared by the modules of this folder: real Dovecot instances
and Radicale on loopback with certificates from a test PKI and BIND naming their hosts (the lab),
and the whole journey (a front serving a profile whose servers are the lab's) with the
``autoconfig doctor`` command run against it in JSON."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from autoconfig import cli
from tests.caddy import Caddy, run_caddy
from tests.conftest import ACADEMIE, DEMO, DEMO_STAFF, PIERRE, PIERRE_LOGIN, PROFILES
from tests.dnsserver import NameServer, run_named, zone_text
from tests.dovecot import ADDRESS, Dovecot, Pair, run_dovecot
from tests.pki import Pki, issue, key_pem, make_pki, new_key, pem
from tests.radicale import Radicale, run_radicale
from tests.servers import serve

D = ACADEMIE
PASSWORDS = {login: f"pw-{login}-7" for login in DEMO_STAFF.values()}
HOSTS = ("imap", "smtp", "other", "expired", "cram", "plain", "dav")
"""Names in the zone, all at Dovecot's address; the certificates name imap. and smtp. only
(expired. has its own, expired)."""


@dataclass(frozen=True)
class Lab:
    dovecot: Dovecot
    cram: Dovecot
    """TLS, only CRAM-MD5, and AUTH offered before TLS too."""
    plain: Dovecot
    """No TLS at all."""
    named: NameServer
    pki: Pki
    dav: Radicale
    """CalDAV and CardDAV at https://dav.DOMAIN:PORT/, asking for a login."""


def pair(pki: Pki, names: list[str], days: int = 30, start: datetime | None = None) -> Pair:
    """A certificate for ``names`` (the first is its file name) with its chain, and its key."""
    key = new_key()
    issuer = (pki.intermediate, pki.intermediate_key)
    certificate = issue(
        names[0], key, issuer, ca=False, days=days, start=start, also=tuple(names[1:])
    )
    cert_file, key_file = pki.folder / f"{names[0]}.chain.pem", pki.folder / f"{names[0]}.key"
    cert_file.write_bytes(pem(certificate) + pem(pki.intermediate))
    key_file.write_bytes(key_pem(key))
    return cert_file, key_file


@pytest.fixture(scope="package")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    tmp = tmp_path_factory.mktemp("mail")
    pki = make_pki(tmp / "pki")
    good = pair(pki, [f"imap.{D}", f"smtp.{D}"])
    cram = pair(pki, [f"cram.{D}"])
    past = datetime.now(UTC) - timedelta(days=40)
    expired = pair(pki, [f"expired.{D}"], days=10, start=past)
    extra = "\n".join(["@ IN A 127.0.0.1", *(f"{host} IN A {ADDRESS}" for host in HOSTS)])
    with ExitStack() as stack:
        dovecot = stack.enter_context(
            run_dovecot(tmp / "dovecot", PASSWORDS, good, {f"expired.{D}": expired})
        )
        weak = stack.enter_context(
            run_dovecot(tmp / "cram", PASSWORDS, cram, mechanisms="cram-md5", plaintext_auth=True)
        )
        plain = stack.enter_context(run_dovecot(tmp / "plain", PASSWORDS, None))
        named = stack.enter_context(run_named(tmp / "named", {D: zone_text(D, "", extra)}))
        dav_pair = pair(pki, [f"dav.{D}"])
        dav = stack.enter_context(run_radicale(tmp / "radicale", ADDRESS, dav_pair, PASSWORDS))
        yield Lab(dovecot, weak, plain, named, pki, dav)


def printed_zone(domain: str, *options: str) -> str:
    result = CliRunner().invoke(cli.cli, ["dns", domain, *options])
    assert result.exit_code == 0, result.output
    return result.output


# The whole journey: a front (Caddy + the service) serving a profile whose mail servers are the
# test Dovecot, BIND serving the zone `autoconfig dns` prints plus the mail hosts, and the
# `autoconfig doctor` command run as an operator would, in JSON.

MAIL_HOSTS = "\n".join(
    [f"{D}. 3600 IN A 127.0.0.1", *(f"{host}.{D}. 3600 IN A {ADDRESS}" for host in HOSTS)]
)
"""The main website (the front), and the mail and DAV hosts (Dovecot, Radicale)."""


@dataclass(frozen=True)
class Journey:
    profiles: Path
    caddy: Caddy
    named: NameServer
    bundle: Path
    """Caddy's root and the test PKI's root: the CAs the doctor is told to trust."""
    zone: str
    tmp: Path


def profile_text(lab: Lab, **changes: str) -> str:
    """The académie's profile with its mail servers at the test Dovecot (``changes``: a mistake,
    TOML lines replaced)."""
    text = (PROFILES / "ac-aix-marseille.toml").read_text(encoding="utf-8")
    text = text.replace("port = 993", f"port = {lab.dovecot.imaps}", 1)
    text = text.replace("port = 465", f"port = {lab.dovecot.submissions}", 1)
    text += "".join(
        f'\n[{kind}]\nurl = "https://dav.{D}:{lab.dav.port}/"\n' for kind in ("caldav", "carddav")
    )
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def profiles_folder(tmp: Path, name: str, text: str) -> Path:
    folder = tmp / name
    folder.mkdir()
    (folder / "ac-aix-marseille.toml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="package")
def journey(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    tmp = tmp_path_factory.mktemp("journey")
    profiles = profiles_folder(tmp, "profiles", profile_text(lab))
    zone = printed_zone(D, "--address", "127.0.0.1", "--profiles", str(profiles))
    with ExitStack() as stack:
        cert, key, _ = lab.pki.signer(f"autoconfig.{D}")
        signing = ["--signing-cert", str(cert), "--signing-key", str(key)]
        signing += ["--signing-chain", str(lab.pki.chain_file)]
        app = stack.enter_context(
            serve(tmp, "--profiles", str(profiles), "--directory", str(DEMO), *signing)
        )
        redirects = "".join(
            f"\tredir /.well-known/{kind} https://dav.{D}:{lab.dav.port}/ 301\n"
            for kind in ("caldav", "carddav")
        )
        caddy = stack.enter_context(run_caddy(tmp, D, [app.port], main_site=redirects))
        text = zone_text(D, f"{zone}\n{MAIL_HOSTS}")
        named = stack.enter_context(run_named(tmp / "named", {D: text}))
        bundle = tmp / "roots.pem"
        bundle.write_bytes(caddy.root_certificate.read_bytes() + lab.pki.root_file.read_bytes())
        yield Journey(profiles, caddy, named, bundle, f"{zone}\n{MAIL_HOSTS}\n", tmp)


def doctor_args(
    journey: Journey,
    *args: str,
    profiles: Path | None = None,
    where: tuple[str, ...] = (),
    directory: bool = True,
) -> list[str]:
    """``doctor D`` against the journey's servers (its name server unless ``where`` says how to
    find the records), the demo directory unless ``directory`` is false, then ``args``."""
    return [
        *("doctor", D, "--profiles", str(profiles or journey.profiles)),
        *(("--directory", str(DEMO)) if directory else ()),
        *("--address", "127.0.0.1"),
        *(where or ("--nameserver", journey.named.address)),
        *("--port", str(journey.caddy.https_port), "--ca-file", str(journey.bundle)),
        *("--min-days", "0", *args),
    ]


def doctor_json(
    journey: Journey, *args: str, profiles: Path | None = None, where: tuple[str, ...] = ()
) -> tuple[int, list[dict[str, str]], str]:
    """``autoconfig doctor D --format json`` against the journey's servers: exit status, rows,
    and everything printed."""
    result = CliRunner().invoke(
        cli.cli,
        doctor_args(journey, "--format", "json", *args, profiles=profiles, where=where),
        env={k: None for k in os.environ if k.startswith("AUTOCONFIG_")},
    )
    rows = json.loads(result.stdout) if result.stdout.startswith("[") else []
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is never an answer
    return result.exit_code, rows, result.output


def password_file(journey: Journey, password: str) -> str:
    path = journey.tmp / f"password-{len(password)}-{password[:2]}"
    path.write_text(f"{password}\n", encoding="utf-8")
    return str(path)


def login_args(journey: Journey, password: str = PASSWORDS[PIERRE_LOGIN]) -> tuple[str, ...]:
    return ("--login", PIERRE, "--password-file", password_file(journey, password))


def keyed(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["check"]: row for row in rows if row["check"].startswith(("IMAP", "SMTP"))}


AUTOCONFIG_URL = f"https://autoconfig.{D}/mail/config-v1.1.xml"


def clients(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["target"]: row for row in rows if row["check"] == "client"}
