"""The loaded service: the catalog of providers and the login directory, and the answers built
from them. The HTTP app and the CLI both answer through this one object, so they agree byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

from autoconfig import address, profiles
from autoconfig.catalog import Catalog
from autoconfig.model import Account, Provider
from autoconfig.render import Rendered, thunderbird
from autoconfig.settings import Settings
from autoconfig.usernames import Directory, open_directory, resolve


@dataclass(frozen=True)
class Service:
    catalog: Catalog
    directory: Directory | None
    settings: Settings

    @classmethod
    def load(cls, settings: Settings) -> Service:
        """Load and validate everything; raises :class:`~autoconfig.errors.ConfigError` or
        :class:`~autoconfig.errors.DirectoryError` before anything is served."""
        catalog = Catalog(profiles.load(settings.profiles))
        directory = open_directory(settings.directory) if settings.directory else None
        return cls(catalog, directory, settings)

    def close(self) -> None:
        if self.directory is not None:
            self.directory.close()

    def locate(self, raw_address: str | None, host: str | None) -> tuple[Provider, Account]:
        """The provider and account a request is about: from its address if it has one, else
        from the host name it was sent to."""
        if raw_address:
            parsed = address.parse(raw_address)
            provider = self.catalog.lookup(parsed.domain)
        else:
            parsed = None
            provider = self.catalog.for_host(host or "")
        return provider, resolve(provider, parsed, self.directory)

    def thunderbird(
        self, raw_address: str | None, host: str | None = None
    ) -> tuple[Rendered, Account]:
        provider, account = self.locate(raw_address, host)
        return thunderbird.render(provider, account), account
