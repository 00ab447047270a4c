"""Helpers shared by the endpoints."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request

from autoconfig.errors import BodyTooLargeError
from autoconfig.service import Query, Service
from autoconfig.settings import Network

PUBLIC_CACHE = "public, max-age=3600"
"""Cache-Control of a client configuration that holds nothing personal (the generic answer)."""
PRIVATE_CACHE = "private, no-store"
"""Cache-Control of an answer about one person (a looked-up login, an address)."""


def query(request: Request, address: str | None) -> Query:
    """The :class:`Query` of a request: the address it names, its ``Host``, and the client's address."""
    service: Service = request.app.state.service
    return Query(
        address=address or None,
        host=request.headers.get("host"),
        client=client_address(
            request.client.host if request.client else None,
            request.headers.getlist("x-forwarded-for"),
            service.settings.lookup.trusted_proxies,
        ),
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


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str | None:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the right-most
    ``X-Forwarded-For`` hop that is not itself a trusted proxy. Hops a client may have written
    (left of the first untrusted one) are never believed; a hop that is not an IP address stops
    the walk at the last trusted one."""
    if peer is None or not trusted:
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    current = peer
    for hop in reversed(hops):
        if not _is_trusted(current, trusted):
            break
        try:
            current = str(ipaddress.ip_address(hop))
        except ValueError:
            break
    return current


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
