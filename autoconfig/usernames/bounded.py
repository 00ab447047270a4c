"""Directory lookups that never hold an answer up: bounded in time, cached, limited per client.

Blocking backends (LDAP, SQLite) run in a fixed pool of threads, with a short queue in front.
Each lookup waits at most the time budget; past it, or when the backend fails, the answer goes out
with the profile's fallback login, and the lookup is dropped if it has not started yet. When the
queue is full too (a hung directory), the fallback goes out at once: threads and queued work never
pile up. A lookup that finishes after its budget still fills the cache, so the next request finds
the result. Concurrent requests for the same address share one lookup. Failures are counted and
logged once per interval, never per request, and never with the address. After a failure the
directory is left alone for a second (``REST``), so a directory that is down is not asked by every
request, and one that comes back is not flooded. The tables (CSV in memory, SQLite) are read
directly, on the event loop: they answer in microseconds and never wait behind the LDAP queue.
One client may hold only a quarter of that queue (:data:`SHARE`), so a flood of addresses from
one client (unknown ones cost nothing against the limit) never leaves the others without room.
Every answer given the fallback because of load or of the limit is counted (the metrics) and
logged once per interval, without the address.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from autoconfig.address import Address
from autoconfig.errors import DirectoryError
from autoconfig.model import Account, Found, Listed, LoginPolicy, LoginSource
from autoconfig.settings import LookupSettings
from autoconfig.usernames import Digests, Directory
from autoconfig.usernames.cache import LookupCache
from autoconfig.usernames.entry import Entry
from autoconfig.usernames.ratelimit import RateLimit, SharedRateLimit, client_key
from autoconfig.usernames.table import SqliteDirectory, TableDirectory
from autoconfig.usernames.throttledlog import ThrottledLog

THREADS = 8
"""LDAP lookups running at once (bench/run limits: a cold burst of 64 people at a time against a
loopback slapd of 100,000 entries answers each in about 2 ms)."""
WAITING = 256
"""LDAP lookups running or queued at once: at that speed the queue drains well within the 300 ms
budget, so a burst of distinct people waits instead of getting the fallback; a hung directory
still holds only the threads, and more concurrent misses get the fallback at once."""
SHARE = 4
"""One client may hold ``1/SHARE`` of the queue (the exempt networks: all of it): a client flooding
the directory with addresses (unknown ones cost nothing against the limit) fills its own share,
never the others'."""
UNCAPPED = "-"
PROBE_BUDGET = 10.0
"""Seconds a probe of the directory (:meth:`Lookups.probe`) may take before it counts as failed:
longer than an LDAP connect, bind and search within their own time-outs."""
REST = 1.0
"""Seconds the directory is left alone after it failed (refused, errored): meanwhile misses get
the fallback at once, and a directory that comes back is not met by every request at the same
time. The first miss after the rest tries it again."""

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    """What asking the directory gave, for the access log and the metrics."""

    DIRECTORY = "directory"
    """Found."""
    CACHE = "cache"
    """Answered from the cache (found or unknown)."""
    UNKNOWN = "unknown"
    TIMEOUT = "timeout"
    FAILED = "failed"
    RESTING = "resting"
    """Not asked: it failed less than :data:`REST` seconds ago."""
    BUSY = "busy"
    """Not asked: too many lookups running or queued."""
    LIMITED = "limited"
    """Not asked: the client reached its limit of looked-up logins."""


UNANSWERED = frozenset(
    {Outcome.TIMEOUT, Outcome.FAILED, Outcome.RESTING, Outcome.BUSY, Outcome.LIMITED}
)
"""The outcomes where the directory gave no answer about the person (down, slow, full, or the
client over its limit): asking again a little later may give their login."""


@dataclass(frozen=True, slots=True)
class Result:
    """One lookup: the entry (``None``: unknown or failed), where it came from, a short note, the
    outcome (``None`` when there is no directory to ask) and what it says of the address."""

    entry: Entry | None
    found: Found
    detail: str
    outcome: Outcome | None = None
    listed: Listed = Listed.UNSURE


@dataclass(frozen=True, slots=True)
class Resolved:
    """The account to answer with, and what the directory did for it (``None``: not asked)."""

    account: Account
    outcome: Outcome | None = None


class Lookups:
    """The directory, wrapped: bounded in time, cached, limited per client."""

    def __init__(
        self,
        directory: Directory | None,
        settings: LookupSettings,
        threads: int = THREADS,
        waiting: int = WAITING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory
        self.budget = settings.timeout_ms / 1000
        self.cache = LookupCache(settings.hit_ttl, settings.miss_ttl, clock=clock)
        self.limit: RateLimit
        folder = settings.rate_limit_dir or settings.shared_dir
        self._limit_kind = (settings.rate_limit, settings.rate_limit_exempt, folder)
        self._owns_limit = True
        if folder is not None and settings.rate_limit:
            self.limit = SharedRateLimit(
                settings.rate_limit,
                folder,
                exempt=settings.rate_limit_exempt,
                clock=clock,
            )
        else:
            self.limit = RateLimit(
                settings.rate_limit, exempt=settings.rate_limit_exempt, clock=clock
            )
        self.threads = threads
        self.waiting = max(waiting, threads)
        self.per_client = max(1, self.waiting // SHARE)
        # Tables answer in microseconds, on the event loop: they never wait behind LDAP.
        self._inline = isinstance(directory, TableDirectory | SqliteDirectory)
        self._executor: ThreadPoolExecutor | None = None
        self._inflight: dict[str, Future[Entry | None]] = {}
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()
        self._failures = ThrottledLog(
            log, "directory lookups failing, answering with the fallback login", clock=clock
        )
        self._limited = ThrottledLog(
            log, "clients over their limit of looked-up logins, answered as unlisted", clock=clock
        )
        self._clock = clock
        self._resting_until = 0.0

    async def account(
        self, policy: LoginPolicy, address: Address | None, client: str | None
    ) -> Resolved:
        """The account to answer with for ``address``, asked by ``client`` (``None``: the CLI).
        What it says of the login is :meth:`LoginPolicy.decide`'s, from what the directory said."""
        if address is None or policy.source is LoginSource.TEMPLATE or self.directory is None:
            return Resolved(policy.decide(address))
        if self._inline:
            # A table answers at once, with no await between its answer and the admission: an
            # address it does not list never touches the limit (nor its shared file).
            result = await self.find(address, client)
            if result.entry is not None and not self.limit.admit(client, address.key):
                return self._over_limit(policy, address)
            return self._resolved(policy, address, result, client, None)
        if not self.limit.admit(client, address.key):
            return self._over_limit(policy, address)
        result = await self.find(address, client)
        return self._resolved(policy, address, result, client, address.key)

    def _over_limit(self, policy: LoginPolicy, address: Address | None) -> Resolved:
        self._limited.problem("the per-client limit (--directory-rate-limit) was reached")
        return Resolved(policy.decide(address), Outcome.LIMITED)

    def _resolved(
        self,
        policy: LoginPolicy,
        address: Address | None,
        result: Result,
        client: str | None,
        counted: str | None,
    ) -> Resolved:
        """``counted``: what was admitted before the lookup, handed back when it found nobody."""
        entry = result.entry
        if entry is None:
            if counted is not None:
                self.limit.release(client, counted)
            return Resolved(policy.decide(address, result.listed), result.outcome)
        cached = result.found is Found.CACHE
        account = policy.decide(address, Listed.YES, entry.login, entry.name, cached)
        return Resolved(account, result.outcome)

    async def account_by_digest(
        self, policy: LoginPolicy, domain: str, digest: bytes, client: str | None
    ) -> Resolved:
        """The account of the person of ``domain`` whose lower-cased address has the MD5
        ``digest`` (Evolution sends it instead of the address). Only tables can be searched so:
        elsewhere, and for a digest no entry has, the generic answer."""
        if policy.source is LoginSource.TEMPLATE or not isinstance(self.directory, Digests):
            return Resolved(policy.decide(None))
        counted = f"md5:{digest.hex()}"
        if not self.limit.admit(client, counted):
            return self._over_limit(policy, None)
        try:
            found = self.directory.lookup_digest(digest, domain)
        except DirectoryError as exc:
            self.limit.release(client, counted)
            return Resolved(policy.decide(None), self._failed(Outcome.FAILED, str(exc)).outcome)
        if found is None:
            self.limit.release(client, counted)
            return Resolved(policy.decide(None), Outcome.UNKNOWN)
        address, entry = found
        return self._resolved(policy, address, self._found(entry), client, counted)

    async def find(self, address: Address, client: str | None = None) -> Result:
        """Look ``address`` up within the budget, for ``client`` (its share of the queue); never
        raises for a directory problem."""
        if self.directory is None:
            return Result(None, Found.FALLBACK, "no directory configured")
        if self._inline:
            try:
                return self._found(self.directory.lookup(address))
            except DirectoryError as exc:
                return self._failed(Outcome.FAILED, str(exc))
        hit, cached = self.cache.get(address.key)
        if hit:
            if cached is None:
                return Result(
                    None, Found.FALLBACK, "not in the directory (cached)", Outcome.CACHE, Listed.NO
                )
            return Result(cached, Found.CACHE, "found (cached)", Outcome.CACHE, Listed.YES)
        if self._clock() < self._resting_until:
            return self._failed(Outcome.RESTING, f"the directory failed less than {REST:g} s ago")
        future = self._submit(address, client)
        if future is None:
            return self._failed(Outcome.BUSY, "the lookup queue (or this client's share) is full")
        try:
            await _wait(future, self.budget)
        except TimeoutError:
            future.cancel()  # only drops it if it has not started; it may serve other waiters
            return self._failed(Outcome.TIMEOUT, f"no answer within {self.budget * 1000:.0f} ms")
        if future.cancelled():
            return self._failed(
                Outcome.TIMEOUT, "dropped from the queue after another request's budget"
            )
        return self._outcome(future)

    def _outcome(self, future: Future[Entry | None]) -> Result:
        exc = future.exception()
        if exc is not None:
            self._resting_until = self._clock() + REST
            return self._failed(
                Outcome.FAILED, str(exc) if isinstance(exc, DirectoryError) else type(exc).__name__
            )
        return self._found(future.result())

    def _found(self, entry: Entry | None) -> Result:
        self._failures.ok()
        if entry is None:
            return Result(None, Found.FALLBACK, "not in the directory", Outcome.UNKNOWN, Listed.NO)
        return Result(entry, Found.DIRECTORY, "found", Outcome.DIRECTORY, Listed.YES)

    def _failed(self, outcome: Outcome, reason: str) -> Result:
        self._failures.problem(f"{outcome}: {reason}")
        return Result(None, Found.FALLBACK, f"{outcome}: {reason}", outcome)

    def _submit(self, address: Address, client: str | None) -> Future[Entry | None] | None:
        """The pending lookup of ``address``, or a new one; ``None`` when too many are pending,
        in all or for ``client``."""
        key = address.key
        # The CLI and the schools' own networks may use the whole queue.
        uncapped = client is None or self.limit.exempts(client)
        owner = UNCAPPED if client is None or uncapped else client_key(client)
        with self._lock:
            running = self._inflight.get(key)
            if running is not None:
                return running
            if len(self._inflight) >= self.waiting:
                return None
            if owner != UNCAPPED and self._pending.get(owner, 0) >= self.per_client:
                return None
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.threads, "autoconfig-directory")
            future = self._executor.submit(self._lookup_and_cache, address)
            self._inflight[key] = future
            self._pending[owner] = self._pending.get(owner, 0) + 1
        # also when dropped unstarted
        future.add_done_callback(lambda _: self._forget(key, owner))
        return future

    def _forget(self, key: str, owner: str) -> None:
        with self._lock:
            self._inflight.pop(key, None)
            left = self._pending.get(owner, 1) - 1
            if left:
                self._pending[owner] = left
            else:
                self._pending.pop(owner, None)

    def _lookup_and_cache(self, address: Address) -> Entry | None:
        assert self.directory is not None
        entry = self.directory.lookup(address)
        self.cache.put(address.key, entry)
        return entry

    def prime(self) -> None:
        """Let a backend that can get ready in the background before the first request: LDAP
        connects (so that request does not spend its budget connecting; failures count like a
        failed lookup), a table builds its MD5 index."""
        prime = getattr(self.directory, "prime", None)
        if prime is None:
            return
        if self._inline:
            prime()  # the table starts its own background work
            return

        def run() -> None:
            try:
                prime()
            except DirectoryError as exc:
                self._failures.problem(f"failed: {exc}")

        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.threads, "autoconfig-directory")
            self._executor.submit(run)

    @property
    def probes(self) -> bool:
        """Whether the directory can be probed (LDAP); a table is loaded in full and cannot go
        down while it is open."""
        return callable(getattr(self.directory, "probe", None))

    async def probe(self, budget: float = PROBE_BUDGET) -> str | None:
        """Ask the directory whether it answers now (LDAP: connect, bind afresh, read the base
        entry): ``None`` when it does, else why not (never an address). Runs in the lookup
        threads, so a directory that holds every thread counts as down."""
        probe = getattr(self.directory, "probe", None)
        if probe is None:
            return None
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.threads, "autoconfig-directory")
            future: Future[Any] = self._executor.submit(probe)
        try:
            await _wait(future, budget)
        except TimeoutError:
            future.cancel()
            return f"no answer to the probe within {budget:g} s"
        if future.cancelled():
            return "the probe was dropped"
        exc = future.exception()
        if exc is not None:
            return str(exc) if isinstance(exc, DirectoryError) else type(exc).__name__
        return None

    def take_limit(self, previous: Lookups) -> None:
        """Go on counting with ``previous``'s per-client limit, when both count alike: a reload
        or a replaced directory file must not give every client a fresh allowance (the shared
        file of several workers keeps its counts anyway; one worker's table would start empty)."""
        if previous._limit_kind != self._limit_kind or previous.limit is self.limit:
            return
        self.limit.close()
        self.limit = previous.limit
        previous._owns_limit = False  # closing the previous lookups leaves it to this one

    def close(self) -> None:
        if self._owns_limit:
            self.limit.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


async def _wait(future: Future[Any], timeout: float) -> None:
    """Wait for a thread's future without tying it to this event loop (which may close first)."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not waiter.done():
            waiter.set_result(None)

    def done(_: Future[Any]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(wake)

    future.add_done_callback(done)
    # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that arrives once the
    # thread is done but before this task resumes, and the probe loop then outlived the worker's
    # shutdown (which waited for it for ever).
    async with asyncio.timeout(timeout):
        await waiter
