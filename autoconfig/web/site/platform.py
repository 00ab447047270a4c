"""The order of the setup page's app sections: the visitor's own platform first.

Read from the ``User-Agent`` of the request, only to order the sections of a page made for this
request; the header is never stored, logged or shown.
"""

from __future__ import annotations

SECTIONS = ("thunderbird", "outlook", "apple", "mac", "android")
"""Every app section of the setup page, in the order shown to a computer without a hint."""
PLATFORMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("apple", ("iphone", "ipad", "ipod")),
    ("android", ("android",)),
    ("mac", ("macintosh", "mac os x")),
)
"""Checked in order: iPhone agents also say "like Mac OS X", Android agents never do."""


def platform(user_agent: str | None) -> str | None:
    """The section of the visitor's platform, or ``None`` when the agent names none of them."""
    agent = (user_agent or "")[:1000].lower()
    for section, fragments in PLATFORMS:
        if any(fragment in agent for fragment in fragments):
            return section
    return None


def sections(user_agent: str | None) -> tuple[str, ...]:
    """:data:`SECTIONS` with the visitor's own platform first, the others in their usual order."""
    own = platform(user_agent)
    if own is None:
        return SECTIONS
    return (own, *(section for section in SECTIONS if section != own))
