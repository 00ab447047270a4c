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
from urllib.parse import quote, quote_from_bytes

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send, StatelessLifespan

from autoconfig.service import Service
from autoconfig.web import clients, operations, site
from autoconfig.web.clients import AnyCaseRoute
from autoconfig.web.errors import HANDLERS
from autoconfig.web.headers import SecurityHeaders
from autoconfig.web.health import Health, probing
from autoconfig.web.metrics import Metrics
from autoconfig.web.observe import Observe
from autoconfig.web.proxy import ClientAddress
from autoconfig.web.requests import OneHost


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


URL_SAFE = ":/%?=@[]!$&'()*+,;~"
"""What a redirect's path and query keep as they are (the rest is percent-encoded, as UTF-8)."""


def slash_redirect(router: Router) -> None:
    """A path that differs from a route only by its trailing slash (``/aide``, ``…/config-v1.1.xml/``)
    is redirected to the route by a relative ``Location`` (path and query): Starlette's own
    redirect is absolute, built from ``Host`` and the scheme the app sees (``http://`` behind Caddy),
    which sent clients to cleartext or to whatever host a client named."""
    router.redirect_slashes = False
    not_found = router.not_found

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if scope["type"] == "http" and path != "/":
            other = path.rstrip("/") if path.endswith("/") else path + "/"
            # Never "//host" or "/\\host": browsers read both as another host.
            if other[:1] == "/" and other[1:2] not in ("/", "\\"):
                moved = {**scope, "path": other}
                if any(route.matches(moved)[0] is not Match.NONE for route in router.routes):
                    location = quote(other, safe=URL_SAFE)
                    if scope["query_string"]:
                        location += "?" + quote_from_bytes(scope["query_string"], safe=URL_SAFE)
                    moved_permanently = Response(status_code=308, headers={"Location": location})
                    await moved_permanently(scope, receive, send)
                    return
        await not_found(scope, receive, send)

    router.default = default


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
            Middleware(OneHost),
        ],
        exception_handlers=HANDLERS,
        lifespan=running,
    )
    slash_redirect(app.router)
    app.state.service = service
    app.state.help_site = site.Site.load()
    app.state.setup_budget = site.personal.setup_budget(service.settings.lookup.rate_limit_exempt)
    app.state.metrics = metrics
    app.state.health = health
    metrics.follow(lambda: getattr(app.state, "service", None))
    return app
