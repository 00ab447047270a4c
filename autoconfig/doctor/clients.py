"""What each client would configure: the lookup order of Thunderbird (desktop and Android),
Outlook (POX Autodiscover), Apple (the profile link), Evolution (``emailmd5``) and KDE, replayed
against the live deployment. One row per client: where it finds its settings, the login it would
use, and whether that is the person's login and the profile's servers.

The orders are those of ``shared/reference`` (protocols §2.2, §3.4; clients-2026 §1): each client
takes the first URL that answers with settings it can read; the ISPDB and guessing, which come
after, are left out (they never give the provider's login).
"""

from __future__ import annotations

import hashlib
import plistlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from autoconfig.address import Address
from autoconfig.doctor import Check, Options, Status
from autoconfig.doctor.dnschecks import Resolver
from autoconfig.doctor.httpschecks import (
    CONTENT_HINT,
    MAX_BODY,
    Fetched,
    FetchFailed,
    fetch,
)
from autoconfig.formats import xmlsafe
from autoconfig.model import Account, Provider

AUTOCONFIG = "/mail/config-v1.1.xml"
WELL_KNOWN = "/.well-known/autoconfig/mail/config-v1.1.xml"
AUTODISCOVER = "/autodiscover/autodiscover.xml"
MOBILECONFIG = "/mobileconfig"
POX_REQUEST = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/'
    'requestschema/2006"><Request><EMailAddress>{address}</EMailAddress>'
    "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/"
    "responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
)


@dataclass(frozen=True)
class Attempt:
    """One request a client makes, in its order."""

    host: str
    path: str
    query: str = ""
    body: bytes | None = None

    @property
    def url(self) -> str:
        """Where it goes, without the query (which carries the address)."""
        return f"https://{self.host}{self.path}"


@dataclass(frozen=True)
class Settings:
    """What a client read: the login it was given (``None``: none) and the IMAP server."""

    login: str | None
    imap: tuple[str, str]


def autoconfig_settings(body: bytes) -> Settings:
    root = xmlsafe.parse(body, MAX_BODY)
    server = root.find("emailProvider/incomingServer[@type='imap']")
    if server is None:
        raise ValueError("no IMAP incomingServer")
    login = server.findtext("username", "").strip() or None
    return Settings(login, (server.findtext("hostname", ""), server.findtext("port", "")))


def autodiscover_settings(body: bytes) -> Settings:
    root = xmlsafe.parse(body, MAX_BODY)
    for protocol in root.iter("{*}Protocol"):
        if protocol.findtext("{*}Type", "").upper() == "IMAP":
            login = protocol.findtext("{*}LoginName", "").strip() or None
            where = (protocol.findtext("{*}Server", ""), protocol.findtext("{*}Port", ""))
            return Settings(login, where)
    raise ValueError("no IMAP Protocol")


def plist_of(body: bytes) -> dict[str, object]:
    """The property list of a profile, signed (CMS, the plist inside) or not."""
    start, end = body.find(b"<?xml"), body.rfind(b"</plist>")
    if start < 0 or end < 0:
        raise ValueError("no property list")
    value = plistlib.loads(body[start : end + len(b"</plist>")])
    if not isinstance(value, dict):
        raise ValueError("not a profile")
    return value


def mobileconfig_settings(body: bytes) -> Settings:
    try:
        profile = plist_of(body)
    except plistlib.InvalidFileException as exc:
        raise ValueError(f"not a property list: {exc}") from exc
    payloads = profile.get("PayloadContent")
    for payload in payloads if isinstance(payloads, list) else []:
        if isinstance(payload, dict) and payload.get("PayloadType") == "com.apple.mail.managed":
            login = payload.get("IncomingMailServerUsername")
            where = (
                str(payload.get("IncomingMailServerHostName", "")),
                str(payload.get("IncomingMailServerPortNumber", "")),
            )
            return Settings(str(login) if login else None, where)
    raise ValueError("no com.apple.mail.managed payload")


def _autoconfig(domain: str, query: str) -> list[Attempt]:
    return [Attempt(f"autoconfig.{domain}", AUTOCONFIG, query), Attempt(domain, WELL_KNOWN, query)]


def _address_query(address: Address | None) -> str:
    return urlencode({"emailaddress": str(address)}) if address is not None else ""


def evolution_query(address: Address) -> str:
    """``EVOLUTIONUSER@domain`` and the MD5 of the address, its ASCII letters lower-cased."""
    lowered = "".join(c.lower() if c.isascii() else c for c in str(address))
    digest = hashlib.md5(lowered.encode(), usedforsecurity=False).hexdigest()
    return urlencode({"emailaddress": f"EVOLUTIONUSER@{address.domain}", "emailmd5": digest})


@dataclass(frozen=True)
class Client:
    name: str
    attempts: Callable[[str, Address | None], list[Attempt]]
    read: Callable[[bytes], Settings]
    otherwise: str
    """The fix when the login it gets is not the person's (``{help}``: the help site's URL)."""
    without_login: str = ""
    """What it does when given no login (``""``: it uses the one it was given)."""
    needs_address: bool = False


TFA_HINT = (
    "Thunderbird for Android never sends the address: people scan the QR code of the setup page "
    "of the help site ({help}), which carries their own login"
)
LOOKUP_HINT = "the service did not find the person: is the address in the directory (--directory)?"

CLIENTS = (
    Client(
        "Thunderbird",
        lambda domain, address: _autoconfig(domain, _address_query(address)),
        autoconfig_settings,
        LOOKUP_HINT,
    ),
    Client(
        "Thunderbird for Android",
        lambda domain, _address: _autoconfig(domain, ""),
        autoconfig_settings,
        TFA_HINT,
    ),
    Client(
        "Outlook",
        lambda domain, address: [
            Attempt(host, AUTODISCOVER, body=POX_REQUEST.format(address=address).encode())
            for host in (domain, f"autodiscover.{domain}")
        ],
        autodiscover_settings,
        LOOKUP_HINT,
        without_login="logs in with the address",
        needs_address=True,
    ),
    Client(
        "Apple",
        lambda domain, address: [
            Attempt(f"autoconfig.{domain}", MOBILECONFIG, f"email={quote(str(address))}")
        ],
        mobileconfig_settings,
        LOOKUP_HINT,
        without_login="asks for the login at install (the help site names it)",
        needs_address=True,
    ),
    Client(
        "Evolution",
        lambda domain, address: (
            _autoconfig(domain, evolution_query(address)) if address is not None else []
        ),
        autoconfig_settings,
        LOOKUP_HINT,
        needs_address=True,
    ),
    Client(
        "KDE",
        lambda domain, _address: [Attempt(f"autoconfig.{domain}", AUTOCONFIG)],
        autoconfig_settings,
        "KDE sends no address: the help site ({help}) names the login to type",
    ),
)


def expand(login: str, address: Address | None) -> str:
    """A login as the client fills it in for ``address`` (its placeholders replaced)."""
    if address is None:
        return login
    return (
        login.replace("%EMAILADDRESS%", str(address))
        .replace("%EMAILLOCALPART%", address.local)
        .replace("%EMAILDOMAIN%", address.domain)
    )


def _first(
    client: Client, attempts: list[Attempt], resolver: Resolver, options: Options
) -> tuple[Attempt, Settings] | list[str]:
    """The first attempt that gives settings, or why each one failed."""
    reasons = []
    for attempt in attempts:
        path = f"{attempt.path}?{attempt.query}" if attempt.query else attempt.path
        try:
            fetched: Fetched = fetch(attempt.host, path, resolver, options, attempt.body)
        except FetchFailed as exc:
            reasons.append(f"{attempt.url}: {exc.detail}")
            continue
        if fetched.status != 200:
            reasons.append(f"{attempt.url}: HTTP {fetched.status}")
            continue
        try:
            return attempt, client.read(fetched.body)
        except ValueError as exc:  # XMLError included
            reasons.append(f"{attempt.url}: {exc}")
    return reasons


def replay_one(
    client: Client,
    provider: Provider,
    domain: str,
    resolver: Resolver,
    options: Options,
    account: Account | None,
) -> Check | None:
    address = account.address if account is not None else None
    if client.needs_address and address is None:
        return None
    result = _first(client, client.attempts(domain, address), resolver, options)
    if isinstance(result, list):
        hint = "none of its URLs gives settings: see the HTTPS checks"
        return Check("client", client.name, Status.FAIL, "; ".join(result), hint)
    attempt, settings = result
    expected = (provider.imap.host, str(provider.imap.port))
    if settings.imap != expected:
        detail = f"gets IMAP {':'.join(settings.imap)} from {attempt.url}, the profile says "
        return Check("client", client.name, Status.FAIL, detail + ":".join(expected), CONTENT_HINT)
    if settings.login is None:
        uses = str(address) if client.without_login.startswith("logs in") else None
        said = f"no username from {attempt.url}: {client.without_login}"
    else:
        uses = expand(settings.login, address)
        shown = uses if uses == settings.login else f"{uses} ({settings.login})"
        said = f"username {shown} from {attempt.url}"
    person = account.login if account is not None and account.login_known else None
    if person is None or uses == person:
        return Check("client", client.name, Status.PASS, said)
    hint = client.otherwise.format(help=provider.help.url)
    return Check("client", client.name, Status.WARN, f"{said}; not {person}", hint)


def replay(
    provider: Provider,
    domain: str,
    resolver: Resolver,
    options: Options,
    account: Account | None = None,
) -> list[Check]:
    """One row per client (those that need an address only with ``account``)."""
    rows = [replay_one(c, provider, domain, resolver, options, account) for c in CLIENTS]
    return [row for row in rows if row is not None]
