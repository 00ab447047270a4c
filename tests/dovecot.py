"""A real Dovecot (Debian packages dovecot-imapd, dovecot-submissiond) on loopback: IMAP (STARTTLS
and implicit TLS) and SMTP submission (587 STARTTLS, 465 implicit TLS) on free ports, certificates
from the test PKI (one per SNI name), users from a passwd-file whose names are the directory's IDs.

Its own configuration, ``base_dir`` and state under the test's folder, so it never meets the
system's Dovecot. It listens on ``127.0.0.2``: Dovecot treats a connection whose two ends have the
same address as secure (it would offer AUTH before TLS), and a client's connection to 127.0.0.2
comes from 127.0.0.1, as one from another host would.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.tools import HarnessError, free_port, require, stop, wait_until

ADDRESS = "127.0.0.2"
DH = Path("/usr/share/dovecot/dh.pem")
SUBMISSION = "/usr/lib/dovecot/submission"


@dataclass(frozen=True)
class Dovecot:
    imap: int
    """STARTTLS (143 in production)."""
    imaps: int
    """Implicit TLS (993)."""
    submission: int
    """STARTTLS (587)."""
    submissions: int
    """Implicit TLS (465)."""
    log: Path
    address: str = ADDRESS

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


Pair = tuple[Path, Path]
"""A certificate file (with its chain) and its key file."""


def _tls(certificate: Pair) -> str:
    return f"ssl_cert = <{certificate[0]}\nssl_key = <{certificate[1]}\n"


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((ADDRESS, port), timeout=0.5):
            return True
    except OSError:
        return False


def _mail_user() -> pwd.struct_passwd:
    """Dovecot refuses to open mail as root: as root, the mail belongs to its own user."""
    if os.geteuid() == 0:
        return pwd.getpwnam("dovecot")
    return pwd.getpwuid(os.geteuid())


@contextmanager
def run_dovecot(
    folder: Path,
    users: Mapping[str, str],
    certificate: Pair | None,
    by_name: Mapping[str, Pair] | None = None,
    mechanisms: str = "plain login",
    plaintext_auth: bool = False,
) -> Iterator[Dovecot]:
    """Dovecot in the foreground with ``users`` (login → password). ``certificate`` is served by
    default, ``by_name`` to the clients asking for that name (SNI); ``None``: no TLS at all.
    ``plaintext_auth``: AUTH offered before TLS too (a mistake)."""
    binary = require("dovecot")
    if not Path(SUBMISSION).exists():
        raise HarnessError(
            "dovecot-submissiond is not installed (listed in scripts/packages/test.txt)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run").mkdir(exist_ok=True)
    (folder / "state").mkdir(exist_ok=True)
    passwd = folder / "users"
    passwd.write_text("".join(f"{login}:{{PLAIN}}{pw}\n" for login, pw in users.items()))
    owner = _mail_user()
    # The mail folders must be reachable by the mail user: outside pytest's private folder.
    homes = Path(tempfile.mkdtemp(prefix="autoconfig-dovecot-"))
    os.chown(homes, owner.pw_uid, owner.pw_gid)
    ports = {name: free_port() for name in ("imap", "imaps", "submission", "submissions")}
    server = Dovecot(
        ports["imap"],
        ports["imaps"],
        ports["submission"],
        ports["submissions"],
        folder / "dovecot.log",
    )
    tls = "ssl = no\n"
    if certificate is not None:
        tls = "ssl = required\n" if not plaintext_auth else "ssl = yes\n"
        tls += _tls(certificate) + (f"ssl_dh = <{DH}\n" if DH.exists() else "")
        for name, pair in (by_name or {}).items():
            tls += f"local_name {name} {{\n{_tls(pair)}}}\n"
    internal = "root" if os.geteuid() == 0 else owner.pw_name
    config = folder / "dovecot.conf"
    config.write_text(
        f"base_dir = {folder / 'run'}\n"
        f"state_dir = {folder / 'state'}\n"
        f"instance_name = autoconfig-test-{ports['imap']}\n"
        f"log_path = {server.log}\n"
        "protocols = imap submission\n"
        f"listen = {ADDRESS}\n"
        f"{tls}"
        f"disable_plaintext_auth = {'no' if plaintext_auth else 'yes'}\n"
        f"auth_mechanisms = {mechanisms}\n"
        f"default_internal_user = {internal}\n"
        f"default_internal_group = {'root' if os.geteuid() == 0 else owner.pw_name}\n"
        f"default_login_user = {'dovenull' if os.geteuid() == 0 else owner.pw_name}\n"
        "first_valid_uid = 1\n"
        f"passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {passwd}\n}}\n"
        "userdb {\n  driver = static\n"
        f"  args = uid={owner.pw_uid} gid={owner.pw_gid} home={homes}/%u\n}}\n"
        "mail_location = maildir:~/Maildir\n"
        "hostname = mail.test\n"
        # Mail is never sent: the relay is a port nobody listens on.
        f"submission_relay_host = 127.0.0.1\nsubmission_relay_port = {free_port()}\n"
        "service imap-login {\n"
        f"  inet_listener imap {{\n    port = {ports['imap']}\n  }}\n"
        f"  inet_listener imaps {{\n    port = {ports['imaps']}\n"
        f"    ssl = {'yes' if certificate else 'no'}\n  }}\n"
        "}\n"
        "service submission-login {\n"
        f"  inet_listener submission {{\n    port = {ports['submission']}\n  }}\n"
        f"  inet_listener submissions {{\n    port = {ports['submissions']}\n"
        f"    ssl = {'yes' if certificate else 'no'}\n  }}\n"
        "}\n"
        # No delay after a refused login, and no growing penalty for the tests' wrong ones.
        "auth_failure_delay = 0\n"
        "service anvil {\n  chroot =\n"
        "  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}\n",
        encoding="utf-8",
    )
    output = folder / "dovecot.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [binary, "-F", "-c", str(config)], stdout=sink, stderr=subprocess.STDOUT
        )
    try:

        def up() -> bool:
            if process.poll() is not None:
                return True
            return all(_accepts(port) for port in ports.values())

        wait_until(up, "dovecot to listen")
        assert process.poll() is None, output.read_text(errors="replace") + server.log_text()
        yield server
    finally:
        stop(process)
        shutil.rmtree(homes, ignore_errors=True)
