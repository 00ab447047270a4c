"""What the endpoints read from a request: the loaded service, the :class:`Query` it asks, and
its body (bounded); and the one ``Host`` it may name (:class:`OneHost`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from autoconfig.errors import BodyTooLargeError
from autoconfig.service import Query, Service
from autoconfig.web.proxy import client_of
from autoconfig.web.responses import Cache


def service_of(request: Request) -> Service:
    """The service answering now (a reload swaps it between two requests, never during one)."""
    service: Service = request.app.state.service
    return service


def query(request: Request, address: str | None) -> Query:
    """The :class:`Query` of a request: the address it names, its ``Host``, and the client."""
    return Query(
        address=address or None, host=request.headers.get("host"), client=client_of(request)
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with :class:`BodyTooLargeError` (HTTP 413) once it is over
    ``limit`` bytes: before reading anything when ``Content-Length`` says so, else while reading."""
    length = request.headers.get("content-length", "")
    if length.isascii() and length.isdigit() and (len(length) > 18 or int(length) > limit):
        raise BodyTooLargeError(f"request body is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(f"request body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class OneHost:
    """ASGI middleware refusing (400) a request with more than one ``Host`` header: which one
    names the provider would be a guess, and a proxy in front may have guessed otherwise."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and sum(1 for k, _ in scope["headers"] if k == b"host") > 1:
            response = PlainTextResponse(
                "more than one Host header\n",
                status_code=400,
                headers={"Cache-Control": Cache.NO_STORE},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
