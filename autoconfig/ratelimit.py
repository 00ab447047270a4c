"""How many answers carrying a looked-up login one client may get per minute.

A fixed one-minute window per client address: cheap, and enough to keep the service from being a
way to list staff logins. ``limit == 0`` turns the limit off. The table of clients is bounded: when
it is full, clients it does not know yet count as over the limit until the next window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

WINDOW = 60.0


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
        with self._lock:
            self._roll()
            count = self._counts.get(client)
            if count is None:
                return len(self._counts) >= self.max_clients
            return count >= self.limit

    def spend(self, client: str | None) -> None:
        """Count one personal answer given to ``client``."""
        if not self.limit or client is None:
            return
        with self._lock:
            self._roll()
            if client in self._counts or len(self._counts) < self.max_clients:
                self._counts[client] = self._counts.get(client, 0) + 1
