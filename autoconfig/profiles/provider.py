"""Load ``profiles/*.toml`` into :class:`~autoconfig.model.Provider` objects.

Validation happens here, once, at load time. Every problem of every file is collected and raised
together in one :class:`~autoconfig.errors.ConfigError`, each naming the file, the key, the value
found and what was expected, so that ``autoconfig check`` can list them all at once.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from autoconfig.address import normalise_domain
from autoconfig.errors import ConfigError, Problem
from autoconfig.files import read_regular
from autoconfig.model import (
    DEFAULT_LOGIN_NAME,
    LOGO_TYPES,
    PLACEHOLDERS,
    Auth,
    DavServer,
    Help,
    Localized,
    LoginPolicy,
    LoginSource,
    Logo,
    Provider,
    Security,
    Server,
    Unknown,
    Webmail,
)
from autoconfig.profiles import dns as dns_table
from autoconfig.profiles import guide as guide_table
from autoconfig.profiles.reader import MISSING, Reader, host_name, https_url_of

MAX_NAME = 60
MAX_SHORT_NAME = 20
MAX_WEBMAIL_LABEL = 40
MAX_LOGO = 256 * 1024
"""Largest logo file, in bytes (it is read into memory and sent with every page's header)."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
MIN_CONTRAST = 4.5
"""WCAG 2 AA contrast for text: the header's white text on the colour, the colour's links on
the page (:data:`BACKGROUNDS`)."""
BACKGROUNDS = (("white", "#ffffff"), ("the light tint of the help site", "#f2f4f8"))
"""What the brand colour is shown against (the stylesheet's --paper and --tint)."""


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
    accepted = table.flag("address_accepted")
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
    return LoginPolicy(source, template, unknown, name or DEFAULT_LOGIN_NAME, bool(accepted))


PACC_PORTS = {"imap": 993, "smtp": 465}
"""PACC has no port field: clients use implicit TLS on the protocols' own ports (RFC 8314)."""


def _pacc(
    parent: Reader,
    login: LoginPolicy | None,
    servers: dict[str, Server | None],
    dav: dict[str, DavServer | None],
) -> bool | None:
    """The optional ``[pacc]`` table: whether PACC is served; ``None`` when refused. PACC has no
    username field (clients log in with the address), no port or security field, and says only
    ``"password": true`` (a password inside TLS, not CRAM-MD5)."""
    table = parent.table("pacc", required=False)
    if table is None:
        return None if parent.has("pacc") else False
    before = len(table.problems)
    enabled = table.flag("enabled")
    table.finish()
    if enabled and login is not None and not login.address_is_a_login:
        table.problem(
            "enabled",
            "PACC has no username field: clients log in with the address itself (expected "
            "login.address_accepted = true, only if the servers accept the address as login)",
        )
    for kind, port in PACC_PORTS.items():
        server = servers[kind]
        if (
            enabled
            and server is not None
            and (server.security, server.port) != (Security.TLS, port)
        ):
            table.problem(
                "enabled",
                f"PACC clients reach {kind} with implicit TLS on port {port} (expected "
                f"{kind}.security = 'tls' and {kind}.port = {port})",
            )
        if enabled and server is not None and server.auth is not Auth.PASSWORD:
            table.problem(
                "enabled",
                f"PACC announces a password sent inside TLS, its clients would not try "
                f"{server.auth} (expected {kind}.auth = '{Auth.PASSWORD}')",
            )
    for kind, dav_server in dav.items():
        if enabled and dav_server is not None and urlsplit(dav_server.url).port not in (None, 443):
            table.problem(
                "enabled",
                f"PACC clients reach {kind} on the https port (expected {kind}.url without a port)",
            )
    if len(table.problems) > before:
        return None
    return bool(enabled)


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


def _webmail(top: Reader, languages: tuple[str, ...] | None) -> Webmail | None:
    """``[webmail]``: ``urls`` lists https URLs, each a string or ``{ url = "…", label.fr = "…" }``."""
    table = top.table("webmail")
    if table is None:
        return None
    value = table.raw("urls", True)
    urls: list[str] = []
    labels: list[Localized | None] = []
    ok = value is not MISSING
    if ok and (not isinstance(value, list) or not value):
        table.problem("urls", f"{value!r} is not a non-empty list")
        ok = False
    for i, item in enumerate(value if ok else ()):
        where = f"urls[{i}]"
        if isinstance(item, dict):
            entry = Reader(table.source, item, table.path(where), table.problems)
            url = entry.url("url")
            label = entry.localized("label", MAX_WEBMAIL_LABEL, languages)
            entry.finish()
            ok = ok and url is not None and label is not None
            urls.append(url or "")
            labels.append(label)
            continue
        url = https_url_of(item) if isinstance(item, str) else None
        if url is None:
            table.problem(where, f"{item!r} is not an https URL")
            ok = False
        urls.append(url or "")
        labels.append(None)
    portal = table.url("login_portal", required=False)
    table.finish()
    if not ok:
        return None
    return Webmail(tuple(urls), portal, tuple(labels) if any(labels) else ())


def _logo(table: Reader, source: str) -> tuple[bool, Logo | None]:
    """``provider.logo``: an SVG or PNG file, named relative to the profile's folder."""
    name = table.string("logo", required=False)
    if name is None:
        return not table.has("logo"), None
    path = Path(source).parent / name
    suffix = path.suffix.lower()
    if suffix not in LOGO_TYPES:
        table.problem("logo", f"{name!r} is not an .svg or .png file")
        return False, None
    try:
        content = path.read_bytes()
    except OSError as exc:
        table.problem("logo", f"{name!r} cannot be read ({exc.strerror or exc}) at {path}")
        return False, None
    problem = _logo_problem(suffix, content)
    if problem is not None:
        table.problem("logo", f"{name!r} {problem}")
        return False, None
    return True, Logo(suffix, content, hashlib.sha256(content).hexdigest()[:16])


def _logo_problem(suffix: str, content: bytes) -> str | None:
    if len(content) > MAX_LOGO:
        return f"is {len(content)} bytes long (expected at most {MAX_LOGO})"
    if suffix == ".png":
        return None if content.startswith(PNG_SIGNATURE) else "is not a PNG image"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError:
        return "is not an SVG image (not well-formed XML)"
    if root.tag != SVG_NAMESPACE + "svg":
        return "is not an SVG image (expected an <svg> root in the SVG namespace)"
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in (SVG_NAMESPACE + "script", SVG_NAMESPACE + "foreignObject"):
            return "holds a script or foreign content (expected a plain picture)"
        for attribute, value in element.attrib.items():
            local = str(attribute).rsplit("}", 1)[-1]
            if local.lower().startswith("on"):
                return f"holds an event handler ({local}; expected a plain picture)"
            if local == "href" and not str(value).startswith(("#", "data:image/")):
                return "links to another file (expected a self-contained picture)"
    return None


def _colour(table: Reader) -> tuple[bool, str | None]:
    """``provider.colour``: ``#rrggbb``, dark enough for white text and for links (WCAG AA)."""
    text = table.string("colour", required=False)
    if text is None:
        return not table.has("colour"), None
    if not _COLOUR.fullmatch(text):
        table.problem("colour", f"{text!r} is not a colour (expected #rrggbb, e.g. #00468c)")
        return False, None
    colour = text.lower()
    for where, background in BACKGROUNDS:
        ratio = contrast(colour, background)
        if ratio < MIN_CONTRAST:
            table.problem(
                "colour",
                f"{text!r} has a contrast of {ratio:.2f}:1 with {where} (expected at least "
                f"{MIN_CONTRAST}:1, WCAG AA: choose a darker colour)",
            )
            return False, None
    return True, colour


def _luminance(colour: str) -> float:
    """The WCAG 2 relative luminance of ``#rrggbb``."""
    channels = []
    for i in (1, 3, 5):
        c = int(colour[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """The WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    a, b = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def parse_profile(source: str, data: Mapping[str, Any], problems: list[Problem]) -> Provider | None:
    """Build one provider from the parsed TOML ``data``; append what is wrong to ``problems``."""
    top = Reader(source, data, "", problems)
    provider = top.table("provider")
    name = short_name = organization = None
    domains: tuple[str, ...] | None = None
    provider_id = None
    logo: Logo | None = None
    colour: str | None = None
    logo_ok = colour_ok = True
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
        logo_ok, logo = _logo(provider, source)
        colour_ok, colour = _colour(provider)
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
    webmail = _webmail(top, name.languages if name else None)
    caldav = _dav(top, "caldav")
    carddav = _dav(top, "carddav")
    guide_ok, guide = guide_table.parse(
        top, name.languages if name else None, webmail.login_portal if webmail else None
    )
    dns = dns_table.parse(top, imap, smtp)
    pacc = _pacc(top, login, {"imap": imap, "smtp": smtp}, {"caldav": caldav, "carddav": carddav})
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
        or pacc is None
        or not logo_ok
        or not colour_ok
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
        pacc=pacc,
        logo=logo,
        colour=colour,
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
