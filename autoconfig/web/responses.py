"""How every endpoint answers: :func:`respond` owns the media type and the Cache-Control header,
and the Cache-Control values are written here only."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from autoconfig.formats import Rendered


class Cache:
    """The Cache-Control values of the service's answers."""

    PUBLIC = "public, max-age=3600"
    """A client configuration that holds nothing personal (the generic answer)."""
    PRIVATE = "private, no-store"
    """An answer about one person (a looked-up login, an address), or an error of a client format."""
    NO_STORE = "no-store"
    """Downloads made for one person, error messages and the operations endpoints."""
    PAGE = "public, max-age=300"
    """A help page that is the same for everyone (its texts change with the profile)."""
    ASSET = "public, max-age=86400"
    """The help site's stylesheet."""


def respond(
    rendered: Rendered,
    cache: str,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The HTTP response carrying ``rendered``: its media type, ``cache`` as Cache-Control, and
    for a download (``rendered.filename``) the ``Content-Disposition`` that names the file."""
    extra = dict(headers or {})
    if rendered.filename is not None:
        extra["Content-Disposition"] = f'attachment; filename="{rendered.filename}"'
    return Response(
        rendered.body,
        status_code=status,
        media_type=rendered.media_type,
        headers={**extra, "Cache-Control": cache},
    )
