"""Resolve the login ID of an address.

One interface, :class:`Directory`, with several backends: a table read from CSV or SQLite
(:mod:`.table`), an LDAP directory (:mod:`.ldap`), and the provider's own template (:mod:`.template`).
:func:`open_directory` picks the backend from the ``--directory`` value; :func:`resolve` turns a
provider and an address into the :class:`~autoconfig.model.Account` every renderer takes (the
service wraps the directory in :class:`.bounded.Lookups`: time budget, cache, per-client limit).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from autoconfig.address import Address
from autoconfig.errors import ConfigError, DirectoryError, Problem
from autoconfig.model import Account, Found, LoginSource, Provider
from autoconfig.settings import LookupSettings
from autoconfig.usernames.entry import Entry
from autoconfig.usernames.template import TemplateResolver

__all__ = ["Directory", "Entry", "TemplateResolver", "open_directory", "resolve"]

log = logging.getLogger(__name__)


class Directory(Protocol):
    """A source of login IDs keyed by address."""

    @property
    def description(self) -> str:
        """What the backend is, for logs and the CLI (never a secret)."""
        ...

    def lookup(self, address: Address) -> Entry | None:
        """The entry for ``address``, or ``None`` when the backend does not know it."""
        ...

    def close(self) -> None:
        """Release what the backend holds open."""
        ...


def open_directory(spec: str, settings: LookupSettings | None = None) -> Directory:
    """Open the backend named by ``spec``: a ``.csv`` file, a ``.sqlite``/``.sqlite3``/``.db`` file,
    or an ``ldap://``/``ldaps://`` URL (connecting as ``settings`` say, on first use)."""
    from autoconfig.usernames.ldapurl import is_ldap_url
    from autoconfig.usernames.table import load_csv, open_sqlite

    if is_ldap_url(spec):
        from autoconfig.usernames.ldap import open_ldap

        return open_ldap(spec, settings or LookupSettings())
    suffix = Path(spec).suffix.lower()
    if suffix == ".csv":
        return load_csv(Path(spec))
    if suffix in {".sqlite", ".sqlite3", ".db"}:
        return open_sqlite(Path(spec))
    raise ConfigError(
        [
            Problem(
                "--directory",
                "",
                f"{spec!r} is not a directory the service can read "
                "(expected a .csv, .sqlite, .sqlite3 or .db file, or an ldap:// or ldaps:// URL)",
            )
        ]
    )


def resolve(provider: Provider, address: Address | None, directory: Directory | None) -> Account:
    """The account to answer with: looked up, derived from the template, or generic.

    Synchronous and unbounded, for callers that have no event loop; the service answers through
    :meth:`.bounded.Lookups.account` instead (time budget, cache, per-client limit).
    """
    policy = provider.login
    if address is None:
        return Account(None, policy.template, Found.FALLBACK)
    backend: Directory | None
    if policy.source is LoginSource.TEMPLATE:
        backend, found = TemplateResolver(policy), Found.TEMPLATE
    else:
        backend, found = directory, Found.DIRECTORY
    entry = None
    if backend is not None:
        try:
            entry = backend.lookup(address)
        except DirectoryError as exc:
            log.warning("directory lookup failed, answering with the fallback login: %s", exc)
    if entry is None:
        return Account(address, policy.expand(address), Found.FALLBACK)
    return Account(address, entry.login, found, entry.name)
