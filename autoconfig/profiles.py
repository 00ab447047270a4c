"""Load ``profiles/*.toml`` into :class:`~autoconfig.model.Provider` objects.

Validation happens here, once, at load time. Every problem of every file is collected and raised
together in one :class:`~autoconfig.errors.ConfigError`, each naming the file, the key, the value
found and what was expected, so that ``autoconfig check`` can list them all at once.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from autoconfig import guide as guide_table
from autoconfig.address import is_hostname, normalise_domain
from autoconfig.errors import AddressError, ConfigError, Problem
from autoconfig.model import (
    DEFAULT_TTL,
    MAIL_SERVICES,
    PLACEHOLDERS,
    Auth,
    DavServer,
    DnsPolicy,
    Help,
    Localized,
    LoginPolicy,
    LoginSource,
    Provider,
    Security,
    Server,
    Webmail,
)

E = TypeVar("E", bound=StrEnum)

MAX_NAME = 60
MAX_SHORT_NAME = 20
_MISSING = object()


class _Reader:
    """Reads one table of one file, remembering every problem instead of stopping at the first."""

    def __init__(self, source: str, data: Mapping[str, Any], prefix: str, problems: list[Problem]):
        self.source = source
        self.data = data
        self.prefix = prefix
        self.problems = problems
        self.seen: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.source, self.path(key) if key else self.prefix, message))

    def raw(self, key: str, required: bool) -> Any:
        self.seen.add(key)
        value = self.data.get(key, _MISSING)
        if value is _MISSING and required:
            self.problem(key, "is missing (required)")
        return value

    def table(self, key: str, required: bool = True) -> _Reader | None:
        value = self.raw(key, required)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.problem(key, f"{value!r} is not a table (expected [{self.path(key)}])")
            return None
        return _Reader(self.source, value, self.path(key), self.problems)

    def string(self, key: str, required: bool = True) -> str | None:
        value = self.raw(key, required)
        if value is _MISSING:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(key, f"{value!r} is not a non-empty string")
            return None
        return value

    def checked(
        self, key: str, check: Callable[[str], str | None], expected: str, required: bool = True
    ) -> str | None:
        value = self.string(key, required)
        if value is None:
            return None
        result = check(value)
        if result is None:
            self.problem(key, f"{value!r} is not {expected}")
        return result

    def hostname(self, key: str) -> str | None:
        return self.checked(key, _hostname, "a host name (expected e.g. imap.example.org)")

    def url(self, key: str, required: bool = True) -> str | None:
        return self.checked(
            key, _https_url, "an https URL (expected e.g. https://example.org/)", required
        )

    def port(self, key: str) -> int | None:
        value = self.raw(key, True)
        if value is _MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            self.problem(key, f"{value!r} is not a valid port (expected 1-65535)")
            return None
        return value

    def choice(self, key: str, enum: type[E]) -> E | None:
        value = self.raw(key, True)
        if value is _MISSING:
            return None
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in enum)
            self.problem(key, f"{value!r} is not allowed (expected one of {allowed})")
            return None

    def localized(
        self, key: str, max_length: int, languages: tuple[str, ...] | None
    ) -> Localized | None:
        value = self.raw(key, True)
        if value is _MISSING:
            return None
        if not isinstance(value, dict) or not value:
            self.problem(
                key, f'{value!r} is not a table of texts by language (expected {key}.fr = "…")'
            )
            return None
        texts: list[tuple[str, str]] = []
        for lang, text in value.items():
            where = f"{key}.{lang}"
            if not isinstance(text, str) or not text.strip():
                self.problem(where, f"{text!r} is not a non-empty string")
            elif len(text) > max_length:
                self.problem(
                    where,
                    f"{text!r} is {len(text)} characters long (expected at most {max_length})",
                )
            elif len(lang) != 2 or not lang.isalpha() or not lang.islower():
                self.problem(
                    where,
                    f"{lang!r} is not a language code (expected two lower-case letters, e.g. fr)",
                )
            else:
                texts.append((lang, text))
        if languages is not None and texts and tuple(c for c, _ in texts) != languages:
            self.problem(
                key,
                f"has languages {[c for c, _ in texts]} (expected {list(languages)}, "
                "in the same order as provider.name)",
            )
        return Localized(tuple(texts)) if len(texts) == len(value) else None

    def strings(
        self, key: str, check: Callable[[str], str | None], expected: str, required: bool = True
    ) -> tuple[str, ...] | None:
        value = self.raw(key, required)
        if value is _MISSING:
            return None
        if not isinstance(value, list) or not value:
            self.problem(key, f"{value!r} is not a non-empty list")
            return None
        result: list[str] = []
        for i, item in enumerate(value):
            checked = check(item) if isinstance(item, str) else None
            if checked is None:
                self.problem(f"{key}[{i}]", f"{item!r} is not {expected}")
            else:
                result.append(checked)
        return tuple(result) if len(result) == len(value) else None

    def finish(self) -> None:
        """Report keys that were never asked for: typos must not be ignored silently."""
        for key in self.data:
            if key not in self.seen:
                known = sorted(self.seen)
                hint = _did_you_mean(key, known)
                self.problem(key, f"is not a known key{hint} (known here: {', '.join(known)})")


def _did_you_mean(key: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _hostname(text: str) -> str | None:
    try:
        name = normalise_domain(text)
    except AddressError:
        return None
    return name if is_hostname(name) else None


def _https_url(text: str) -> str | None:
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname or _hostname(parts.hostname) is None:
        return None
    if any(c.isspace() for c in text) or not text.isprintable():
        return None
    return text


def _template(text: str) -> str | None:
    if not text.isprintable() or any(c.isspace() for c in text) or len(text) > 256:
        return None
    return text


def _server(parent: _Reader, key: str) -> Server | None:
    table = parent.table(key)
    if table is None:
        return None
    host = table.hostname("host")
    port = table.port("port")
    security = table.choice("security", Security)
    auth = table.choice("auth", Auth)
    table.finish()
    if host is None or port is None or security is None or auth is None:
        return None
    return Server(host, port, security, auth)


def _login(parent: _Reader) -> LoginPolicy | None:
    table = parent.table("login")
    if table is None:
        return None
    source = table.choice("source", LoginSource)
    key = "fallback" if source is LoginSource.DIRECTORY else "template"
    template = table.checked(
        key,
        _template,
        "a login template (expected text without spaces, "
        f"optionally with {', '.join(PLACEHOLDERS)})",
    )
    other = "template" if key == "fallback" else "fallback"
    if other in table.data and source is not None:
        table.seen.add(other)
        table.problem(
            other, f"is not used when login.source = {source.value!r} (expected {key} instead)"
        )
    table.finish()
    if source is None or template is None:
        return None
    return LoginPolicy(source, template)


def _dav(parent: _Reader, key: str) -> DavServer | None:
    table = parent.table(key, required=False)
    if table is None:
        return None
    url = table.url("url")
    table.finish()
    if url is None:
        return None
    parts = urlsplit(url)
    assert parts.hostname is not None  # checked by table.url
    path = parts.path or "/"
    return DavServer(url, normalise_domain(parts.hostname), parts.port or 443, path)


MIN_TTL, MAX_TTL = 60, 604800


def _ip_address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _service(text: str) -> str | None:
    return text if text in MAIL_SERVICES else None


def offered_services(imap: Server | None, smtp: Server | None) -> set[str]:
    """The RFC 6186 / 8314 labels of the services a profile's servers provide."""
    offered = set()
    if imap is not None:
        offered.add("imaps" if imap.security is Security.TLS else "imap")
    if smtp is not None:
        offered.add("submissions" if smtp.security is Security.TLS else "submission")
    return offered


def _dns(parent: _Reader, imap: Server | None, smtp: Server | None) -> DnsPolicy | None:
    """The optional ``[dns]`` table; ``DnsPolicy()`` when absent, ``None`` when invalid."""
    table = parent.table("dns", required=False)
    if table is None:
        return DnsPolicy() if "dns" not in parent.data else None
    problems_before = len(table.problems)
    ttl = table.raw("ttl", False)
    if ttl is _MISSING:
        ttl = DEFAULT_TTL
    elif isinstance(ttl, bool) or not isinstance(ttl, int) or not MIN_TTL <= ttl <= MAX_TTL:
        table.problem("ttl", f"{ttl!r} is not a TTL (expected seconds, {MIN_TTL}-{MAX_TTL})")
    cname = table.hostname("cname") if "cname" in table.data else None
    addresses: tuple[str, ...] = ()
    if "addresses" in table.data:
        addresses = (
            table.strings(
                "addresses", _ip_address, "an IP address (expected e.g. 192.0.2.10 or 2001:db8::10)"
            )
            or ()
        )
        if cname is not None and addresses:
            table.problem(
                "addresses",
                "is set together with dns.cname (expected one of them: a name with a CNAME "
                "cannot have other records)",
            )
    absent: tuple[str, ...] = ()
    if "absent" in table.data:
        expected = f"a mail service label (expected one of {', '.join(MAIL_SERVICES)})"
        absent = table.strings("absent", _service, expected) or ()
        for label in sorted(set(absent) & offered_services(imap, smtp)):
            table.problem(
                "absent", f"{label!r} is offered by this profile's servers (expected it not listed)"
            )
        if len(set(absent)) != len(absent):
            table.problem("absent", f"{list(absent)!r} lists a service twice")
    table.seen.update({"cname", "addresses", "absent"})
    table.finish()
    if len(table.problems) > problems_before:
        return None
    return DnsPolicy(ttl, cname, addresses, absent)


def parse_profile(source: str, data: Mapping[str, Any], problems: list[Problem]) -> Provider | None:
    """Build one provider from the parsed TOML ``data``; append what is wrong to ``problems``."""
    top = _Reader(source, data, "", problems)
    provider = top.table("provider")
    name = short_name = organization = None
    domains: tuple[str, ...] | None = None
    provider_id = None
    if provider is not None:
        domains = provider.strings(
            "domains", _hostname, "a domain name (expected e.g. example.org)"
        )
        provider_id = provider.checked(
            "id", _hostname, "a host name (expected the main domain)", required=False
        )
        name = provider.localized("name", MAX_NAME, None)
        languages = name.languages if name else None
        short_name = provider.localized("short_name", MAX_SHORT_NAME, languages)
        organization = provider.localized("organization", MAX_NAME, languages)
        provider.finish()
    imap = _server(top, "imap")
    smtp = _server(top, "smtp")
    login = _login(top)
    help_ = None
    help_table = top.table("help")
    if help_table is not None:
        url = help_table.url("url")
        title = help_table.localized("title", MAX_NAME, name.languages if name else None)
        help_table.finish()
        help_ = Help(url, title) if url and title else None
    webmail = None
    web_table = top.table("webmail")
    if web_table is not None:
        urls = web_table.strings("urls", _https_url, "an https URL")
        portal = web_table.url("login_portal", required=False)
        web_table.finish()
        webmail = Webmail(urls, portal) if urls else None
    caldav = _dav(top, "caldav")
    carddav = _dav(top, "carddav")
    guide_ok, guide = guide_table.parse(
        top, name.languages if name else None, webmail.login_portal if webmail else None
    )
    dns = _dns(top, imap, smtp)
    top.finish()
    if (
        domains is None
        or name is None
        or short_name is None
        or organization is None
        or imap is None
        or smtp is None
        or login is None
        or help_ is None
        or webmail is None
        or not guide_ok
        or dns is None
    ):
        return None
    return Provider(
        id=provider_id or domains[0],
        domains=domains,
        name=name,
        short_name=short_name,
        organization=organization,
        imap=imap,
        smtp=smtp,
        login=login,
        help=help_,
        webmail=webmail,
        caldav=caldav,
        carddav=carddav,
        guide=guide,
        source=source,
        dns=dns,
    )


def load(directory: Path) -> tuple[Provider, ...]:
    """Load every ``*.toml`` file of ``directory``, or raise :class:`ConfigError` listing all problems."""
    problems: list[Problem] = []
    providers: list[Provider] = []
    if not directory.is_dir():
        raise ConfigError([Problem(str(directory), "", "is not a folder of profiles")])
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise ConfigError([Problem(str(directory), "", "holds no *.toml profile")])
    owners: dict[str, str] = {}
    for path in files:
        source = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            problems.append(Problem(source, "", f"cannot be read as TOML: {exc}"))
            continue
        provider = parse_profile(source, data, problems)
        if provider is None:
            continue
        for domain in provider.domains:
            if domain in owners:
                problems.append(
                    Problem(
                        source,
                        "provider.domains",
                        f"{domain!r} is already served by {owners[domain]} "
                        "(expected each domain in one profile only)",
                    )
                )
            owners[domain] = source
        providers.append(provider)
    if problems:
        raise ConfigError(problems)
    return tuple(providers)
