"""One log line per request, without the query string (it holds addresses), headers or body;
path segments that hold an address are replaced by ``<address>``."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autoconfig import record

log = logging.getLogger("autoconfig.access")


def loggable(path: str) -> str:
    """``path`` as logged: segments holding an address (``/autodiscover/autodiscover.json/v1.0/
    <address>``) replaced, at most 200 characters, non-ASCII escaped."""
    hidden = "/".join("<address>" if "@" in part else part for part in path.split("/"))
    return hidden[:200].encode("unicode_escape").decode("ascii")


class AccessLog:
    """ASGI middleware writing ``method path status duration`` for each HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        entry, token = record.start()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            record.finish(token)
            path = scope.get("path", "")
            log.info(
                "method=%s path=%s endpoint=%s domain=%s login=%s directory=%s status=%d duration_ms=%.1f",
                scope.get("method", "-"),
                loggable(path),
                entry.endpoint,
                entry.domain,
                entry.login,
                entry.directory,
                status,
                (time.perf_counter() - start) * 1000,
            )
