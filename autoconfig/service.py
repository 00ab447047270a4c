"""The loaded service: the catalog of providers and the login directory, and the answers built
from them. The HTTP app and the CLI both answer through this one object, so they agree byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from autoconfig import address, autodiscover, profiles, record
from autoconfig.catalog import Catalog
from autoconfig.errors import ConfigError, Problem, RequestError
from autoconfig.model import Account, Provider
from autoconfig.render import Rendered, mobileconfig, thunderbird
from autoconfig.render import autodiscover as autodiscover_xml
from autoconfig.render.cache import RenderCache
from autoconfig.settings import Settings
from autoconfig.signing import Signer, open_signer
from autoconfig.usernames import Directory, open_directory
from autoconfig.usernames.bounded import Lookups


@dataclass(frozen=True, slots=True)
class Query:
    """What a request (or a CLI call) asks about: an address as typed, the host it was sent to,
    and the client's network address (for per-client limits; ``None`` from the CLI)."""

    address: str | None = None
    host: str | None = None
    client: str | None = None


@dataclass(frozen=True)
class Service:
    catalog: Catalog
    directory: Directory | None
    settings: Settings
    signer: Signer | None = None
    lookups: Lookups = field(init=False, repr=False)
    """The directory bounded in time, cached and limited per client (built from the two above)."""

    renders: RenderCache = field(init=False, repr=False, default_factory=RenderCache)
    """Answers already built, reused for the same provider and login (renderers are pure)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "lookups", Lookups(self.directory, self.settings.lookup))

    @classmethod
    def load(cls, settings: Settings) -> Service:
        """Load and validate everything; raises :class:`~autoconfig.errors.ConfigError` or
        :class:`~autoconfig.errors.DirectoryError` before anything is served."""
        catalog = Catalog(profiles.load(settings.profiles))
        signer = open_signer(settings.signing_cert, settings.signing_key, settings.signing_chain)
        directory = (
            open_directory(settings.directory, settings.lookup) if settings.directory else None
        )
        return cls(catalog, directory, settings, signer)

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

    async def account(
        self, provider: Provider, parsed: address.Address | None, query: Query
    ) -> Account:
        """The account to answer with. Async so that slow directories can be bounded in time."""
        return await self.lookups.account(provider.login, parsed, query.client)

    async def answer(self, query: Query) -> tuple[Provider, Account]:
        provider, parsed = self.locate(query)
        record.note(domain=provider.id)
        account = await self.account(provider, parsed, query)
        record.note(login=account.found.value)
        return provider, account

    async def thunderbird(self, query: Query) -> tuple[Rendered, Account]:
        provider, account = await self.answer(query)
        login = thunderbird.login_for(provider, account)
        key = ("thunderbird", provider.id, login)
        return self.renders.get(key, lambda: thunderbird.document(provider, login)), account

    async def autodiscover(
        self, query: Query, body: bytes = b""
    ) -> tuple[Rendered, Account | None]:
        """The POX Autodiscover answer to ``body`` (the request a client posted; empty for a
        ``GET``). The body's ``EMailAddress`` wins over ``query.address``. Protocol errors are
        answered with an error document and no account; other errors are raised."""
        try:
            request = autodiscover.parse_request(body)
            if not request.served:
                unavailable = autodiscover.ErrorCode.UNAVAILABLE
                return autodiscover_xml.error(unavailable, request.error_namespace), None
            provider, account = await self.answer(
                replace(query, address=request.address or query.address)
            )
        except autodiscover.ANSWERED as exc:
            return autodiscover_xml.error(autodiscover.error_code(exc)), None
        login, name = autodiscover_xml.login_name(account), account.name
        key = ("autodiscover", provider.id, login, name)
        rendered = self.renders.get(
            key, lambda: autodiscover_xml.settings_document(provider, login, name)
        )
        return rendered, account

    async def mobileconfig(self, query: Query, signed: bool) -> Rendered:
        """The Apple profile for the address of ``query``, signed or not. An address is required:
        the profile is made for one person."""
        if not query.address:
            raise RequestError(
                "an e-mail address is required (expected ?email=name@domain): "
                "the profile is made for one address"
            )
        provider, account = await self.answer(query)
        rendered = mobileconfig.render(provider, account)
        if not signed:
            return rendered
        if self.signer is None:
            raise ConfigError(
                [Problem("--signed", "", "needs a certificate (expected --signing-cert)")]
            )
        return replace(rendered, body=self.signer.sign(rendered.body))
