"""The LDAP backend: login IDs searched in the académie's directory with ldap3.

Safe by construction: the address is escaped (RFC 4515) before it enters the filter, at most one
entry is asked for (a second one makes the server answer ``sizeLimitExceeded``: the address is then
treated as unknown and counted), every operation has connect and receive timeouts, and bound
connections are kept in a small pool and reused (no bind per request). A pooled connection that
broke (the directory restarted) is replaced once within the same lookup, so lookups recover by
themselves. The bind password is never logged nor shown in :attr:`LdapDirectory.description`.

Lookups block: :mod:`autoconfig.usernames.bounded` runs them in threads within a time budget.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import ssl
import threading
from typing import Any, Literal

from ldap3 import (
    AUTO_BIND_NONE,
    BASE,
    LEVEL,
    NONE,
    SUBTREE,
    SYNC,
    Connection,
    Server,
    Tls,
)
from ldap3.core.exceptions import LDAPException

from autoconfig.address import Address
from autoconfig.errors import ConfigError, DirectoryError, Problem
from autoconfig.files import read_regular
from autoconfig.settings import LookupSettings
from autoconfig.usernames.entry import Entry, check_login, check_name
from autoconfig.usernames.ldapurl import LdapUrl, Scope, parse_url
from autoconfig.usernames.throttledlog import ThrottledLog

POOL_SIZE = 4
SCOPES: dict[Scope, Literal["BASE", "LEVEL", "SUBTREE"]] = {
    Scope.BASE: BASE,
    Scope.ONE: LEVEL,
    Scope.SUB: SUBTREE,
}
SUCCESS, SIZE_LIMIT_EXCEEDED = 0, 4

log = logging.getLogger(__name__)


class VerifiedTls(Tls):
    """TLS with the standard library's certificate and host name checks (IP addresses included)."""

    def __init__(self, context: ssl.SSLContext, host: str) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED)
        self.context = context
        self.host = host

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        connection.socket = self.context.wrap_socket(
            connection.socket, server_hostname=self.host, do_handshake_on_connect=do_handshake
        )


class LdapDirectory:
    """Login IDs searched in an LDAP directory. Ambiguous and invalid entries are logged (once
    per interval, never with the address) and answered as unknown."""

    def __init__(
        self,
        url: LdapUrl,
        bind_dn: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
        timeout: float = 2.0,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self.url = url
        self._bind_dn = bind_dn
        self._password = password
        self._timeout = timeout
        self._tls = None
        if url.use_ssl or url.start_tls:
            context = ssl.create_default_context(cafile=ca_file)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            self._tls = VerifiedTls(context, url.host)
        self._pool: queue.LifoQueue[Connection] = queue.LifoQueue(maxsize=pool_size)
        self._closed = False
        self._closing = threading.Lock()
        self._ambiguous = ThrottledLog(log, "directory has several entries for one address")
        self._invalid = ThrottledLog(log, "directory entry with an unusable login or name")

    @property
    def description(self) -> str:
        who = "bound as a service account" if self._bind_dn else "anonymous"
        return f"LDAP {self.url} ({who})"

    def lookup(self, address: Address) -> Entry | None:
        connection, reused = self._acquire()
        try:
            entry = self._search(connection, address)
        except DirectoryError:
            self._release(connection)
            raise
        except (LDAPException, OSError) as exc:
            self._discard(connection)
            if not reused:
                raise DirectoryError(f"LDAP search failed: {type(exc).__name__}") from exc
            return self.lookup(address)  # the pooled connection was stale: once more, afresh
        self._release(connection)
        return entry

    def prime(self) -> None:
        """Open and bind one connection ahead of the first lookup (raises DirectoryError)."""
        connection, _ = self._acquire()
        self._release(connection)

    def probe(self) -> None:
        """Connect and bind afresh (a pooled connection would hide a changed password), then
        read the base entry: :class:`DirectoryError` saying why when any step fails."""
        connection, _ = self._acquire(fresh=True)
        try:
            connection.search(
                self.url.base, "(objectClass=*)", search_scope=BASE, attributes=[], size_limit=1
            )
        except (LDAPException, OSError) as exc:
            self._discard(connection)
            raise DirectoryError(f"LDAP test search failed: {type(exc).__name__}") from exc
        code = (connection.result or {}).get("result")
        if code != SUCCESS:
            self._discard(connection)
            raise DirectoryError(
                f"LDAP test search of {self.url.base!r} failed: {_description(connection)}"
            )
        self._release(connection)

    def _search(self, connection: Connection, address: Address) -> Entry | None:
        connection.search(
            self.url.base,
            self.url.search_filter(address),
            search_scope=SCOPES[self.url.scope],
            attributes=self.url.attributes,
            size_limit=1,
            time_limit=max(1, math.ceil(self._timeout)),
        )
        result = connection.result or {}
        code = result.get("result")
        if code == SIZE_LIMIT_EXCEEDED:
            self._ambiguous.problem("treated as unknown")
            return None
        if code != SUCCESS:
            raise DirectoryError(f"LDAP search failed: {result.get('description', code)}")
        entries = [r for r in connection.response or [] if r.get("type") == "searchResEntry"]
        if not entries:
            return None
        return self._entry(entries[0]["raw_attributes"])

    def _entry(self, raw: Any) -> Entry | None:
        login = _first(raw.get(self.url.login_attribute))
        name = _first(raw.get(self.url.name_attribute)) if self.url.name_attribute else None
        reason = ("no login attribute" if login is None else check_login(login)) or (
            check_name(name) if name else None
        )
        if reason or login is None:
            self._invalid.problem(reason or "no login attribute")
            return None
        return Entry(login, name or None)

    def _acquire(self, fresh: bool = False) -> tuple[Connection, bool]:
        if not fresh:
            try:
                return self._pool.get_nowait(), True
            except queue.Empty:
                pass
        # A new Server each time: ldap3 marks an address that once failed as unusable for a while,
        # which would delay recovery when the directory comes back.
        server = Server(
            self.url.host,
            self.url.port,
            use_ssl=self.url.use_ssl,
            tls=self._tls,
            get_info=NONE,
            connect_timeout=self._timeout,
        )
        connection = Connection(
            server,
            user=self._bind_dn,
            password=self._password,
            auto_bind=AUTO_BIND_NONE,
            client_strategy=SYNC,
            read_only=True,
            receive_timeout=max(1, math.ceil(self._timeout)),  # whole seconds for ldap3
            raise_exceptions=False,
            auto_referrals=False,
            auto_escape=False,
        )
        try:
            connection.open()
            if self.url.start_tls and not connection.start_tls():
                raise DirectoryError(f"LDAP StartTLS refused: {_description(connection)}")
            if not connection.bind():
                raise DirectoryError(f"LDAP bind failed: {_description(connection)}")
        except (LDAPException, OSError) as exc:
            self._discard(connection)
            if isinstance(exc, DirectoryError):
                raise
            raise DirectoryError(f"LDAP connection failed: {exc}{_tls_hint(exc)}") from exc
        return connection, False

    def _release(self, connection: Connection) -> None:
        """Back to the pool, or closed when the pool is full or the directory closed: a lookup or
        probe that outlives :meth:`close` (a reload replaced the service meanwhile) leaves no
        connection open."""
        with self._closing:
            if not self._closed:
                try:
                    self._pool.put_nowait(connection)
                    return
                except queue.Full:
                    pass
        self._discard(connection)

    @staticmethod
    def _discard(connection: Connection) -> None:
        with contextlib.suppress(LDAPException, OSError):
            connection.unbind()
        if connection.socket is not None:  # left open by ldap3 when opening failed
            connection.socket.close()

    def close(self) -> None:
        with self._closing:
            self._closed = True
        while True:
            try:
                self._discard(self._pool.get_nowait())
            except queue.Empty:
                return


def _tls_hint(exc: BaseException) -> str:
    """A hint for a refused certificate: the usual causes, and the option that fixes the first."""
    text = f"{exc} {exc.__cause__ or ''}".casefold()
    if isinstance(exc, ssl.SSLError) or "certificate" in text or "hostname" in text:
        return (
            " (the server's certificate was refused: is it issued by a CA of --ldap-ca-file, "
            "and does it name the URL's host?)"
        )
    return ""


def _description(connection: Connection) -> str:
    result = connection.result or {}
    return str(result.get("description") or result.get("result") or "no answer")


def _first(values: Any) -> str | None:
    """The first value of an attribute, decoded; ``None`` when absent or not UTF-8."""
    if not values:
        return None
    try:
        return bytes(values[0]).decode("utf-8").strip()
    except UnicodeDecodeError:
        return None


def open_ldap(spec: str, settings: LookupSettings) -> LdapDirectory:
    """The LDAP backend for an ``ldap://``/``ldaps://`` URL, with credentials from ``settings``.

    Nothing is contacted here: a directory that is down must not stop the service from starting.
    """
    url = parse_url(spec)
    problems: list[Problem] = []
    password = settings.ldap_password
    if settings.ldap_password_file is not None:
        try:
            password = read_regular(settings.ldap_password_file).decode("utf-8").strip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            problems.append(
                Problem(
                    "AUTOCONFIG_LDAP_PASSWORD_FILE",
                    "",
                    f"{settings.ldap_password_file}: cannot be read: {reason}",
                )
            )
    if password and not settings.ldap_bind_dn:
        problems.append(
            Problem(
                "AUTOCONFIG_LDAP_BIND_DN",
                "",
                "a bind password is set but no bind DN (expected both)",
            )
        )
    if settings.ldap_bind_dn and not password:
        problems.append(
            Problem(
                "AUTOCONFIG_LDAP_PASSWORD",
                "",
                "a bind DN is set but no password (expected AUTOCONFIG_LDAP_PASSWORD_FILE "
                "or AUTOCONFIG_LDAP_PASSWORD)",
            )
        )
    ca_file = settings.ldap_ca_file
    if ca_file is not None and not ca_file.is_file():
        problems.append(Problem("--ldap-ca-file", "", f"{ca_file}: no such file"))
    if ca_file is not None and not (url.use_ssl or url.start_tls):
        problems.append(
            Problem("--ldap-ca-file", "", "set, but the URL is neither ldaps:// nor ?…?!StartTLS")
        )
    if problems:
        raise ConfigError(problems)
    try:
        return LdapDirectory(
            url,
            settings.ldap_bind_dn,
            password,
            str(ca_file) if ca_file else None,
            settings.ldap_timeout,
        )
    except ssl.SSLError as exc:
        raise ConfigError(
            [Problem("--ldap-ca-file", "", f"{ca_file}: not a CA file: {exc}")]
        ) from exc
