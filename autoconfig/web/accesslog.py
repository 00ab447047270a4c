"""One log line per request, without the query string (it holds addresses), headers or body;
path segments that hold an address are replaced by ``<address>``."""

from __future__ import annotations

import logging

from starlette.types import Scope

from autoconfig import record

log = logging.getLogger("autoconfig.access")


def loggable(path: str) -> str:
    """``path`` as logged: segments holding an address (``/autodiscover/autodiscover.json/v1.0/
    <address>``) replaced, at most 200 characters, non-ASCII escaped."""
    hidden = "/".join("<address>" if "@" in part else part for part in path.split("/"))
    return hidden[:200].encode("unicode_escape").decode("ascii")


def log_request(scope: Scope, entry: record.RequestRecord, status: int, seconds: float) -> None:
    """Write the access log line of one answered request."""
    log.info(
        "method=%s path=%s endpoint=%s domain=%s login=%s directory=%s status=%d duration_ms=%.1f",
        scope.get("method", "-"),
        loggable(scope.get("path", "")),
        entry.endpoint,
        entry.domain,
        entry.login,
        entry.directory,
        status,
        seconds * 1000,
    )
