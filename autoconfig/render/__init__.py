"""Pure renderers: ``(Provider, Account) -> Rendered``. No disk, network, clock or environment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rendered:
    """The bytes of one answer and the media type they are served with."""

    body: bytes
    media_type: str
