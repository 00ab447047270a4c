"""The LDAP directory named by an RFC 4516 URL, and the RFC 4515 escaping of filter values.

::

    ldap[s]://host[:port]/base-dn?login-attr[,name-attr]?scope?filter[?extensions]

* ``base-dn``: where people are searched (required).
* attributes: the first holds the login ID (default ``uid``); an optional second holds the person's
  display name (e.g. ``uid,displayName``).
* ``scope``: ``base``, ``one`` or ``sub`` (default ``sub``: people live below the base).
* ``filter``: the search filter, with the placeholders ``{email}``, ``{local}`` and ``{domain}``
  replaced by the escaped address, its local part and its domain (default ``(mail={email})``).
* extensions: ``StartTLS`` (or ``!StartTLS``) upgrades an ``ldap://`` connection before binding.
  Other non-critical extensions are ignored, a critical one (``!name``) that is not understood is
  an error, as RFC 4516 asks.

Each part may be percent-encoded. The URL never holds a password: bind credentials come from the
service settings.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from autoconfig.address import Address
from autoconfig.errors import ConfigError, Problem

DEFAULT_PORTS = {"ldap": 389, "ldaps": 636}
DEFAULT_FILTER = "(mail={email})"
DEFAULT_LOGIN_ATTRIBUTE = "uid"
PLACEHOLDERS = ("{email}", "{local}", "{domain}")

_ATTRIBUTE_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+")
_PLACEHOLDER_RE = re.compile(r"\{[^{}]*\}")
_HOST_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_SPECIAL = {"\\": r"\5c", "*": r"\2a", "(": r"\28", ")": r"\29", "\x00": r"\00"}
_SPECIAL_RE = re.compile(r"[\\*()\x00]")


class Scope(StrEnum):
    BASE = "base"
    ONE = "one"
    SUB = "sub"


@dataclass(frozen=True, slots=True)
class LdapUrl:
    """What an LDAP directory URL says, validated."""

    scheme: str
    host: str
    port: int
    base: str
    login_attribute: str
    name_attribute: str | None
    scope: Scope
    filter: str
    start_tls: bool

    @property
    def use_ssl(self) -> bool:
        return self.scheme == "ldaps"

    @property
    def attributes(self) -> list[str]:
        return [self.login_attribute, *([self.name_attribute] if self.name_attribute else [])]

    def __str__(self) -> str:
        attributes = ",".join(self.attributes)
        tls = "?!StartTLS" if self.start_tls else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (
            f"{self.scheme}://{host}:{self.port}/{self.base}?{attributes}?{self.scope}?{self.filter}"
            + tls
        )

    def search_filter(self, address: Address) -> str:
        """The filter for ``address``, every value escaped (RFC 4515). The values come from its
        canonical key, the very string the cache and the per-client limit use: what the
        directory is asked is all the key stands for, so no spelling can fill another's key."""
        key = address.key
        local = key.rpartition("@")[0]
        values = {
            "{email}": escape_filter_value(key),
            "{local}": escape_filter_value(local),
            "{domain}": escape_filter_value(address.domain),
        }
        return _PLACEHOLDER_RE.sub(lambda m: values[m.group(0)], self.filter)


def escape_filter_value(value: str) -> str:
    r"""``value`` made safe inside an LDAP filter: ``\ * ( )`` and NUL become ``\XX`` (RFC 4515 §3)."""
    return _SPECIAL_RE.sub(lambda m: _SPECIAL[m.group(0)], value)


def is_ldap_url(spec: str) -> bool:
    return spec.lower().startswith(("ldap://", "ldaps://"))


def parse_url(spec: str, key: str = "--directory") -> LdapUrl:
    """Parse and check an LDAP URL; raise :class:`ConfigError` listing everything wrong with it."""
    problems: list[str] = []
    try:
        parts = urlsplit(spec)
    except ValueError as exc:  # an unclosed '[' of an IPv6 address
        problem = f"{_redacted_text(spec)}: {exc} (expected e.g. ldap://[::1]:389/dc=example)"
        raise ConfigError([Problem(key, "", problem)]) from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        problems.append(f"scheme {parts.scheme!r} (expected ldap or ldaps)")
    if parts.username or parts.password:
        problems.append("the URL holds credentials (give the bind DN and password as settings)")
    if parts.fragment:
        problems.append("the URL has a '#' fragment (expected none)")
    try:
        host, port = parts.hostname or "", parts.port or DEFAULT_PORTS.get(scheme, 389)
    except ValueError:
        host, port = parts.hostname or "", 0
        problems.append("the port is not a number from 1 to 65535")
    if not host:
        problems.append("no host (expected ldap://host:port/base-dn?…)")
    elif not _HOST_RE.fullmatch(host) and not _is_ip(host):
        problems.append(
            f"host {host!r} is not a host name or an IP address (expected e.g. ldap.example.org)"
        )
    base = unquote(parts.path.removeprefix("/"))
    if not base:
        problems.append("no base DN (expected e.g. ldap://host/ou=people,dc=example,dc=org)")
    fields = [*parts.query.split("?"), "", "", "", ""][:4] if parts.query else ["", "", "", ""]
    if parts.query.count("?") > 3:
        problems.append("too many '?' parts (expected attributes?scope?filter?extensions)")
    attributes, scope_text, filter_text, extensions = (unquote(f) for f in fields)
    login_attribute, name_attribute = _attributes(attributes, problems)
    scope = _scope(scope_text, problems)
    search_filter = filter_text or DEFAULT_FILTER
    _check_filter(search_filter, problems)
    start_tls = _extensions(extensions, problems)
    if start_tls and scheme == "ldaps":
        problems.append("StartTLS on an ldaps:// URL (the connection is already TLS)")
    if problems:
        raise ConfigError([Problem(key, "", f"{_redacted(spec)}: {p}") for p in problems])
    return LdapUrl(
        scheme, host, port, base, login_attribute, name_attribute, scope, search_filter, start_tls
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _redacted_text(spec: str) -> str:
    """``spec`` with whatever sits between ``://`` and an ``@`` masked (for a URL that does not
    even split)."""
    head, sep, rest = spec.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{head}://***@{rest.split('@', 1)[1]}"
    return spec


def _redacted(spec: str) -> str:
    parts = urlsplit(spec)
    if parts.password is None:
        return spec
    return spec.replace(f":{parts.password}@", ":***@", 1)


def _attributes(text: str, problems: list[str]) -> tuple[str, str | None]:
    names = [n.strip() for n in text.split(",")] if text else [DEFAULT_LOGIN_ATTRIBUTE]
    bad = [n for n in names if not _ATTRIBUTE_RE.fullmatch(n)]
    if bad or len(names) > 2:
        problems.append(
            f"attributes {text!r} (expected the login attribute and optionally the display-name "
            "attribute, e.g. uid or uid,displayName)"
        )
        return DEFAULT_LOGIN_ATTRIBUTE, None
    return names[0], names[1] if len(names) == 2 else None


def _scope(text: str, problems: list[str]) -> Scope:
    try:
        return Scope(text.lower() or Scope.SUB)
    except ValueError:
        problems.append(f"scope {text!r} (expected base, one or sub)")
        return Scope.SUB


def _check_filter(text: str, problems: list[str]) -> None:
    unknown = sorted(set(_PLACEHOLDER_RE.findall(text)) - set(PLACEHOLDERS))
    if unknown:
        problems.append(
            f"filter {text!r} has unknown placeholder(s) {', '.join(unknown)} "
            f"(expected {', '.join(PLACEHOLDERS)})"
        )
    if not any(p in text for p in PLACEHOLDERS):
        problems.append(
            f"filter {text!r} does not use the address (expected e.g. (mail={{email}}))"
        )
    depth = 0
    for char in _PLACEHOLDER_RE.sub("x", text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if not text.startswith("(") or depth != 0:
        problems.append(
            f"filter {text!r} is not one parenthesised filter (expected e.g. (mail={{email}}))"
        )


def _extensions(text: str, problems: list[str]) -> bool:
    start_tls = False
    for extension in filter(None, (e.strip() for e in text.split(","))):
        critical = extension.startswith("!")
        name = extension.removeprefix("!").split("=", 1)[0]
        if name.lower() == "starttls":
            start_tls = True
        elif critical:
            problems.append(f"critical extension {name!r} is not supported (expected !StartTLS)")
    return start_tls
