"""Directory lookups that never hold an answer up: bounded in time, cached, limited per client.

Blocking backends (LDAP, SQLite) run in a fixed pool of threads, with a short queue in front.
Each lookup waits at most the time budget; past it, or when the backend fails, the answer goes out
with the profile's fallback login, and the lookup is dropped if it has not started yet. When the
queue is full too (a hung directory), the fallback goes out at once: threads and queued work never
pile up. A lookup that finishes after its budget still fills the cache, so the next request finds
the result. Concurrent requests for the same address share one lookup. Failures are counted and
logged once per interval, never per request, and never with the address. After a failure the
directory is left alone for a second (``REST``), so a directory that is down is not asked by every
request, and one that comes back is not flooded. The in-memory CSV table is read directly: it
cannot be slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from autoconfig import record
from autoconfig.address import Address
from autoconfig.errors import DirectoryError
from autoconfig.model import Account, Found, LoginPolicy, LoginSource
from autoconfig.ratelimit import RateLimit
from autoconfig.settings import LookupSettings
from autoconfig.throttledlog import ThrottledLog
from autoconfig.usernames import Directory
from autoconfig.usernames.cache import LookupCache
from autoconfig.usernames.entry import Entry
from autoconfig.usernames.table import TableDirectory
from autoconfig.usernames.template import TemplateResolver

THREADS = 4
"""Lookups running at once."""
WAITING = 16
"""Lookups running or queued at once; more concurrent misses get the fallback at once."""
REST = 1.0
"""Seconds the directory is left alone after it failed (refused, errored): meanwhile misses get
the fallback at once, and a directory that comes back is not met by every request at the same
time. The first miss after the rest tries it again."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Result:
    """One lookup: the entry (``None``: unknown or failed), where it came from, and a short note."""

    entry: Entry | None
    found: Found
    detail: str


class Lookups:
    """The directory, wrapped. ``stats`` counts outcomes: directory, cache, unknown, failed,
    resting, timeout, busy, limited."""

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
        self.limit = RateLimit(settings.rate_limit, clock=clock)
        self.stats: Counter[str] = Counter()
        self.threads = threads
        self.waiting = max(waiting, threads)
        self._inline = isinstance(directory, TableDirectory | TemplateResolver)
        self._executor: ThreadPoolExecutor | None = None
        self._inflight: dict[str, Future[Entry | None]] = {}
        self._lock = threading.Lock()
        self._failures = ThrottledLog(
            log, "directory lookups failing, answering with the fallback login", clock=clock
        )
        self._clock = clock
        self._resting_until = 0.0

    async def account(
        self, policy: LoginPolicy, address: Address | None, client: str | None
    ) -> Account:
        """The account to answer with for ``address``, asked by ``client`` (``None``: the CLI)."""
        if address is None:
            return Account(None, policy.template, Found.FALLBACK)
        if policy.source is LoginSource.TEMPLATE:
            return Account(address, TemplateResolver(policy).lookup(address).login, Found.TEMPLATE)
        fallback = Account(address, policy.expand(address), Found.FALLBACK)
        if self.directory is None:
            return fallback
        if self.limit.exhausted(client):
            self._count("limited")
            return fallback
        result = await self.find(address)
        if result.entry is None:
            return fallback
        self.limit.spend(client)
        return Account(address, result.entry.login, result.found, result.entry.name)

    async def find(self, address: Address) -> Result:
        """Look ``address`` up within the budget; never raises for a directory problem."""
        if self.directory is None:
            return Result(None, Found.FALLBACK, "no directory configured")
        if self._inline:
            try:
                return self._found(self.directory.lookup(address))
            except DirectoryError as exc:
                return self._failed("failed", str(exc))
        hit, cached = self.cache.get(address.key)
        if hit:
            self._count("cache")
            if cached is None:
                return Result(None, Found.FALLBACK, "not in the directory (cached)")
            return Result(cached, Found.CACHE, "found (cached)")
        if self._clock() < self._resting_until:
            return self._failed("resting", f"the directory failed less than {REST:g} s ago")
        future = self._submit(address)
        if future is None:
            return self._failed("busy", f"{self.waiting} lookups already running or queued")
        try:
            await _wait(future, self.budget)
        except TimeoutError:
            future.cancel()  # only drops it if it has not started; it may serve other waiters
            return self._failed("timeout", f"no answer within {self.budget * 1000:.0f} ms")
        if future.cancelled():
            return self._failed("timeout", "dropped from the queue after another request's budget")
        return self._outcome(future)

    def _outcome(self, future: Future[Entry | None]) -> Result:
        exc = future.exception()
        if exc is not None:
            self._resting_until = self._clock() + REST
            return self._failed(
                "failed", str(exc) if isinstance(exc, DirectoryError) else type(exc).__name__
            )
        return self._found(future.result())

    def _found(self, entry: Entry | None) -> Result:
        self._failures.ok()
        if entry is None:
            self._count("unknown")
            return Result(None, Found.FALLBACK, "not in the directory")
        self._count("directory")
        return Result(entry, Found.DIRECTORY, "found")

    def _count(self, outcome: str) -> None:
        """Count an outcome here and in the request's record (for the access log and metrics)."""
        self.stats[outcome] += 1
        record.note(directory=outcome)

    def _failed(self, kind: str, reason: str) -> Result:
        self._count(kind)
        self._failures.problem(f"{kind}: {reason}")
        return Result(None, Found.FALLBACK, f"{kind}: {reason}")

    def _submit(self, address: Address) -> Future[Entry | None] | None:
        """The pending lookup of ``address``, or a new one; ``None`` when too many are pending."""
        key = address.key
        with self._lock:
            running = self._inflight.get(key)
            if running is not None:
                return running
            if len(self._inflight) >= self.waiting:
                return None
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.threads, "autoconfig-directory")
            future = self._executor.submit(self._lookup_and_cache, address)
            self._inflight[key] = future
        future.add_done_callback(lambda _: self._forget(key))  # also when dropped unstarted
        return future

    def _forget(self, key: str) -> None:
        with self._lock:
            self._inflight.pop(key, None)

    def _lookup_and_cache(self, address: Address) -> Entry | None:
        assert self.directory is not None
        entry = self.directory.lookup(address)
        self.cache.put(address.key, entry)
        return entry

    def prime(self) -> None:
        """Let a backend that can (LDAP) connect in the background before the first request, so
        that request does not spend its budget connecting. Failures count like a failed lookup."""
        prime = getattr(self.directory, "prime", None)
        if prime is None or self._inline:
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

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


async def _wait(future: Future[Entry | None], timeout: float) -> None:
    """Wait for a thread's future without tying it to this event loop (which may close first)."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not waiter.done():
            waiter.set_result(None)

    def done(_: Future[Entry | None]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(wake)

    future.add_done_callback(done)
    await asyncio.wait_for(waiter, timeout)
