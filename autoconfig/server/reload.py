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
import os
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import anyio.to_thread
from starlette.applications import Starlette

from autoconfig.errors import AutoconfigError, ConfigError
from autoconfig.service import Service
from autoconfig.signing import Signer
from autoconfig.usernames import Directory

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
                    log.error(
                        "worker %d: reload refused, the previous profiles keep serving: %s",
                        os.getpid(),
                        problem,
                    )
                self.refused(tuple(str(p) for p in problems))
                return False
            except Exception:
                # A bug, not a bad file: said at once (a task's exception would otherwise only
                # surface, if ever, as "Task exception was never retrieved"), and nothing changes.
                log.exception("reload failed, the previous profiles keep serving")
                self.refused(("an unexpected error (see the traceback above)",))
                return False
            self._swap(current, fresh)
            log.info("worker %d: reloaded %s", os.getpid(), loaded(fresh))
            renewal = signer_change(current.signer, fresh.signer)
            if renewal:
                log.info("worker %d: %s", os.getpid(), renewal)
            return True

    async def replace_directory(self, directory: Directory) -> None:
        """Swap in a service like the current one but answering from ``directory`` (loaded and
        checked by the caller: :mod:`autoconfig.server.sync`); the profiles and the signing
        files stay as they are, the cache of lookups starts empty. One swap at a time, as
        reloads."""
        async with self._lock:
            current: Service = self.app.state.service
            self._swap(current, replace(current, directory=directory))

    def refused(self, problems: tuple[str, ...]) -> None:
        """Files on disk were refused (a reload, or a replaced directory file): counted, and
        ``autoconfig_reload_failed`` says so until files are loaded again."""
        self.app.state.metrics.reloads.labels("refused").inc()
        self.app.state.health.refused(problems)

    def _swap(self, current: Service, fresh: Service) -> None:
        """Answer with ``fresh`` from now on, counting each client as ``current`` did; close
        ``current`` once the requests it is answering are done."""
        fresh.lookups.take_limit(current.lookups)
        fresh.lookups.prime()
        self.app.state.service = fresh
        self.app.state.metrics.reloads.labels("done").inc()
        self.app.state.health.loaded()
        self._retiring.add(current)
        asyncio.get_running_loop().call_later(RETIRE_AFTER, self._retire, current)

    def _retire(self, service: Service) -> None:
        if service in self._retiring:
            self._retiring.discard(service)
            service.close()

    def close(self) -> None:
        for service in tuple(self._retiring):
            self._retire(service)


def loaded(service: Service) -> str:
    """What a service loaded, for the log: the profiles and the directory (kind and size,
    never its contents)."""
    ids = ", ".join(provider.id for provider in service.catalog)
    directory = service.directory.description if service.directory else "none"
    return f"{len(service.catalog)} profile(s) ({ids}); directory: {directory}"


def signer_change(before: Signer | None, after: Signer | None) -> str | None:
    """What changed in the signing certificate between two loads, or ``None``."""
    if before is None and after is None:
        return None
    if after is None:
        return "Apple profiles are now served unsigned (no signing certificate)"
    if before is None:
        return f"Apple profiles are now signed by {after.material.describe()}"
    if before.material.certificate != after.material.certificate:
        return f"a renewed signing certificate is used from now on: {after.material.describe()}"
    return None


@asynccontextmanager
async def reload_on_hangup(app: Starlette) -> AsyncIterator[None]:
    """Lifespan of a served app: ``SIGHUP`` reloads; the service is closed at shutdown."""
    reloader = Reloader(app)
    app.state.reloader = reloader
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[bool]] = set()

    def hangup() -> None:
        log.info("worker %d: SIGHUP received: reloading profiles and directory", os.getpid())
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
