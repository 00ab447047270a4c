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

The workers of one ``autoconfig serve`` share one table (:class:`SharedRateLimit`, a small SQLite
file in the folder the server gives them), so the figure holds for the instance, not per process;
each worker remembers what it already knows (a person admitted, a client over its limit) and asks
the file only about what is new. The instances of one host that name the same folder
(``--directory-rate-limit-dir``) share that table too, so behind the Caddyfile, which spreads the
requests of one client over every instance, the figure holds for the deployment.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

from autoconfig.errors import ConfigError, Problem
from autoconfig.settings import Network
from autoconfig.usernames.throttledlog import ThrottledLog

WINDOW = 60.0
IPV6_PREFIX = 64
MAX_CLIENTS = 20_000
"""Clients remembered at once (each with at most ``limit`` address hashes: about 3 KB for 30)."""
SHARED_FILE = "ratelimit.sqlite"
"""The file the workers of one server share, in the folder it gives them."""
CLOCK_SLACK = 1.0
"""A window that starts more than this after now was written under another clock (a previous boot):
a new window starts."""
OPEN_WAIT = 10.0
"""Seconds a starting process waits for the file: the workers open it at the same moment, and
setting it up takes the write lock."""
LOCK_WAIT = 0.05
"""Seconds a process waits for the shared file's write lock. A transaction takes microseconds, so
only a stuck process (stopped, swapped out) holding it makes anyone wait that long; the event loop
is then blocked no longer than this."""
ALONE = 1.0
"""Seconds a process counts on its own after it found the shared file locked, before trying it
again: during that fault a client may get the figure once per process, never an error or a wait."""


log = logging.getLogger(__name__)


def address_hash(address: str) -> int:
    """A 63-bit hash of an address key, the same in every process (``hash()`` is not)."""
    return int.from_bytes(hashlib.blake2b(address.encode(), digest_size=8).digest(), "big") >> 1


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
        key, counted = client_key(client), address_hash(address)
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

    def close(self) -> None:
        """Nothing to release: the table lives in memory."""

    def release(self, client: str | None, address: str) -> None:
        """The lookup admitted for ``address`` gave no login: it costs ``client`` nothing."""
        if not self._limited(client):
            return
        assert client is not None
        with self._lock:
            entry = self._clients.get(client_key(client))
            if entry is not None:
                entry[1].discard(address_hash(address))


class SharedRateLimit(RateLimit):
    """The same limit, held in a SQLite file that several processes share (the workers of one
    server). Each process remembers, for the current window, the people it admitted and the
    clients found over their limit, so repeats and refused floods cost no I/O."""

    def __init__(
        self,
        limit: int,
        folder: Path,
        window: float = WINDOW,
        max_clients: int = MAX_CLIENTS,
        exempt: Sequence[Network] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(limit, window, max_clients, exempt, clock)
        self.path = folder / SHARED_FILE
        try:
            self._db = self._open(self.path)
        except (OSError, sqlite3.Error) as exc:
            problem = f"cannot keep the per-client limit in {folder}: {exc}"
            raise ConfigError(
                [Problem("AUTOCONFIG_DIRECTORY_RATE_LIMIT_DIR", "", problem)]
            ) from None
        self._known: dict[tuple[str, int], float] = {}
        """(client, address) admitted here -> end of its window."""
        self._refused: dict[str, float] = {}
        """Client over its limit -> end of its window."""
        self._alone_until = float("-inf")
        self._stuck = ThrottledLog(
            log,
            "per-client limit counted by each process alone: the shared file is locked "
            "(a stuck process?)",
            clock=clock,
        )

    def _open(self, path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=OPEN_WAIT, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")
        db.execute(
            "CREATE TABLE IF NOT EXISTS clients (client TEXT PRIMARY KEY, start REAL, seen REAL)"
        )
        db.execute(
            "CREATE TABLE IF NOT EXISTS counted (client TEXT, address INTEGER,"
            " PRIMARY KEY (client, address)) WITHOUT ROWID"
        )
        # A folder kept across a reboot holds times of the previous boot's clock: forget them.
        db.execute("DELETE FROM clients WHERE seen > ?", (self._clock(),))
        db.execute("DELETE FROM counted WHERE client NOT IN (SELECT client FROM clients)")
        # Set up: from now on a request waits for the lock only briefly (see LOCK_WAIT).
        db.execute(f"PRAGMA busy_timeout = {round(LOCK_WAIT * 1000)}")
        return db

    def admit(self, client: str | None, address: str) -> bool:
        if not self._limited(client):
            return True
        assert client is not None
        key, counted = client_key(client), address_hash(address)
        now = self._clock()
        with self._lock:
            shared = self._admit_here(key, counted, now)
        # None: the shared file cannot be asked now; this process counts alone meanwhile.
        return super().admit(client, address) if shared is None else shared

    def _admit_here(self, key: str, counted: int, now: float) -> bool | None:
        if self._known.get((key, counted), 0.0) > now:
            return True
        if now < self._alone_until:
            return None
        try:
            if self._refused.get(key, 0.0) > now:
                # Over its limit: only a person already counted (maybe by another worker) is free.
                found = self._db.execute(
                    "SELECT 1 FROM counted WHERE client = ? AND address = ?", (key, counted)
                ).fetchone()
                return found is not None
            admitted, window_end = self._admit_shared(key, counted, now)
        except sqlite3.OperationalError as exc:  # locked by a stuck process, or a disk error
            self._alone_until = now + ALONE
            self._stuck.problem(type(exc).__name__)
            return None
        self._stuck.ok()
        if len(self._known) >= self.max_clients * 4:
            self._known.clear()
        if len(self._refused) >= self.max_clients:
            self._refused.clear()
        if admitted:
            self._known[(key, counted)] = window_end
        else:
            self._refused[key] = window_end
        return admitted

    def _admit_shared(self, key: str, counted: int, now: float) -> tuple[bool, float]:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        # Read once the lock is held: a time read before could be older than the window another
        # process has just started, and pass for a clock gone back.
        now = max(now, self._clock())
        try:
            row = db.execute("SELECT start FROM clients WHERE client = ?", (key,)).fetchone()
            if row is None or now - row[0] >= self.window or row[0] - now > CLOCK_SLACK:
                start = now
                db.execute("DELETE FROM counted WHERE client = ?", (key,))
                db.execute("INSERT OR REPLACE INTO clients VALUES (?, ?, ?)", (key, now, now))
                self._forget_oldest(db)
            else:
                start = row[0]
                db.execute("UPDATE clients SET seen = ? WHERE client = ?", (now, key))
            window_end = start + self.window
            if db.execute(
                "SELECT 1 FROM counted WHERE client = ? AND address = ?", (key, counted)
            ).fetchone():
                admitted = True
            else:
                (count,) = db.execute(
                    "SELECT count(*) FROM counted WHERE client = ?", (key,)
                ).fetchone()
                admitted = count < self.limit
                if admitted:
                    db.execute("INSERT INTO counted VALUES (?, ?)", (key, counted))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return admitted, window_end

    def _forget_oldest(self, db: sqlite3.Connection) -> None:
        (clients,) = db.execute("SELECT count(*) FROM clients").fetchone()
        if clients > self.max_clients:
            db.execute(
                "DELETE FROM counted WHERE client IN (SELECT client FROM clients"
                " ORDER BY seen LIMIT ?)",
                (clients - self.max_clients,),
            )
            db.execute(
                "DELETE FROM clients WHERE client IN (SELECT client FROM clients"
                " ORDER BY seen LIMIT ?)",
                (clients - self.max_clients,),
            )

    def release(self, client: str | None, address: str) -> None:
        if not self._limited(client):
            return
        assert client is not None
        key, counted = client_key(client), address_hash(address)
        super().release(client, address)
        with self._lock:
            self._known.pop((key, counted), None)
            try:
                self._db.execute(
                    "DELETE FROM counted WHERE client = ? AND address = ?", (key, counted)
                )
            except sqlite3.OperationalError as exc:
                # Counted one too many for the window at worst; never a failed request.
                self._stuck.problem(type(exc).__name__)

    def close(self) -> None:
        self._db.close()
