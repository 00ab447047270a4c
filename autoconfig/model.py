"""The settings model: frozen dataclasses built once, by ``profiles.load``, and never changed.

Renderers read these objects and nothing else, so every output agrees with every other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
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


class Unknown(StrEnum):
    """What the login of a person the directory does not list is (``login.unknown``)."""

    ASK = "ask"
    """Not known: outputs that can leave the login out do, and the help site says what to type."""
    FALLBACK = "fallback"
    """The fallback is the login of everyone the directory does not list."""


class Listed(StrEnum):
    """What the directory said about one address."""

    YES = "yes"
    NO = "no"
    """The directory answered, and does not list the address."""
    UNSURE = "unsure"
    """No answer: no address, no directory, a failure, a time-out, a limit reached."""


class Certainty(StrEnum):
    """How sure an answer is of the login it carries: what every output reads, none decides."""

    KNOWN = "known"
    """Looked up for this person in the directory."""
    CERTAIN = "certain"
    """Given by the provider's rule: the template, or the fallback with ``unknown = "fallback"``."""
    ASK = "ask"
    """Not known: never to be presented as the person's login."""


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


DEFAULT_LOGIN_NAME = Localized((("fr", "identifiant"), ("en", "login")))
"""What the help site calls the login when the profile does not say (``login.name``)."""


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How the login ID of an address is found: the profile's ``[login]`` rule.

    ``template`` is the login for :attr:`LoginSource.TEMPLATE`, and the fallback for
    :attr:`LoginSource.DIRECTORY` (what clients that must be given a login get when the directory
    does not give one). It may hold the ``%EMAILADDRESS%``, ``%EMAILLOCALPART%`` and
    ``%EMAILDOMAIN%`` placeholders. ``unknown`` says whether the fallback is the login of the
    people the directory does not list; ``name`` is what the provider calls the login.
    """

    source: LoginSource
    template: str
    unknown: Unknown = Unknown.ASK
    name: Localized = DEFAULT_LOGIN_NAME
    address_accepted: bool = False
    """The provider's servers also accept the whole address as login (``login.address_accepted``):
    what formats without a username field (PACC) need."""

    @property
    def address_is_a_login(self) -> bool:
        """True when a client that logs in with the address gets in: the servers accept it, or
        the rule's login is the address itself."""
        return self.address_accepted or (
            self.source is LoginSource.TEMPLATE and self.template == "%EMAILADDRESS%"
        )

    def expand(self, address: Address) -> str:
        """The template with its placeholders replaced for ``address``."""
        return (
            self.template.replace("%EMAILADDRESS%", str(address))
            .replace("%EMAILLOCALPART%", address.local)
            .replace("%EMAILDOMAIN%", address.domain)
        )

    def decide(
        self,
        address: Address | None,
        listed: Listed = Listed.UNSURE,
        login: str | None = None,
        name: str | None = None,
        cached: bool = False,
    ) -> Account:
        """The one decision of what every output says about the login: for ``address`` (``None``
        for a generic answer), what the directory said (``listed``, and when it lists the person,
        their ``login`` and ``name``, ``cached`` when remembered from an earlier lookup).

        - a person the directory lists: their login, :attr:`Certainty.KNOWN`;
        - the template rule: the template expanded, :attr:`Certainty.CERTAIN` (without an
          address, the template itself, which clients expand);
        - a person the directory answered it does not list, under ``unknown = "fallback"``: the
          fallback expanded, :attr:`Certainty.CERTAIN`;
        - anything else (``unknown = "ask"``, no address, no answer from the directory):
          :attr:`Certainty.ASK`, with the fallback as the value for the clients that must be
          given one, never to be shown as the person's login.
        """
        if self.source is LoginSource.TEMPLATE:
            value = self.expand(address) if address is not None else self.template
            return Account(address, value, Found.TEMPLATE, certainty=Certainty.CERTAIN)
        if address is None:
            return Account(None, self.template, Found.FALLBACK, certainty=Certainty.ASK)
        if listed is Listed.YES:
            assert login is not None, "a listed person has a login"
            found = Found.CACHE if cached else Found.DIRECTORY
            return Account(address, login, found, name, certainty=Certainty.KNOWN)
        certain = listed is Listed.NO and self.unknown is Unknown.FALLBACK
        certainty = Certainty.CERTAIN if certain else Certainty.ASK
        return Account(address, self.expand(address), Found.FALLBACK, certainty=certainty)


@dataclass(frozen=True, slots=True)
class Help:
    """Where people find help: the help site, and the title of its link."""

    url: str
    title: Localized


@dataclass(frozen=True, slots=True)
class Webmail:
    """The provider's webmail addresses; the first is the one clients are given.

    ``labels`` holds, for each address of ``urls`` in order, what the provider calls it ("main",
    "fallback"), or ``None``; it may be empty when no address is labelled.
    """

    urls: tuple[str, ...]
    login_portal: str | None = None
    labels: tuple[Localized | None, ...] = ()

    @property
    def links(self) -> tuple[tuple[str, Localized | None], ...]:
        """Each address with its label (``None`` when it has none)."""
        labels = self.labels or (None,) * len(self.urls)
        return tuple(zip(self.urls, labels, strict=True))


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
    """A reset with the backup address (birth date asked)."""


@dataclass(frozen=True, slots=True)
class FirstLoginRoute:
    """Another way to sign in the first time, without the notification (Éducation nationale's
    NUMEN): ``code`` is what the personal code is called, ``sign_in_with`` what to type."""

    code: Localized
    sign_in_with: Localized


@dataclass(frozen=True, slots=True)
class FirstLogin:
    """How a new account is first opened: who is notified, another route, whom to contact."""

    notified: Localized
    contact: Localized
    route: FirstLoginRoute | None = None


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
    labels: tuple[tuple[ResetOption, Localized], ...] = ()
    """The provider's own wording of some options, replacing the site's generic one."""

    def label(self, option: ResetOption) -> Localized | None:
        return dict(self.labels).get(option)


@dataclass(frozen=True, slots=True)
class DeletedAccount:
    """Whom a person whose account was deleted contacts, and how."""

    contact: Localized
    letter: bool
    offices: Localized | None
    letter_with: Localized | None = None
    """What else the letter gives, besides the contact details and the login (e.g. the NUMEN)."""


@dataclass(frozen=True, slots=True)
class Helpdesk:
    """How a stuck person reaches the provider's help desk; every part is optional."""

    phone: str | None = None
    """As declared (digits, spaces, a leading ``+``): shown as written, dialled by :attr:`tel`."""
    hours: Localized | None = None
    url: str | None = None
    email: str | None = None

    @property
    def tel(self) -> str | None:
        """The ``tel:`` link of :attr:`phone`."""
        return "tel:" + self.phone.replace(" ", "") if self.phone else None


@dataclass(frozen=True, slots=True)
class Notice:
    """A dated notice (planned maintenance, an outage), shown from ``start`` to ``end`` included."""

    start: date
    end: date
    text: Localized

    def shown(self, today: date) -> bool:
        return self.start <= today <= self.end


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
    webmail_login_field: str | None = None
    """The label of the webmail's first field, as shown there."""
    webmail_password_field: str | None = None
    webmail_accepts_address: bool = False
    """The webmail's first field also takes the e-mail address instead of the login."""
    one_time_code: bool = False
    maintenance: Localized | None = None
    """A general note on maintenance; dated announcements are :attr:`notices`."""
    first_login: FirstLogin | None = None
    password: PasswordReset | None = None
    deleted_account: DeletedAccount | None = None
    helpdesk: Helpdesk | None = None
    notices: tuple[Notice, ...] = ()

    def current_notices(self, today: date) -> tuple[Notice, ...]:
        return tuple(notice for notice in self.notices if notice.shown(today))


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


LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
"""The file types a provider's logo may be, by suffix."""


@dataclass(frozen=True, slots=True)
class Logo:
    """The provider's logo, read at load time; served at :attr:`path` (named by its content, so
    a changed file gets a new address and caches never show the old one)."""

    suffix: str
    content: bytes = field(repr=False)
    digest: str

    @property
    def media_type(self) -> str:
        return LOGO_TYPES[self.suffix]

    @property
    def path(self) -> str:
        return f"/assets/logo-{self.digest}{self.suffix}"


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
    pacc: bool = False
    """Serve PACC (``[pacc] enabled``): the JSON at ``ua-auto-config.<domain>`` and its DNS digest."""
    logo: Logo | None = None
    colour: str | None = None
    """The brand colour (``#rrggbb``) of the help site's header and links; checked at load for
    the WCAG AA contrast with white."""

    @property
    def languages(self) -> tuple[str, ...]:
        return self.name.languages


@dataclass(frozen=True, slots=True)
class Account:
    """The person a request is about, as far as the service knows them; built by
    :meth:`LoginPolicy.decide`.

    ``address`` is ``None`` for a generic answer. ``login`` is the login ID clients that must be
    given one get: a looked-up academic ID, the template expanded for the address, or the raw
    template (with placeholders, which clients replace themselves) when there is no address.
    ``certainty`` says whether it is the person's login (known, certain) or only a value to fill
    in (ask): every output reads it.
    """

    address: Address | None
    login: str
    found: Found
    name: str | None = None
    certainty: Certainty = field(kw_only=True)

    @property
    def personal(self) -> bool:
        """True when the answer carries data looked up for this one person."""
        return self.found in (Found.DIRECTORY, Found.CACHE)

    @property
    def login_known(self) -> bool:
        """True when :attr:`login` is the person's real login: looked up for them, or given by
        the provider's rule (never a guess)."""
        return self.certainty is not Certainty.ASK
