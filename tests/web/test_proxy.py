from __future__ import annotations

import ipaddress

import pytest

from autoconfig.web.proxy import client_address

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))

# (peer, X-Forwarded-For headers, trusted proxies, client address used for the limit)
CASES = [
    ("203.0.113.9", [], PROXIES, "203.0.113.9"),
    ("203.0.113.9", ["198.51.100.1"], PROXIES, "203.0.113.9"),  # not from a proxy: ignored
    ("10.1.2.3", ["198.51.100.1"], (), "10.1.2.3"),  # no trusted proxy configured
    ("10.1.2.3", [], PROXIES, "10.1.2.3"),
    ("10.1.2.3", ["198.51.100.1"], PROXIES, "198.51.100.1"),
    ("10.1.2.3", ["forged, 198.51.100.1"], PROXIES, "198.51.100.1"),
    ("10.1.2.3", ["198.51.100.7, 10.9.9.9"], PROXIES, "198.51.100.7"),  # two proxies
    ("10.1.2.3", ["198.51.100.7", "10.9.9.9"], PROXIES, "198.51.100.7"),  # two headers
    ("10.1.2.3", ["1.1.1.1, 198.51.100.7, 10.9.9.9"], PROXIES, "198.51.100.7"),
    ("10.1.2.3", ["not-an-ip"], PROXIES, "10.1.2.3"),
    ("10.1.2.3", ["198.51.100.1, not-an-ip"], PROXIES, "10.1.2.3"),
    ("::1", ["2001:db8::5"], PROXIES, "2001:db8::5"),
    ("testclient", ["198.51.100.1"], PROXIES, "testclient"),
    (None, ["198.51.100.1"], PROXIES, None),
]


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "expected"), CASES)
def test_client_address(
    peer: str | None,
    forwarded: list[str],
    trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...],
    expected: str | None,
) -> None:
    assert client_address(peer, forwarded, trusted) == expected
