from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import pytest

from autoconfig.address import Address, parse
from autoconfig.errors import DirectoryError
from autoconfig.model import Account, Certainty, Found, LoginPolicy, LoginSource
from autoconfig.settings import LookupSettings
from autoconfig.usernames import Directory
from autoconfig.usernames.bounded import REST, Lookups, Outcome, Resolved, Result, _wait
from autoconfig.usernames.entry import Entry
from autoconfig.usernames.table import TableDirectory
from tests.fakes import Clock, FakeDirectory

PIERRE = parse("pierre.dupont@ac-aix-marseille.fr")
MARIE = parse("marie.martin@ac-aix-marseille.fr")
NOBODY = parse("nobody@ac-aix-marseille.fr")
ENTRIES = {PIERRE.key: Entry("pdupont", "Pierre Dupont"), MARIE.key: Entry("mmartin3")}
POLICY = LoginPolicy(LoginSource.DIRECTORY, "%EMAILLOCALPART%")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # never leave a thread waiting


def lookups(
    directory: Directory | None,
    clock: Clock,
    threads: int = 4,
    waiting: int = 16,
    timeout_ms: int = 5000,
    hit_ttl: int = 600,
    miss_ttl: int = 60,
    rate_limit: int = 0,
) -> Lookups:
    """Lookups with a generous budget: only the tests about the budget use a hung directory."""
    settings = LookupSettings(timeout_ms, hit_ttl, miss_ttl, rate_limit)
    return Lookups(directory, settings, threads=threads, waiting=waiting, clock=clock)


def find(wrapped: Lookups, *addresses: Address) -> list[Result]:
    async def all_at_once() -> list[Result]:
        return list(await asyncio.gather(*(wrapped.find(a) for a in addresses)))

    return asyncio.run(all_at_once())


def wait_until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


def test_found_then_cached(clock: Clock) -> None:
    directory = FakeDirectory(ENTRIES)
    wrapped = lookups(directory, clock)
    (first,) = find(wrapped, PIERRE)
    (second,) = find(wrapped, PIERRE)
    assert (first.entry, first.found) == (ENTRIES[PIERRE.key], Found.DIRECTORY)
    assert (second.entry, second.found) == (ENTRIES[PIERRE.key], Found.CACHE)
    assert directory.calls == [PIERRE.key]
    assert (first.outcome, second.outcome) == (Outcome.DIRECTORY, Outcome.CACHE)


@pytest.mark.parametrize(
    ("address", "ttl_option", "ttl"),
    [(PIERRE, "hit_ttl", 600), (NOBODY, "miss_ttl", 60)],
)
def test_each_address_asked_once_per_ttl(
    clock: Clock, address: Address, ttl_option: str, ttl: int
) -> None:
    directory = FakeDirectory(ENTRIES)
    wrapped = (
        lookups(directory, clock, hit_ttl=ttl)
        if ttl_option == "hit_ttl"
        else lookups(directory, clock, miss_ttl=ttl)
    )
    find(wrapped, address)
    clock.advance(ttl - 1)
    find(wrapped, address, address)
    assert len(directory.calls) == 1
    clock.advance(1)
    find(wrapped, address)
    assert len(directory.calls) == 2


def test_ttl_zero_means_not_cached(clock: Clock) -> None:
    directory = FakeDirectory(ENTRIES)
    wrapped = lookups(directory, clock, hit_ttl=0, miss_ttl=0)
    find(wrapped, PIERRE)
    find(wrapped, NOBODY)
    find(wrapped, PIERRE)
    find(wrapped, NOBODY)
    assert len(directory.calls) == 4


def test_slow_directory_gets_the_fallback_and_its_late_answer_is_kept(
    clock: Clock, gate: threading.Event
) -> None:
    directory = FakeDirectory(ENTRIES, gate)
    wrapped = lookups(directory, clock, timeout_ms=100)
    (late,) = find(wrapped, PIERRE)
    assert (late.entry, late.found) == (None, Found.FALLBACK)
    assert late.detail.startswith("timeout")
    gate.set()
    wait_until(lambda: wrapped.cache.get(PIERRE.key)[0], "the late answer to fill the cache")
    (cached,) = find(wrapped, PIERRE)
    assert (cached.entry, cached.found) == (ENTRIES[PIERRE.key], Found.CACHE)


def test_hung_directory_does_not_pile_up_threads(clock: Clock, gate: threading.Event) -> None:
    directory = FakeDirectory(ENTRIES, gate)
    wrapped = lookups(directory, clock, threads=2, waiting=4, timeout_ms=100)
    addresses = [parse(f"person{n}@ac-aix-marseille.fr") for n in range(6)]
    results = find(wrapped, *addresses)
    assert all(r.found is Found.FALLBACK for r in results)
    assert Counter(r.outcome for r in results) == {Outcome.TIMEOUT: 4, Outcome.BUSY: 2}
    assert len(directory.calls) == 2  # the queued lookups were dropped, never started
    assert len(wrapped._inflight) == 2  # only the two stuck in the directory
    (more,) = find(wrapped, PIERRE)
    assert more.detail.startswith("timeout")
    assert len(directory.calls) == 2
    gate.set()
    wait_until(lambda: not wrapped._inflight, "the stuck lookups to end")
    (recovered,) = find(wrapped, PIERRE)
    assert recovered.found is Found.DIRECTORY


def test_bursts_queue_within_the_budget(clock: Clock) -> None:
    directory = FakeDirectory(ENTRIES)
    wrapped = lookups(directory, clock, threads=1, waiting=16)
    addresses = [PIERRE, MARIE] + [parse(f"p{n}@ac-aix-marseille.fr") for n in range(10)]
    results = find(wrapped, *addresses)
    assert [r.found for r in results] == [Found.DIRECTORY] * 2 + [Found.FALLBACK] * 10
    assert [r.detail for r in results[2:]] == ["not in the directory"] * 10
    assert len(directory.calls) == 12


def test_concurrent_requests_for_one_address_share_one_lookup(
    clock: Clock, gate: threading.Event
) -> None:
    directory = FakeDirectory(ENTRIES, gate)
    wrapped = lookups(directory, clock, timeout_ms=5000)
    threading.Timer(0.2, gate.set).start()
    results = find(wrapped, PIERRE, PIERRE, PIERRE)
    assert [r.found for r in results] == [Found.DIRECTORY] * 3
    assert directory.calls == [PIERRE.key]


def test_failures_are_logged_once_per_interval(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    directory = FakeDirectory(ENTRIES)
    directory.failing = True
    wrapped = lookups(directory, clock)
    seen: list[Result] = []
    with caplog.at_level(logging.DEBUG, logger="autoconfig"):
        for _ in range(5):
            (result,) = find(wrapped, PIERRE)
            seen.append(result)
            assert result.found is Found.FALLBACK
            clock.advance(REST)  # each one past the rest, so each asks the directory
        clock.advance(30)
        seen += find(wrapped, PIERRE)
        assert len(caplog.records) == 1
        clock.advance(30)
        seen += find(wrapped, PIERRE)
        assert len(caplog.records) == 2
        assert "6 time(s)" in caplog.records[1].getMessage()
        directory.failing = False
        clock.advance(REST)
        (back,) = find(wrapped, PIERRE)
        seen += [back, *find(wrapped, MARIE)]
    assert back.found is Found.DIRECTORY
    assert [r.outcome for r in seen].count(Outcome.FAILED) == 7
    assert len(caplog.records) == 3
    assert "over, after 7 time(s)" in caplog.records[2].getMessage()
    assert all("pierre" not in r.getMessage() for r in caplog.records)


def test_failures_are_not_cached(clock: Clock) -> None:
    directory = FakeDirectory(ENTRIES)
    directory.failing = True
    wrapped = lookups(directory, clock)
    find(wrapped, PIERRE)
    directory.failing = False
    clock.advance(REST)
    (result,) = find(wrapped, PIERRE)
    assert result.found is Found.DIRECTORY


def test_a_failed_directory_rests_then_is_tried_again(clock: Clock) -> None:
    """After a failure, misses get the fallback without asking the directory for REST seconds;
    cached answers are still given; the first miss after the rest asks it again."""
    directory = FakeDirectory(ENTRIES)
    wrapped = lookups(directory, clock)
    find(wrapped, MARIE)  # cached from now on
    directory.failing = True
    (failed,) = find(wrapped, PIERRE)
    asked = len(directory.calls)
    directory.failing = False
    resting = find(wrapped, PIERRE, NOBODY)
    (cached,) = find(wrapped, MARIE)
    assert len(directory.calls) == asked  # not asked while resting
    assert [r.detail.split(":")[0] for r in (failed, *resting)] == ["failed", "resting", "resting"]
    assert cached.found is Found.CACHE
    clock.advance(REST - 0.01)
    (still,) = find(wrapped, PIERRE)
    assert still.found is Found.FALLBACK
    clock.advance(0.02)
    assert find(wrapped, PIERRE)[0].found is Found.DIRECTORY
    assert [r.outcome for r in (failed, *resting, still)] == [
        Outcome.FAILED,
        Outcome.RESTING,
        Outcome.RESTING,
        Outcome.RESTING,
    ]


def test_in_memory_table_is_read_directly(clock: Clock) -> None:
    wrapped = lookups(TableDirectory(ENTRIES, "table"), clock)
    assert [r.found for r in find(wrapped, PIERRE, PIERRE, NOBODY)] == [
        Found.DIRECTORY,
        Found.DIRECTORY,
        Found.FALLBACK,
    ]
    assert wrapped._executor is None
    assert len(wrapped.cache) == 0


def resolved(
    wrapped: Lookups, address: Address | None, client: str | None, policy: LoginPolicy = POLICY
) -> Resolved:
    return asyncio.run(wrapped.account(policy, address, client))


def account(
    wrapped: Lookups, address: Address | None, client: str | None, policy: LoginPolicy = POLICY
) -> Account:
    return resolved(wrapped, address, client, policy).account


def test_accounts_by_source(clock: Clock) -> None:
    wrapped = lookups(FakeDirectory(ENTRIES), clock)
    generic = account(wrapped, None, "1.2.3.4")
    assert (generic.address, generic.login, generic.found) == (
        None,
        "%EMAILLOCALPART%",
        Found.FALLBACK,
    )
    found = account(wrapped, PIERRE, "1.2.3.4")
    assert (found.login, found.name, found.found, found.personal) == (
        "pdupont",
        "Pierre Dupont",
        Found.DIRECTORY,
        True,
    )
    cached = account(wrapped, PIERRE, "1.2.3.4")
    assert (cached.login, cached.found, cached.personal) == ("pdupont", Found.CACHE, True)
    unknown = account(wrapped, NOBODY, "1.2.3.4")
    assert (unknown.login, unknown.found, unknown.personal) == ("nobody", Found.FALLBACK, False)
    template = LoginPolicy(LoginSource.TEMPLATE, "%EMAILADDRESS%")
    derived = account(wrapped, PIERRE, "1.2.3.4", template)
    assert (derived.login, derived.found) == (str(PIERRE), Found.TEMPLATE)


def test_no_directory_gives_the_fallback(clock: Clock) -> None:
    wrapped = lookups(None, clock)
    assert account(wrapped, PIERRE, None).found is Found.FALLBACK


def test_looked_up_logins_are_limited_per_client(clock: Clock) -> None:
    directory = FakeDirectory(ENTRIES)
    wrapped = lookups(directory, clock, rate_limit=1)
    assert account(wrapped, NOBODY, "10.0.0.1").found is Found.FALLBACK  # costs nothing
    assert account(wrapped, PIERRE, "10.0.0.1").personal
    assert account(wrapped, PIERRE, "10.0.0.1").personal  # the same person again: free
    limited = resolved(wrapped, MARIE, "10.0.0.1")
    assert (limited.account.login, limited.account.found) == ("marie.martin", Found.FALLBACK)
    assert limited.account.certainty is Certainty.ASK
    assert limited.outcome is Outcome.LIMITED
    assert account(wrapped, MARIE, "10.0.0.2").personal
    assert all(account(wrapped, MARIE, None).personal for _ in range(5))
    clock.advance(60)
    assert account(wrapped, MARIE, "10.0.0.1").personal


def test_simultaneous_requests_cannot_exceed_the_limit(clock: Clock, gate: threading.Event) -> None:
    """100 distinct known people asked at once by one client, the directory slow to answer:
    exactly the limit get their login, the others the answer of an unlisted person."""
    staff = {parse(f"p{n}@ac-aix-marseille.fr"): Entry(f"login{n}") for n in range(100)}
    directory = FakeDirectory({address.key: entry for address, entry in staff.items()}, gate)
    wrapped = lookups(directory, clock, threads=4, waiting=200, rate_limit=30)
    wrapped.per_client = 200  # this test is about the limit, not the queue share

    async def all_at_once() -> list[Resolved]:
        asked = [wrapped.account(POLICY, address, "198.51.100.9") for address in staff]
        threading.Timer(0.2, gate.set).start()
        return list(await asyncio.gather(*asked))

    answers = asyncio.run(all_at_once())
    assert sum(a.account.personal for a in answers) == 30
    assert sum(a.outcome is Outcome.LIMITED for a in answers) == 70
    for address, answer in zip(staff, answers, strict=True):
        assert answer.account.login in (staff[address].login, address.local)  # never another's


def test_a_flood_of_unknown_addresses_does_not_starve_known_people(
    clock: Clock, gate: threading.Event
) -> None:
    """One client floods a hung directory with unknown addresses (free against the limit): it
    fills its own share of the queue; another client's lookup still gets a place."""
    directory = FakeDirectory(ENTRIES, gate)
    wrapped = lookups(directory, clock, threads=2, waiting=16, timeout_ms=300)

    async def flood_then_known() -> tuple[list[Result], Result]:
        flood = [
            wrapped.find(parse(f"nobody{n}@ac-aix-marseille.fr"), "203.0.113.66") for n in range(16)
        ]
        flooding = asyncio.gather(*flood)
        await asyncio.sleep(0.05)
        threading.Timer(0.1, gate.set).start()
        known = await wrapped.find(PIERRE, "192.0.2.44")
        return list(await flooding), known

    flood, known = asyncio.run(flood_then_known())
    assert sum(r.outcome is Outcome.BUSY for r in flood) == 16 - wrapped.per_client
    assert (known.entry, known.outcome) == (ENTRIES[PIERRE.key], Outcome.DIRECTORY)


class PrimedDirectory(FakeDirectory):
    def __init__(self) -> None:
        super().__init__(ENTRIES)
        self.primed = threading.Event()

    def prime(self) -> None:
        self.primed.set()
        if self.failing:
            raise DirectoryError("cannot connect")


@pytest.mark.parametrize("failing", [False, True])
def test_prime_runs_in_the_background(
    clock: Clock, failing: bool, caplog: pytest.LogCaptureFixture
) -> None:
    directory = PrimedDirectory()
    directory.failing = failing
    wrapped = lookups(directory, clock)
    with caplog.at_level(logging.WARNING, logger="autoconfig"):
        wrapped.prime()
        assert directory.primed.wait(10)
        wrapped.close()
        assert wrapped._executor is not None
        wrapped._executor.shutdown(wait=True)
    assert len(caplog.records) == int(failing)


def test_prime_does_nothing_for_other_backends(clock: Clock) -> None:
    wrapped = lookups(FakeDirectory(ENTRIES), clock)
    wrapped.prime()
    assert wrapped._executor is None


@pytest.mark.parametrize("turns", range(4))
def test_a_cancelled_wait_for_a_thread_stays_cancelled(turns: int) -> None:
    """A worker shutting down cancels its probe loop while a probe's thread may just have
    finished. Python 3.11's ``asyncio.wait_for`` returned normally when the cancellation came
    between the thread's end and the task's next turn, and the loop went on probing: the
    worker's shutdown waited for it for ever (a full test run hung there). Each case lets the
    loop run ``turns`` times after the thread's end, then cancels: a cancellation the task
    accepted must end it."""

    async def scenario() -> None:
        thread_done: Future[None] = Future()
        task = asyncio.ensure_future(_wait(thread_done, 10))
        await asyncio.sleep(0)  # the task waits
        thread_done.set_running_or_notify_cancel()
        thread_done.set_result(None)
        for _ in range(turns):
            await asyncio.sleep(0)
        if task.cancel():  # False once the task has already finished: nothing to lose then
            with pytest.raises(asyncio.CancelledError):
                await task
        else:
            assert task.done()

    asyncio.run(scenario())
