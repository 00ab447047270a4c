"""The guided help site: one page per journey, in French (``/aide/…``) and English (``/help/…``).

The provider is the one named by the ``Host`` header, so each provider gets its own site and nothing
about one shows on another's; an unknown host gets a neutral 404 page. Every fact on the pages comes
from the provider's profile; the texts come from the gettext catalogues (:mod:`.i18n`).
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from autoconfig import record
from autoconfig.model import Localized
from autoconfig.service import Service
from autoconfig.settings import data_dir
from autoconfig.web import i18n, personal
from autoconfig.web.common import PRIVATE_CACHE, query
from autoconfig.web.pages import PAGES, ROOTS, Page, other_languages, pages_for

STYLESHEET = "/assets/help.css"
PUBLIC_CACHE = "public, max-age=300"
QUERY_FIELD = "email"


@dataclass(frozen=True)
class Site:
    """The loaded help site: one Jinja environment per language, and the stylesheet."""

    environments: dict[str, jinja2.Environment]
    stylesheet: bytes

    @classmethod
    def load(cls, templates: Path | None = None, locale: Path | None = None) -> Site:
        templates = templates or data_dir("templates")
        translations = i18n.load(locale or data_dir("locale"))
        environments = {lang: _environment(templates, t) for lang, t in translations.items()}
        return cls(environments, (templates / "static" / "help.css").read_bytes())

    def render(self, lang: str, template: str, code: int, cache: str, **context: Any) -> Response:
        html = self.environments[lang].get_template(template).render(lang=lang, **context)
        return HTMLResponse(html, status_code=code, headers={"Cache-Control": cache})

    def error(self, lang: str, status: int) -> Response:
        """The neutral error page: it names no provider, so it suits unknown hosts too."""
        return self.render(
            lang, "error.html", status, PRIVATE_CACHE, status=status, stylesheet=STYLESHEET
        )


def _environment(templates: Path, translations: gettext.NullTranslations) -> jinja2.Environment:
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
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return env


def _upper_first(text: str) -> str:
    """``text`` with a capital first letter, the rest untouched (unlike ``capitalize``)."""
    return text[:1].upper() + text[1:]


def _site(request: Request) -> Site:
    site: Site = request.app.state.help_site
    return site


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
        record.note(endpoint="help")
        site = _site(request)
        request.state.error_page = functools.partial(site.error, lang)
        service: Service = request.app.state.service
        provider = service.catalog.for_host(request.headers.get("host", ""))
        if not page.shown(provider):
            return site.error(lang, 404)
        context: dict[str, Any] = {"lookup": None}
        status, cache = 200, PUBLIC_CACHE
        switch_query = ""
        if page.key == "setup" and QUERY_FIELD in request.query_params:
            typed = request.query_params[QUERY_FIELD]
            found = await personal.lookup(
                service, provider, query(request, typed), _origin(request)
            )
            context["lookup"] = found
            status = 400 if found.error else 200
            cache = PRIVATE_CACHE
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
            stylesheet=STYLESHEET,
            **context,
        )

    return view


def not_found_view(lang: str) -> Callable[[Request], Awaitable[Response]]:
    async def view(request: Request) -> Response:
        record.note(endpoint="help")
        return _site(request).error(lang, 404)

    return view


async def root(request: Request) -> Response:
    """``/``: the help site in the language the browser prefers (French by default)."""
    record.note(endpoint="help")
    lang = i18n.negotiate(request.headers.get("accept-language"))
    request.state.error_page = functools.partial(_site(request).error, lang)
    service: Service = request.app.state.service
    service.catalog.for_host(request.headers.get("host", ""))
    return RedirectResponse(
        ROOTS[lang],
        status_code=302,
        headers={"Vary": "Accept-Language", "Cache-Control": PRIVATE_CACHE},
    )


async def stylesheet(request: Request) -> Response:
    record.note(endpoint="help")
    return Response(
        _site(request).stylesheet,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def _routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route("/", root, methods=["GET"]),
        Route(STYLESHEET, stylesheet, methods=["GET"]),
    ]
    for lang, root_path in ROOTS.items():
        for page in PAGES:
            routes.append(Route(page.path(lang), page_view(page, lang), methods=["GET"]))
        routes.append(Route(root_path + "{rest:path}", not_found_view(lang), methods=["GET"]))
    return routes


routes = _routes()
