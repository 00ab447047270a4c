"""The application factory. The app is read-only: nothing it serves changes any state."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware

from autoconfig.service import Service
from autoconfig.settings import Settings
from autoconfig.web import autodiscover, help, mobileconfig, thunderbird
from autoconfig.web.accesslog import AccessLog
from autoconfig.web.errors import HANDLERS
from autoconfig.web.headers import SecurityHeaders


def create_app(service: Service) -> Starlette:
    """A Starlette app answering from ``service`` (tests build their own)."""
    app = Starlette(
        routes=[*thunderbird.routes, *autodiscover.routes, *mobileconfig.routes, *help.routes],
        middleware=[Middleware(AccessLog), Middleware(SecurityHeaders)],
        exception_handlers=HANDLERS,
    )
    app.state.service = service
    app.state.help_site = help.Site.load()
    return app


def app_from_env() -> Starlette:
    """The factory ``autoconfig serve`` hands to uvicorn: settings from ``AUTOCONFIG_*``."""
    service = Service.load(Settings.from_env())
    service.lookups.prime()
    return create_app(service)
