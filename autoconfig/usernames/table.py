"""The table backend: login IDs from a CSV file (loaded into memory) or a SQLite file (read-only).

CSV: a header row naming the columns ``email`` and ``login``, and optionally ``name`` (the person's
display name); other columns are ignored. Addresses are normalised like every other address: the
keys are their canonical form (:attr:`~autoconfig.address.Address.key`: ASCII letters lower-cased,
an IDNA domain), the one the cache, the limit and LDAP use, so no other spelling maps onto an
entry. SQLite: a table ``directory(email, login, name)`` with the same normalised keys, and a
table ``digests(md5, email)``, as written by :func:`write_sqlite` (``autoconfig directory
import``); every row is checked by ``autoconfig check`` (:func:`check_sqlite_rows`), and each row
a lookup reads before it is used.

Both also find a person by the MD5 of their address (:func:`address_digest`), which Evolution sends
instead of the address: the CSV table builds that index when it loads, the import writes it. The
digest is a lookup key, not a secret; it is never logged.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import re
import sqlite3
import threading
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from autoconfig.address import Address, parse
from autoconfig.errors import AddressError, ConfigError, DirectoryError, Problem
from autoconfig.files import NOT_REGULAR, open_regular
from autoconfig.usernames.entry import Entry, check_login, check_name
from autoconfig.usernames.watch import FileState, Source

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
        self,
        entries: Mapping[str, Entry] | Iterable[tuple[str, Entry]],
        name: str,
        source: Source | None = None,
    ) -> None:
        pairs = entries.items() if isinstance(entries, Mapping) else entries
        self._entries = {key: _pack(entry) for key, entry in pairs}
        self._name = name
        self._source = source
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
        return f"{self._name} ({self.size} entries)"

    @property
    def size(self) -> int:
        """How many people the table lists."""
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

    @property
    def source(self) -> Source | None:
        """The file the table was read from (``None``: built in memory)."""
        return self._source

    def close(self) -> None:
        """Nothing to release: the table lives in memory."""


SEPARATORS = (",", ";", "\t")
"""Between the cells of a CSV row: a spreadsheet saving "CSV" in French writes ``;`` (the comma
is the decimal mark), elsewhere ``,``. Found from the header row (:func:`_separator`)."""

UTF8, WINDOWS_1252 = "utf-8-sig", "cp1252"
"""The encodings of a CSV file: UTF-8 (with or without the byte order mark Excel writes) when it
is valid UTF-8, else Windows-1252 (what Excel writes for "CSV (separator: semicolon)")."""

SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
"""The names of SQLite directory files (``--directory`` reads any other file as CSV or refuses it)."""

CHUNK = 1 << 20


_UNDEFINED_IN_1252 = re.compile(b"[\x81\x8d\x8f\x90\x9d]")
_UTF8_SEQUENCE = re.compile(
    b"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
"""A non-ASCII character in UTF-8: bytes that French text in Windows-1252 (``é`` then a letter)
practically never forms."""


def _first_non_utf8(handle: BinaryIO) -> int | None:
    """The line of the first byte of ``handle`` that is not UTF-8, or ``None`` when it all is."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    try:
        while chunk := handle.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:  # exc.object: the chunk after what was pending
                return line + exc.object.count(b"\n", 0, exc.start)
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return line
        return None
    finally:
        handle.seek(0)


def _encoding(handle: BinaryIO, path: Path) -> str:
    """:data:`UTF8` when the whole of ``handle`` is valid UTF-8, else :data:`WINDOWS_1252`; or
    :class:`DirectoryError` naming the line of a byte that is neither, or of the first one that
    is not UTF-8 in a file that is UTF-8 elsewhere (read as Windows-1252, each of its accented
    letters would become two). ``handle`` is rewound."""
    first = _first_non_utf8(handle)
    if first is None:
        return UTF8
    line, utf8, tail = 1, False, b""
    while chunk := handle.read(CHUNK):
        if found := _UNDEFINED_IN_1252.search(chunk):
            line += chunk.count(b"\n", 0, found.start())
            raise DirectoryError(
                f"{path}: line {line}: byte 0x{found.group()[0]:02x} is neither UTF-8 nor "
                "Windows-1252 (expected a file saved as CSV UTF-8, or as CSV by Excel)"
            )
        utf8 = utf8 or _UTF8_SEQUENCE.search(tail + chunk) is not None  # also across chunks
        tail = (tail + chunk)[-3:]
        line += chunk.count(b"\n")
    handle.seek(0)
    if utf8:
        raise DirectoryError(
            f"{path}: line {first}: is not UTF-8, while other lines are (expected the whole "
            "file in one encoding: save it again as CSV UTF-8)"
        )
    return WINDOWS_1252


def _separator(header: str) -> str:
    """The separator of a CSV file, from its header line: the one that splits it into cells
    naming the required columns, else the one it holds most of (``,`` when it holds none)."""
    for separator in SEPARATORS:
        names = {cell.strip().casefold() for cell in _split(header, separator)}
        if all(column in names for column in REQUIRED_COLUMNS):
            return separator
    return max(SEPARATORS, key=header.count)


def _split(line: str, separator: str) -> list[str]:
    return next(csv.reader([line], delimiter=separator), [])


_QUOTED_DOMAIN = re.compile(r"""domain ('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")


def _without_values(reason: str) -> str:
    """``reason`` without the domain it quotes (the text after the '@' of a cell, which may be
    anything, a name put in the wrong column): a directory's problems are logged, and a log
    line never holds a value of the file."""
    return _QUOTED_DOMAIN.sub("domain", reason)


@dataclass(frozen=True, slots=True)
class Columns:
    """Where the columns the service reads are in a CSV file: 0-based indexes."""

    email: int
    login: int
    name: int | None
    width: int
    """How many cells the header row has: a row with more, not empty, had a separator inside a
    value, and every cell after it moved one column to the right."""

    @classmethod
    def of(cls, header: list[str], path: Path) -> Columns:
        """The columns of a header row, or :class:`DirectoryError` when it lacks a required one
        or names one of ours twice."""
        names = [cell.strip().casefold() for cell in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            # The cells are not quoted: a first line that is a person's row, not a header, would
            # put their address, login or name in the log.
            found = f"{len(names)} cell(s)" if any(names) else "nothing"
            raise DirectoryError(
                f"{path}: the header row lacks the column(s) {', '.join(missing)} "
                f"(expected a first line naming the columns, at least "
                f"{', '.join(REQUIRED_COLUMNS)}, separated by , or ;; found: {found})"
            )
        twice = [
            f"{column} (columns {', '.join(str(i + 1) for i, n in enumerate(names) if n == column)})"
            for column in (*REQUIRED_COLUMNS, "name")
            if names.count(column) > 1
        ]
        if twice:
            raise DirectoryError(
                f"{path}: the header row names {' and '.join(twice)} more than once "
                "(expected each of email, login and name at most once: which one holds the data?)"
            )
        return cls(
            names.index("email"),
            names.index("login"),
            names.index("name") if "name" in names else None,
            len(names),
        )


class CsvRows:
    """The rows of a CSV directory file, read once: iterating yields ``(key, entry)`` for each
    row, then raises :class:`DirectoryError` listing the bad rows (line, column and problem,
    never the value) if there are any, or if the file changed while it was being read.

    The file is opened at once; :attr:`source` says which file, in which state, is being read.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._handle: BinaryIO = open_regular(path, "rb")  # type: ignore[assignment]
        except OSError as exc:
            raise DirectoryError(f"{path}: cannot be opened: {exc.strerror}") from exc
        self.source = Source(path, FileState.of_descriptor(self._handle.fileno()))

    def __iter__(self) -> Iterator[tuple[str, Entry]]:
        with self._handle as handle:
            yield from self._rows(handle)
            if FileState.of_descriptor(handle.fileno()) != self.source.state:
                raise DirectoryError(
                    f"{self.path}: changed while it was being read (expected a file replaced "
                    "in one step: write the new one beside it, then rename it over the old one)"
                )

    def _rows(self, handle: BinaryIO) -> Iterator[tuple[str, Entry]]:
        path = self.path
        encoding = _encoding(handle, path)
        text = io.TextIOWrapper(handle, encoding=encoding, newline="")
        problems: list[str] = []
        seen: dict[str, int] = {}
        line = 1
        try:
            header = text.readline()
            reader = csv.reader(itertools.chain([header], text), delimiter=_separator(header))
            columns = Columns.of(next(reader, []), path)
            line = reader.line_num + 1
            for row in reader:
                start, line = line, reader.line_num + 1
                if not any(cell.strip() for cell in row):
                    continue  # a blank line, or one of separators only (as spreadsheets write)
                found = _row(row, columns, start, problems)
                if found is None:
                    continue
                key, entry = found
                if key in seen:
                    problems.append(
                        f"line {start}, column {columns.email + 1} (email): "
                        f"the same address as line {seen[key]}"
                    )
                    continue
                seen[key] = start
                yield key, entry
        except UnicodeDecodeError as exc:  # only if it changed since _encoding read it
            raise DirectoryError(
                f"{path}: changed while it was being read ({exc.reason} near line {line})"
            ) from exc
        except csv.Error as exc:
            raise DirectoryError(f"{path}: line {line}: is not a readable CSV row: {exc}") from exc
        finally:
            text.detach()
        if problems:
            shown = problems[:MAX_REPORTED]
            more = (
                f"\n… and {len(problems) - MAX_REPORTED} more"
                if len(problems) > MAX_REPORTED
                else ""
            )
            raise DirectoryError(f"{path}: {len(problems)} bad row(s):\n" + "\n".join(shown) + more)


def read_csv(path: Path) -> CsvRows:
    """The ``(key, entry)`` pairs of a CSV directory, checked as they are read (see :class:`CsvRows`)."""
    return CsvRows(path)


def check_csv_header(path: Path) -> None:
    """Check, without reading the rows, that ``path`` is a readable CSV directory with the
    required columns (the rows are checked when the directory is loaded)."""
    try:
        handle = open_regular(path, "rb")
    except OSError as exc:
        raise DirectoryError(f"{path}: cannot be opened: {exc.strerror}") from exc
    with handle:
        first = handle.readline(CHUNK)
    try:
        header = first.decode(UTF8)
    except UnicodeDecodeError:
        header = first.decode(WINDOWS_1252, errors="replace")
    try:
        Columns.of(_split(header, _separator(header)), path)
    except csv.Error as exc:
        raise DirectoryError(f"{path}: line 1: is not a readable CSV row: {exc}") from exc


def _cell(row: list[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def _row(
    row: list[str], columns: Columns, line: int, problems: list[str]
) -> tuple[str, Entry] | None:
    """The key and entry of one row, or ``None`` (and its problem in ``problems``)."""

    def problem(index: int, column: str, reason: str) -> None:
        problems.append(f"line {line}, column {index + 1} ({column}): {_without_values(reason)}")

    if any(cell.strip() for cell in row[columns.width :]):
        problems.append(
            f"line {line}: {len(row)} cells, the header has {columns.width} (a separator inside "
            "a value moves the cells after it: put that value in double quotes)"
        )
        return None

    try:
        key = parse(_cell(row, columns.email)).key
    except AddressError as exc:
        problem(columns.email, "email", str(exc))
        return None
    login = _cell(row, columns.login)
    name = _cell(row, columns.name)
    if reason := check_login(login):
        problem(columns.login, "login", reason)
        return None
    if name and (reason := check_name(name)):
        assert columns.name is not None
        problem(columns.name, "name", reason)
        return None
    return key, Entry(login, name or None)


def load_csv(path: Path) -> TableDirectory:
    """Load a whole CSV directory into memory."""
    rows = read_csv(path)
    return TableDirectory(rows, f"CSV table {path.name}", rows.source)


class SqliteDirectory:
    """Login IDs queried from a SQLite file opened read-only."""

    def __init__(self, path: Path) -> None:
        state = FileState.of(path)
        if state is None or not path.is_file():
            raise DirectoryError(
                f"{path}: {NOT_REGULAR}" if path.exists() else f"{path}: no such SQLite file"
            )
        self.path = path
        self.source = Source(path, state)
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
        self.size: int = count
        """How many people the file lists."""
        self._lock = threading.Lock()
        self._digests = "digests" in tables
        without = "" if self._digests else "; no MD5 index: import it again to answer Evolution"
        self._description = f"SQLite table {path.name} ({count} entries{without})"

    @property
    def description(self) -> str:
        return self._description

    def check_rows(self) -> None:
        """Check every row (:func:`check_sqlite_rows`), as ``autoconfig check`` does: for 1.2
        million rows that takes seconds and a hundred megabytes, too much for every worker's
        start, so serving checks each row it reads instead (:func:`_sqlite_entry`)."""
        with self._lock:
            check_sqlite_rows(self._db, self.path)

    def verify(self) -> None:
        """Check the whole file is a sound database (SQLite's ``quick_check``: every page
        readable, no table cut short), as a file caught half-copied is not; or
        :class:`DirectoryError`."""
        with self._lock:
            try:
                found = [row[0] for row in self._db.execute("PRAGMA quick_check")]
            except sqlite3.Error as exc:
                raise DirectoryError(f"{self.path}: is not a sound SQLite file: {exc}") from exc
        if found != ["ok"]:
            raise DirectoryError(
                f"{self.path}: is not a sound SQLite file ({len(found)} problem(s), the first: "
                f"{found[0]}; expected a file written in one step, as directory import does)"
            )

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
    """The entry of a row read at lookup, checked as ``check`` checks every row; a row no client
    can be given (not text, an empty login, control characters) is :class:`DirectoryError`: the
    person is answered as when the directory does not answer, never with that value."""
    if not isinstance(login, str) or not (name is None or isinstance(name, str)):
        raise DirectoryError("SQLite lookup found a row that is not text (see autoconfig check)")
    if check_login(login) or (name and check_name(name)):
        raise DirectoryError("SQLite lookup found an unusable row (see autoconfig check)")
    return Entry(login, name or None)


def write_sqlite(csv_path: Path, target: Path) -> int:
    """Build a SQLite directory at ``target`` from a CSV directory; return the number of entries.

    The file is written beside the target and renamed into place, so a running service never sees
    half of it. A target that is the CSV file itself, or whose name ``--directory`` would not read
    as SQLite, is refused (:class:`ConfigError`) before anything is read or written.
    """
    _check_target(csv_path, target)
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


def _check_target(csv_path: Path, target: Path) -> None:
    """:class:`ConfigError` when writing ``target`` would replace the CSV file being imported
    (by the same name, a link or another spelling of it) or write SQLite under a name the service
    would not read as SQLite."""
    same = csv_path.resolve() == target.resolve()
    if not same and target.exists():
        try:
            same = csv_path.samefile(target)
        except OSError:
            same = False
    if same:
        message = f"{target} is the CSV file being imported: it would be overwritten"
    elif target.suffix.lower() not in SQLITE_SUFFIXES:
        message = (
            f"{target} would not be read as a SQLite directory "
            f"(expected a name ending in {', '.join(SQLITE_SUFFIXES)})"
        )
    else:
        return
    raise ConfigError([Problem("--into", "", message)])
