"""Resolve the login ID of an address.

One interface, :class:`Directory`, with two backends: a table read from CSV or SQLite
(:mod:`.table`) and an LDAP directory (:mod:`.ldap`). :func:`open_directory` picks the backend from
the ``--directory`` value. The service wraps it in :class:`.bounded.Lookups` (time budget, cache,
per-client limit with :mod:`.ratelimit`), whose ``account`` turns a login policy and an address
into the :class:`~autoconfig.model.Account` every renderer takes, together with what the directory
did (its outcome, returned by value for the access log and the metrics).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from autoconfig.address import Address
from autoconfig.errors import ConfigError, Problem
from autoconfig.settings import LookupSettings
from autoconfig.usernames.entry import Entry

__all__ = ["Digests", "Directory", "Entry", "open_directory"]


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


@runtime_checkable
class Digests(Protocol):
    """A directory that can also find a person by the MD5 of their lower-cased address (what
    Evolution sends instead of the address): the tables can, LDAP cannot search by a hash."""

    def lookup_digest(self, digest: bytes, domain: str) -> tuple[Address, Entry] | None:
        """The address and entry of the person of ``domain`` whose address has the MD5
        ``digest``, or ``None``."""
        ...


def check_directory(spec: str, settings: LookupSettings | None = None) -> None:
    """The quick check ``serve`` makes before starting its workers: the kind of directory, that
    it opens, and for a CSV file its header. Each worker then loads it in full, checking every
    row, and does not start if one is bad."""
    from autoconfig.usernames.table import check_csv_header

    if Path(spec).suffix.lower() == ".csv":
        check_csv_header(Path(spec))
    else:
        open_directory(spec, settings).close()


def open_directory(spec: str, settings: LookupSettings | None = None) -> Directory:
    """Open the backend named by ``spec``: a ``.csv`` file, a ``.sqlite``/``.sqlite3``/``.db`` file,
    or an ``ldap://``/``ldaps://`` URL (connecting as ``settings`` say, on first use)."""
    from autoconfig.usernames.ldapurl import is_ldap_url
    from autoconfig.usernames.table import SQLITE_SUFFIXES, SqliteDirectory, load_csv

    if is_ldap_url(spec):
        from autoconfig.usernames.ldap import open_ldap

        return open_ldap(spec, settings or LookupSettings())
    suffix = Path(spec).suffix.lower()
    if suffix == ".csv":
        return load_csv(Path(spec))
    if suffix in SQLITE_SUFFIXES:
        return SqliteDirectory(Path(spec))
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
