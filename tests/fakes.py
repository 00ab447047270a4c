"""Fakes for fast unit tests (the real things are tested against real servers as well)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from autoconfig.address import Address
from autoconfig.errors import DirectoryError
from autoconfig.model import Account, Certainty, Found
from autoconfig.usernames.entry import Entry


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeDirectory:
    """A blocking backend: answers from ``entries``; waits for ``gate`` first when it is set
    (a hung directory until the test opens the gate); raises when ``failing``."""

    description = "fake directory"

    def __init__(self, entries: Mapping[str, Entry], gate: threading.Event | None = None) -> None:
        self.entries = dict(entries)
        self.gate = gate
        self.failing = False
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def lookup(self, address: Address) -> Entry | None:
        with self._lock:
            self.calls.append(address.key)
        if self.gate is not None and not self.gate.wait(10):
            raise DirectoryError("fake directory: gate never opened")
        if self.failing:
            raise DirectoryError("fake directory is down")
        return self.entries.get(address.key)

    def close(self) -> None:
        """Nothing held."""


CERTAINTY_OF = {
    Found.DIRECTORY: Certainty.KNOWN,
    Found.CACHE: Certainty.KNOWN,
    Found.TEMPLATE: Certainty.CERTAIN,
    Found.FALLBACK: Certainty.ASK,
}
"""What the service decides for each source when nothing else is said: renderer tests build
accounts by hand with it (the decision itself is tested on ``LoginPolicy.decide``)."""


def account(
    address: Address | None,
    login: str,
    found: Found,
    name: str | None = None,
    certainty: Certainty | None = None,
) -> Account:
    """An account for renderer tests, certain as its source makes it unless said otherwise."""
    return Account(address, login, found, name, certainty=certainty or CERTAINTY_OF[found])
