"""The IMAP and SMTP checks against a real Dovecot on loopback (certificates from the test PKI,
users whose logins are the demo directory's IDs), and BIND for the host names: a correct set-up,
then each mistake injected (wrong port, STARTTLS missing, a certificate for another name, an
expired one, an AUTH mechanism missing, AUTH before TLS, a wrong password)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from autoconfig.doctor import Check, Options, Status
from autoconfig.doctor.dnschecks import Resolver
from autoconfig.doctor.mailchecks import Credentials, mail_checks
from autoconfig.model import Auth, Security, Server
from tests.conftest import ACADEMIE, PIERRE_LOGIN
from tests.doctor.conftest import PASSWORDS, Lab
from tests.dovecot import ADDRESS
from tests.tools import free_port

D = ACADEMIE


def options(lab: Lab, **changes: object) -> Options:
    chosen: dict[str, object] = {
        "nameserver": lab.named.address,
        "ca_file": lab.pki.root_file,
        "timeout": 5.0,
        "min_days": 7,
    }
    chosen.update(changes)
    return Options(**chosen)  # type: ignore[arg-type]


PIERRE = Credentials(PIERRE_LOGIN, PASSWORDS[PIERRE_LOGIN])


def run(
    lab: Lab,
    imap: Server,
    smtp: Server,
    credentials: Credentials | None = PIERRE,
    **changes: object,
) -> list[Check]:
    chosen = options(lab, **changes)
    return mail_checks(imap, smtp, Resolver.from_options(chosen), chosen, credentials)


def implicit(lab: Lab, host: str = "imap", auth: Auth = Auth.PASSWORD) -> tuple[Server, Server]:
    return (
        Server(f"{host}.{D}", lab.dovecot.imaps, Security.TLS, auth),
        Server(
            f"{'smtp' if host == 'imap' else host}.{D}", lab.dovecot.submissions, Security.TLS, auth
        ),
    )


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.check: check for check in checks}


def test_implicit_tls_servers_pass_every_check_and_log_in_with_the_directory_id(lab: Lab) -> None:
    checks = run(lab, *implicit(lab))
    assert [c for c in checks if c.status is not Status.PASS] == [], checks
    rows = by_name(checks)
    assert set(rows) == {
        f"{kind} {step}"
        for kind in ("IMAP", "SMTP")
        for step in ("DNS", "connect", "TLS", "AUTH", "login")
    }
    assert rows["IMAP DNS"].detail == ADDRESS
    assert rows["IMAP TLS"].target == f"imap.{D}:{lab.dovecot.imaps}"
    assert rows["IMAP TLS"].detail.startswith(f"implicit TLS, certificate valid for imap.{D}")
    assert rows["SMTP AUTH"].detail == "offers LOGIN PLAIN"
    assert rows["IMAP login"].detail == f"logged in as {PIERRE_LOGIN} (PLAIN)"
    assert rows["SMTP login"].detail == f"logged in as {PIERRE_LOGIN} (PLAIN)"
    assert "Login: user=<pdupont>, method=PLAIN" in lab.dovecot.log_text()


def test_starttls_servers_pass_every_check(lab: Lab) -> None:
    imap = Server(f"imap.{D}", lab.dovecot.imap, Security.STARTTLS, Auth.PASSWORD)
    smtp = Server(f"smtp.{D}", lab.dovecot.submission, Security.STARTTLS, Auth.PASSWORD)
    checks = run(lab, imap, smtp)
    assert [c for c in checks if c.status is not Status.PASS] == [], checks
    assert by_name(checks)["SMTP TLS"].detail.startswith("STARTTLS, certificate valid")


def test_cram_md5_logs_in_when_the_profile_says_password_encrypted(lab: Lab) -> None:
    imap = Server(f"cram.{D}", lab.cram.imaps, Security.TLS, Auth.PASSWORD_ENCRYPTED)
    smtp = Server(f"cram.{D}", lab.cram.submissions, Security.TLS, Auth.PASSWORD_ENCRYPTED)
    checks = run(lab, imap, smtp)
    assert [c for c in checks if c.status is not Status.PASS] == [], checks
    assert by_name(checks)["SMTP login"].detail == f"logged in as {PIERRE_LOGIN} (CRAM-MD5)"


def test_without_credentials_there_is_no_login_row(lab: Lab) -> None:
    checks = run(lab, *implicit(lab), credentials=None)
    assert [c for c in checks if c.status is not Status.PASS] == []
    assert not any(c.check.endswith("login") for c in checks)


@dataclass(frozen=True)
class Mistake:
    check: str
    detail: str
    hint: str


def mistaken(lab: Lab, name: str) -> tuple[Server, Server, Credentials]:
    """The profile's servers (and the credentials) with the mistake ``name`` injected."""
    imap, smtp = implicit(lab)
    dv = lab.dovecot
    credentials = PIERRE
    if name == "wrong-port":
        imap = Server(imap.host, free_port(), Security.TLS, Auth.PASSWORD)
    elif name == "implicit-tls-on-a-starttls-port":
        imap = Server(imap.host, dv.imap, Security.TLS, Auth.PASSWORD)
    elif name == "starttls-missing":
        imap = Server(f"plain.{D}", lab.plain.imap, Security.STARTTLS, Auth.PASSWORD)
        smtp = Server(f"plain.{D}", lab.plain.submission, Security.STARTTLS, Auth.PASSWORD)
    elif name == "certificate-for-another-name":
        imap, smtp = implicit(lab, "other")
    elif name == "expired-certificate":
        imap, smtp = implicit(lab, "expired")
    elif name == "auth-mechanism-missing":
        imap, smtp = implicit(lab, auth=Auth.PASSWORD_ENCRYPTED)
    elif name == "auth-before-tls":
        imap = Server(f"cram.{D}", lab.cram.imaps, Security.TLS, Auth.PASSWORD_ENCRYPTED)
        smtp = Server(f"cram.{D}", lab.cram.submission, Security.STARTTLS, Auth.PASSWORD_ENCRYPTED)
    elif name == "wrong-password":
        credentials = Credentials(PIERRE_LOGIN, "not-the-password")
    elif name == "login-not-on-the-server":
        credentials = Credentials("pierre.dupont", PASSWORDS[PIERRE_LOGIN])
    elif name == "host-does-not-resolve":
        imap = Server(f"nowhere.{D}", dv.imaps, Security.TLS, Auth.PASSWORD)
    else:
        raise AssertionError(name)
    return imap, smtp, credentials


MISTAKES = {
    "wrong-port": Mistake("IMAP connect", "Connection refused", "the profile says port"),
    "implicit-tls-on-a-starttls-port": Mistake(
        "IMAP TLS", "no TLS handshake on port", 'set security = "starttls"'
    ),
    "starttls-missing": Mistake("IMAP TLS", "does not offer STARTTLS", "ssl = yes"),
    "certificate-for-another-name": Mistake(
        "IMAP TLS", "certificate refused: Hostname mismatch", f"does not name other.{D}"
    ),
    "expired-certificate": Mistake(
        "IMAP TLS", "certificate refused: certificate has expired", "renew it"
    ),
    "auth-mechanism-missing": Mistake(
        "IMAP AUTH",
        'offers LOGIN PLAIN; auth = "password-encrypted" needs CRAM-MD5',
        "auth_mechanisms = cram-md5",
    ),
    "auth-before-tls": Mistake(
        "SMTP TLS", "offers AUTH CRAM-MD5 before TLS", "disable_plaintext_auth = yes"
    ),
    "wrong-password": Mistake(
        "IMAP login", f"login {PIERRE_LOGIN} refused (PLAIN)", "check the password"
    ),
    "login-not-on-the-server": Mistake(
        "SMTP login", "login pierre.dupont refused (PLAIN): 535", "the directory's ID"
    ),
    "host-does-not-resolve": Mistake(
        "IMAP DNS", f"nowhere.{D} does not resolve", f"publish the A/AAAA record of nowhere.{D}"
    ),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_each_mistake_fails_with_its_fix(lab: Lab, name: str) -> None:
    mistake = MISTAKES[name]
    imap, smtp, credentials = mistaken(lab, name)
    checks = run(lab, imap, smtp, credentials)
    failing = {c.check: c for c in checks if c.status is Status.FAIL}
    assert mistake.check in failing, checks
    row = failing[mistake.check]
    assert mistake.detail in row.detail
    assert mistake.hint in row.hint
    assert row.target in (f"{imap.host}:{imap.port}", f"{smtp.host}:{smtp.port}", imap.host)
    step = mistake.check.split()[0]
    after = [c for c in checks if c.check.startswith(step)]
    assert after[-1] is row, "a failure ends the journey of its server"


def test_a_certificate_close_to_expiry_fails(lab: Lab) -> None:
    rows = by_name(run(lab, *implicit(lab), min_days=60))
    assert rows["IMAP TLS"].status is Status.FAIL
    assert "expires in" in rows["IMAP TLS"].detail
    assert "renew" in rows["IMAP TLS"].hint


def test_the_password_appears_in_no_check(lab: Lab) -> None:
    for name in ("wrong-password", "login-not-on-the-server"):
        imap, smtp, credentials = mistaken(lab, name)
        text = repr(run(lab, imap, smtp, credentials))
        assert credentials.password not in text
    assert PIERRE.password not in repr(run(lab, *implicit(lab)))
    assert PIERRE.password not in repr(PIERRE)


def test_a_server_that_never_answers_fails_within_the_timeout(lab: Lab, tmp_path: Path) -> None:
    import socket

    with socket.socket() as silent:
        silent.bind((ADDRESS, 0))
        silent.listen()
        port = silent.getsockname()[1]
        imap = Server(f"imap.{D}", port, Security.STARTTLS, Auth.PASSWORD)
        smtp = Server(f"smtp.{D}", port, Security.TLS, Auth.PASSWORD)
        rows = by_name(run(lab, imap, smtp, timeout=0.5))
    assert rows["IMAP TLS"].status is Status.FAIL
    assert rows["IMAP TLS"].detail == "no answer within 0.5 s"
    assert rows["SMTP TLS"].status is Status.FAIL
