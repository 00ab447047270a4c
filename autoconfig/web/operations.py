"""Endpoints for operations, not for mail clients: ``/healthz`` for load balancers (liveness:
it stays 200 while the directory is down), ``/metrics`` for Prometheus and ``/status`` for people
and monitors (what is degraded, as JSON). The Caddyfile keeps ``/metrics`` and ``/status`` away
from the public sites."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from autoconfig.service import Service
from autoconfig.web.health import Health
from autoconfig.web.metrics import MEDIA_TYPE, Metrics
from autoconfig.web.observe import note
from autoconfig.web.responses import Cache

NO_STORE = {"Cache-Control": Cache.NO_STORE}


def ready(service: Service | None) -> bool:
    """Profiles loaded, and the directory open when one is configured."""
    if service is None or len(service.catalog) == 0:
        return False
    return service.settings.directory is None or service.directory is not None


async def healthz(request: Request) -> Response:
    note(request, "healthz")
    service: Service | None = getattr(request.app.state, "service", None)
    if ready(service):
        return PlainTextResponse("ok\n", headers=NO_STORE)
    return PlainTextResponse("not ready\n", status_code=503, headers=NO_STORE)


async def metrics(request: Request) -> Response:
    note(request, "metrics")
    collected: Metrics = request.app.state.metrics
    return Response(collected.exposition(), media_type=MEDIA_TYPE, headers=NO_STORE)


async def status(request: Request) -> Response:
    """What is degraded, as JSON: 200 when nothing is, 503 when something is (``problems``)."""
    note(request, "status")
    health: Health = request.app.state.health
    report = health.report(getattr(request.app.state, "service", None))
    code = 200 if report["status"] == "ok" else 503
    return JSONResponse(report, status_code=code, headers=NO_STORE)
