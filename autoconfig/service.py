"""The loaded service: the catalog of providers and the login directory, and the answers built
from them. The HTTP app and the CLI both answer through this one object, so they agree byte for byte.

Each answer comes back as an :class:`Answer`: the bytes, and the facts about how they were made
(the provider, the account, what the directory did). The web layer records those facts for the
access log and the metrics; nothing here writes request-scoped state.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from types import TracebackType

from autoconfig import address, profiles
from autoconfig.errors import ConfigError, Problem, RequestError, UnknownDomainError
from autoconfig.formats import Rendered, mobileconfig, pacc, thunderbird
from autoconfig.formats import autodiscover as autodiscover_format
from autoconfig.model import Account, Found, LoginSource, Provider
from autoconfig.settings import Settings
from autoconfig.signing import Signer, open_signer
from autoconfig.usernames import Directory, open_directory
from autoconfig.usernames.bounded import UNANSWERED, Lookups, Outcome

RENDER_CACHE_SIZE = 1024


class RenderCache:
    """Answers already built, reused for the same inputs: renderers are pure, so an answer depends
    only on the provider and the few account values its renderer reads. Least-recently-used, at
    most ``size`` of them (a generic answer per provider and one per looked-up login stay warm).
    The cache belongs to one loaded service; a reload builds a new service and so a new cache."""

    def __init__(self, size: int = RENDER_CACHE_SIZE) -> None:
        self.size = size
        self._answers: OrderedDict[Hashable, Rendered] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: Hashable, render: Callable[[], Rendered]) -> Rendered:
        """The answer stored under ``key``, rendered by ``render()`` the first time."""
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
            return answer
        answer = render()
        self._answers[key] = answer
        if len(self._answers) > self.size:
            self._answers.popitem(last=False)
        return answer


@dataclass(frozen=True, slots=True)
class Query:
    """What a request (or a CLI call) asks about: an address as typed, the host it was sent to,
    and the client's network address (for per-client limits; ``None`` from the CLI)."""

    address: str | None = None
    host: str | None = None
    client: str | None = None
    emailmd5: str | None = None
    """The MD5 of the address, as Evolution sends it beside ``EVOLUTIONUSER@domain``."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """Whom a query is about: their provider, the account to answer with, and what the directory
    did for it (``None``: not asked)."""

    provider: Provider
    account: Account
    outcome: Outcome | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer: its bytes and HTTP status, and how it was made. ``provider`` is ``None`` when
    no provider was found; ``resolution`` is ``None`` when the answer is about nobody (an error
    document, the Autodiscover v2 pointer)."""

    rendered: Rendered
    provider: Provider | None = None
    resolution: Resolution | None = None
    status: int = 200
    autodiscover_error: str | None = None
    """The Autodiscover error code the document carries (``500``, ``600``, ``601``, or
    ``InvalidProtocol`` for v2), for the access log and the metrics; ``None`` for any other answer."""

    @classmethod
    def about(cls, rendered: Rendered, resolution: Resolution) -> Answer:
        return cls(rendered, resolution.provider, resolution)

    @property
    def account(self) -> Account | None:
        return self.resolution.account if self.resolution else None


@dataclass(frozen=True, slots=True)
class Explanation:
    """How the login of one address is found, line by line (``autoconfig directory lookup``);
    ``failed`` when the directory gave no answer about the person (down, slow, refused)."""

    lines: tuple[str, ...]
    failed: bool = False


def start_warnings(catalog: profiles.Catalog, settings: Settings) -> list[str]:
    """What is served, though likely not as meant: said at the start of ``serve`` and by
    ``check``. A profile whose logins come from the directory, served without one, gives every
    person the fallback login."""
    if settings.directory:
        return []
    return [
        f"{provider.source}: {provider.id} looks logins up in the directory, but no directory "
        "is given (--directory): everyone gets the fallback login"
        for provider in catalog
        if provider.login.source is LoginSource.DIRECTORY
    ]


@dataclass(frozen=True)
class Service:
    catalog: profiles.Catalog
    directory: Directory | None
    settings: Settings
    signer: Signer | None = None
    lookups: Lookups = field(init=False, repr=False)
    """The directory bounded in time, cached and limited per client (built from the two above)."""

    renders: RenderCache = field(init=False, repr=False, default_factory=RenderCache)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lookups", Lookups(self.directory, self.settings.lookup))

    @classmethod
    def load(cls, settings: Settings) -> Service:
        """Load and validate everything; raises :class:`~autoconfig.errors.ConfigError` or
        :class:`~autoconfig.errors.DirectoryError` before anything is served."""
        catalog = profiles.Catalog(profiles.load(settings.profiles))
        signer = open_signer(settings.signing_cert, settings.signing_key, settings.signing_chain)
        directory = (
            open_directory(settings.directory, settings.lookup) if settings.directory else None
        )
        return cls(catalog, directory, settings, signer)

    def __enter__(self) -> Service:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.lookups.close()
        if self.directory is not None:
            self.directory.close()

    def locate(self, query: Query) -> tuple[Provider, address.Address | None]:
        """The provider and parsed address a query is about: from its address if it has one,
        else from the host name it was sent to. Raises AddressError / UnknownDomainError."""
        if query.address:
            parsed = address.parse(query.address)
            return self.catalog.lookup(parsed.domain), parsed
        return self.catalog.for_host(query.host or ""), None

    async def resolve(self, query: Query) -> Resolution:
        """The provider and account of ``query``. Async so that slow directories can be bounded
        in time."""
        provider, parsed = self.locate(query)
        digest = thunderbird.digest_of(parsed.local, query.emailmd5) if parsed else None
        if parsed is not None and digest is not None:
            resolved = await self.lookups.account_by_digest(
                provider.login, parsed.domain, digest, query.client
            )
        else:
            resolved = await self.lookups.account(provider.login, parsed, query.client)
        return Resolution(provider, resolved.account, resolved.outcome)

    async def explain(self, typed: str) -> Explanation:
        """How the login of the address ``typed`` is found, line by line, as ``autoconfig
        directory lookup`` prints it: the provider, the backend, its answer and its time."""
        parsed = address.parse(typed)
        provider = self.catalog.lookup(parsed.domain)
        lines = [f"provider: {provider.id} (login source: {provider.login.source})"]
        if provider.login.source is LoginSource.TEMPLATE:
            login = provider.login.expand(parsed)
            return Explanation((*lines, f"login: {login} ({Found.TEMPLATE})"))
        lines.append(f"backend: {self.directory.description if self.directory else 'none'}")
        start = time.perf_counter()
        result = await self.lookups.find(parsed)
        elapsed = (time.perf_counter() - start) * 1000
        lines.append(f"result: {result.detail}")
        login = result.entry.login if result.entry else provider.login.expand(parsed)
        lines.append(f"login: {login} ({result.found})")
        if result.entry and result.entry.name:
            lines.append(f"name: {result.entry.name}")
        budget = self.settings.lookup.timeout_ms
        lines.append(f"time: {elapsed:.1f} ms (budget {budget} ms)")
        return Explanation(tuple(lines), result.outcome in UNANSWERED)

    async def thunderbird(self, query: Query) -> Answer:
        resolution = await self.resolve(query)
        login = thunderbird.login_for(resolution.provider, resolution.account)
        key = ("thunderbird", resolution.provider.id, login)
        rendered = self.renders.get(key, lambda: thunderbird.document(resolution.provider, login))
        return Answer.about(rendered, resolution)

    async def autodiscover(self, query: Query, body: bytes = b"") -> Answer:
        """The POX Autodiscover answer to ``body`` (the request a client posted; empty for a
        ``GET``). The body's ``EMailAddress`` wins over ``query.address``. Protocol errors are
        answered with an error document about nobody; other errors are raised."""
        try:
            request = autodiscover_format.parse_request(body)
            if not request.served:
                unavailable = autodiscover_format.ErrorCode.UNAVAILABLE
                return Answer(
                    autodiscover_format.error(unavailable, request.error_namespace),
                    autodiscover_error=str(int(unavailable)),
                )
            resolution = await self.resolve(
                replace(query, address=request.address or query.address)
            )
        except autodiscover_format.ANSWERED as exc:
            code = autodiscover_format.error_code(exc)
            assert code is not None
            return Answer(autodiscover_format.error(code), autodiscover_error=str(int(code)))
        account = resolution.account
        login, name = autodiscover_format.login_name(account), account.name
        key = ("autodiscover", resolution.provider.id, login, name)
        rendered = self.renders.get(
            key,
            lambda: autodiscover_format.settings_document(resolution.provider, login, name),
        )
        return Answer.about(rendered, resolution)

    def autodiscover_v2(self, query: Query, protocol: str | None) -> Answer:
        """The Autodiscover v2 answer: for ``AutodiscoverV1``, the POX endpoint of the provider
        of ``query``; for any other protocol, an error document (HTTP 400)."""
        if not autodiscover_format.is_v2_protocol(protocol):
            return Answer(
                autodiscover_format.v2_invalid_protocol(),
                status=400,
                autodiscover_error=autodiscover_format.V2_INVALID_PROTOCOL,
            )
        provider, _ = self.locate(query)
        return Answer(autodiscover_format.v2_pointer(provider), provider)

    def pacc(self, query: Query) -> Answer:
        """The PACC document of the provider of ``query`` (by its host, or its address's
        domain): the same bytes for everyone, those ``autoconfig dns`` digests. A provider that
        does not offer PACC is not found (:class:`UnknownDomainError`, HTTP 404)."""
        provider, _ = self.locate(query)
        if not provider.pacc:
            raise UnknownDomainError(
                f"the profile of {provider.id!r} does not offer PACC (expected [pacc] enabled = true)"
            )
        rendered = self.renders.get(("pacc", provider.id), lambda: pacc.render(provider))
        return Answer(rendered, provider)

    async def mobileconfig(self, query: Query, signed: bool) -> Answer:
        """The Apple profile for the address of ``query``, signed or not. An address is required:
        the profile is made for one person."""
        if not query.address:
            raise RequestError(
                "an e-mail address is required (expected ?email=name@domain): "
                "the profile is made for one address"
            )
        resolution = await self.resolve(query)
        rendered = mobileconfig.render(resolution.provider, resolution.account)
        if signed:
            if self.signer is None:
                raise ConfigError(
                    [Problem("--signed", "", "needs a certificate (expected --signing-cert)")]
                )
            rendered = replace(rendered, body=self.signer.sign(rendered.body))
        return Answer.about(rendered, resolution)
