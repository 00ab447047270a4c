"""``SIGHUP`` reloads the profiles and the directory, all or nothing.

The new :class:`~autoconfig.service.Service` is built aside (in a thread, so answers go on) and
swapped in with one assignment: a request sees either the old service or the new one, never a mix.
When anything in the new files is invalid, every problem is logged and the old service keeps
serving, so a bad profile pushed with a reload changes nothing visible. The replaced service is
closed a little later, once requests that started with it are done.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from starlette.applications import Starlette

from autoconfig.errors import AutoconfigError, ConfigError
from autoconfig.service import Service

log = logging.getLogger("autoconfig.reload")

RETIRE_AFTER = 30.0
"""Seconds before a replaced service is closed (longer than any answer may take)."""


class Reloader:
    """Reloads the service of one app; one reload at a time."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self._lock = asyncio.Lock()
        self._retiring: set[Service] = set()

    async def reload(self) -> bool:
        """Load the files again and swap the new service in; ``False`` (and logs) when refused."""
        async with self._lock:
            current: Service = self.app.state.service
            try:
                fresh = await anyio.to_thread.run_sync(Service.load, current.settings)
            except AutoconfigError as exc:
                problems = exc.problems if isinstance(exc, ConfigError) else (exc,)
                for problem in problems:
                    log.error("reload refused, the previous profiles keep serving: %s", problem)
                self.app.state.metrics.reloads.labels("refused").inc()
                return False
            except Exception:
                # A bug, not a bad file: said at once (a task's exception would otherwise only
                # surface, if ever, as "Task exception was never retrieved"), and nothing changes.
                log.exception("reload failed, the previous profiles keep serving")
                self.app.state.metrics.reloads.labels("refused").inc()
                return False
            fresh.lookups.prime()
            self.app.state.service = fresh
            self.app.state.metrics.reloads.labels("done").inc()
            log.info(
                "reloaded %d profile(s)%s",
                len(fresh.catalog),
                f" and the directory ({fresh.directory.description})" if fresh.directory else "",
            )
            self._retiring.add(current)
            asyncio.get_running_loop().call_later(RETIRE_AFTER, self._retire, current)
            return True

    def _retire(self, service: Service) -> None:
        if service in self._retiring:
            self._retiring.discard(service)
            service.close()

    def close(self) -> None:
        for service in tuple(self._retiring):
            self._retire(service)


@asynccontextmanager
async def reload_on_hangup(app: Starlette) -> AsyncIterator[None]:
    """Lifespan of a served app: ``SIGHUP`` reloads; the service is closed at shutdown."""
    reloader = Reloader(app)
    app.state.reloader = reloader
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[bool]] = set()

    def hangup() -> None:
        log.info("SIGHUP received: reloading profiles and directory")
        task = loop.create_task(reloader.reload())
        pending.add(task)
        task.add_done_callback(pending.discard)

    # Signals reach only the main thread: an app run elsewhere (embedded, or under a test
    # client) serves without reloading rather than failing to start.
    listening = threading.current_thread() is threading.main_thread()
    if listening:
        loop.add_signal_handler(signal.SIGHUP, hangup)
        # `autoconfig serve` starts with SIGHUP blocked (see autoconfig.server.run): one sent before this point
        # waited, and is handled now instead of killing the process.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})
    else:
        log.debug("not in the main thread: SIGHUP does not reload this app")
    try:
        yield
    finally:
        if listening:
            loop.remove_signal_handler(signal.SIGHUP)
        for task in tuple(pending):
            task.cancel()
        reloader.close()
        app.state.service.close()
