"""The client's network address, resolved once per request by the :class:`ClientAddress`
middleware: the peer's, or the one a trusted proxy names in ``X-Forwarded-For``. The per-client
limit of directory lookups counts by it; it is never logged."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from autoconfig.settings import Network

CLIENT = "autoconfig.client"
"""The key of the resolved client address in the ASGI scope."""


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
        if not is_trusted(current, trusted):
            break
        try:
            current = str(ipaddress.ip_address(hop))
        except ValueError:
            break
    return current


def is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    """Whether ``address`` is one of the ``trusted`` proxies."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_of(request: Request) -> str | None:
    """The client address :class:`ClientAddress` resolved for ``request`` (the peer's outside it)."""
    if CLIENT in request.scope:
        client: str | None = request.scope[CLIENT]
        return client
    return request.client.host if request.client else None


class ClientAddress:
    """ASGI middleware: resolves the client address once, trusting ``X-Forwarded-For`` only from
    the ``trusted`` proxies."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            peer = client[0] if client else None
            # The headers are read only when a proxy may have written them.
            forwarded = Headers(scope=scope).getlist("x-forwarded-for") if self.trusted else []
            scope[CLIENT] = client_address(peer, forwarded, self.trusted)
        await self.app(scope, receive, send)
