"""The application factory. The app is read-only: nothing it serves changes any state."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import StatelessLifespan

from autoconfig.errors import AutoconfigError
from autoconfig.service import Service
from autoconfig.settings import Settings
from autoconfig.web import autodiscover, help, mobileconfig, operations, thunderbird
from autoconfig.web.errors import HANDLERS
from autoconfig.web.headers import SecurityHeaders
from autoconfig.web.metrics import Metrics
from autoconfig.web.observe import Observe
from autoconfig.web.reload import reload_on_hangup


def create_app(
    service: Service,
    *,
    metrics: Metrics | None = None,
    lifespan: StatelessLifespan[Starlette] | None = None,
) -> Starlette:
    """A Starlette app answering from ``service`` (tests build their own)."""
    metrics = metrics or Metrics()
    app = Starlette(
        routes=[
            *thunderbird.routes,
            *autodiscover.routes,
            *mobileconfig.routes,
            *help.routes,
            *operations.routes,
        ],
        middleware=[
            Middleware(Observe, metrics=metrics),
            Middleware(SecurityHeaders),
        ],
        exception_handlers=HANDLERS,
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.help_site = help.Site.load()
    app.state.metrics = metrics
    return app


def app_from_env() -> Starlette:
    """The factory ``autoconfig serve`` hands to uvicorn: settings from ``AUTOCONFIG_*``;
    ``SIGHUP`` reloads (:mod:`autoconfig.web.reload`); with several workers the metrics are
    shared through ``PROMETHEUS_MULTIPROC_DIR``."""
    shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    try:
        service = Service.load(Settings.from_env())
    except AutoconfigError as exc:
        # A worker started while the files on disk are broken: say why, and exit with the
        # status uvicorn reads as "cannot start" (no traceback, no restart loop).
        from uvicorn.config import STARTUP_FAILURE

        for line in str(exc).splitlines():
            logging.getLogger("autoconfig.serve").error("cannot load: %s", line)
        sys.exit(STARTUP_FAILURE)
    service.lookups.prime()
    return create_app(
        service,
        metrics=Metrics(Path(shared) if shared else None),
        lifespan=reload_on_hangup,
    )
