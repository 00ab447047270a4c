"""The guided help site: one page per journey, in French (``/aide/…``) and English (``/help/…``).

The provider is the one named by the ``Host`` header, so each provider gets its own site and nothing
about one shows on another's; an unknown host gets a neutral 404 page, unless only one provider is
loaded (then every host is its site: the bare IP address, a mistyped name). Every fact on the pages comes
from the provider's profile; the texts come from the gettext catalogues (:mod:`.i18n`).
"""

from __future__ import annotations

import datetime
import gettext
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_date
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from autoconfig.errors import UnknownDomainError
from autoconfig.model import Localized, Provider
from autoconfig.settings import data_dir
from autoconfig.usernames.ratelimit import RateLimit
from autoconfig.web.observe import note, note_resolution
from autoconfig.web.requests import query, service_of
from autoconfig.web.responses import Cache
from autoconfig.web.site import i18n, personal, platform
from autoconfig.web.site.pages import PAGES, ROOTS, Page, other_languages, pages_for

STYLESHEET = "/assets/help.css"
BRAND_PREFIX = "/assets/brand-"
"""``/assets/brand-<rrggbb>.css``: the brand colour of ``provider.colour`` as the stylesheet's accent."""
LOGO_PREFIX = "/assets/logo-"
QUERY_FIELD = "email"
DATE_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
"""How each language writes a date on the site (« 4 décembre 2026 », "4 December 2026")."""
DARKER = 0.65
"""The shade of the brand colour behind the navigation: each channel times this."""


def today() -> datetime.date:
    """The date notices are shown by: the server's local date."""
    return datetime.date.today()


@dataclass(frozen=True)
class Site:
    """The loaded help site: one Jinja environment per language, and the stylesheet."""

    environments: dict[str, jinja2.Environment]
    stylesheet: bytes
    errors: dict[tuple[str, int], bytes] = field(default_factory=dict, compare=False, repr=False)
    """The error pages rendered so far, by language and status."""

    @classmethod
    def load(cls, templates: Path | None = None, locale: Path | None = None) -> Site:
        templates = templates or data_dir("templates")
        translations = i18n.load(locale or data_dir("locale"))
        environments = {lang: _environment(templates, t, lang) for lang, t in translations.items()}
        return cls(environments, (templates / "static" / "help.css").read_bytes())

    def render(self, lang: str, template: str, code: int, cache: str, **context: Any) -> Response:
        html = self.environments[lang].get_template(template).render(lang=lang, **context)
        return HTMLResponse(html, status_code=code, headers={"Cache-Control": cache})

    def error(self, lang: str, status: int) -> Response:
        """The neutral error page: it names no provider, so it suits unknown hosts too; the same
        for every request, so it is rendered once per language and status (a client flooding
        errors costs no rendering)."""
        key = (lang, status)
        if key not in self.errors:
            template = self.environments[lang].get_template("error.html")
            html = template.render(lang=lang, status=status, stylesheet=STYLESHEET)
            self.errors[key] = html.encode()
        return Response(
            self.errors[key],
            status_code=status,
            media_type="text/html",
            headers={"Cache-Control": Cache.PRIVATE},
        )


def _environment(
    templates: Path, translations: gettext.NullTranslations, lang: str
) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.filters["upper_first"] = _upper_first
    env.filters["long_date"] = lambda day: format_date(day, "long", locale=DATE_LOCALES[lang])
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return env


def _upper_first(text: str) -> str:
    """``text`` with a capital first letter, the rest untouched (unlike ``capitalize``)."""
    return text[:1].upper() + text[1:]


def provider_of(request: Request) -> Provider:
    """The provider whose site ``request`` asks for (see :meth:`Catalog.for_site`)."""
    return service_of(request).catalog.for_site(request.headers.get("host", ""))


def brand_stylesheet(provider: Provider) -> str | None:
    return f"{BRAND_PREFIX}{provider.colour[1:]}.css" if provider.colour else None


def brand_css(colour: str) -> bytes:
    """The accent colours of the stylesheet, set to the brand colour and a darker shade of it."""
    dark = "".join(f"{int(int(colour[i : i + 2], 16) * DARKER):02x}" for i in range(1, 7, 2))
    return f":root {{ --accent: {colour}; --accent-dark: #{dark}; }}\n".encode()


def site_of(request: Request) -> Site:
    site: Site = request.app.state.help_site
    return site


def setup_budget_of(request: Request) -> RateLimit:
    """The app's count of setup pages answered per client (:func:`personal.setup_budget`)."""
    budget: RateLimit = request.app.state.setup_budget
    return budget


def page_language(request: Request) -> str | None:
    """The language of the help page ``request`` asks for (``/`` too: the browser's), or
    ``None`` when it is no help page: errors on the site's paths are answered with its pages."""
    path = request.url.path
    if path == "/":
        return i18n.negotiate(request.headers.get("accept-language"))
    return next((lang for lang, root in ROOTS.items() if path.startswith(root)), None)


def _origin(request: Request) -> str:
    """``https://<host>`` for absolute links (the QR code); the port only when it is a number."""
    name, colon, port = request.headers.get("host", "").partition(":")
    return f"https://{name}:{port}" if colon and port.isdigit() else f"https://{name}"


def _localize(lang: str) -> Callable[[Localized | None], str]:
    def pick(text: Localized | None) -> str:
        return text.get(lang) if text is not None else ""

    return pick


def page_view(page: Page, lang: str) -> Callable[[Request], Awaitable[Response]]:
    async def view(request: Request) -> Response:
        note(request, "help")
        site = site_of(request)
        service = service_of(request)
        provider = provider_of(request)
        if not page.shown(provider):
            return site.error(lang, 404)
        context: dict[str, Any] = {"lookup": None}
        status, cache = 200, Cache.PAGE
        switch_query = ""
        if page.key == "setup" and QUERY_FIELD in request.query_params:
            typed = request.query_params[QUERY_FIELD]
            found = await personal.lookup(
                service, provider, query(request, typed), _origin(request), setup_budget_of(request)
            )
            if found.resolution is not None:
                note_resolution(request, found.resolution)
            context["lookup"] = found
            status = 400 if found.error else 200
            cache = Cache.PRIVATE
            switch_query = "?" + str(request.url.query)
        return site.render(
            lang,
            page.template,
            status,
            cache,
            provider=provider,
            page=page,
            pages=pages_for(provider),
            urls={p.key: p.path(lang) for p in PAGES},
            switch=[(other, page.path(other) + switch_query) for other in other_languages(lang)],
            loc=_localize(lang),
            login_name=provider.login.name.get(lang),
            stylesheet=STYLESHEET,
            brand_stylesheet=brand_stylesheet(provider),
            notices=provider.guide.current_notices(today()) if provider.guide else (),
            sections=platform.sections(request.headers.get("user-agent")),
            **context,
        )

    return view


def not_found_view(lang: str) -> Callable[[Request], Awaitable[Response]]:
    async def view(request: Request) -> Response:
        note(request, "help")
        return site_of(request).error(lang, 404)

    return view


async def root(request: Request) -> Response:
    """``/``: the help site in the language the browser prefers (French by default)."""
    note(request, "help")
    lang = i18n.negotiate(request.headers.get("accept-language"))
    provider_of(request)
    return RedirectResponse(
        ROOTS[lang],
        status_code=302,
        headers={"Vary": "Accept-Language", "Cache-Control": Cache.PRIVATE},
    )


async def stylesheet(request: Request) -> Response:
    note(request, "help")
    return Response(
        site_of(request).stylesheet,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": Cache.ASSET},
    )


async def brand(request: Request) -> Response:
    """The brand colour of the host's provider, as a stylesheet; 404 for any other colour."""
    note(request, "help")
    provider = provider_of(request)
    if brand_stylesheet(provider) != request.url.path:
        raise UnknownDomainError("no such stylesheet for this host")
    assert provider.colour is not None
    return Response(
        brand_css(provider.colour),
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": Cache.ASSET},
    )


LOGO_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
"""An SVG logo opened on its own runs nothing and loads nothing (the profile's SVG is checked at
load too)."""


async def logo(request: Request) -> Response:
    """The host's provider's logo, at the address named by its content; 404 for any other."""
    note(request, "help")
    provider = provider_of(request)
    if provider.logo is None or provider.logo.path != request.url.path:
        raise UnknownDomainError("no such logo for this host")
    return Response(
        provider.logo.content,
        media_type=provider.logo.media_type,
        headers={"Cache-Control": Cache.ASSET, "Content-Security-Policy": LOGO_POLICY},
    )


def routes() -> list[BaseRoute]:
    """The help site's routes: ``/``, the stylesheets, the logo, and every page in every language."""
    table: list[BaseRoute] = [
        Route("/", root, methods=["GET"]),
        Route(STYLESHEET, stylesheet, methods=["GET"]),
        Route(BRAND_PREFIX + "{colour}.css", brand, methods=["GET"]),
        Route(LOGO_PREFIX + "{name}", logo, methods=["GET"]),
    ]
    for lang, root_path in ROOTS.items():
        for page in PAGES:
            table.append(Route(page.path(lang), page_view(page, lang), methods=["GET"]))
        table.append(Route(root_path + "{rest:path}", not_found_view(lang), methods=["GET"]))
    return table
