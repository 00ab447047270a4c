"""The settings model: frozen dataclasses built once, by ``profiles.load``, and never changed.

Renderers read these objects and nothing else, so every output agrees with every other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from autoconfig.address import Address

PLACEHOLDERS = ("%EMAILADDRESS%", "%EMAILLOCALPART%", "%EMAILDOMAIN%")


class Security(StrEnum):
    """How a client secures its connection to a mail server."""

    TLS = "tls"
    """Implicit TLS from the first byte (IMAP 993, submission 465; RFC 8314)."""
    STARTTLS = "starttls"
    """A plain connection upgraded with STARTTLS (IMAP 143, submission 587)."""


class Auth(StrEnum):
    """How a client proves who it is to a mail server."""

    PASSWORD = "password"  # noqa: S105 - a method name, not a secret
    """A password sent inside the TLS connection (SASL PLAIN or LOGIN)."""
    PASSWORD_ENCRYPTED = "password-encrypted"  # noqa: S105
    """A challenge-response password exchange (CRAM-MD5)."""


class LoginSource(StrEnum):
    """Where a provider's login IDs come from."""

    DIRECTORY = "directory"
    """Looked up by address in the directory given to the service; the fallback template otherwise."""
    TEMPLATE = "template"
    """Derived from the address by the template, for every address."""


class Found(StrEnum):
    """Where the login ID of one answer came from."""

    DIRECTORY = "directory"
    TEMPLATE = "template"
    FALLBACK = "fallback"
    CACHE = "cache"
    """A directory answer remembered from an earlier lookup."""


@dataclass(frozen=True, slots=True)
class Localized:
    """A text in several languages; ``default`` is the provider's first language."""

    texts: tuple[tuple[str, str], ...]

    @property
    def default(self) -> str:
        return self.texts[0][1]

    def get(self, lang: str) -> str:
        for code, text in self.texts:
            if code == lang:
                return text
        return self.default

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.texts)


@dataclass(frozen=True, slots=True)
class Server:
    """One mail server a client connects to."""

    host: str
    port: int
    security: Security
    auth: Auth


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How the login ID of an address is found.

    ``template`` is the login for :attr:`LoginSource.TEMPLATE`, and the fallback used when the
    directory does not know an address for :attr:`LoginSource.DIRECTORY`. It may hold the
    ``%EMAILADDRESS%``, ``%EMAILLOCALPART%`` and ``%EMAILDOMAIN%`` placeholders.
    """

    source: LoginSource
    template: str

    def expand(self, address: Address) -> str:
        """The template with its placeholders replaced for ``address``."""
        return (
            self.template.replace("%EMAILADDRESS%", str(address))
            .replace("%EMAILLOCALPART%", address.local)
            .replace("%EMAILDOMAIN%", address.domain)
        )


@dataclass(frozen=True, slots=True)
class Help:
    """Where people find help: the help site, and the title of its link."""

    url: str
    title: Localized


@dataclass(frozen=True, slots=True)
class Webmail:
    """The provider's webmail addresses; the first is the one clients are given."""

    urls: tuple[str, ...]
    login_portal: str | None = None


@dataclass(frozen=True, slots=True)
class DavServer:
    """A CalDAV or CardDAV service, reached over HTTPS at ``url`` (its context path)."""

    url: str
    host: str
    port: int
    path: str


class Feature(StrEnum):
    """What an account gives, as the help site lists it."""

    MAIL = "mail"
    CALENDAR = "calendar"
    CONTACTS = "contacts"


class ResetOption(StrEnum):
    """The ways a provider's password self-service lets a person get back in."""

    MAIL = "mail"
    """A new password sent by mail to the person's address."""
    ASSISTANCE = "assistance"
    """A request to the technical assistance."""
    BACKUP = "backup"
    """A reset with the backup address and the academic digital ID (birth date asked)."""


@dataclass(frozen=True, slots=True)
class FirstLogin:
    """How a new account is first opened: who is notified, the NUMEN route, whom to contact."""

    notified: Localized
    numen: bool
    contact: Localized


@dataclass(frozen=True, slots=True)
class PasswordReset:
    """The provider's password self-service: where it is and how its screens are labelled."""

    portal: str
    menu: tuple[str, ...]
    options: tuple[ResetOption, ...]
    continue_button: str
    code_length: int
    recovers_login: bool = False
    """The same self-service also gives back a forgotten login ID."""


@dataclass(frozen=True, slots=True)
class DeletedAccount:
    """Whom a person whose account was deleted contacts, and how."""

    contact: Localized
    letter: bool
    offices: Localized | None


@dataclass(frozen=True, slots=True)
class Guide:
    """Facts about the provider's own processes, for the help site only (not client settings).

    Everything is optional: the help site shows a fact only when the profile declares it.
    """

    audience: Localized | None = None
    creator: Localized | None = None
    address_format: str | None = None
    services: tuple[Feature, ...] = ()
    webmail_button: str | None = None
    one_time_code: bool = False
    maintenance: Localized | None = None
    first_login: FirstLogin | None = None
    password: PasswordReset | None = None
    deleted_account: DeletedAccount | None = None


DEFAULT_TTL = 3600
MAIL_SERVICES = ("imaps", "imap", "submissions", "submission", "pop3s", "pop3")
"""RFC 6186 / RFC 8314 service labels (``_imaps._tcp`` …) a profile may declare not offered."""


@dataclass(frozen=True, slots=True)
class DnsPolicy:
    """What the provider publishes in DNS beyond its mail servers (``autoconfig dns``).

    ``cname`` or ``addresses`` (never both) is where ``autoconfig.`` and ``autodiscover.`` point:
    the host name of the front (a CNAME) or its IPv4/IPv6 addresses. ``absent`` lists mail services
    published as "not offered" (SRV target ``.``, RFC 6186 §3.4).
    """

    ttl: int = DEFAULT_TTL
    cname: str | None = None
    addresses: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Provider:
    """Everything about one mail provider, from one profile file."""

    id: str
    domains: tuple[str, ...]
    name: Localized
    short_name: Localized
    organization: Localized
    imap: Server
    smtp: Server
    login: LoginPolicy
    help: Help
    webmail: Webmail
    caldav: DavServer | None = None
    carddav: DavServer | None = None
    guide: Guide | None = None
    source: str = field(default="", compare=False)
    dns: DnsPolicy = field(default_factory=DnsPolicy)

    @property
    def languages(self) -> tuple[str, ...]:
        return self.name.languages


@dataclass(frozen=True, slots=True)
class Account:
    """The person a request is about, as far as the service knows them.

    ``address`` is ``None`` for a generic answer. ``login`` is the login ID to hand out: a looked-up
    academic ID, the template expanded for the address, or the raw template (with placeholders, which
    clients replace themselves) when there is no address.
    """

    address: Address | None
    login: str
    found: Found
    name: str | None = None

    @property
    def personal(self) -> bool:
        """True when the answer carries data looked up for this one person."""
        return self.found in (Found.DIRECTORY, Found.CACHE)

    @property
    def login_known(self) -> bool:
        """True when :attr:`login` is the person's real login: looked up for them, or given to
        everyone by the provider's template rule (not a guess from the fallback)."""
        return self.personal or self.found is Found.TEMPLATE
