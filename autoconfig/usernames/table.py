"""The table backend: login IDs from a CSV file (loaded into memory) or a SQLite file (read-only).

CSV: a header row naming the columns ``email`` and ``login``, and optionally ``name`` (the person's
display name); other columns are ignored. Addresses are normalised like every other address, so the
keys are case-folded with an IDNA domain. SQLite: a table ``directory(email, login, name)`` with the
same normalised keys, as written by :func:`write_sqlite` (``autoconfig directory import``).
"""

from __future__ import annotations

import csv
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from autoconfig.address import Address, parse
from autoconfig.errors import AddressError, DirectoryError
from autoconfig.usernames.entry import Entry, check_login, check_name

REQUIRED_COLUMNS = ("email", "login")
MAX_REPORTED = 20


SEPARATOR = "\t"
"""Between the login and the name of a packed entry: neither can hold it (checked at load)."""


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

    @property
    def description(self) -> str:
        return f"{self._name} ({len(self)} entries)"

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, address: Address) -> Entry | None:
        packed = self._entries.get(address.key)
        return _unpack(packed) if packed is not None else None

    def close(self) -> None:
        """Nothing to release: the table lives in memory."""


def read_csv(path: Path) -> Iterator[tuple[str, Entry]]:
    """Yield ``(key, entry)`` for each row of a CSV directory; raise :class:`DirectoryError` listing bad rows."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
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
        handle = path.open(encoding="utf-8-sig", newline="")
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
            raise DirectoryError(f"{path}: no such SQLite file")
        try:
            self._db = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            count = self._db.execute("SELECT count(*) FROM directory").fetchone()[0]
        except sqlite3.Error as exc:
            raise DirectoryError(
                f"{path}: is not a directory database "
                f"(expected a table directory(email, login, name)): {exc}"
            ) from exc
        self._lock = threading.Lock()
        self._description = f"SQLite table {path.name} ({count} entries)"

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
        return Entry(row[0], row[1] or None) if row else None

    def close(self) -> None:
        self._db.close()


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
        db.commit()
    finally:
        db.close()
    partial.replace(target)
    return len(entries)
