"""An immutable map from each served domain to its provider, built once after loading."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import MappingProxyType

from autoconfig.address import normalise_domain
from autoconfig.errors import AddressError, UnknownDomainError
from autoconfig.model import Provider

PACC_HOST = "ua-auto-config."
"""The host name prefix PACC clients ask (``ua-auto-config.<domain>``)."""
SERVICE_PREFIXES = ("autoconfig.", "autodiscover.", PACC_HOST)


class Catalog:
    """Finds the provider of a domain, or of the ``Host`` a client asked for."""

    def __init__(self, providers: Iterable[Provider]) -> None:
        self.providers = tuple(providers)
        self._by_domain = MappingProxyType(
            {domain: p for p in self.providers for domain in p.domains}
        )

    def __iter__(self) -> Iterator[Provider]:
        return iter(self.providers)

    def __len__(self) -> int:
        return len(self.providers)

    def lookup(self, domain: str) -> Provider:
        """The provider serving ``domain`` (already normalised), or :class:`UnknownDomainError`."""
        try:
            return self._by_domain[domain]
        except KeyError:
            raise UnknownDomainError(f"no profile serves the domain {domain!r}") from None

    def for_host(self, host: str) -> Provider:
        """The provider for a ``Host`` header: ``<domain>`` or one of the service names under it
        (``autoconfig.``, ``autodiscover.``, ``ua-auto-config.``)."""
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        try:
            domain = normalise_domain(name)
        except AddressError:
            raise UnknownDomainError(
                "no profile serves the requested host; pass the address (emailaddress=…)"
            ) from None
        if domain in self._by_domain:
            return self._by_domain[domain]
        for prefix in SERVICE_PREFIXES:
            if domain.startswith(prefix) and domain[len(prefix) :] in self._by_domain:
                return self._by_domain[domain[len(prefix) :]]
        raise UnknownDomainError(
            f"no profile serves the host {domain!r}; pass the address (emailaddress=…)"
        )

    def for_site(self, host: str) -> Provider:
        """The provider whose help site answers ``host``: as :meth:`for_host`, except that a
        catalogue of one provider answers any host with it (the bare IP, a mistyped name)."""
        try:
            return self.for_host(host)
        except UnknownDomainError:
            if len(self.providers) == 1:
                return self.providers[0]
            raise

    def select(self, domain: str | None) -> list[tuple[Provider, tuple[str, ...]]]:
        """The provider of ``domain`` with just that domain, or every provider with all its
        domains when ``domain`` is ``None``."""
        if domain is None:
            return [(provider, provider.domains) for provider in self.providers]
        name = normalise_domain(domain)
        return [(self.lookup(name), (name,))]
