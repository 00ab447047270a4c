"""The one place where our exceptions become HTTP answers: a short plain-text message, no trace."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from autoconfig.errors import (
    AddressError,
    AutoconfigError,
    BodyTooLargeError,
    RequestError,
    UnknownDomainError,
)

STATUS: dict[type[AutoconfigError], int] = {
    AddressError: 400,
    RequestError: 400,
    BodyTooLargeError: 413,
    UnknownDomainError: 404,
}
"""Most specific class first is not needed: the lookup walks each exception's MRO."""


def status_for(exc: AutoconfigError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_response(status: int, message: str) -> Response:
    return PlainTextResponse(
        f"{message}\n", status_code=status, headers={"Cache-Control": "no-store"}
    )


def html_page(request: Request, status: int) -> Response | None:
    """The error page of an endpoint that answers in HTML (it set ``request.state.error_page``)."""
    page = getattr(request.state, "error_page", None)
    return page(status) if page is not None else None


async def autoconfig_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AutoconfigError)
    status = status_for(exc)
    html = html_page(request, status) if status < 500 else None
    if html is not None:
        return html
    message = str(exc) if status < 500 else "internal error"
    return error_response(status, message)


async def http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = error_response(exc.status_code, exc.detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def server_error(_request: Request, _exc: Exception) -> Response:
    return error_response(500, "internal error")


HANDLERS = {AutoconfigError: autoconfig_error, HTTPException: http_error, Exception: server_error}
