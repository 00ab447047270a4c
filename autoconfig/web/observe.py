"""What happens to every HTTP request once it is answered: one access log line and the metrics,
both read from the request's record (:mod:`autoconfig.record`), never from the query string,
the headers or the body."""

from __future__ import annotations

import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autoconfig import record
from autoconfig.web.accesslog import log_request
from autoconfig.web.clientfamily import family
from autoconfig.web.metrics import Metrics


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
            seconds = time.perf_counter() - start
            log_request(scope, entry, status, seconds)
            client = family(scope.get("path", ""), Headers(scope=scope).get("user-agent"))
            self.metrics.observe(entry, status, client, seconds)
