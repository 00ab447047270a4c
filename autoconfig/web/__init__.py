"""The HTTP face of the service: a read-only Starlette app built by :func:`create_app`."""

from autoconfig.web.app import create_app

__all__ = ["create_app"]
