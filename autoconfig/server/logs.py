"""Logging set-up for the server: plain lines on stderr, our loggers and uvicorn's alike."""

from __future__ import annotations

from typing import Any


def log_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` mapping for uvicorn and the ``autoconfig`` loggers."""
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
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
