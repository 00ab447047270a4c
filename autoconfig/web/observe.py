"""What happens to every HTTP request once it is answered: one access log line and the metrics,
both read from the request's :class:`RequestRecord`, never from the query string, the headers or
the body.

The :class:`Observe` middleware opens a record per request; the endpoints fill it in from what
the service returned by value (:func:`note`, :func:`note_resolution`): the endpoint, the provider,
where the login came from, what the directory did. Never an address or a login.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autoconfig.service import Answer, Resolution
from autoconfig.web.clientfamily import family
from autoconfig.web.metrics import Metrics

log = logging.getLogger("autoconfig.access")

RECORD = "autoconfig.record"
"""The key of the request's record in the ASGI scope."""


@dataclass(slots=True)
class RequestRecord:
    """Mutable, and private to one request."""

    endpoint: str = "-"
    domain: str = "-"
    login: str = "-"
    """Where the login ID came from: directory, cache, template, fallback, or '-' (none asked)."""
    directory: str = "-"
    """What the directory lookup gave: directory (a hit), cache, unknown, timeout, failed,
    resting (a failure less than a second ago), busy, limited (per-client limit reached), or '-'
    (no directory lookup)."""


def record_of(request: Request) -> RequestRecord:
    """The record of ``request`` (a throwaway one outside :class:`Observe`, as in unit tests)."""
    entry = request.scope.get(RECORD)
    if entry is None:
        entry = request.scope[RECORD] = RequestRecord()
    assert isinstance(entry, RequestRecord)
    return entry


def note(request: Request, endpoint: str) -> None:
    """Name the endpoint answering ``request``."""
    record_of(request).endpoint = endpoint


def note_resolution(request: Request, resolution: Resolution) -> None:
    """Record the provider, where the login came from, and what the directory did."""
    entry = record_of(request)
    entry.domain = resolution.provider.id
    entry.login = resolution.account.found.value
    if resolution.outcome is not None:
        entry.directory = resolution.outcome.value


def note_answer(request: Request, answer: Answer) -> None:
    """Record the facts of a service answer."""
    if answer.resolution is not None:
        note_resolution(request, answer.resolution)
    elif answer.provider is not None:
        record_of(request).domain = answer.provider.id


def loggable(path: str, params: Mapping[str, object] | None = None) -> str:
    """``path`` as logged: a path parameter holding an address (``/autodiscover/autodiscover.json/
    v1.0/<address>``, also when it spans several segments) replaced; any other path with an '@'
    (no route knows where its address starts) not shown at all; at most 200 characters, non-ASCII
    escaped."""
    for value in (params or {}).values():
        if isinstance(value, str) and "@" in value:
            path = path.replace(value, "<address>")
    if "@" in path:
        path = "<a path holding an address>"
    return path[:200].encode("unicode_escape").decode("ascii")


def log_request(scope: Scope, entry: RequestRecord, status: int, seconds: float) -> None:
    """Write the access log line of one answered request."""
    log.info(
        "method=%s path=%s endpoint=%s domain=%s login=%s directory=%s status=%d duration_ms=%.1f",
        scope.get("method", "-"),
        loggable(scope.get("path", ""), scope.get("path_params")),
        entry.endpoint,
        entry.domain,
        entry.login,
        entry.directory,
        status,
        seconds * 1000,
    )


class Observe:
    """ASGI middleware: opens the request record, then logs and counts the answer."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        entry = scope[RECORD] = RequestRecord()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - start
            log_request(scope, entry, status, seconds)
            client = family(scope.get("path", ""), Headers(scope=scope).get("user-agent"))
            self.metrics.observe(
                entry.endpoint, status, client, seconds, entry.login, entry.directory
            )
