"""The client formats, one module each, reading its requests and writing its answers:
:mod:`.thunderbird` (Mozilla autoconfig), :mod:`.autodiscover` (Microsoft, POX and v2),
:mod:`.mobileconfig` (Apple profiles), :mod:`.pacc` (PACC JSON), :mod:`.ddm` (Apple declarative
management, with :mod:`.mdm`'s per-user variables), :mod:`.dns` (zone records); :mod:`.xmlsafe`
parses XML that comes from outside.

Renderers are pure: ``(Provider, Account) -> Rendered``. No disk, network, clock or environment.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rendered:
    """The bytes of one answer, the media type they are served with and, for downloads, a file name."""

    body: bytes
    media_type: str
    filename: str | None = None
