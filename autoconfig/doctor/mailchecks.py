"""Mail server checks: the IMAP and SMTP servers of the profile, reached as a mail client would.

For each server: its host resolves (through the doctor's resolver), its port accepts, TLS is
as the profile declares (implicit from the first byte, or STARTTLS offered and working), the
certificate is valid for the host with enough days left, and the ``AUTH`` mechanisms the
profile's ``auth`` needs are offered (after TLS only, for SMTP). With :class:`Credentials`, one
real login (IMAP ``AUTHENTICATE``, SMTP ``AUTH``) with the login the service hands out.

The password is sent to the server only, inside TLS; it is never part of a check's text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from autoconfig.doctor import Check, Options, Status
from autoconfig.doctor.dnschecks import LookupFailed, Resolver
from autoconfig.doctor.httpschecks import context
from autoconfig.model import Auth, Security, Server

MAX_LINE = 8192
MAX_LINES = 200
MECHANISMS = {Auth.PASSWORD: ("PLAIN", "LOGIN"), Auth.PASSWORD_ENCRYPTED: ("CRAM-MD5",)}
"""The SASL mechanisms a client uses for each ``auth`` of a profile (any one of them will do)."""
DOVECOT_MECHANISMS = {Auth.PASSWORD: "plain login", Auth.PASSWORD_ENCRYPTED: "cram-md5"}


@dataclass(frozen=True)
class Credentials:
    """The login the service hands out for an address, and the person's password."""

    login: str
    password: str = field(repr=False)


class Failed(Exception):
    """A step failed: what was found, and the fix."""

    def __init__(self, detail: str, hint: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint


class Line:
    """A line-based conversation over one socket (plain, then perhaps TLS)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.file = sock.makefile("rb")

    def read(self) -> str:
        data = self.file.readline(MAX_LINE)
        if not data:
            raise Failed("the server closed the connection", "look at the mail server's log")
        return data.decode("utf-8", errors="replace").rstrip("\r\n")

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode() + b"\r\n")

    def upgrade(self, tls: ssl.SSLContext, host: str) -> None:
        self.file.close()
        self.sock = tls.wrap_socket(self.sock, server_hostname=host)
        self.file = self.sock.makefile("rb")

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def _short(text: str) -> str:
    return text if len(text) <= 160 else f"{text[:157]}..."


def handshake(line: Line, tls: ssl.SSLContext, host: str, failed: str, hint: str) -> None:
    """TLS on ``line`` for ``host``; :class:`Failed` (``failed``: the error, and ``hint``), or
    the certificate's own failure."""
    try:
        line.upgrade(tls, host)
    except ssl.SSLCertVerificationError as exc:
        raise certificate_failure(exc, host) from exc
    except (ssl.SSLError, OSError) as exc:
        raise Failed(f"{failed}: {exc}", hint) from exc


def certificate_failure(error: ssl.SSLCertVerificationError, host: str) -> Failed:
    message = error.verify_message or str(error)
    if "mismatch" in message.lower():
        hint = (
            f"the server's certificate does not name {host}: install one that lists {host} "
            "(or correct the host name in the profile)"
        )
    elif "expired" in message.lower():
        hint = "the mail server's certificate has expired: renew it and reload the server"
    else:
        hint = "serve the full chain from a publicly trusted CA; for a test CA pass --ca-file"
    return Failed(f"certificate refused: {message}", hint)


def days_left(sock: ssl.SSLSocket) -> float:
    certificate = sock.getpeercert() or {}
    return (ssl.cert_time_to_seconds(str(certificate["notAfter"])) - time.time()) / 86400


class Protocol:
    """What differs between IMAP and SMTP: the greeting, capabilities, STARTTLS, AUTH."""

    name = ""

    def greet(self, line: Line) -> None:
        raise NotImplementedError

    def capabilities(self, line: Line) -> set[str]:
        raise NotImplementedError

    def starttls(self, line: Line) -> None:
        raise NotImplementedError

    def mechanisms(self, capabilities: set[str]) -> set[str]:
        raise NotImplementedError

    def authenticate(self, line: Line, mechanism: str, credentials: Credentials) -> str:
        """The server's refusal ("" when the login succeeded)."""
        raise NotImplementedError

    def quit(self, line: Line) -> None:
        raise NotImplementedError


def _cram(challenge: str, credentials: Credentials) -> str:
    digest = hmac.new(
        credentials.password.encode(), base64.b64decode(challenge), hashlib.md5
    ).hexdigest()
    return base64.b64encode(f"{credentials.login} {digest}".encode()).decode()


def _plain(credentials: Credentials) -> str:
    return base64.b64encode(f"\0{credentials.login}\0{credentials.password}".encode()).decode()


class Imap(Protocol):
    name = "IMAP"

    def __init__(self) -> None:
        self.counter = 0

    def command(self, line: Line, text: str) -> tuple[str, list[str]]:
        """Send a tagged command; the tagged answer and the untagged lines before it."""
        self.counter += 1
        tag = f"d{self.counter}"
        line.send(f"{tag} {text}")
        return self.answer(line, tag)

    def answer(self, line: Line, tag: str) -> tuple[str, list[str]]:
        untagged: list[str] = []
        for _ in range(MAX_LINES):
            reply = line.read()
            if reply.startswith(f"{tag} "):
                return reply[len(tag) + 1 :], untagged
            untagged.append(reply)
        raise Failed("the server sends no end to its answer", "look at the mail server's log")

    def greet(self, line: Line) -> None:
        greeting = line.read()
        if not greeting.startswith("* OK"):
            raise Failed(f"not an IMAP greeting: {_short(greeting)!r}", "is this the IMAP port?")

    def capabilities(self, line: Line) -> set[str]:
        status, untagged = self.command(line, "CAPABILITY")
        if not status.startswith("OK"):
            raise Failed(f"CAPABILITY refused: {_short(status)}", "look at the server's log")
        found: set[str] = set()
        for reply in untagged:
            if reply.upper().startswith("* CAPABILITY "):
                found |= set(reply.upper().split()[2:])
        return found

    def starttls(self, line: Line) -> None:
        status, _ = self.command(line, "STARTTLS")
        if not status.startswith("OK"):
            raise Failed(f"STARTTLS refused: {_short(status)}", "look at the server's log")

    def mechanisms(self, capabilities: set[str]) -> set[str]:
        # LOGINDISABLED concerns the LOGIN command only: clients authenticate with AUTHENTICATE.
        return {c.removeprefix("AUTH=") for c in capabilities if c.startswith("AUTH=")}

    def authenticate(self, line: Line, mechanism: str, credentials: Credentials) -> str:
        self.counter += 1
        tag = f"d{self.counter}"
        line.send(f"{tag} AUTHENTICATE {mechanism}")
        challenge = line.read()
        if not challenge.startswith("+"):
            return _short(challenge.removeprefix(f"{tag} "))
        text = challenge[1:].strip()
        line.send(_cram(text, credentials) if mechanism == "CRAM-MD5" else _plain(credentials))
        status, _ = self.answer(line, tag)
        return "" if status.startswith("OK") else _short(status)

    def quit(self, line: Line) -> None:
        self.command(line, "LOGOUT")


class Smtp(Protocol):
    name = "SMTP"

    def reply(self, line: Line) -> tuple[int, list[str]]:
        """A (multi-line) reply: its code and the text of each line."""
        texts = []
        for _ in range(MAX_LINES):
            reply = line.read()
            if len(reply) < 3 or not reply[:3].isdigit():
                raise Failed(f"not an SMTP reply: {_short(reply)!r}", "is this the SMTP port?")
            texts.append(reply[4:])
            if reply[3:4] != "-":
                return int(reply[:3]), texts
        raise Failed("the server sends no end to its reply", "look at the mail server's log")

    def greet(self, line: Line) -> None:
        code, texts = self.reply(line)
        if code != 220:
            raise Failed(f"greeting {code} {_short(' '.join(texts))}", "look at the server's log")

    def capabilities(self, line: Line) -> set[str]:
        line.send("EHLO autoconfig-doctor.invalid")
        code, texts = self.reply(line)
        if code != 250:
            raise Failed(f"EHLO refused: {code} {_short(' '.join(texts))}", "look at its log")
        found = set()
        for text in texts[1:]:
            words = text.upper().split()
            if words and words[0] == "AUTH":
                found |= {f"AUTH={mechanism}" for mechanism in words[1:]}
            elif words:
                found.add(words[0])
        return found

    def starttls(self, line: Line) -> None:
        line.send("STARTTLS")
        code, texts = self.reply(line)
        if code != 220:
            raise Failed(f"STARTTLS refused: {code} {_short(' '.join(texts))}", "look at its log")

    def mechanisms(self, capabilities: set[str]) -> set[str]:
        return {c.removeprefix("AUTH=") for c in capabilities if c.startswith("AUTH=")}

    def authenticate(self, line: Line, mechanism: str, credentials: Credentials) -> str:
        if mechanism == "CRAM-MD5":
            line.send("AUTH CRAM-MD5")
            code, texts = self.reply(line)
            if code != 334:
                return f"{code} {_short(' '.join(texts))}"
            line.send(_cram(texts[0], credentials))
        else:
            line.send(f"AUTH PLAIN {_plain(credentials)}")
        code, texts = self.reply(line)
        return "" if code == 235 else f"{code} {_short(' '.join(texts))}"

    def quit(self, line: Line) -> None:
        line.send("QUIT")
        self.reply(line)


PROTOCOLS: dict[str, Callable[[], Protocol]] = {"IMAP": Imap, "SMTP": Smtp}


@dataclass
class Journey:
    """The checks of one server, step by step; the first failure ends the journey."""

    protocol: Protocol
    server: Server
    options: Options
    checks: list[Check] = field(default_factory=list)
    step: str = "DNS"
    """The step under way: the one a failure is reported as."""

    @property
    def where(self) -> str:
        return f"{self.server.host}:{self.server.port}"

    def add(self, step: str, status: Status, detail: str, hint: str = "") -> None:
        target = self.server.host if step == "DNS" else self.where
        self.checks.append(Check(f"{self.protocol.name} {step}", target, status, detail, hint))

    def connect(self, resolver: Resolver) -> socket.socket:
        host, port = self.server.host, self.server.port
        try:
            addresses = resolver.addresses(host)
        except LookupFailed as exc:
            raise Failed(f"cannot resolve {host}: {exc}", "check --nameserver") from exc
        if not addresses:
            raise Failed(f"{host} does not resolve", f"publish the A/AAAA record of {host}")
        self.add("DNS", Status.PASS, ", ".join(addresses))
        self.step = "connect"
        try:
            sock = socket.create_connection((addresses[0], port), timeout=self.options.timeout)
        except OSError as exc:
            raise Failed(
                f"{addresses[0]} port {port}: {exc.strerror or exc or type(exc).__name__}",
                f"the profile says port {port}: is the server listening there and the firewall "
                "open? If the server uses another port, correct the port in the profile",
            ) from exc
        self.add("connect", Status.PASS, f"{addresses[0]} port {port} accepts connections")
        self.step = "TLS"
        return sock

    def secure(self, line: Line, tls: ssl.SSLContext) -> set[str]:
        """TLS as the profile declares; the capabilities offered inside it."""
        host, protocol = self.server.host, self.protocol
        implicit = self.server.security is Security.TLS
        label = "implicit TLS" if implicit else "STARTTLS"
        if implicit:
            handshake(
                line,
                tls,
                host,
                f"no TLS handshake on port {self.server.port}",
                'the profile says security = "tls" (implicit TLS, 993/465): enable it on '
                'this port, or, if the port expects STARTTLS, set security = "starttls"',
            )
            protocol.greet(line)
        else:
            protocol.greet(line)
            before = protocol.capabilities(line)
            if "STARTTLS" not in before:
                raise Failed(
                    f"port {self.server.port} does not offer STARTTLS",
                    "enable TLS on the server (Dovecot: ssl = yes, with its certificate); a "
                    'port with implicit TLS is security = "tls" in the profile',
                )
            if isinstance(protocol, Smtp):
                early = protocol.mechanisms(before)
                if early:
                    raise Failed(
                        f"offers AUTH {' '.join(sorted(early))} before TLS",
                        "passwords could travel in clear: offer AUTH only after STARTTLS "
                        "(Dovecot: disable_plaintext_auth = yes; Postfix: smtpd_tls_auth_only)",
                    )
            protocol.starttls(line)
            handshake(line, tls, host, "TLS handshake failed after STARTTLS", "look at its log")
        assert isinstance(line.sock, ssl.SSLSocket)
        days = days_left(line.sock)
        if days < self.options.min_days:
            raise Failed(
                f"{label}; the certificate expires in {days:.1f} days (< {self.options.min_days})",
                "renew the mail server's certificate and reload the server",
            )
        self.add("TLS", Status.PASS, f"{label}, certificate valid for {host}, {days:.1f} days left")
        self.step = "AUTH"
        return protocol.capabilities(line)

    def mechanism(self, capabilities: set[str]) -> str:
        offered = self.protocol.mechanisms(capabilities)
        wanted = MECHANISMS[self.server.auth]
        usable = [m for m in wanted if m in offered]
        if not usable:
            shown = " ".join(sorted(offered)) or "none"
            raise Failed(
                f'offers {shown}; auth = "{self.server.auth}" needs {" or ".join(wanted)}',
                "offer it on the server (Dovecot: auth_mechanisms = "
                f"{DOVECOT_MECHANISMS[self.server.auth]}), or correct auth in the profile",
            )
        self.add("AUTH", Status.PASS, f"offers {' '.join(sorted(offered))}")
        return usable[0]

    def run(self, resolver: Resolver, credentials: Credentials | None) -> list[Check]:
        line: Line | None = None
        try:
            sock = self.connect(resolver)
            sock.settimeout(self.options.timeout)
            line = Line(sock)
            mechanism = self.mechanism(self.secure(line, context(self.options)))
            if credentials is not None:
                self.step = "login"
                self.login(line, mechanism, credentials)
            self.step = "quit"
            self.protocol.quit(line)
        except Failed as exc:
            if self.step != "quit":  # after a login, Dovecot's submission may hang up at once
                self.add(self.step, Status.FAIL, exc.detail, exc.hint)
        except OSError as exc:  # TimeoutError included
            if self.step != "quit":
                self.add(self.step, Status.FAIL, _os_detail(exc, self.options), TIMEOUT_HINT)
        finally:
            if line is not None:
                line.close()
        return self.checks

    def login(self, line: Line, mechanism: str, credentials: Credentials) -> None:
        refusal = self.protocol.authenticate(line, mechanism, credentials)
        if refusal:
            raise Failed(
                f"login {credentials.login} refused ({mechanism}): {refusal}",
                "check the password; if it is right, the server does not know the login the "
                "service hands out (the directory's ID)",
            )
        self.add("login", Status.PASS, f"logged in as {credentials.login} ({mechanism})")


TIMEOUT_HINT = "is this the right port for this protocol, and does the server answer?"


def _os_detail(exc: OSError, options: Options) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {options.timeout:g} s"
    return str(exc) or type(exc).__name__


def mail_checks(
    imap: Server,
    smtp: Server,
    resolver: Resolver,
    options: Options,
    credentials: Credentials | None = None,
) -> list[Check]:
    """The checks of the IMAP server, then of the SMTP server."""
    checks: list[Check] = []
    for name, server in (("IMAP", imap), ("SMTP", smtp)):
        checks += Journey(PROTOCOLS[name](), server, options).run(resolver, credentials)
    return checks
