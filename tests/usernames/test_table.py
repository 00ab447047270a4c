from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from autoconfig.address import parse
from autoconfig.errors import ConfigError, DirectoryError
from autoconfig.usernames import Entry, open_directory
from autoconfig.usernames.table import load_csv, write_sqlite
from tests.conftest import DEMO


def csv_file(tmp_path: Path, text: str, name: str = "staff.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_directory_loads() -> None:
    directory = load_csv(DEMO)
    assert len(directory) == 5
    assert directory.lookup(parse("pierre.dupont@ac-aix-marseille.fr")) == Entry(
        "pdupont", "Pierre Dupont"
    )
    assert directory.lookup(parse("Gaelle.LHeritier@AC-AIX-MARSEILLE.FR")) == Entry(
        "glheritier", "Gaëlle L'Héritier"
    )
    assert directory.lookup(parse("nobody@ac-aix-marseille.fr")) is None


def test_columns_in_any_order_extra_columns_ignored_keys_normalised(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "\ufeffLogin,Notes,EMAIL\nAB12,x,Anne.Bé@École.example\ncd34,,c@d.example\n",
    )
    directory = load_csv(path)
    assert directory.lookup(parse("anne.bé@ÉCOLE.example")) == Entry("AB12")
    assert directory.lookup(parse("C@D.EXAMPLE")) == Entry("cd34")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mail,login\na@b.fr,x\n", "lacks the column(s) email"),
        ("email,uid\na@b.fr,x\n", "lacks the column(s) login"),
        ("", "lacks the column(s) email, login"),
        ("email,login\nnot-an-address,x\n", "line 2: email: address has 0 '@'"),
        ("email,login\na@b.fr,\n", "line 2: login is empty"),
        ("email,login\na@b.fr,has space\n", "line 2: login contains spaces"),
        ("email,login,name\na@b.fr,x,bad\x07name\n", "line 2: name contains control"),
        ("email,login\na@b.fr,x\nA@B.FR,y\n", "line 3: 'a@b.fr' already appears on line 2"),
    ],
)
def test_bad_files_are_refused_with_line_numbers(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DirectoryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_csv(csv_file(tmp_path, text))


def test_many_bad_rows_are_summarised(tmp_path: Path) -> None:
    text = "email,login\n" + "".join(f"bad{i},x\n" for i in range(50))
    with pytest.raises(DirectoryError, match="50 bad row") as caught:
        load_csv(csv_file(tmp_path, text))
    assert "… and 30 more" in str(caught.value)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("email,login\nélise@b.fr,x\n".encode("latin-1"))
    with pytest.raises(DirectoryError, match="not a readable UTF-8 CSV"):
        load_csv(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match="cannot be opened"):
        load_csv(tmp_path / "nope.csv")


def test_sqlite_round_trip(tmp_path: Path) -> None:
    target = tmp_path / "staff.sqlite"
    assert write_sqlite(DEMO, target) == 5
    directory = open_directory(str(target))
    try:
        assert directory.lookup(parse("Marie.Martin@ac-aix-marseille.fr")) == Entry(
            "mmartin3", "Marie Martin"
        )
        assert directory.lookup(parse("nobody@ac-aix-marseille.fr")) is None
        assert "5 entries" in directory.description
    finally:
        directory.close()
    # read-only: the service never writes to the directory it serves from
    db = sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        db.execute("DELETE FROM directory")
    db.close()


def test_sqlite_import_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "staff.sqlite"
    write_sqlite(DEMO, target)
    bad = csv_file(tmp_path, "email,login\nbroken,x\n", "bad.csv")
    with pytest.raises(DirectoryError):
        write_sqlite(bad, target)
    directory = open_directory(str(target))
    assert directory.lookup(parse("pierre.dupont@ac-aix-marseille.fr")) == Entry(
        "pdupont", "Pierre Dupont"
    )
    directory.close()
    assert not list(tmp_path.glob("*.partial"))


def test_sqlite_without_the_table(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(DirectoryError, match="is not a directory database"):
        open_directory(str(path))


@pytest.mark.parametrize("spec", ["staff.txt", "staff", "ftp://x/y"])
def test_unknown_directory_kind(spec: str) -> None:
    with pytest.raises(ConfigError, match="is not a directory the service can read"):
        open_directory(spec)


def test_header_check_reads_no_row(tmp_path: Path) -> None:
    from autoconfig.usernames import check_directory

    check_directory(str(csv_file(tmp_path, "email,login\nnot-an-address,x\n")))  # rows: later
    with pytest.raises(DirectoryError, match="lacks the column"):
        check_directory(str(csv_file(tmp_path, "mail,login\n", "other.csv")))
    with pytest.raises(DirectoryError, match="cannot be opened"):
        check_directory(str(tmp_path / "missing.csv"))
    with pytest.raises(ConfigError, match="is not a directory the service can read"):
        check_directory("staff.txt")


def test_sqlite_without_a_digest_index_says_so_and_finds_nobody_by_digest(tmp_path: Path) -> None:
    """A file imported by a version without the ``digests`` table still answers by address."""
    import sqlite3

    from autoconfig.usernames.table import SqliteDirectory, address_digest

    target = tmp_path / "old.sqlite"
    db = sqlite3.connect(target)
    db.execute("CREATE TABLE directory (email TEXT PRIMARY KEY, login TEXT NOT NULL, name TEXT)")
    db.execute(
        "INSERT INTO directory VALUES ('pierre.dupont@ac-aix-marseille.fr', 'pdupont', NULL)"
    )
    db.commit()
    db.close()
    old = SqliteDirectory(target)
    try:
        assert "no MD5 index: import it again to answer Evolution" in old.description
        assert old.lookup(parse("Pierre.Dupont@ac-aix-marseille.fr")) == Entry("pdupont")
        digest = address_digest("pierre.dupont@ac-aix-marseille.fr")
        assert old.lookup_digest(digest, "ac-aix-marseille.fr") is None
    finally:
        old.close()


@pytest.mark.parametrize("kind", ["csv", "sqlite"])
def test_digest_index_of_the_tables(tmp_path: Path, kind: str) -> None:
    from autoconfig.usernames.table import SqliteDirectory, TableDirectory, address_digest

    directory: TableDirectory | SqliteDirectory
    if kind == "csv":
        directory = load_csv(DEMO)
    else:
        write_sqlite(DEMO, tmp_path / "staff.sqlite")
        directory = SqliteDirectory(tmp_path / "staff.sqlite")
    try:
        digest = address_digest("marie.martin@ac-aix-marseille.fr")
        found = directory.lookup_digest(digest, "ac-aix-marseille.fr")
        assert found is not None
        address, entry = found
        assert (str(address), entry.login) == ("marie.martin@ac-aix-marseille.fr", "mmartin3")
        assert directory.lookup_digest(digest, "example.org") is None  # another domain's people
        assert directory.lookup_digest(bytes(16), "ac-aix-marseille.fr") is None
    finally:
        directory.close()


def hand_made_sqlite(path: Path, *rows: tuple[object, object, object]) -> Path:
    """A SQLite directory as someone might write it by hand: untyped columns (values keep their
    type), no primary key."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE directory (email, login, name)")
    db.executemany("INSERT INTO directory VALUES (?, ?, ?)", rows)
    db.commit()
    db.close()
    return path


GOOD_ROW = ("pierre.dupont@ac-aix-marseille.fr", "pdupont", "Pierre Dupont")
BAD_SQLITE_ROWS = [
    (("marie.martin@ac-aix-marseille.fr", 1234, None), "login is an integer"),
    (("marie.martin@ac-aix-marseille.fr", None, None), "login is NULL"),
    (("marie.martin@ac-aix-marseille.fr", b"mm", None), "login is binary"),
    (("marie.martin@ac-aix-marseille.fr", "", None), "login is empty"),
    (("marie.martin@ac-aix-marseille.fr", "mm\x1b[2J", None), "control characters"),
    (("marie.martin@ac-aix-marseille.fr", "m martin", None), "spaces"),
    (("marie.martin@ac-aix-marseille.fr", "mmartin3", 42), "name is an integer"),
    (("marie.martin@ac-aix-marseille.fr", "mmartin3", "Marie\nMartin"), "control characters"),
    ((None, "mmartin3", None), "email is NULL"),
    ((7, "mmartin3", None), "email is an integer"),
    (("not-an-address", "mmartin3", None), "email: address has 0 '@'"),
    (("Marie.Martin@AC-Aix-Marseille.FR", "mmartin3", None), "not in normal form"),
    (("pierre.dupont@ac-aix-marseille.fr", "other", None), "already appears on row 1"),
]


@pytest.mark.parametrize(("row", "reason"), BAD_SQLITE_ROWS)
def test_sqlite_rows_are_checked_when_opened(
    tmp_path: Path, row: tuple[object, object, object], reason: str
) -> None:
    path = hand_made_sqlite(tmp_path / "staff.sqlite", GOOD_ROW, row)
    with pytest.raises(DirectoryError, match=f"1 bad row.*\nrow 2: .*{reason}") as error:
        open_directory(str(path))
    assert "marie" not in str(error.value).casefold()  # rows named by position, not address


def test_sqlite_hand_made_but_valid_is_read(tmp_path: Path) -> None:
    path = hand_made_sqlite(tmp_path / "staff.sqlite", GOOD_ROW, ("a@ac-aix-marseille.fr", "a", ""))
    directory = open_directory(str(path))
    try:
        assert directory.lookup(parse("Pierre.Dupont@ac-aix-marseille.fr")) == Entry(
            "pdupont", "Pierre Dupont"
        )
        assert directory.lookup(parse("a@ac-aix-marseille.fr")) == Entry("a")
    finally:
        directory.close()
