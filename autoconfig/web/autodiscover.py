"""Microsoft Autodiscover: POX on ``/autodiscover/autodiscover.xml`` and the v2 JSON pointer.

Both paths match in any letter case (``/Autodiscover/Autodiscover.xml``, ``/AutoDiscover/…``)
and on any host. ``POST`` and ``GET`` are the same to the service: the body decides (none means
the generic settings), whatever its content type. The ``Authorization`` header that Outlook and
Thunderbird send is never read, and the body is never logged: it is parsed, and dropped.
Protocol errors are Autodiscover documents with HTTP 200, as Exchange answers; only a body over
the size limit gets an HTTP error (413). Never 401 or 403: a 401 makes Outlook ask for a password
and Thunderbird report a wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from autoconfig import autodiscover, record, xmlsafe
from autoconfig.model import Account
from autoconfig.render import autodiscover as render
from autoconfig.service import Service
from autoconfig.web.common import PRIVATE_CACHE, PUBLIC_CACHE, query, read_body

XML_PATH = "/autodiscover/autodiscover.xml"
JSON_PATHS = (
    "/autodiscover/autodiscover.json",
    "/autodiscover/autodiscover.json/v1.0/{address:path}",
)


class AnyCaseRoute(Route):
    """A route whose path matches in any letter case."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        self.path_regex = re.compile(self.path_regex.pattern, re.IGNORECASE)


def _cache(account: Account | None) -> str:
    """Public only for the generic settings; answers naming an address or an error are not kept."""
    return PUBLIC_CACHE if account is not None and account.address is None else PRIVATE_CACHE


async def pox(request: Request) -> Response:
    record.note(endpoint="autodiscover")
    service: Service = request.app.state.service
    body = await read_body(request, xmlsafe.MAX_BYTES)
    rendered, account = await service.autodiscover(query(request, None), body)
    return Response(
        rendered.body, media_type=rendered.media_type, headers={"Cache-Control": _cache(account)}
    )


def _param(request: Request, name: str) -> str | None:
    """A query parameter by name in any letter case (Outlook sends ``Email`` and ``Protocol``)."""
    wanted = name.casefold()
    return next((v for k, v in request.query_params.multi_items() if k.casefold() == wanted), None)


async def v2(request: Request) -> Response:
    record.note(endpoint="autodiscover-json")
    if not autodiscover.is_v2_protocol(_param(request, "Protocol")):
        rendered = render.v2_invalid_protocol()
        return Response(
            rendered.body,
            status_code=400,
            media_type=rendered.media_type,
            headers={"Cache-Control": PRIVATE_CACHE},
        )
    service: Service = request.app.state.service
    address = request.path_params.get("address") or _param(request, "Email")
    provider, _ = service.locate(query(request, address))
    record.note(domain=provider.id)
    rendered = render.v2_pointer(provider)
    return Response(
        rendered.body, media_type=rendered.media_type, headers={"Cache-Control": PUBLIC_CACHE}
    )


routes = [
    AnyCaseRoute(XML_PATH, pox, methods=["GET", "POST"]),
    *(AnyCaseRoute(path, v2, methods=["GET"]) for path in JSON_PATHS),
]
