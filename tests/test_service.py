from __future__ import annotations

import anyio
import pytest

from autoconfig.address import parse
from autoconfig.formats import Rendered, autodiscover, thunderbird
from autoconfig.model import Found
from autoconfig.service import Query, RenderCache, Service
from tests.conftest import PIERRE
from tests.fakes import account


def test_renders_once_per_key_and_forgets_the_least_recent() -> None:
    calls: list[str] = []

    def render(name: str) -> Rendered:
        calls.append(name)
        return Rendered(name.encode(), "text/plain")

    cache = RenderCache(size=2)
    assert cache.get("a", lambda: render("a")).body == b"a"
    assert cache.get("a", lambda: render("a")).body == b"a"
    cache.get("b", lambda: render("b"))
    cache.get("a", lambda: render("a"))  # a is now the most recent
    cache.get("c", lambda: render("c"))  # evicts b
    cache.get("a", lambda: render("a"))
    cache.get("b", lambda: render("b"))
    assert calls == ["a", "b", "c", "b"]
    assert len(cache) == 2


ADDRESSES = [
    PIERRE,
    "Marie.Martin@ac-aix-marseille.fr",
    "nobody@ac-aix-marseille.fr",
    "x@example.net",
    None,
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_reused_answers_are_the_answers_rendered_afresh(
    service: Service, address: str | None
) -> None:
    """Whatever the service hands out from its cache is byte for byte what the pure renderers
    give for that very account, asked twice."""
    query = Query(address=address, host="autoconfig.ac-aix-marseille.fr")
    for _ in range(2):
        resolution = anyio.run(service.resolve, query)
        provider, account = resolution.provider, resolution.account
        served = anyio.run(service.thunderbird, query)
        assert served.rendered == thunderbird.render(provider, account)
        assert served.resolution == resolution
        served_ad = anyio.run(service.autodiscover, query)
        assert served_ad.rendered == autodiscover.settings(provider, account)
        assert served_ad.resolution == resolution


def test_unknown_addresses_share_the_generic_answer(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    unknown = [
        account(parse(f"p{i}@ac-aix-marseille.fr"), f"p{i}", Found.FALLBACK) for i in range(3)
    ]
    assert {thunderbird.login_for(provider, a) for a in unknown} == {"%EMAILLOCALPART%"}
