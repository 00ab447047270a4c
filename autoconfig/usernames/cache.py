"""A small thread-safe cache of lookup results, each kept for its own time to live.

Found entries and unknown addresses (``None``) are both remembered, with separate TTLs, so the
directory sees each address at most once per TTL. The cache holds at most ``max_entries``; when full,
the oldest insertions go first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from autoconfig.usernames.entry import Entry


class LookupCache:
    def __init__(
        self,
        hit_ttl: float,
        miss_ttl: float,
        max_entries: int = 200_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hit_ttl = hit_ttl
        self.miss_ttl = miss_ttl
        self.max_entries = max_entries
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, Entry | None]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> tuple[bool, Entry | None]:
        """``(True, entry)`` when ``key`` is cached (``entry`` is ``None`` for an unknown
        address), ``(False, None)`` otherwise."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return False, None
            expires, entry = item
            if expires <= self._clock():
                del self._items[key]
                return False, None
            return True, entry

    def put(self, key: str, entry: Entry | None) -> None:
        ttl = self.hit_ttl if entry is not None else self.miss_ttl
        if ttl <= 0:
            return
        with self._lock:
            self._items.pop(key, None)
            while len(self._items) >= self.max_entries:
                self._items.popitem(last=False)
            self._items[key] = (self._clock() + ttl, entry)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
