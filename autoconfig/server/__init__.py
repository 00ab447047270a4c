"""How ``autoconfig serve`` runs: checks what it can before starting, then uvicorn with one or
several workers (:mod:`.supervisor`), each building its app from the environment (:mod:`.worker`)
and reloading on ``SIGHUP`` (:mod:`.reload`), all logging as :mod:`.logs` says.
"""

from __future__ import annotations

import logging
import logging.config
import os
import shutil
import signal
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from autoconfig.server.logs import log_config
from autoconfig.service import Service, start_warnings
from autoconfig.settings import ServerSettings, Settings
from autoconfig.usernames import check_directory

log = logging.getLogger("autoconfig.cli")

WORKER_APP = "autoconfig.server.worker:app"


def serve(settings: Settings, server: ServerSettings) -> None:
    """Check the settings, then serve until stopped. Raises our errors before anything is served
    when a profile, the directory or the signing files are invalid."""
    settings = settings.resolved()
    logging.config.dictConfig(log_config(server.log_level, server.log_format))
    # The workers load the directory in full (checking every row) as they start; here only
    # what makes a clear error cheaply, so the service starts within a second.
    with Service.load(replace(settings, directory=None)) as service:
        if settings.directory:
            check_directory(settings.directory, settings.lookup)
        for warning in start_warnings(service.catalog, settings):
            log.warning("%s", warning)
        if service.signer is None:
            log.warning(
                "Apple profiles are served unsigned: no signing certificate (--signing-cert)"
            )
        else:
            log.info("Apple profiles are signed by %s", service.signer.material.describe())
    run(settings, server)


def run(settings: Settings, server: ServerSettings) -> None:
    """Start uvicorn with the worker factory; the workers read the settings from the environment."""
    import uvicorn

    from autoconfig.server.protocol import KEEP_ALIVE, PROTOCOL

    shared = tempfile.mkdtemp(prefix="autoconfig-shared-") if server.workers > 1 else None
    if shared is not None:
        # The workers share their metrics and the per-client limit in this folder.
        settings = replace(settings, lookup=replace(settings.lookup, shared_dir=Path(shared)))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = shared
    os.environ.update(settings.to_env())
    # Until a process is ready to reload, SIGHUP would kill it (its default action): keep it
    # pending. Workers inherit the mask; each unblocks once its handler is in place.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
    options: dict[str, Any] = {
        "app": WORKER_APP,
        "factory": True,
        "host": server.host,
        "port": server.port,
        "workers": server.workers,
        "log_config": log_config(server.log_level, server.log_format),
        "access_log": False,
        # No WebSocket here: an upgrade request is answered (and logged) as plain HTTP by the
        # app, never logged by uvicorn with its query string.
        "ws": "none",
        # The client address is taken from X-Forwarded-For by the app itself, and only from
        # the trusted proxies (--trusted-proxy): uvicorn must not rewrite it first.
        "proxy_headers": False,
        "server_header": False,
        # Chosen by measurement (bench/RESULTS.md); both come with uvicorn[standard]. Named so
        # that a missing one is an error, not a silent fall-back to a far slower implementation.
        # httptools, bounded in time and size (.protocol: a client sending slowly is cut off).
        "http": PROTOCOL,
        "loop": "uvloop",
        "timeout_keep_alive": KEEP_ALIVE,
        "timeout_graceful_shutdown": server.shutdown_timeout,
    }
    if shared is None:
        uvicorn.run(**options)
        return
    from autoconfig.server.supervisor import run_workers

    try:
        run_workers(**options)
    finally:
        shutil.rmtree(shared, ignore_errors=True)
