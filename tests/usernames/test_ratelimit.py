from __future__ import annotations

import pytest

from autoconfig.usernames.ratelimit import RateLimit, client_key
from tests.fakes import Clock


def spend(limit: RateLimit, client: str | None, times: int) -> list[bool]:
    """Whether each of ``times`` attempts was allowed (and then counted)."""
    allowed = []
    for _ in range(times):
        ok = not limit.exhausted(client)
        if ok:
            limit.spend(client)
        allowed.append(ok)
    return allowed


def test_limit_per_client_and_window() -> None:
    clock = Clock(0)
    limit = RateLimit(3, clock=clock)
    assert spend(limit, "a", 5) == [True, True, True, False, False]
    assert spend(limit, "b", 1) == [True]
    clock.advance(59)
    assert spend(limit, "a", 1) == [False]
    clock.advance(1)
    assert spend(limit, "a", 4) == [True, True, True, False]


@pytest.mark.parametrize(("limit", "client"), [(0, "a"), (3, None)])
def test_no_limit(limit: int, client: str | None) -> None:
    assert all(spend(RateLimit(limit, clock=Clock()), client, 100))


def test_full_table_refuses_new_clients_until_the_next_window() -> None:
    clock = Clock(0)
    limit = RateLimit(5, max_clients=2, clock=clock)
    assert spend(limit, "a", 1) == spend(limit, "b", 1) == [True]
    assert spend(limit, "c", 1) == [False]
    assert spend(limit, "a", 1) == [True]
    clock.advance(60)
    assert spend(limit, "c", 1) == [True]


@pytest.mark.parametrize(
    ("client", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("testclient", "testclient"),
    ],
)
def test_client_key(client: str, key: str) -> None:
    assert client_key(client) == key


def test_one_ipv6_network_is_one_client() -> None:
    limit = RateLimit(2, clock=Clock(0))
    assert spend(limit, "2001:db8:1:2::1", 1) + spend(limit, "2001:db8:1:2::2", 2) == [
        True,
        True,
        False,
    ]
    assert spend(limit, "2001:db8:1:3::1", 1) == [True]
