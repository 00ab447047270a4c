"""``GET``/``HEAD /mobileconfig?email=ADDRESS``: the Apple profile of one address, for the help site's
download link. Signed when the service has a signing certificate."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from autoconfig import record
from autoconfig.service import Service
from autoconfig.web.common import query

PATH = "/mobileconfig"


async def profile(request: Request) -> Response:
    record.note(endpoint="mobileconfig")
    service: Service = request.app.state.service
    rendered = await service.mobileconfig(
        query(request, request.query_params.get("email")), signed=service.signer is not None
    )
    return Response(
        rendered.body,
        media_type=rendered.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{rendered.filename}"',
            "Cache-Control": "no-store",
        },
    )


routes = [Route(PATH, profile, methods=["GET"])]
