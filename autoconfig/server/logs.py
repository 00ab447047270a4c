"""Logging set-up for the server, our loggers and uvicorn's alike, on stderr, in one of two
formats (``--log-format``):

- ``plain``: ``2026-09-01T08:00:00.123Z INFO autoconfig.access [1234] method=GET …``: UTC time,
  level, logger, worker pid, message;
- ``json``: one JSON object per line with ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``pid``,
  ``message``, ``request_id`` while a request is answered, and the access line's fields apart
  (``method``, ``path``, ``endpoint``, ``status``, …).

No line names a person: what the loggers are given is already free of addresses and logins
(:mod:`autoconfig.web.observe`).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from autoconfig.web.observe import REQUEST_ID

PLAIN = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"


def utc_time(created: float) -> str:
    """``created`` (a record's time) as ISO 8601 UTC to the millisecond, with a ``Z``."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class PlainFormatter(logging.Formatter):
    """Plain lines with the time in UTC."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        del datefmt  # always ISO 8601
        return utc_time(record.created)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=True, default=str)


FORMATTERS: dict[str, type[logging.Formatter]] = {"plain": PlainFormatter, "json": JsonFormatter}


def log_config(level: str, log_format: str = "plain") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` mapping for uvicorn and the ``autoconfig`` loggers."""
    upper = level.upper()
    formatter: dict[str, Any] = {"()": FORMATTERS[log_format]}
    if log_format == "plain":
        formatter["format"] = PLAIN
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "autoconfig": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
