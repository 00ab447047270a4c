"""Security headers on every answer: no framing, no sniffing, no referrer, and for HTML a
Content-Security-Policy that allows our own stylesheet and nothing else (no script at all)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)
HTML_HEADERS = (("Content-Security-Policy", CONTENT_SECURITY_POLICY),)


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` to every response (and :data:`HTML_HEADERS` to
    HTML ones), unless the endpoint set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                extra: tuple[tuple[str, str], ...] = HEADERS
                if headers.get("content-type", "").startswith("text/html"):
                    extra += HTML_HEADERS
                for name, value in extra:
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
