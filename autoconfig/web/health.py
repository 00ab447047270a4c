"""What may be degraded while the service answers, for ``/status`` and the gauges of
:mod:`autoconfig.web.metrics`: the login directory (from the last lookups, and a probe every
:data:`PROBE_INTERVAL` seconds), the last reload, and the signing certificate.

``/healthz`` stays liveness: a directory that is down must not make Caddy take every instance out
(people get the fallback login meanwhile, which is better than no answer). Each worker keeps its
own :class:`Health`; none of it names a person.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette

from autoconfig import __version__
from autoconfig.errors import AutoconfigError
from autoconfig.service import Service
from autoconfig.usernames.bounded import Outcome
from autoconfig.web.metrics import Metrics

log = logging.getLogger("autoconfig.health")

PROBE_INTERVAL = 15.0
"""Seconds between two probes of the directory by each worker (the first at the worker's start):
a directory that went down while nobody asked shows within ``PROBE_INTERVAL`` plus the probe's
time-out."""
EXPIRY_WARNING_DAYS = 14
"""``/status`` says degraded from this many days before the signing certificate expires."""

ANSWERED = frozenset({Outcome.DIRECTORY.value, Outcome.UNKNOWN.value})
"""Lookup outcomes that show the directory answers."""
FAILED = frozenset({Outcome.FAILED.value, Outcome.TIMEOUT.value})
"""Lookup outcomes that show it does not (the others are no evidence: the cache, a client over
its limit, a full queue, the rest after a failure)."""


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return (
        datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


@dataclass
class Health:
    """The state of one worker, mirrored into the gauges of ``metrics``."""

    metrics: Metrics
    directory_up: bool = True
    directory_since: float = field(default_factory=time.time)
    directory_reason: str | None = None
    reload_failed: bool = False
    reload_problems: tuple[str, ...] = ()
    last_load: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.metrics.directory_up.set(1)
        self.metrics.reload_failed.set(0)
        self.metrics.last_reload_success.set(self.last_load)

    def lookup(self, outcome: str) -> None:
        """What a request's directory lookup showed (an :class:`Outcome` value, or '-')."""
        if outcome in ANSWERED:
            self.directory(None)
        elif outcome in FAILED:
            self.directory(f"lookups {outcome}")

    def directory(self, reason: str | None) -> None:
        """The directory answers (``reason`` is ``None``), or does not, and why."""
        up = reason is None
        self.metrics.directory_up.set(1 if up else 0)
        if up != self.directory_up:
            self.directory_since = time.time()
            if up:
                log.info("the directory answers again")
            else:
                log.warning(
                    "the directory does not answer (%s): people get the fallback login", reason
                )
        self.directory_up = up
        self.directory_reason = reason

    def loaded(self) -> None:
        """The files were loaded (a reload was done)."""
        self.last_load = time.time()
        self.reload_failed = False
        self.reload_problems = ()
        self.metrics.reload_failed.set(0)
        self.metrics.last_reload_success.set(self.last_load)

    def refused(self, problems: tuple[str, ...]) -> None:
        """A reload was refused: the files on disk are invalid, the previous ones serve on."""
        self.reload_failed = True
        self.reload_problems = problems
        self.metrics.reload_failed.set(1)

    def report(self, service: Service | None) -> dict[str, Any]:
        """The ``/status`` document: ``status`` is ``ok`` or ``degraded``, ``problems`` says why."""
        problems: list[str] = []
        document: dict[str, Any] = {"version": __version__, "worker": os.getpid()}
        if service is None:
            return {**document, "status": "degraded", "problems": ["nothing loaded yet"]}
        document["profiles"] = {
            "loaded": len(service.catalog),
            "ids": [provider.id for provider in service.catalog],
        }
        directory: dict[str, Any] | None = None
        if service.directory is not None:
            directory = {
                "kind": service.directory.description,
                "up": self.directory_up,
                "since": _iso(self.directory_since),
                "reason": self.directory_reason,
            }
            if not self.directory_up:
                problems.append(f"directory: {self.directory_reason}")
        document["directory"] = directory
        signing: dict[str, Any] | None = None
        if service.signer is not None:
            expires = service.signer.material.expires
            days = (expires - datetime.now(UTC)).total_seconds() / 86_400
            signing = {
                "subject": service.signer.material.certificate.subject.rfc4514_string(),
                "expires": _iso(expires.timestamp()),
                "days_left": round(days, 1),
            }
            if days <= 0:
                problems.append("signing: the certificate has expired")
            elif days < EXPIRY_WARNING_DAYS:
                problems.append(f"signing: the certificate expires in {days:.0f} day(s)")
        document["signing"] = signing
        document["reload"] = {
            "failed": self.reload_failed,
            "last_success": _iso(self.last_load),
            "problems": list(self.reload_problems),
        }
        if self.reload_failed:
            problems.append("reload: the files on disk were refused (see reload.problems)")
        return {**document, "status": "degraded" if problems else "ok", "problems": problems}


async def probe_once(app: Starlette) -> None:
    """Probe the directory of the app's current service once (nothing for a table, which is
    loaded in full and answers from memory or its file)."""
    service: Service | None = getattr(app.state, "service", None)
    if service is None or service.directory is None or not service.lookups.probes:
        return
    reason = await service.lookups.probe()
    if app.state.service is service:  # not replaced by a reload meanwhile
        app.state.health.directory(reason)


@asynccontextmanager
async def probing(app: Starlette, interval: float = PROBE_INTERVAL) -> AsyncIterator[None]:
    """Lifespan part: probe the directory at once, then every ``interval`` seconds. The first
    probe runs while the worker already answers: a directory that is down when the service
    starts shows in ``/status`` and the gauge within the probe's time-out, not one interval
    later (they said "up" meanwhile)."""

    async def loop() -> None:
        while True:
            try:
                await probe_once(app)
            except (AutoconfigError, OSError) as exc:  # never stops the loop
                log.warning("directory probe failed: %s", type(exc).__name__)
            await asyncio.sleep(interval)

    task = asyncio.get_running_loop().create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
