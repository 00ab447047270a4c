"""The per-client limit counts distinct people, not requests (``autoconfig.usernames.ratelimit``)."""

from __future__ import annotations

import ipaddress
import threading
from pathlib import Path
from typing import Any

import pytest

from autoconfig.errors import ConfigError
from autoconfig.usernames import ratelimit
from autoconfig.usernames.ratelimit import RateLimit, SharedRateLimit, client_key
from tests.fakes import Clock


def people(n: int, start: int = 0) -> list[str]:
    return [f"p{i}@ac-aix-marseille.fr" for i in range(start, start + n)]


def admitted(limit: RateLimit, client: str | None, addresses: list[str]) -> list[bool]:
    return [limit.admit(client, address) for address in addresses]


def test_distinct_people_per_client_and_window() -> None:
    clock = Clock(0)
    limit = RateLimit(3, clock=clock)
    assert admitted(limit, "a", people(5)) == [True, True, True, False, False]
    assert admitted(limit, "b", people(1)) == [True]
    clock.advance(59)
    assert admitted(limit, "a", people(1, start=10)) == [False]
    clock.advance(1)
    assert admitted(limit, "a", people(4, start=10)) == [True, True, True, False]


def test_asking_again_for_the_same_person_costs_nothing() -> None:
    """One Thunderbird setup: 4 autoconfig and 3 Autodiscover requests for one person."""
    limit = RateLimit(2, clock=Clock(0))
    one_setup = ["marie.curie@ac-aix-marseille.fr"] * 7
    assert all(admitted(limit, "a", one_setup))
    assert all(admitted(limit, "a", ["paul.langevin@ac-aix-marseille.fr"] * 7))
    assert admitted(limit, "a", ["irene.joliot@ac-aix-marseille.fr"]) == [False]
    assert all(admitted(limit, "a", one_setup))  # still the people it already got


def test_a_school_of_25_setups_behind_one_address_gets_every_login_with_the_default() -> None:
    limit = RateLimit(30, clock=Clock(0))
    for teacher in people(25):
        assert all(admitted(limit, "192.0.2.10", [teacher] * 7))


def test_an_address_that_gave_no_login_is_handed_back() -> None:
    limit = RateLimit(2, clock=Clock(0))
    assert admitted(limit, "a", people(2)) == [True, True]
    limit.release("a", people(1)[0])  # that one was not in the directory
    assert admitted(limit, "a", people(1, start=5)) == [True]
    assert admitted(limit, "a", people(1, start=6)) == [False]


@pytest.mark.parametrize(("limit", "client"), [(0, "a"), (3, None)])
def test_no_limit(limit: int, client: str | None) -> None:
    assert all(admitted(RateLimit(limit, clock=Clock()), client, people(100)))


@pytest.mark.parametrize(
    "client", ["192.0.2.10", "192.0.2.250", "::ffff:192.0.2.7", "2001:db8:5:1::42"]
)
def test_exempt_networks_are_never_limited(client: str) -> None:
    exempt = (ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("2001:db8:5::/48"))
    limit = RateLimit(1, exempt=exempt, clock=Clock(0))
    assert all(admitted(limit, client, people(200)))


def test_a_client_outside_the_exempt_networks_is_limited() -> None:
    limit = RateLimit(1, exempt=(ipaddress.ip_network("192.0.2.0/24"),), clock=Clock(0))
    assert admitted(limit, "198.51.100.1", people(2)) == [True, False]
    assert admitted(limit, "not-an-ip", people(2)) == [True, False]


def test_a_full_table_forgets_the_oldest_client_and_refuses_no_new_one() -> None:
    limit = RateLimit(1, max_clients=2, clock=Clock(0))
    assert admitted(limit, "a", people(1)) == admitted(limit, "b", people(1)) == [True]
    assert admitted(limit, "c", people(1)) == [True]  # never locked out
    assert admitted(limit, "b", people(1, start=3)) == [False]  # b is still remembered
    assert admitted(limit, "a", people(1, start=3)) == [True]  # a, the oldest, was forgotten


def test_requests_arriving_together_cannot_exceed_the_limit() -> None:
    """Admission counts before the lookup starts: threads racing for distinct people get exactly
    ``limit`` admissions."""
    limit = RateLimit(30, clock=Clock(0))
    results: list[bool] = []
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        start.wait()
        found = admitted(limit, "203.0.113.5", people(25, start=n * 25))
        with lock:
            results.extend(found)

    lock = threading.Lock()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 30


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
    assert admitted(limit, "2001:db8:1:2::1", people(1)) + admitted(
        limit, "2001:db8:1:2::2", people(2, start=1)
    ) == [True, True, False]
    assert admitted(limit, "2001:db8:1:3::1", people(1, start=9)) == [True]


def shared_pair(
    tmp_path: Path, limit: int, clock: Clock, **options: Any
) -> tuple[RateLimit, RateLimit]:
    """Two limits on one folder, as two workers of one server see it."""
    return (
        SharedRateLimit(limit, tmp_path, clock=clock, **options),
        SharedRateLimit(limit, tmp_path, clock=clock, **options),
    )


def test_workers_share_one_limit(tmp_path: Path) -> None:
    clock = Clock(0)
    first, second = shared_pair(tmp_path, 3, clock)
    try:
        assert admitted(first, "a", people(2)) == [True, True]
        assert admitted(second, "a", people(3)) == [True, True, True]  # two repeats, one new
        assert admitted(second, "a", people(1, start=7)) == [False]
        assert admitted(first, "a", people(1, start=8)) == [False]
        assert admitted(first, "a", people(3)) == [True, True, True]  # still free
        assert admitted(second, "b", people(1)) == [True]
        clock.advance(60)
        assert admitted(first, "a", people(3, start=20)) == [True, True, True]
        assert admitted(second, "a", people(1, start=30)) == [False]
    finally:
        first.close()
        second.close()


def test_a_shared_release_is_seen_by_the_other_worker(tmp_path: Path) -> None:
    first, second = shared_pair(tmp_path, 1, Clock(0))
    try:
        assert admitted(first, "a", people(1)) == [True]
        first.release("a", people(1)[0])  # nobody of that address in the directory
        assert admitted(second, "a", people(1, start=5)) == [True]
    finally:
        first.close()
        second.close()


def test_workers_racing_cannot_exceed_the_shared_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each waits for the lock as long as it takes: one refused it (50 ms on a loaded machine)
    # would count alone, which has a test of its own.
    monkeypatch.setattr(ratelimit, "LOCK_WAIT", 10.0)
    limits = [SharedRateLimit(30, tmp_path, clock=Clock(0)) for _ in range(4)]
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker(n: int) -> None:
        start.wait()
        found = admitted(limits[n], "203.0.113.5", people(25, start=n * 25))
        with lock:
            results.extend(found)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for limit in limits:
        limit.close()
    assert results.count(True) == 30


def test_a_full_shared_table_forgets_the_oldest_client(tmp_path: Path) -> None:
    clock = Clock(0)
    first, second = shared_pair(tmp_path, 1, clock, max_clients=2)
    try:
        assert admitted(first, "a", people(1)) == [True]
        clock.advance(1)
        assert admitted(first, "b", people(1)) == [True]
        clock.advance(1)
        assert admitted(second, "c", people(1)) == [True]  # never locked out; a is forgotten
        assert admitted(second, "a", people(1, start=3)) == [True]
    finally:
        first.close()
        second.close()


def test_a_folder_kept_across_a_reboot_locks_nobody_out(tmp_path: Path) -> None:
    """``--directory-rate-limit-dir`` may name a folder that outlives the boot whose (monotonic)
    clock wrote it: the next boot's clock starts again near zero, and the old windows, far in its
    future, must not hold their clients over the limit."""
    before = SharedRateLimit(1, tmp_path, clock=Clock(10_000))
    assert admitted(before, "a", people(2)) == [True, False]
    before.close()
    after = SharedRateLimit(1, tmp_path, clock=Clock(5))
    try:
        assert admitted(after, "a", people(1, start=7)) == [True]
    finally:
        after.close()


def test_a_clock_that_went_back_starts_a_new_window(tmp_path: Path) -> None:
    clock = Clock(100)
    first, second = shared_pair(tmp_path, 1, clock)
    try:
        assert admitted(first, "a", people(2)) == [True, False]
        clock.now = 40  # seen from a worker whose window memory knows nothing of client a
        assert admitted(second, "a", people(1, start=5)) == [True]
    finally:
        first.close()
        second.close()


def test_a_folder_the_limit_cannot_be_kept_in_is_a_clear_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.raises(ConfigError, match="AUTOCONFIG_DIRECTORY_RATE_LIMIT_DIR"):
        SharedRateLimit(1, not_a_folder)


def test_a_stuck_process_holding_the_shared_file_blocks_no_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker stopped in the middle of its transaction keeps the file's write lock: the others
    wait for it at most LOCK_WAIT, then count on their own for ALONE seconds (the limit still
    holds per process), say so in the log, and go back to the file once it is free."""
    import sqlite3

    from autoconfig.usernames.ratelimit import ALONE, SHARED_FILE

    clock = Clock(0)
    first = SharedRateLimit(2, tmp_path, clock=clock)
    stuck = sqlite3.connect(tmp_path / SHARED_FILE, isolation_level=None)
    stuck.execute("BEGIN IMMEDIATE")
    try:
        with caplog.at_level("WARNING"):
            assert admitted(first, "a", people(3)) == [True, True, False]
        assert "shared file is locked" in caplog.text
        assert "@" not in caplog.text
        first.release("a", people(1)[0])  # cannot reach the file either: no error
    finally:
        stuck.execute("ROLLBACK")
        stuck.close()
    clock.advance(ALONE)
    second = SharedRateLimit(2, tmp_path, clock=clock)
    try:
        # Back on the file, which counted nothing during the fault.
        assert admitted(first, "a", people(2, start=10)) == [True, True]
        assert admitted(second, "a", people(1, start=20)) == [False]
    finally:
        first.close()
        second.close()


def test_a_time_read_just_before_another_process_started_the_window_is_the_same_window(
    tmp_path: Path,
) -> None:
    """Found by bench/run limits (31 logins in a minute with a limit of 30): a worker reads the
    time, another starts the client's window a moment later, then the first gets the lock. Its
    time, a little before the window's start, must not pass for a clock gone back."""
    first = SharedRateLimit(1, tmp_path, clock=Clock(100.0))
    late = SharedRateLimit(1, tmp_path, clock=Clock(99.9))
    try:
        assert admitted(first, "a", people(1)) == [True]
        assert admitted(late, "a", people(1, start=5)) == [False]
    finally:
        first.close()
        late.close()


def test_workers_opening_the_file_together_all_start(tmp_path: Path) -> None:
    """Found by CI: the workers of a server open the shared file at the same moment, and setting
    it up takes the write lock; a start must wait for it, not fail as a request would."""
    import sqlite3

    from autoconfig.usernames.ratelimit import SHARED_FILE

    SharedRateLimit(1, tmp_path).close()
    holder = sqlite3.connect(tmp_path / SHARED_FILE, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.3, lambda: holder.execute("ROLLBACK"))
    timer.start()
    try:
        SharedRateLimit(1, tmp_path).close()  # waits for the holder, then opens
    finally:
        timer.join()
        holder.close()
