"""What one request did, for the access log and the metrics: never an address or a login ID.

The web layer opens a :class:`RequestRecord` per request (:func:`start`); the service fills in the
domain and where the login came from; the access log and the metrics read it when the answer is out.
Outside a request (the CLI), :func:`current` is ``None`` and nothing is recorded.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass

_current: ContextVar[RequestRecord | None] = ContextVar("autoconfig_request", default=None)


@dataclass(slots=True)
class RequestRecord:
    """Mutable, and private to one request."""

    endpoint: str = "-"
    domain: str = "-"
    login: str = "-"
    """Where the login ID came from: directory, cache, template, fallback, or '-' (none asked)."""
    directory: str = "-"
    """What the directory lookup gave: directory (a hit), cache, unknown, timeout, failed,
    resting (a failure less than a second ago), busy, limited (per-client limit reached), or '-'
    (no directory lookup)."""


def start() -> tuple[RequestRecord, Token[RequestRecord | None]]:
    record = RequestRecord()
    return record, _current.set(record)


def finish(token: Token[RequestRecord | None]) -> None:
    _current.reset(token)


def current() -> RequestRecord | None:
    return _current.get()


def note(**fields: str) -> None:
    """Set fields of the current record, if there is one."""
    record = _current.get()
    if record is not None:
        for name, value in fields.items():
            setattr(record, name, value)
