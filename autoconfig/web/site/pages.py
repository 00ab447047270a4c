"""The help site's pages: one per journey, at a stable URL in each language.

A page whose facts a provider does not declare (its ``[guide]`` table) is not shown on that
provider's site: it is left out of the navigation and answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from autoconfig.model import Provider
from autoconfig.web.site.i18n import LANGUAGES

ROOTS = {"fr": "/aide/", "en": "/help/"}
"""Where the site of each language starts; every page sits right below."""


def _always(_provider: Provider) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Page:
    """One journey: its template, its URL slug in each language, and whether a provider has it."""

    key: str
    template: str
    slugs: tuple[tuple[str, str], ...]
    shown: Callable[[Provider], bool] = _always

    def slug(self, lang: str) -> str:
        return dict(self.slugs)[lang]

    def path(self, lang: str) -> str:
        return ROOTS[lang] + self.slug(lang)


PAGES = (
    Page("home", "home.html", (("fr", ""), ("en", ""))),
    Page(
        "first-login",
        "first_login.html",
        (("fr", "premiere-connexion"), ("en", "first-connection")),
        lambda p: p.guide is not None and p.guide.first_login is not None,
    ),
    Page("webmail", "webmail.html", (("fr", "webmail"), ("en", "webmail"))),
    Page("setup", "setup.html", (("fr", "configurer"), ("en", "setup"))),
    Page(
        "password",
        "password.html",
        (("fr", "mot-de-passe-oublie"), ("en", "forgotten-password")),
        lambda p: p.guide is not None and p.guide.password is not None,
    ),
    Page(
        "problems",
        "problems.html",
        (("fr", "problemes-de-connexion"), ("en", "connection-problems")),
    ),
)
BY_KEY = {page.key: page for page in PAGES}


def pages_for(provider: Provider) -> tuple[Page, ...]:
    """The pages of ``provider``'s site, in navigation order."""
    return tuple(page for page in PAGES if page.shown(provider))


def other_languages(lang: str) -> tuple[str, ...]:
    return tuple(code for code in LANGUAGES if code != lang)
