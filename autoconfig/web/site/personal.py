"""The personalised setup page: the address a person typed, checked, and their own settings.

The answer comes from the same :class:`~autoconfig.service.Service` as the client configurations, so
the login shown here is the one Thunderbird, Outlook and the Apple profile receive. An address of
another provider is refused like a malformed one: one provider's site never shows another's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from urllib.parse import quote

import segno
from markupsafe import Markup

from autoconfig import address
from autoconfig.errors import AddressError, TooManyRequestsError
from autoconfig.formats import android
from autoconfig.model import Account, Certainty, Provider
from autoconfig.service import Query, Resolution, Service
from autoconfig.settings import Network
from autoconfig.usernames.bounded import UNANSWERED
from autoconfig.usernames.ratelimit import RateLimit
from autoconfig.web.clients import MOBILECONFIG_PATH

MAX_ECHO = 254
"""Longest typed text shown back in the form."""
QR_CACHED = 1024
"""QR codes kept once drawn (a drawing takes 5 to 20 ms of CPU; a page reloaded, or seen in the
other language, draws nothing)."""
SETUP_PER_CLIENT = 30
"""Distinct addresses (as typed) per minute for which one client gets the setup page answered
without a login from the directory (outside the rate-limit exempt networks): the people the
directory gave their login to are bounded by ``--directory-rate-limit`` and not counted here, so a
training session behind one school address spends only its typing mistakes. Each answer costs a page render (about 3 ms) and its
QR codes (5 to 20 ms more), for any address, known or not: past this bound a client gets a 429
(the site's error page, rendered once), so one asking for endless unique addresses costs next to
nothing. Asking again for an address already counted costs nothing."""


def setup_budget(exempt: Sequence[Network]) -> RateLimit:
    """The per-client count behind :data:`SETUP_PER_CLIENT`, per process."""
    return RateLimit(SETUP_PER_CLIENT, exempt=exempt)


class FormError(StrEnum):
    """Why the typed address gives no settings (the template words each one)."""

    EMPTY = "empty"
    MALFORMED = "malformed"
    ELSEWHERE = "elsewhere"
    """A valid address that this provider does not serve."""


@dataclass(frozen=True, slots=True)
class Lookup:
    """What the setup page shows about the typed address."""

    typed: str
    error: FormError | None = None
    resolution: Resolution | None = None
    profile_url: str | None = None
    qr_code: Markup | None = None
    android_code: Markup | None = None
    """Thunderbird for Android's import code, when the login is known or certain."""

    @property
    def account(self) -> Account | None:
        return self.resolution.account if self.resolution is not None else None

    @property
    def certainty(self) -> str | None:
        """``known``, ``certain`` or ``ask``: what the page may say of the login shown."""
        return self.account.certainty.value if self.account is not None else None

    @property
    def unanswered(self) -> bool:
        """True when the directory was not asked or did not answer (down, slow, limit reached):
        the person may try again a little later."""
        outcome = self.resolution.outcome if self.resolution is not None else None
        return outcome is not None and outcome in UNANSWERED

    @property
    def login_known(self) -> bool:
        """True when the login shown is the person's real one (looked up, or the provider's rule)."""
        return self.account is not None and self.account.login_known


def check(provider: Provider, typed: str) -> FormError | None:
    """The reason ``typed`` cannot be looked up on ``provider``'s site, or ``None``."""
    if not typed.strip():
        return FormError.EMPTY
    try:
        parsed = address.parse(typed)
    except AddressError:
        return FormError.MALFORMED
    return None if parsed.domain in provider.domains else FormError.ELSEWHERE


@lru_cache(maxsize=QR_CACHED)
def qr_code(text: str, border: int = 2, svgclass: str = "qr-code") -> Markup:
    """An inline SVG QR code of ``text``, hidden from assistive technology (the page names it)."""
    svg = segno.make(text, error="m").svg_inline(
        scale=4, border=border, omitsize=True, svgclass=svgclass
    )
    # segno writes the SVG itself; the URL is only encoded into path data, never copied as text.
    hidden = svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
    return Markup(hidden)  # noqa: S704


def _spend(budget: RateLimit, client: str | None, typed: str) -> None:
    if not budget.admit(client, typed):
        raise TooManyRequestsError(f"more than {SETUP_PER_CLIENT} addresses a minute")


async def lookup(
    service: Service, provider: Provider, query: Query, origin: str, budget: RateLimit
) -> Lookup:
    """Check the address of ``query`` and, when it is one of ``provider``'s, answer it.

    ``origin`` is ``https://<host>``: the QR code must open the download from another device.
    ``budget``: :func:`setup_budget`; :class:`TooManyRequestsError` when the client is past it.
    """
    typed = query.address or ""
    echo = address.visible(typed.strip()[:MAX_ECHO])
    error = check(provider, typed)
    if error is not None:
        _spend(budget, query.client, typed)
        return Lookup(echo, error)
    resolution = await service.resolve(query)
    if resolution.account.certainty is not Certainty.KNOWN:
        # A person the directory gave their login to is bounded by the directory's own limit:
        # a school's teachers cost nothing here, what gives nobody a login does.
        _spend(budget, query.client, typed)
    assert resolution.account.address is not None  # the query has an address
    link = f"{MOBILECONFIG_PATH}?email={quote(str(resolution.account.address), safe='')}"
    payload = android.payload(provider, resolution.account)
    # The quiet zone the QR standard asks for (4 modules): phone cameras read it at once.
    android_code = qr_code(payload, border=4, svgclass="qr-code android-code") if payload else None
    return Lookup(echo, None, resolution, link, qr_code(origin + link), android_code)
