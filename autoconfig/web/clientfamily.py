"""A coarse name for the kind of client behind a request, for metrics labels.

Only the names below ever leave this module: the ``User-Agent`` itself is never stored, logged or
used as a label (it would make one time series per client version, and can identify people).
"""

from __future__ import annotations

FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("thunderbird", ("thunderbird",)),
    ("k9", ("k-9", "k9mail", "thunderbird-android", "net.thunderbird")),
    ("outlook", ("outlook", "microsoft office", "ms-office", "microsoft.exchange")),
    ("evolution", ("evolution",)),
    ("deltachat", ("deltachat", "delta chat", "chatmail")),
    ("kmail", ("kmail", "akonadi", "accountwizard")),
    ("fairemail", ("fairemail",)),
    ("apple", ("iphone", "ipad", "macintosh", "mac os x", "cfnetwork", "darwin")),
    ("android", ("android",)),
    ("browser", ("mozilla/",)),
    ("script", ("curl/", "wget/", "python", "go-http-client", "okhttp", "prometheus")),
)
"""Checked in order: the first family with a matching (lower-case) fragment wins."""

OPERATIONS = frozenset({"/healthz", "/metrics"})


def family(path: str, user_agent: str | None) -> str:
    """``monitor`` for health checks and scrapes, a family from ``FAMILIES``, or ``other``."""
    if path in OPERATIONS:
        return "monitor"
    agent = (user_agent or "").lower()
    for name, fragments in FAMILIES:
        if any(fragment in agent for fragment in fragments):
            return name
    return "other"


NAMES = ("monitor", *(name for name, _ in FAMILIES), "other")
"""Every value :func:`family` can return."""
