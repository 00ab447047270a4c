"""The mail servers the doctor's tests check: real Dovecot instances on loopback (shared by the
modules of this folder), their certificates from a test PKI, and BIND naming their hosts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import ACADEMIE, DEMO_STAFF
from tests.dnsserver import NameServer, run_named, zone_text
from tests.dovecot import ADDRESS, Dovecot, Pair, run_dovecot
from tests.pki import Pki, issue, key_pem, make_pki, new_key, pem
from tests.radicale import Radicale, run_radicale

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
