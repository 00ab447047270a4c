"""The app factory ``autoconfig serve`` hands to uvicorn: each worker process builds its app
from the settings in ``AUTOCONFIG_*``; ``SIGHUP`` reloads (:mod:`autoconfig.server.reload`), a
replaced directory file is swapped in (:mod:`autoconfig.server.sync`); with
several workers the metrics are shared through ``PROMETHEUS_MULTIPROC_DIR``."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from starlette.applications import Starlette

from autoconfig.errors import AutoconfigError
from autoconfig.server.reload import loaded
from autoconfig.server.sync import reload_and_watch
from autoconfig.service import Service
from autoconfig.settings import Settings
from autoconfig.web import create_app
from autoconfig.web.metrics import Metrics


def app() -> Starlette:
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
    logging.getLogger("autoconfig.serve").info("worker %d: loaded %s", os.getpid(), loaded(service))
    return create_app(
        service,
        metrics=Metrics(Path(shared) if shared else None),
        lifespan=reload_and_watch,
    )
