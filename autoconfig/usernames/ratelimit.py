"""How many people's logins one client may learn: the limit counts distinct addresses, not requests.

What an enumerator gains is the logins of distinct people; what a real client repeats is the same
address (one Thunderbird setup asks 4 autoconfig URLs and 3 Autodiscover ones, a person reloads
the setup page). So each client has, per window of :data:`WINDOW` seconds from its first looked-up
login, the set of addresses it got one for: asking again for one of them costs nothing, a new
one counts, and once ``limit`` are counted, new ones get the answer of a person the directory
does not list until the window ends. With the default 30, one client learns at most 30 logins a
minute, 1,800 an hour, 43,200 a day.

An address is counted before its lookup starts (:meth:`RateLimit.admit`) and handed back when
the lookup gives no login (:meth:`RateLimit.release`: unknown addresses cost nothing), so requests
arriving together can never exceed the limit. IPv6 clients are counted per /64 network (one end
site's worth of addresses, which one client can easily cycle through). Clients in the ``exempt``
networks (the schools' and offices' own networks) are never limited. The table of clients is
bounded: when it is full, the client seen least recently is forgotten; a new client is never
refused for it. ``limit == 0`` turns the limit off.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from autoconfig.settings import Network

WINDOW = 60.0
IPV6_PREFIX = 64
MAX_CLIENTS = 20_000
"""Clients remembered at once (each with at most ``limit`` address hashes: about 3 KB for 30)."""


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
        max_clients: int = MAX_CLIENTS,
        exempt: Sequence[Network] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self.exempt = tuple(exempt)
        self._clock = clock
        # client key -> (start of its window, hashes of the addresses counted in it)
        self._clients: OrderedDict[str, tuple[float, set[int]]] = OrderedDict()
        self._lock = threading.Lock()

    def exempts(self, client: str) -> bool:
        """True when ``client`` is in one of the exempt networks."""
        if not self.exempt:
            return False
        try:
            ip = ipaddress.ip_address(client)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.exempt)

    def _limited(self, client: str | None) -> bool:
        return bool(self.limit) and client is not None and not self.exempts(client)

    def admit(self, client: str | None, address: str) -> bool:
        """May ``client`` get a looked-up login for ``address``? True when it already got one for
        it in this window, or has room for one more (the address is then counted)."""
        if not self._limited(client):
            return True
        assert client is not None
        key, counted = client_key(client), hash(address)
        now = self._clock()
        with self._lock:
            entry = self._clients.get(key)
            if entry is None or now - entry[0] >= self.window:
                entry = (now, set())
                self._clients[key] = entry
                while len(self._clients) > self.max_clients:
                    self._clients.popitem(last=False)
            self._clients.move_to_end(key)
            addresses = entry[1]
            if counted in addresses:
                return True
            if len(addresses) >= self.limit:
                return False
            addresses.add(counted)
            return True

    def release(self, client: str | None, address: str) -> None:
        """The lookup admitted for ``address`` gave no login: it costs ``client`` nothing."""
        if not self._limited(client):
            return
        assert client is not None
        with self._lock:
            entry = self._clients.get(client_key(client))
            if entry is not None:
                entry[1].discard(hash(address))
