"""The application factory and the route list, in one place. The app is read-only: nothing it
serves changes any state.

How a request flows: :class:`~autoconfig.web.observe.Observe` opens the request's record,
:class:`~autoconfig.web.proxy.ClientAddress` resolves the client once, the route's endpoint
(:mod:`.clients`, :mod:`.site`, :mod:`.operations`) asks the :class:`~autoconfig.service.Service`
and answers through :func:`~autoconfig.web.responses.respond`; errors become answers in
:mod:`.errors`; the record becomes the access log line and the metrics when the answer is out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route
from starlette.types import StatelessLifespan

from autoconfig.service import Service
from autoconfig.web import clients, operations, site
from autoconfig.web.clients import AnyCaseRoute
from autoconfig.web.errors import HANDLERS
from autoconfig.web.headers import SecurityHeaders
from autoconfig.web.health import Health, probing
from autoconfig.web.metrics import Metrics
from autoconfig.web.observe import Observe
from autoconfig.web.proxy import ClientAddress


def routes() -> list[BaseRoute]:
    """Every route the service answers."""
    return [
        *(Route(path, clients.thunderbird, methods=["GET"]) for path in clients.THUNDERBIRD_PATHS),
        AnyCaseRoute(clients.AUTODISCOVER_PATH, clients.autodiscover, methods=["GET", "POST"]),
        *(
            AnyCaseRoute(path, clients.autodiscover_json, methods=["GET"])
            for path in clients.AUTODISCOVER_JSON_PATHS
        ),
        Route(clients.MOBILECONFIG_PATH, clients.mobileconfig, methods=["GET"]),
        Route(clients.PACC_PATH, clients.pacc_document, methods=["GET"]),
        *site.routes(),
        Route("/healthz", operations.healthz, methods=["GET"]),
        Route("/metrics", operations.metrics, methods=["GET"]),
        Route("/status", operations.status, methods=["GET"]),
    ]


def create_app(
    service: Service,
    *,
    metrics: Metrics | None = None,
    lifespan: StatelessLifespan[Starlette] | None = None,
) -> Starlette:
    """A Starlette app answering from ``service`` (tests build their own). While it runs, the
    directory is probed (:func:`~autoconfig.web.health.probing`), then ``lifespan`` runs."""
    metrics = metrics or Metrics()
    health = Health(metrics)

    @asynccontextmanager
    async def running(app: Starlette) -> AsyncIterator[None]:
        async with probing(app):
            if lifespan is None:
                yield
            else:
                async with lifespan(app):
                    yield

    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(
                Observe,
                metrics=metrics,
                health=health,
                trusted=service.settings.trusted_proxies,
            ),
            Middleware(ClientAddress, trusted=service.settings.trusted_proxies),
            Middleware(SecurityHeaders),
        ],
        exception_handlers=HANDLERS,
        lifespan=running,
    )
    app.state.service = service
    app.state.help_site = site.Site.load()
    app.state.metrics = metrics
    app.state.health = health
    metrics.follow(lambda: getattr(app.state, "service", None))
    return app
