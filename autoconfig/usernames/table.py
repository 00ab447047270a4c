"""The table backend: login IDs from a CSV file (loaded into memory) or a SQLite file (read-only).

CSV: a header row naming the columns ``email`` and ``login``, and optionally ``name`` (the person's
display name); other columns are ignored. Addresses are normalised like every other address: the
keys are their canonical form (:attr:`~autoconfig.address.Address.key`: ASCII letters lower-cased,
an IDNA domain), the one the cache, the limit and LDAP use, so no other spelling maps onto an
entry. SQLite: a table ``directory(email, login, name)`` with the same normalised keys, and a
table ``digests(md5, email)``, as written by :func:`write_sqlite` (``autoconfig directory
import``); every row is checked when the file is opened (:func:`check_sqlite_rows`).

Both also find a person by the MD5 of their address (:func:`address_digest`), which Evolution sends
instead of the address: the CSV table builds that index when it loads, the import writes it. The
digest is a lookup key, not a secret; it is never logged.
"""

from __future__ import annotations

import csv
import hashlib
import sqlite3
import threading
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from autoconfig.address import Address, parse
from autoconfig.errors import AddressError, DirectoryError
from autoconfig.files import NOT_REGULAR, open_regular
from autoconfig.usernames.entry import Entry, check_login, check_name

REQUIRED_COLUMNS = ("email", "login")
MAX_REPORTED = 20


SEPARATOR = "\t"
"""Between the login and the name of a packed entry: neither can hold it (checked at load)."""


def address_digest(key: str) -> bytes:
    """The MD5 of an address key as Evolution computes it: of the address with its ASCII letters
    lower-cased, which is exactly the key."""
    return hashlib.md5(key.encode(), usedforsecurity=False).digest()


def _prefix(digest: bytes) -> int:
    return int.from_bytes(digest[:8], "big")


def _in_domain(key: str, domain: str) -> bool:
    return key.rpartition("@")[2] == domain


def _pack(entry: Entry) -> str:
    return f"{entry.login}{SEPARATOR}{entry.name}" if entry.name else entry.login


def _unpack(packed: str) -> Entry:
    login, _, name = packed.partition(SEPARATOR)
    return Entry(login, name or None)


class TableDirectory:
    """Login IDs held in memory, keyed by normalised address.

    Each entry is kept as one string (login, and name after a tab): for 100,000 people that is
    about 10 MB less per worker than an object per entry, and lookups rebuild the small
    :class:`Entry` they return.
    """

    def __init__(
        self, entries: Mapping[str, Entry] | Iterable[tuple[str, Entry]], name: str
    ) -> None:
        pairs = entries.items() if isinstance(entries, Mapping) else entries
        self._entries = {key: _pack(entry) for key, entry in pairs}
        self._name = name
        self._index: tuple[array[int], list[str]] | None = None
        self._index_lock = threading.Lock()

    def prime(self) -> None:
        """Build the MD5 index in the background, so that loading stays fast (about 0.15 s per
        100,000 people); a digest lookup before it is done waits for it."""
        threading.Thread(target=self._digest_index, name="autoconfig-digests", daemon=True).start()

    def _digest_index(self) -> tuple[array[int], list[str]]:
        """The first 8 bytes of each address digest, sorted, beside the keys in the same order
        (about 16 bytes per person); a match is confirmed on the whole digest."""
        with self._index_lock:
            if self._index is None:
                keys = list(self._entries)
                prefixes = [_prefix(address_digest(key)) for key in keys]
                order = sorted(range(len(keys)), key=prefixes.__getitem__)
                self._index = (array("Q", [prefixes[i] for i in order]), [keys[i] for i in order])
            return self._index

    @property
    def description(self) -> str:
        return f"{self._name} ({len(self)} entries)"

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, address: Address) -> Entry | None:
        packed = self._entries.get(address.key)
        return _unpack(packed) if packed is not None else None

    def lookup_digest(self, digest: bytes, domain: str) -> tuple[Address, Entry] | None:
        prefixes, keys = self._digest_index()
        prefix = _prefix(digest)
        at = bisect_left(prefixes, prefix)
        while at < len(prefixes) and prefixes[at] == prefix:
            key = keys[at]
            if address_digest(key) == digest and _in_domain(key, domain):
                return parse(key), _unpack(self._entries[key])
            at += 1
        return None

    def close(self) -> None:
        """Nothing to release: the table lives in memory."""


def read_csv(path: Path) -> Iterator[tuple[str, Entry]]:
    """Yield ``(key, entry)`` for each row of a CSV directory; raise :class:`DirectoryError` listing bad rows."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    try:
        handle = open_regular(path, "r", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise DirectoryError(f"{path}: cannot be opened: {exc.strerror}") from exc
    with handle:
        try:
            reader = csv.reader(handle)
            columns = _columns(reader, path)
            email = columns.index("email")
            login = columns.index("login")
            name = columns.index("name") if "name" in columns else None
            for row in reader:
                if not row:
                    continue  # a blank line
                line = reader.line_num
                entry_key = _row(
                    _cell(row, email), _cell(row, login), _cell(row, name), line, problems
                )
                if entry_key is None:
                    continue
                key, entry = entry_key
                if key in seen:
                    problems.append(f"line {line}: {key!r} already appears on line {seen[key]}")
                    continue
                seen[key] = line
                yield key, entry
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DirectoryError(f"{path}: is not a readable UTF-8 CSV file: {exc}") from exc
    if problems:
        shown = problems[:MAX_REPORTED]
        more = (
            f"\n… and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        )
        raise DirectoryError(f"{path}: {len(problems)} bad row(s):\n" + "\n".join(shown) + more)


def _columns(reader: Iterator[list[str]], path: Path) -> list[str]:
    """The header row's column names, or :class:`DirectoryError` if it lacks a required one."""
    columns = [c.strip().casefold() for c in next(reader, [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise DirectoryError(
            f"{path}: the header row lacks the column(s) {', '.join(missing)} "
            f"(expected at least: {', '.join(REQUIRED_COLUMNS)}; found: "
            f"{', '.join(columns) or 'nothing'})"
        )
    return columns


def check_csv_header(path: Path) -> None:
    """Check, without reading the rows, that ``path`` is a readable CSV directory with the
    required columns (the rows are checked when the directory is loaded)."""
    try:
        handle = open_regular(path, "r", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise DirectoryError(f"{path}: cannot be opened: {exc.strerror}") from exc
    with handle:
        try:
            _columns(csv.reader(handle), path)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DirectoryError(f"{path}: is not a readable UTF-8 CSV file: {exc}") from exc


def _cell(row: list[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def _row(
    email: str, login: str, name: str, line: int, problems: list[str]
) -> tuple[str, Entry] | None:
    try:
        key = parse(email).key
    except AddressError as exc:
        problems.append(f"line {line}: email: {exc}")
        return None
    reason = check_login(login) or (check_name(name) if name else None)
    if reason:
        problems.append(f"line {line}: {reason}")
        return None
    return key, Entry(login, name or None)


def load_csv(path: Path) -> TableDirectory:
    """Load a whole CSV directory into memory."""
    return TableDirectory(read_csv(path), f"CSV table {path.name}")


class SqliteDirectory:
    """Login IDs queried from a SQLite file opened read-only."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise DirectoryError(
                f"{path}: {NOT_REGULAR}" if path.exists() else f"{path}: no such SQLite file"
            )
        try:
            self._db = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            count = self._db.execute("SELECT count(*) FROM directory").fetchone()[0]
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
        except sqlite3.Error as exc:
            raise DirectoryError(
                f"{path}: is not a directory database "
                f"(expected a table directory(email, login, name)): {exc}"
            ) from exc
        check_sqlite_rows(self._db, path)
        self._lock = threading.Lock()
        self._digests = "digests" in tables
        without = "" if self._digests else "; no MD5 index: import it again to answer Evolution"
        self._description = f"SQLite table {path.name} ({count} entries{without})"

    @property
    def description(self) -> str:
        return self._description

    def lookup(self, address: Address) -> Entry | None:
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT login, name FROM directory WHERE email = ?", (address.key,)
                ).fetchone()
            except sqlite3.Error as exc:
                raise DirectoryError(f"SQLite lookup failed: {exc}") from exc
        return _sqlite_entry(row[0], row[1]) if row else None

    def lookup_digest(self, digest: bytes, domain: str) -> tuple[Address, Entry] | None:
        if not self._digests:
            return None
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT email, login, name FROM digests JOIN directory USING (email)"
                    " WHERE md5 = ?",
                    (digest,),
                ).fetchone()
            except sqlite3.Error as exc:
                raise DirectoryError(f"SQLite lookup failed: {exc}") from exc
        if row is None or not _in_domain(row[0], domain):
            return None
        return parse(row[0]), _sqlite_entry(row[1], row[2])

    def close(self) -> None:
        self._db.close()


def check_sqlite_rows(db: sqlite3.Connection, path: Path) -> None:
    """:class:`DirectoryError` listing the bad rows of a SQLite directory, as :func:`read_csv` does
    for a CSV file: an email that is not a normalised address key (as ``directory import`` writes
    it) or that appears twice, a login or name that is not text (integer, binary, NULL login) or
    that the CSV would refuse (empty, control characters). Rows are named by their position, not
    by their address: the message may reach the log."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    try:
        rows = db.execute("SELECT email, login, name FROM directory")
        for number, (email, login, name) in enumerate(rows, start=1):
            reason = _sqlite_row(email, login, name)
            if reason is None and email in seen:
                reason = f"email already appears on row {seen[email]}"
            if reason is not None:
                problems.append(f"row {number}: {reason}")
            elif isinstance(email, str):
                seen[email] = number
    except sqlite3.Error as exc:
        raise DirectoryError(f"{path}: the table directory cannot be read: {exc}") from exc
    if problems:
        shown = problems[:MAX_REPORTED]
        more = (
            f"\n… and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        )
        raise DirectoryError(
            f"{path}: {len(problems)} bad row(s) in the table directory:\n"
            + "\n".join(shown)
            + more
        )


def _sqlite_row(email: object, login: object, name: object) -> str | None:
    """Why one row of a SQLite directory is unusable, or ``None``."""
    if not isinstance(email, str):
        return f"email is {_sql_type(email)} (expected text)"
    try:
        key = parse(email).key
    except AddressError as exc:
        return f"email: {exc}"
    if key != email:
        return (
            "email is not in normal form (expected it as `autoconfig directory import` writes it)"
        )
    if not isinstance(login, str):
        return f"login is {_sql_type(login)} (expected text)"
    if name is not None and not isinstance(name, str):
        return f"name is {_sql_type(name)} (expected text or NULL)"
    return check_login(login) or (check_name(name) if name else None)


def _sql_type(value: object) -> str:
    if value is None:
        return "NULL"
    return {int: "an integer", float: "a real number", bytes: "binary"}.get(
        type(value), type(value).__name__
    )


def _sqlite_entry(login: object, name: object) -> Entry:
    """The entry of a row read at lookup (checked at load; DirectoryError if it changed since)."""
    if not isinstance(login, str) or not (name is None or isinstance(name, str)):
        raise DirectoryError("SQLite lookup found a row that is not text")
    return Entry(login, name or None)


def write_sqlite(csv_path: Path, target: Path) -> int:
    """Build a SQLite directory at ``target`` from a CSV directory; return the number of entries.

    The file is written beside the target and renamed into place, so a running service never sees
    half of it.
    """
    entries = list(read_csv(csv_path))
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    db = sqlite3.connect(partial)
    try:
        db.execute(
            "CREATE TABLE directory (email TEXT PRIMARY KEY, login TEXT NOT NULL, name TEXT)"
            " WITHOUT ROWID"
        )
        db.executemany(
            "INSERT INTO directory VALUES (?, ?, ?)", ((key, e.login, e.name) for key, e in entries)
        )
        db.execute("CREATE TABLE digests (md5 BLOB PRIMARY KEY, email TEXT NOT NULL) WITHOUT ROWID")
        db.executemany(
            "INSERT INTO digests VALUES (?, ?)", ((address_digest(key), key) for key, _ in entries)
        )
        db.commit()
    finally:
        db.close()
    partial.replace(target)
    return len(entries)
