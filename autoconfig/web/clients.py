"""The endpoints mail clients call: Mozilla autoconfig, Microsoft Autodiscover (POX and v2), PACC
and the Apple profile download. Each asks the :class:`~autoconfig.service.Service` and answers with
:func:`~autoconfig.web.responses.respond`; which answers may be cached is decided here.

Autodiscover paths match in any letter case (``/Autodiscover/Autodiscover.xml``, ``/AutoDiscover/…``)
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
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from autoconfig.formats import pacc, xmlsafe
from autoconfig.service import Answer
from autoconfig.web.observe import note, note_answer
from autoconfig.web.requests import query, read_body, service_of
from autoconfig.web.responses import Cache, respond

THUNDERBIRD_PATHS = (
    "/mail/config-v1.1.xml",
    "/.well-known/autoconfig/mail/config-v1.1.xml",
    "/v1.1/mail/config-v1.1.xml",
)
AUTODISCOVER_PATH = "/autodiscover/autodiscover.xml"
AUTODISCOVER_JSON_PATHS = (
    "/autodiscover/autodiscover.json",
    "/autodiscover/autodiscover.json/v1.0/{address:path}",
)
MOBILECONFIG_PATH = "/mobileconfig"
"""The Apple profile download; the person's address goes in ``?email=``."""
PACC_PATH = pacc.PATH


def _answered(request: Request, answer: Answer, cache: str, **options: Any) -> Response:
    note_answer(request, answer)
    return respond(answer.rendered, cache, status=answer.status, **options)


async def thunderbird(request: Request) -> Response:
    note(request, "thunderbird")
    params = request.query_params
    asked = replace(query(request, params.get("emailaddress")), emailmd5=params.get("emailmd5"))
    answer = await service_of(request).thunderbird(asked)
    personal = answer.account is not None and answer.account.personal
    return _answered(request, answer, Cache.PRIVATE if personal else Cache.PUBLIC)


async def autodiscover(request: Request) -> Response:
    note(request, "autodiscover")
    body = await read_body(request, xmlsafe.MAX_BYTES)
    answer = await service_of(request).autodiscover(query(request, None), body)
    # Public only for the generic settings; answers naming an address or an error are not kept.
    generic = answer.account is not None and answer.account.address is None
    return _answered(request, answer, Cache.PUBLIC if generic else Cache.PRIVATE)


def _param(request: Request, name: str) -> str | None:
    """A query parameter by name in any letter case (Outlook sends ``Email`` and ``Protocol``)."""
    wanted = name.casefold()
    return next((v for k, v in request.query_params.multi_items() if k.casefold() == wanted), None)


async def autodiscover_json(request: Request) -> Response:
    note(request, "autodiscover-json")
    address = request.path_params.get("address") or _param(request, "Email")
    answer = service_of(request).autodiscover_v2(
        query(request, address), _param(request, "Protocol")
    )
    return _answered(request, answer, Cache.PUBLIC if answer.status == 200 else Cache.PRIVATE)


async def mobileconfig(request: Request) -> Response:
    note(request, "mobileconfig")
    service = service_of(request)
    answer = await service.mobileconfig(
        query(request, request.query_params.get("email")), signed=service.signer is not None
    )
    return _answered(request, answer, Cache.NO_STORE)


async def pacc_document(request: Request) -> Response:
    """PACC: the provider's document, found by the Host (``ua-auto-config.<domain>``); the same
    bytes for everyone (their digest is in DNS), so public."""
    note(request, "pacc")
    answer = service_of(request).pacc(query(request, None))
    return _answered(request, answer, Cache.PUBLIC)


class AnyCaseRoute(Route):
    """A route whose path matches in any letter case."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        self.path_regex = re.compile(self.path_regex.pattern, re.IGNORECASE)
