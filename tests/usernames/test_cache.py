from __future__ import annotations

from autoconfig.usernames.cache import LookupCache
from autoconfig.usernames.entry import Entry
from tests.fakes import Clock


def test_hits_and_misses_keep_their_own_ttl() -> None:
    clock = Clock()
    cache = LookupCache(hit_ttl=10, miss_ttl=2, clock=clock)
    cache.put("a", Entry("la"))
    cache.put("b", None)
    assert cache.get("a") == (True, Entry("la"))
    assert cache.get("b") == (True, None)
    assert cache.get("c") == (False, None)
    clock.advance(2)
    assert cache.get("b") == (False, None)
    assert cache.get("a") == (True, Entry("la"))
    clock.advance(8)
    assert cache.get("a") == (False, None)
    assert len(cache) == 0


def test_oldest_go_first_when_full() -> None:
    cache = LookupCache(hit_ttl=10, miss_ttl=10, max_entries=3, clock=Clock())
    for key in "abcd":
        cache.put(key, Entry(key))
    assert [cache.get(k)[0] for k in "abcd"] == [False, True, True, True]
    cache.put("b", Entry("b2"))
    cache.put("e", None)
    assert [cache.get(k)[0] for k in "bcde"] == [True, False, True, True]
    cache.clear()
    assert len(cache) == 0
