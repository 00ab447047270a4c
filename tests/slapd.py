"""A real OpenLDAP ``slapd`` on loopback, for the tests and the benchmark.

Each :class:`Slapd` has its own folder: a generated ``slapd.conf`` (mdb backend, the core, cosine and
inetOrgPerson schemas, an index on ``mail``), a database filled with ``slapadd`` from an LDIF of
fictional staff before the server starts, and optionally a throwaway CA and server certificate made
with ``openssl`` (``ldaps://`` on a second port, StartTLS on the first). Only the service account
may read people; anonymous clients may only bind. The system's own slapd, if any, is never used.
"""

from __future__ import annotations

import base64
import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tests.tools import HarnessError, free_port

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
OPENSSL = "openssl"
SCHEMAS = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")
SUFFIX = "dc=ac-aix-marseille,dc=fr"
PEOPLE = f"ou=people,{SUFFIX}"
BIND_DN = f"cn=autoconfig,ou=services,{SUFFIX}"
BIND_PASSWORD = "Ldap-s3rvice-pw"  # a throwaway password of a throwaway directory
SLOW_MACHINE_MS = 5000
"""A lookup budget (``timeout_ms``) for in-process tests that expect logins, not fallbacks: a
first connection and bind in pure Python, beside the start probe, can outlast the 300 ms default
on a loaded machine. Tests of the budget itself keep the default."""
START_TIMEOUT = 15.0


@dataclass(frozen=True)
class Person:
    uid: str
    mail: str
    cn: str
    display_name: str | None = None


STAFF = [
    Person("pdupont", "pierre.dupont@ac-aix-marseille.fr", "Pierre Dupont", "Pierre Dupont"),
    Person("mmartin3", "marie.martin@ac-aix-marseille.fr", "Marie Martin", "Marie Martin"),
    Person(
        "glhéritier",
        "gaelle.lheritier@ac-aix-marseille.fr",
        "Gaëlle L'Héritier",
        "Gaëlle L'Héritier",
    ),
    Person("jnguyen1", "Jean-Luc.Nguyen@ac-aix-marseille.fr", "Jean-Luc Nguyen", None),
    Person("ooneil", "o*neil@ac-aix-marseille.fr", "Orla O'Neil", "Orla O'Neil"),
    # Two people sharing one address: the directory must not pick one of them.
    Person("secr1", "secretariat@ac-aix-marseille.fr", "Secrétariat Un", "Secrétariat Un"),
    Person("secr2", "secretariat@ac-aix-marseille.fr", "Secrétariat Deux", "Secrétariat Deux"),
]


def require_tools() -> None:
    """Fail (never skip) with a clear message when the OpenLDAP server is not installed."""
    for tool in (SLAPD, SLAPADD):
        if not tool.is_file():
            raise HarnessError(
                f"{tool} is missing: install the Debian packages slapd and ldap-utils "
                "(listed in scripts/packages/test.txt; scripts/test installs them)"
            )


def _value(name: str, value: str) -> str:
    if value.isascii() and value.isprintable() and not value.startswith((" ", ":", "<")):
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(value.encode()).decode()}"


def ldif(people: Iterable[Person]) -> str:
    """The whole tree: the organisation, the service account, and ``people`` under ou=people."""
    blocks = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Academie\n"
        "dc: ac-aix-marseille",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services",
        f"dn: {BIND_DN}\nobjectClass: person\ncn: autoconfig\nsn: autoconfig\n"
        f"userPassword: {BIND_PASSWORD}",
    ]
    for n, person in enumerate(people):
        lines = [
            _value("dn", f"employeeNumber={n},{PEOPLE}"),
            "objectClass: inetOrgPerson",
            f"employeeNumber: {n}",
            _value("uid", person.uid),
            _value("cn", person.cn),
            _value("sn", person.cn.split()[-1]),
            _value("mail", person.mail),
        ]
        if person.display_name:
            lines.append(_value("displayName", person.display_name))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def make_certificates(folder: Path, name: str = "ca") -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost: (ca, cert, key)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / f"{name}.pem", folder / f"{name}.key"
    cert, key, csr = folder / "server.pem", folder / "server.key", folder / "server.csr"
    ext = folder / "server.ext"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
        "basicConstraints=critical,CA:FALSE\n"
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    commands: list[list[str | Path]] = [
        [OPENSSL, "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", f"/CN=Throwaway test CA {name}",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        [OPENSSL, "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
        [OPENSSL, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "2", "-extfile", ext],
    ]  # fmt: skip
    for command in commands:
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=30)
        except FileNotFoundError:
            raise HarnessError("openssl is missing: install the Debian package openssl") from None
    return ca, cert, key


class Slapd:
    """One slapd process on loopback; ``start``, ``pause`` (hung), ``resume``, ``stop``."""

    def __init__(
        self,
        folder: Path,
        people: Iterable[Person] = STAFF,
        tls: bool = False,
        loglevel: str = "stats",
    ) -> None:
        require_tools()
        self.folder = folder
        self.loglevel = loglevel
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.ca: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "db").mkdir(exist_ok=True)
        tls_lines = ""
        if tls:
            self.ca, cert, key = make_certificates(folder / "tls")
            tls_lines = (
                f"TLSCACertificateFile {self.ca}\nTLSCertificateFile {cert}\n"
                f"TLSCertificateKeyFile {key}\n"
            )
        self.config = folder / "slapd.conf"
        self.config.write_text(
            "".join(f"include {SCHEMAS / s}.schema\n" for s in ("core", "cosine", "inetorgperson"))
            + f"pidfile {folder / 'slapd.pid'}\nmodulepath {MODULES}\nmoduleload back_mdb\n"
            + tls_lines
            + f'database mdb\nsuffix "{SUFFIX}"\ndirectory {folder / "db"}\n'
            + "maxsize 1073741824\nindex mail eq\nindex objectClass eq\n"
            + f'access to * by dn.exact="{BIND_DN}" read by anonymous auth by * none\n'
        )
        data = folder / "data.ldif"
        data.write_text(ldif(people), encoding="utf-8")
        done = subprocess.run(
            [SLAPADD, "-q", "-f", self.config, "-l", data],
            capture_output=True,
            timeout=600,
            check=False,
        )
        if done.returncode:
            raise HarnessError(f"slapadd failed: {done.stderr.decode(errors='replace')}")

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}/{PEOPLE}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}/{PEOPLE}"

    def start(self) -> None:
        urls = f"ldap://127.0.0.1:{self.port}/"
        if self.tls_port:
            urls += f" ldaps://127.0.0.1:{self.tls_port}/"
        log = (self.folder / "slapd.log").open("ab")
        self.process = subprocess.Popen(
            [SLAPD, "-f", self.config, "-h", urls, "-d", self.loglevel],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"slapd exited at start: {self.log()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 1),
            ):
                return
            time.sleep(0.05)
        self.stop()
        raise HarnessError(
            f"slapd did not listen on 127.0.0.1:{self.port} within {START_TIMEOUT} s"
        )

    def log(self) -> str:
        """What the server logged (operations, with ``loglevel`` stats: one line per BIND …)."""
        return (self.folder / "slapd.log").read_text(errors="replace")

    def binds(self) -> int:
        return sum(" BIND dn=" in line and " method=" in line for line in self.log().splitlines())

    def pause(self) -> None:
        """Freeze the server: connections are accepted by the kernel, nothing ever answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGCONT)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
