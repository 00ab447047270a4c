"""The one place where exceptions become HTTP answers: a short plain-text message, no trace; on
the help site's paths, the site's own error page in the page's language."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response

from autoconfig.errors import (
    AddressError,
    AutoconfigError,
    BodyTooLargeError,
    RequestError,
    TooManyRequestsError,
    UnknownDomainError,
    for_class,
)
from autoconfig.usernames.ratelimit import WINDOW
from autoconfig.web import site
from autoconfig.web.responses import Cache

STATUS: dict[type[Exception], int] = {
    AddressError: 400,
    RequestError: 400,
    BodyTooLargeError: 413,
    TooManyRequestsError: 429,
    UnknownDomainError: 404,
}
"""HTTP status of each of our errors (its class or nearest parent); 500 for any other."""


def status_for(exc: Exception) -> int:
    return for_class(STATUS, exc, 500)


def error_response(status: int, message: str) -> Response:
    return PlainTextResponse(
        f"{message}\n", status_code=status, headers={"Cache-Control": Cache.NO_STORE}
    )


RETRY_AFTER = {429: str(round(WINDOW))}
"""The ``Retry-After`` of the statuses that have one: a per-client bound lasts a window."""


async def autoconfig_error(request: Request, exc: Exception) -> Response:
    status = status_for(exc)
    if status >= 500:
        return error_response(status, "internal error")
    lang = site.page_language(request)
    if lang is not None:
        response = site.site_of(request).error(lang, status)
    else:
        response = error_response(status, str(exc))
    if status in RETRY_AFTER:
        response.headers["Retry-After"] = RETRY_AFTER[status]
    return response


async def http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = error_response(exc.status_code, exc.detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


CLIENT_GONE = 499
"""The status logged and counted for a client that went away before its request was read whole
(an aborted body, a cancelled stream): nothing is sent, there is nobody to send it to."""


async def client_gone(_request: Request, _exc: Exception) -> Response:
    """A client that went away is its own business: no error, no traceback, one log line."""
    return Response(status_code=CLIENT_GONE)


async def server_error(_request: Request, _exc: Exception) -> Response:
    return error_response(500, "internal error")


HANDLERS = {
    AutoconfigError: autoconfig_error,
    HTTPException: http_error,
    ClientDisconnect: client_gone,
    Exception: server_error,
}
