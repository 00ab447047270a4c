"""Helpers shared by the endpoints."""

from __future__ import annotations

from starlette.requests import Request

from autoconfig.service import Query


def query(request: Request, address: str | None) -> Query:
    """The :class:`Query` of a request: the address it names, its ``Host``, and the peer's address."""
    return Query(
        address=address or None,
        host=request.headers.get("host"),
        client=request.client.host if request.client else None,
    )
