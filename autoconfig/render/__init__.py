"""Pure renderers: ``(Provider, Account) -> Rendered``. No disk, network, clock or environment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rendered:
    """The bytes of one answer, the media type they are served with and, for downloads, a file name."""

    body: bytes
    media_type: str
    filename: str | None = None
