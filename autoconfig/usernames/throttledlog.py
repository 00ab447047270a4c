"""Log a recurring problem once per interval with a count, instead of once per request."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

REPORT_EVERY = 60.0


class ThrottledLog:
    """Counts occurrences of one kind of problem; writes a warning at most once per ``every``
    seconds (the first occurrence is written at once), and one line when the problem stops."""

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        every: float = REPORT_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.what = what
        self.every = every
        self._clock = clock
        self._lock = threading.Lock()
        self._pending = 0
        self._since_ok = 0
        self._last: float | None = None

    def problem(self, reason: str) -> None:
        """Count one occurrence; ``reason`` must hold no personal data."""
        with self._lock:
            self._pending += 1
            self._since_ok += 1
            now = self._clock()
            if self._last is not None and now - self._last < self.every:
                return
            count, self._pending, self._last = self._pending, 0, now
        self.logger.warning(
            "%s: %d time(s) since the last report; last: %s", self.what, count, reason
        )

    def ok(self) -> None:
        """The problem did not occur this time: say so once if it was occurring."""
        if not self._since_ok:
            return
        with self._lock:
            count, self._since_ok, self._pending, self._last = self._since_ok, 0, 0, None
        if count:
            self.logger.warning("%s: over, after %d time(s)", self.what, count)
