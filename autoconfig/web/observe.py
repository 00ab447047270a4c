"""What happens to every HTTP request once it is answered: one access log line and the metrics,
both read from the request's :class:`RequestRecord`, never from the query string, the headers or
the body.

The :class:`Observe` middleware opens a record per request; the endpoints fill it in from what
the service returned by value (:func:`note`, :func:`note_resolution`): the endpoint, the provider,
where the login came from, what the directory did, the Autodiscover error code. Never an address
or a login.

Each request has an id (:data:`REQUEST_ID`, on every log line written while it is answered): the
``X-Request-Id`` that Caddy sets (the shipped Caddyfile logs the same id) when the request comes
from a trusted proxy and the id is well-formed, else one made here. Requests to the operations
endpoints (``/healthz``, which Caddy asks every 2 s, ``/metrics``, ``/status``) are logged only at
the ``debug`` level.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autoconfig.service import Answer, Resolution
from autoconfig.settings import Network
from autoconfig.web.clientfamily import family
from autoconfig.web.metrics import Metrics
from autoconfig.web.proxy import is_trusted

if TYPE_CHECKING:
    from autoconfig.web.health import Health

log = logging.getLogger("autoconfig.access")

REQUEST_ID: ContextVar[str | None] = ContextVar("autoconfig_request_id", default=None)
"""The id of the request being answered (``None`` outside a request)."""
REQUEST_ID_HEADER = "x-request-id"
WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
"""What a request id from the proxy may be (Caddy's is a UUID); anything else is replaced."""
QUIET_ENDPOINTS = frozenset({"healthz", "metrics", "status"})
"""Endpoints whose access lines are written at the debug level only."""

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
    autodiscover_error: str = "-"
    """The Autodiscover error code answered (500, 600, 601, InvalidProtocol), or '-'."""
    request_id: str = "-"


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
    if answer.autodiscover_error is not None:
        record_of(request).autodiscover_error = answer.autodiscover_error


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


def request_id(scope: Scope, trusted: Sequence[Network]) -> str:
    """The id of a request: the proxy's ``X-Request-Id`` (a trusted peer, a well-formed id),
    else a new one."""
    client = scope.get("client")
    if trusted and client and is_trusted(client[0], trusted):
        given = Headers(scope=scope).get(REQUEST_ID_HEADER)
        if given is not None and WELL_FORMED_ID.fullmatch(given):
            return given
    return uuid.uuid4().hex


def log_request(scope: Scope, entry: RequestRecord, status: int, seconds: float) -> None:
    """Write the access log line of one answered request (at debug level for the operations
    endpoints). The fields are also given apart, for the JSON log format."""
    fields = {
        "method": scope.get("method", "-"),
        "path": loggable(scope.get("path", ""), scope.get("path_params")),
        "endpoint": entry.endpoint,
        "domain": entry.domain,
        "login": entry.login,
        "directory": entry.directory,
        "status": status,
        "autodiscover_error": entry.autodiscover_error,
        "duration_ms": round(seconds * 1000, 1),
    }
    level = logging.DEBUG if entry.endpoint in QUIET_ENDPOINTS else logging.INFO
    text = " ".join(f"{name}={value}" for name, value in fields.items())
    log.log(level, "%s request_id=%s", text, entry.request_id, extra={"fields": fields})


class Observe:
    """ASGI middleware: opens the request record, then logs and counts the answer; tells
    ``health`` what the directory lookup showed."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        health: Health | None = None,
        trusted: Sequence[Network] = (),
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.health = health
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        entry = scope[RECORD] = RequestRecord(request_id=request_id(scope, self.trusted))
        token = REQUEST_ID.set(entry.request_id)

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
            REQUEST_ID.reset(token)
            client = family(scope.get("path", ""), Headers(scope=scope).get("user-agent"))
            self.metrics.observe(
                entry.endpoint,
                status,
                client,
                seconds,
                entry.login,
                entry.directory,
                entry.autodiscover_error,
            )
            if self.health is not None:
                self.health.lookup(entry.directory)
