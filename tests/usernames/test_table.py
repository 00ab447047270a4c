from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from autoconfig.address import parse
from autoconfig.errors import ConfigError, DirectoryError
from autoconfig.usernames import Entry, open_directory
from autoconfig.usernames.table import (
    SqliteDirectory,
    TableDirectory,
    load_csv,
    read_csv,
    write_sqlite,
)
from autoconfig.usernames.watch import FileState
from tests.conftest import DEMO


def csv_file(tmp_path: Path, text: str, name: str = "staff.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_directory_loads() -> None:
    directory = load_csv(DEMO)
    assert directory.size == 5
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
        ("mail;login;name\na@b.fr;x\n", "lacks the column(s) email (expected a first line"),
        ("mail;login;name\na@b.fr;x\n", "; found: 3 cell(s))"),
        ("a@b.fr;x\nc@d.fr;y\n", "; found: 2 cell(s))"),
        (
            "email;name;login\na@b.fr;Dupont; Jean;alogin\n",
            "line 2: 4 cells, the header has 3 (a separator inside a value",
        ),
        ("email,login\na@b.fr,x,y\n", "line 2: 3 cells, the header has 2"),
        ("", "lacks the column(s) email, login"),
        ("email,login\nnot-an-address,x\n", "line 2, column 1 (email): address has 0 '@'"),
        ("email,login\na@b.fr,\n", "line 2, column 2 (login): login is empty"),
        ("login;email\n;a@b.fr\n", "line 2, column 1 (login): login is empty"),
        ("email,login\na@b.fr\n", "line 2, column 2 (login): login is empty"),
        ("email,login\na@b.fr,has space\n", "line 2, column 2 (login): login contains spaces"),
        ("email,login,name\na@b.fr,x,bad\x07name\n", "line 2, column 3 (name): name contains"),
        (
            "email,login\na@b.fr,x\nA@B.FR,y\n",
            "line 3, column 1 (email): the same address as line 2",
        ),
        ('email,login\n"a@b.fr",x\n"multi\nline",y\nc@d.fr,\n', "line 5, column 2 (login)"),
        ("email,login,EMAIL\na@b.fr,x,c@d.fr\n", "names email (columns 1, 3) more than once"),
        ("email;login;name;Name\na@b.fr;x;A;B\n", "names name (columns 3, 4) more than once"),
        (
            "email,login\na@b.fr,x\nc@d.fr," + "y" * 200_000 + "\n",
            "line 3: is not a readable CSV row: field larger than field limit",
        ),
    ],
)
def test_bad_files_are_refused_with_line_and_column(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(DirectoryError, match=re.escape(message)):
        load_csv(csv_file(tmp_path, text))


def test_a_value_holding_the_separator_never_shifts_a_login(tmp_path: Path) -> None:
    """``;`` inside a name, unquoted: the login column would read the name's second half (and
    the real login be dropped). The row is refused; a quoted value and the empty cells that
    spreadsheets leave after the last column are fine."""
    text = (
        "email;name;login\n"
        "a@ac-aix-marseille.fr;Dupont; Jean;alogin\n"
        'b@ac-aix-marseille.fr;"Martin; Marie";blogin;;\n'
    )
    with pytest.raises(DirectoryError, match="1 bad row") as caught:
        load_csv(csv_file(tmp_path, text))
    assert "line 2: 4 cells" in str(caught.value)
    table = load_csv(csv_file(tmp_path, text.replace("Dupont; Jean", '"Dupont; Jean"')))
    assert table.lookup(parse("a@ac-aix-marseille.fr")) == Entry("alogin", "Dupont; Jean")
    assert table.lookup(parse("b@ac-aix-marseille.fr")) == Entry("blogin", "Martin; Marie")


@pytest.mark.parametrize(
    "first_line",
    ["Dupont Jean;jdupont;Professeur", "jean.dupont;jdupont;Jean Dupont", "Jérôme;jbernard1"],
)
def test_a_header_that_is_a_person_is_never_quoted(tmp_path: Path, first_line: str) -> None:
    """A file whose first line is a person (the header forgotten): the problem is logged by a
    running service, so it names no cell."""
    path = csv_file(tmp_path, first_line + "\nx@b.fr;x;y\n")
    with pytest.raises(DirectoryError, match="lacks the column") as caught:
        load_csv(path)
    message = str(caught.value).replace(str(path), "").casefold()
    for word in ("dupont", "jean", "jérôme", "jbernard", "professeur"):
        assert word not in message, message


@pytest.mark.parametrize(
    "row",
    [
        "pierre.dupont,pdupont",  # no '@'
        "pierre.dupont@Pierre Dupont,pdupont",  # a name where the domain should be
        "pierre.dupont@pierre-dupont,pdupont",  # a single label
        "pierre.dupont@dupont.123,pdupont",  # an IP-looking domain
        "pierre.dupont@xn--dupont-.fr,pdupont",  # a broken A-label
        "pierre.dupont@ac-aix-marseille.fr,pierre dupont",
        "pierre.dupont@ac-aix-marseille.fr,pdupont,Pierre\x07Dupont",
    ],
)
def test_problems_name_the_place_never_the_value(tmp_path: Path, row: str) -> None:
    """The problems of a directory are logged by a running service: no cell's value in them."""
    path = csv_file(tmp_path, f"email,login,name\n{row}\n")
    with pytest.raises(DirectoryError, match=r"line 2, column \d") as caught:
        load_csv(path)
    message = str(caught.value).replace(str(path), "")
    for word in ("pierre", "dupont", "123", "xn--"):
        assert word not in message.casefold(), message


FRENCH = "email;login;name\npierre.dupont@ac-aix-marseille.fr;pdupont;Pierre Dupont\n"
GAEL = FRENCH.replace("Pierre D", "Pierre-Gaël D")
OEDIPE = FRENCH.replace("Pierre D", "Œdipe € D")
NAME, NAME_GAEL, NAME_OEDIPE = "Pierre Dupont", "Pierre-Gaël Dupont", "Œdipe € Dupont"


@pytest.mark.parametrize(
    ("data", "name", "why"),
    [
        (FRENCH.encode("cp1252"), NAME, "Excel's CSV (separator: semicolon): ; and Windows-1252"),
        (GAEL.encode("cp1252"), NAME_GAEL, "with a Windows-1252 ë"),
        (OEDIPE.encode("cp1252"), NAME_OEDIPE, "Windows-1252, not Latin-1: Œ and €"),
        (b"\xef\xbb\xbf" + GAEL.encode(), NAME_GAEL, "Excel's CSV UTF-8: ; and a byte order mark"),
        (GAEL.encode(), NAME_GAEL, "LibreOffice: UTF-8, no mark"),
        (OEDIPE.encode(), NAME_OEDIPE, "UTF-8 with what Windows-1252 also has"),
        (GAEL.replace(";", ",").encode(), NAME_GAEL, "comma-separated"),
        (FRENCH.replace(";", "\t").encode(), NAME, "tab-separated"),
        (GAEL.replace("\n", "\r\n").encode("cp1252"), NAME_GAEL, "Windows line ends"),
        (
            FRENCH.encode() + b";;\n\n ; ; \n",
            NAME,
            "rows of separators only, as spreadsheets leave",
        ),
        (b'"email";"login";"name"\n' + FRENCH.encode().split(b"\n")[1], NAME, "quoted header"),
        (FRENCH.replace("name", "Name").replace("email", " EMAIL ").encode(), NAME, "any case"),
        (
            FRENCH.replace("name", 'name;"Nom, prénom, fonction, service"').encode(),
            NAME,
            "as many , as ; in the header: the separator that finds the columns",
        ),
    ],
)
def test_what_french_spreadsheets_export_is_read(
    tmp_path: Path, data: bytes, name: str, why: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    entry = load_csv(path).lookup(parse("Pierre.Dupont@ac-aix-marseille.fr"))
    assert entry == Entry("pdupont", name), why


def test_a_spreadsheet_name_survives_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    text = "email;login;name\ngaelle.lheritier@ac-aix-marseille.fr;glheritier;Gaëlle L'Héritier\n"
    path.write_bytes(text.encode("cp1252"))
    entry = load_csv(path).lookup(parse("gaelle.lheritier@ac-aix-marseille.fr"))
    assert entry == Entry("glheritier", "Gaëlle L'Héritier")


def test_problems_name_the_line_never_the_value(tmp_path: Path) -> None:
    """The problems are logged when a worker or a reload refuses the file: no address, login or
    name of the file may be in them."""
    text = (
        "email,login,name\nanne.martin@b.fr,am1,Anne Martin\nAnne.Martin@B.FR,am2,Anne Bis\n"
        "jean@@b.fr,jd1,Jean Dupont\nluc@b.fr,luc dupont,Luc\nzoe@b.fr,zoe1,Zo\x07e\n"
    )
    with pytest.raises(DirectoryError) as caught:
        load_csv(csv_file(tmp_path, text))
    message = str(caught.value).casefold()
    assert "4 bad row(s)" in message
    for value in ("anne", "martin", "am2", "jean", "jd1", "dupont", "luc", "zo"):
        assert value not in message.replace(str(tmp_path).casefold(), "")


def test_many_bad_rows_are_summarised(tmp_path: Path) -> None:
    text = "email,login\n" + "".join(f"bad{i},x\n" for i in range(50))
    with pytest.raises(DirectoryError, match="50 bad row") as caught:
        load_csv(csv_file(tmp_path, text))
    assert "… and 30 more" in str(caught.value)


def test_neither_utf8_nor_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    # 0x81 is undefined in Windows-1252, and 0xe9 0x81 is no UTF-8 either
    path.write_bytes(b"email,login\na@b.fr,x\nc@d.fr,\xe9\x81\n")
    with pytest.raises(DirectoryError, match="line 3: byte 0x81 is neither UTF-8 nor Windows-1252"):
        load_csv(path)


def test_a_utf8_file_with_a_line_in_another_encoding_is_refused(tmp_path: Path) -> None:
    """Read as Windows-1252, every "ë" of its UTF-8 lines would become "Ã«": refused instead."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "email,login,name\ngaelle.lheritier@ac-aix-marseille.fr,glheritier,Gaëlle\n".encode()
        + "pierre.dupont@ac-aix-marseille.fr,pdupont,Pierre-Gaël\n".encode("cp1252")
    )
    with pytest.raises(DirectoryError, match="line 3: is not UTF-8, while other lines are"):
        load_csv(path)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
def test_encodings_are_found_whatever_the_reading_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """A character or a line cut between two chunks read from the file changes nothing."""
    from autoconfig.usernames import table

    monkeypatch.setattr(table, "CHUNK", chunk)
    utf8 = "email,login,name\na@ac-aix-marseille.fr,a,Gaël €\nb@ac-aix-marseille.fr,b,Zoë\n"
    path = tmp_path / "staff.csv"
    path.write_bytes(utf8.encode())
    assert load_csv(path).lookup(parse("b@ac-aix-marseille.fr")) == Entry("b", "Zoë")
    path.write_bytes(utf8.encode("cp1252"))
    assert load_csv(path).lookup(parse("a@ac-aix-marseille.fr")) == Entry("a", "Gaël €")
    path.write_bytes(utf8.encode() + "c@ac-aix-marseille.fr,c,Loïc\n".encode("cp1252"))
    with pytest.raises(DirectoryError, match="line 4: is not UTF-8, while other lines are"):
        load_csv(path)
    path.write_bytes(utf8.encode("cp1252") + b"c@ac-aix-marseille.fr,c,\x9d\n")
    with pytest.raises(DirectoryError, match="line 4: byte 0x9d is neither UTF-8 nor"):
        load_csv(path)


def test_a_file_changed_while_it_is_read_is_refused(tmp_path: Path) -> None:
    """A file written in place while the service reads it (half of it new, maybe) is refused."""
    path = csv_file(tmp_path, DEMO.read_text(encoding="utf-8"))
    rows = read_csv(path)
    with path.open("a", encoding="utf-8") as more:
        more.write("late@ac-aix-marseille.fr,late\n")
    with pytest.raises(DirectoryError, match="changed while it was being read"):
        TableDirectory(rows, "table")


def test_the_table_remembers_the_file_it_was_read_from(tmp_path: Path) -> None:
    path = csv_file(tmp_path, DEMO.read_text(encoding="utf-8"))
    write_sqlite(DEMO, tmp_path / "staff.sqlite")
    sqlite = SqliteDirectory(tmp_path / "staff.sqlite")
    sources = [(load_csv(path).source, path), (sqlite.source, tmp_path / "staff.sqlite")]
    for source, file in sources:
        assert source is not None
        assert (source.path, source.state) == (file, FileState.of(file))
    sqlite.close()


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
    export = tmp_path / "export.csv"
    export.write_bytes("Nom;EMAIL;login\nGaëlle;x;y\n".encode("cp1252"))
    check_directory(str(export))  # a French spreadsheet's export
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
    from autoconfig.usernames.table import address_digest

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


def test_a_sqlite_file_caught_half_written_is_refused(tmp_path: Path) -> None:
    """What a copy caught half-way leaves: cut short, it does not open; its length there but its
    last pages not yet written, it opens but ``verify`` (the watcher's check) refuses it."""
    rows = "".join(f"p{i}@ac-aix-marseille.fr,p{i},Person {i}\n" for i in range(3000))
    write_sqlite(csv_file(tmp_path, "email,login,name\n" + rows), tmp_path / "whole.sqlite")
    whole = SqliteDirectory(tmp_path / "whole.sqlite")
    whole.verify()
    whole.close()
    data = (tmp_path / "whole.sqlite").read_bytes()
    (tmp_path / "short.sqlite").write_bytes(data[: len(data) * 9 // 10])
    with pytest.raises(DirectoryError, match=r"short\.sqlite: is not a directory database"):
        SqliteDirectory(tmp_path / "short.sqlite")
    (tmp_path / "hole.sqlite").write_bytes(data[:-4096] + bytes(4096))
    hole = SqliteDirectory(tmp_path / "hole.sqlite")
    assert hole.lookup(parse("p1@ac-aix-marseille.fr")) == Entry("p1", "Person 1")
    with pytest.raises(DirectoryError, match=r"hole\.sqlite: is not a sound SQLite file"):
        hole.verify()
    hole.close()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("staff.csv", "is the CSV file being imported: it would be overwritten"),
        ("./sub/../staff.csv", "is the CSV file being imported"),
        ("link.csv", "is the CSV file being imported"),
        ("hard.sqlite", "is the CSV file being imported"),
        ("other.csv", "would not be read as a SQLite directory (expected a name ending in"),
        ("staff", "would not be read as a SQLite directory"),
    ],
)
def test_import_refuses_to_overwrite_its_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    source = csv_file(tmp_path, DEMO.read_text(encoding="utf-8"))
    before = source.read_bytes()
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(source)
    (tmp_path / "hard.sqlite").hardlink_to(source)
    with pytest.raises(ConfigError, match=re.escape(message)):
        write_sqlite(Path("staff.csv"), Path(target))
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "hard.sqlite",
        "link.csv",
        "staff.csv",
        "sub",
    ]


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
def test_sqlite_rows_are_checked_by_check_and_at_lookup(
    tmp_path: Path, row: tuple[object, object, object], reason: str
) -> None:
    """``check`` reads every row (``check_rows``); serving reads each row it looks up, and a row
    no client can be given is the directory not answering, never that value."""
    path = hand_made_sqlite(tmp_path / "staff.sqlite", GOOD_ROW, row)
    directory = open_directory(str(path))
    assert isinstance(directory, SqliteDirectory)
    try:
        with pytest.raises(DirectoryError, match=f"1 bad row.*\nrow 2: .*{reason}") as error:
            directory.check_rows()
        assert "marie" not in str(error.value).casefold()  # rows named by position
        if "login" in reason or "name" in reason or "control" in reason or "spaces" in reason:
            with pytest.raises(DirectoryError, match="SQLite lookup found"):
                directory.lookup(parse("marie.martin@ac-aix-marseille.fr"))
        assert directory.lookup(parse(GOOD_ROW[0])) == Entry("pdupont", "Pierre Dupont")
    finally:
        directory.close()


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


@pytest.mark.parametrize(
    "row",
    [
        ("marie.martin@ac-aix-marseille.fr", 1234, None),
        ("marie.martin@ac-aix-marseille.fr", "", None),
        ("marie.martin@ac-aix-marseille.fr", "mm\x1b[2J", None),
        ("marie.martin@ac-aix-marseille.fr", "mmartin3", "Marie\x07Martin"),
    ],
)
def test_a_bad_sqlite_row_is_answered_as_no_answer_over_http(
    tmp_path: Path, row: tuple[object, object, object]
) -> None:
    """Issue 16, L6: a hand-made row the service cannot give (it starts: only ``check`` reads
    every row) gives that person the "ask" answer, never a 500, ``<username/>`` or the value;
    the others keep their login."""
    from starlette.testclient import TestClient

    from autoconfig.service import Service
    from autoconfig.settings import Settings
    from autoconfig.web import create_app
    from tests.conftest import PROFILES

    path = hand_made_sqlite(tmp_path / "staff.sqlite", GOOD_ROW, row)
    with Service.load(Settings(PROFILES, str(path))) as service:
        client = TestClient(create_app(service), base_url="http://autoconfig.ac-aix-marseille.fr")
        url = "/mail/config-v1.1.xml?emailaddress="
        marie = client.get(url + "marie.martin@ac-aix-marseille.fr")
        assert marie.status_code == 200
        assert "<username>%EMAILLOCALPART%</username>" in marie.text
        assert "1234" not in marie.text
        assert "\x1b" not in marie.text
        pierre = client.get(url + GOOD_ROW[0])
        assert "<username>pdupont</username>" in pierre.text
