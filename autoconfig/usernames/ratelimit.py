"""How many answers carrying a looked-up login one client may get per minute.

A fixed one-minute window per client address: cheap, and enough to keep the service from being a
way to list staff logins. IPv6 clients are counted per /64 network (one end site's worth of
addresses, which one client can easily cycle through). ``limit == 0`` turns the limit off. The table
of clients is bounded: when it is full, clients it does not know yet count as over the limit until
the next window.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable

WINDOW = 60.0
IPV6_PREFIX = 64


def client_key(client: str) -> str:
    """What one client is counted as: its IPv4 address, or its IPv6 /64 network."""
    try:
        ip = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


class RateLimit:
    def __init__(
        self,
        limit: int,
        window: float = WINDOW,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._clock = clock
        self._counts: dict[str, int] = {}
        self._current = self._window_number()
        self._lock = threading.Lock()

    def _window_number(self) -> int:
        return int(self._clock() // self.window)

    def _roll(self) -> None:
        number = self._window_number()
        if number != self._current:
            self._current = number
            self._counts.clear()

    def exhausted(self, client: str | None) -> bool:
        """True when ``client`` may not get another personal answer in this window."""
        if not self.limit or client is None:
            return False
        key = client_key(client)
        with self._lock:
            self._roll()
            count = self._counts.get(key)
            if count is None:
                return len(self._counts) >= self.max_clients
            return count >= self.limit

    def spend(self, client: str | None) -> None:
        """Count one personal answer given to ``client``."""
        if not self.limit or client is None:
            return
        key = client_key(client)
        with self._lock:
            self._roll()
            if key in self._counts or len(self._counts) < self.max_clients:
                self._counts[key] = self._counts.get(key, 0) + 1
