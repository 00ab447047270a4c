"""``GET``/``HEAD`` of the Mozilla autoconfig document on every URL clients try."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from autoconfig import record
from autoconfig.service import Service
from autoconfig.web.common import PRIVATE_CACHE, PUBLIC_CACHE, query

PATHS = (
    "/mail/config-v1.1.xml",
    "/.well-known/autoconfig/mail/config-v1.1.xml",
    "/v1.1/mail/config-v1.1.xml",
)


async def config_v11(request: Request) -> Response:
    record.note(endpoint="thunderbird")
    service: Service = request.app.state.service
    rendered, account = await service.thunderbird(
        query(request, request.query_params.get("emailaddress"))
    )
    cache = PRIVATE_CACHE if account.personal else PUBLIC_CACHE
    return Response(rendered.body, media_type=rendered.media_type, headers={"Cache-Control": cache})


routes = [Route(path, config_v11, methods=["GET"]) for path in PATHS]
