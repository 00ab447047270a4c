"""Load ``profiles/*.toml`` into :class:`~autoconfig.model.Provider` objects.

Validation happens here, once, at load time. Every problem of every file is collected and raised
together in one :class:`~autoconfig.errors.ConfigError`, each naming the file, the key, the value
found and what was expected, so that ``autoconfig check`` can list them all at once.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from autoconfig.address import normalise_domain
from autoconfig.errors import ConfigError, Problem
from autoconfig.files import read_regular
from autoconfig.model import (
    DEFAULT_LOGIN_NAME,
    PLACEHOLDERS,
    Auth,
    DavServer,
    Help,
    LoginPolicy,
    LoginSource,
    Provider,
    Security,
    Server,
    Unknown,
    Webmail,
)
from autoconfig.profiles import dns as dns_table
from autoconfig.profiles import guide as guide_table
from autoconfig.profiles.reader import Reader, host_name, https_url_of

MAX_NAME = 60
MAX_SHORT_NAME = 20


def _template(text: str) -> str | None:
    if not text.isprintable() or any(c.isspace() for c in text) or len(text) > 256:
        return None
    return text


def _server(parent: Reader, key: str) -> Server | None:
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


MAX_LOGIN_NAME = 40


def _login(parent: Reader, languages: tuple[str, ...] | None) -> LoginPolicy | None:
    table = parent.table("login")
    if table is None:
        return None
    source = table.choice("source", LoginSource)
    unknown = table.choice("unknown", Unknown, default=Unknown.ASK)
    if source is LoginSource.TEMPLATE and table.has("unknown"):
        table.problem(
            "unknown",
            "is not used when login.source = 'template' (the template gives everyone's login)",
        )
    name = table.localized("name", MAX_LOGIN_NAME, languages) if table.has("name") else None
    key = "fallback" if source is LoginSource.DIRECTORY else "template"
    template = table.checked(
        key,
        _template,
        "a login template (expected text without spaces, "
        f"optionally with {', '.join(PLACEHOLDERS)})",
    )
    other = "template" if key == "fallback" else "fallback"
    if table.has(other) and source is not None:
        table.problem(
            other, f"is not used when login.source = {source.value!r} (expected {key} instead)"
        )
    table.finish()
    if source is None or template is None or unknown is None:
        return None
    if table.has("name") and name is None:
        return None
    return LoginPolicy(source, template, unknown, name or DEFAULT_LOGIN_NAME)


def _dav(parent: Reader, key: str) -> DavServer | None:
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


def parse_profile(source: str, data: Mapping[str, Any], problems: list[Problem]) -> Provider | None:
    """Build one provider from the parsed TOML ``data``; append what is wrong to ``problems``."""
    top = Reader(source, data, "", problems)
    provider = top.table("provider")
    name = short_name = organization = None
    domains: tuple[str, ...] | None = None
    provider_id = None
    if provider is not None:
        domains = provider.strings(
            "domains", host_name, "a domain name (expected e.g. example.org)"
        )
        provider_id = provider.checked(
            "id", host_name, "a host name (expected the main domain)", required=False
        )
        name = provider.localized("name", MAX_NAME, None)
        languages = name.languages if name else None
        short_name = provider.localized("short_name", MAX_SHORT_NAME, languages)
        organization = provider.localized("organization", MAX_NAME, languages)
        provider.finish()
    imap = _server(top, "imap")
    smtp = _server(top, "smtp")
    login = _login(top, name.languages if name else None)
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
        urls = web_table.strings("urls", https_url_of, "an https URL")
        portal = web_table.url("login_portal", required=False)
        web_table.finish()
        webmail = Webmail(urls, portal) if urls else None
    caldav = _dav(top, "caldav")
    carddav = _dav(top, "carddav")
    guide_ok, guide = guide_table.parse(
        top, name.languages if name else None, webmail.login_portal if webmail else None
    )
    dns = dns_table.parse(top, imap, smtp)
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
            data = tomllib.loads(read_regular(path).decode("utf-8"))
        except OSError as exc:
            problems.append(Problem(source, "", f"cannot be read: {exc.strerror}"))
            continue
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            problems.append(Problem(source, "", f"cannot be read as TOML: {exc}"))
            continue
        except RecursionError:
            problems.append(
                Problem(source, "", "cannot be read as TOML: its tables or arrays nest too deeply")
            )
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
