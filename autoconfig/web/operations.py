"""Endpoints for operations, not for mail clients: ``/healthz`` for load balancers and
``/metrics`` for Prometheus. The Caddyfile keeps ``/metrics`` away from the public sites."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from autoconfig import record
from autoconfig.service import Service
from autoconfig.web.metrics import MEDIA_TYPE, Metrics

NO_STORE = {"Cache-Control": "no-store"}


def ready(service: Service | None) -> bool:
    """Profiles loaded, and the directory open when one is configured."""
    if service is None or len(service.catalog) == 0:
        return False
    return service.settings.directory is None or service.directory is not None


async def healthz(request: Request) -> Response:
    record.note(endpoint="healthz")
    service: Service | None = getattr(request.app.state, "service", None)
    if ready(service):
        return PlainTextResponse("ok\n", headers=NO_STORE)
    return PlainTextResponse("not ready\n", status_code=503, headers=NO_STORE)


async def metrics(request: Request) -> Response:
    record.note(endpoint="metrics")
    collected: Metrics = request.app.state.metrics
    return Response(collected.exposition(), media_type=MEDIA_TYPE, headers=NO_STORE)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
