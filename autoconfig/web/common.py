"""Helpers shared by the endpoints."""

from __future__ import annotations

from starlette.requests import Request

from autoconfig.errors import BodyTooLargeError
from autoconfig.service import Query


def query(request: Request, address: str | None) -> Query:
    """The :class:`Query` of a request: the address it names, its ``Host``, and the peer's address."""
    return Query(
        address=address or None,
        host=request.headers.get("host"),
        client=request.client.host if request.client else None,
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
