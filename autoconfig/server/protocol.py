"""uvicorn's HTTP protocol (httptools), bounded against clients that send slowly or send too much.

uvicorn closes a connection only when it has been idle ``timeout_keep_alive`` seconds *after* an
answer: a connection that sends nothing, or a request's headers or body a byte at a time, is
kept for ever, and the headers may grow without end. Here every request must come whole (request
line, headers, body) within :data:`READ_TIMEOUT` seconds of its first byte, or of the connection's
start for its first request; past that the connection is closed (the app, if it was reading the
body, sees the client gone: logged as 499). Request line and headers over
:data:`MAX_HEADER_BYTES` are answered 431 and the connection closed. Behind the Caddyfile, Caddy
applies its own time-outs first; these hold when an instance is reached directly.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

READ_TIMEOUT = 10.0
"""Seconds a client gets to send one whole request (the same as the Caddyfile's ``read_body``)."""
KEEP_ALIVE = 5
"""Seconds an idle connection is kept open after an answer (uvicorn's ``timeout_keep_alive``)."""
MAX_HEADER_BYTES = 64 * 1024
"""Longest request line and headers accepted (Outlook's Kerberos ``Authorization`` can be tens of
kilobytes; a larger one is no mail client's)."""


class HeadersTooLarge(Exception):
    """Raised inside the parser's callback to stop it: the headers are over the limit."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Given to uvicorn as ``http=`` (by its import path: the workers import it themselves)."""

    read_timeout = READ_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(self.read_timeout, self._read_too_slow)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_too_slow(self) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, HeadersTooLarge):
                self._refuse_headers()
                return
            self._invalid()
        except httptools.HttpParserError:
            self._invalid()
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def _invalid(self) -> None:
        msg = "Invalid HTTP request received."
        self.logger.warning(msg)
        self.send_400_response(msg)

    def _refuse_headers(self) -> None:
        self._disarm()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: text/plain; charset=utf-8\r\ncontent-length: 31\r\n"
            b"connection: close\r\n\r\nrequest headers are too large\r\n"
        )
        self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        if self._read_deadline is None:
            self._arm()

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_HEADER_BYTES:
            raise HeadersTooLarge

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()


PROTOCOL = f"{__name__}:{BoundedHttpToolsProtocol.__name__}"
