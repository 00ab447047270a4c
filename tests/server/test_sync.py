"""Directory sync: a CSV or SQLite directory file replaced on disk is served without SIGHUP, by
every worker, and a broken replacement leaves the loaded directory serving."""

from __future__ import annotations

import asyncio
import logging
import shutil
import urllib.request
from pathlib import Path

import pytest
from lxml import etree
from starlette.testclient import TestClient

from autoconfig.address import parse
from autoconfig.server.reload import Reloader
from autoconfig.server.sync import reload_and_watch, swap
from autoconfig.service import Service
from autoconfig.settings import LookupSettings, Settings
from autoconfig.usernames.table import write_sqlite
from autoconfig.usernames.watch import Action, FileState, Watch
from autoconfig.web import create_app
from tests.conftest import DEMO, PIERRE, PROFILES
from tests.server.test_reload import last_reload_success, reload_failed
from tests.servers import App, serve
from tests.tools import wait_until

SWAPPED = "directory file changed: now serving"
REFUSED = "directory file changed but refused, the loaded one keeps serving"
WATCH_TASK = "autoconfig-directory-watch"


def demo_with(login: str) -> str:
    """The demo directory with Pierre Dupont's login changed to ``login``."""
    text = DEMO.read_text(encoding="utf-8")
    assert ",pdupont," in text
    return text.replace(",pdupont,", f",{login},")


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` beside ``path``, then rename it over ``path``: a replacement in one step."""
    aside = path.with_name(path.name + ".new")
    aside.write_bytes(data)
    aside.replace(path)


def login_of(app: App, address: str = PIERRE) -> str:
    url = f"{app.url}/mail/config-v1.1.xml?emailaddress={address}"
    with urllib.request.urlopen(url, timeout=5) as response:
        document = etree.fromstring(response.read())
    return str(document.findtext("emailProvider/incomingServer/username"))


def logins(app: App) -> set[str]:
    """Pierre's login in a few answers (spread over the workers)."""
    return {login_of(app) for _ in range(8)}


def no_personal_data(log: str) -> None:
    for word in ("pierre", "dupont", "pdupont", "nope", "Marie"):
        assert word not in log, word


@pytest.mark.parametrize("workers", [1, 2])
def test_a_replaced_sqlite_file_is_served_by_every_worker_without_sighup(
    tmp_path: Path, workers: int
) -> None:
    target = tmp_path / "staff.sqlite"
    write_sqlite(DEMO, target)
    fresh = tmp_path / "fresh.csv"
    args = ("--directory", str(target), "--workers", str(workers))
    with serve(tmp_path, *args, "--directory-watch-interval", "0.5") as app:
        assert logins(app) == {"pdupont"}

        # as the timer's `directory import` does: written aside, renamed into place
        fresh.write_text(demo_with("pdupont2"), encoding="utf-8")
        write_sqlite(fresh, target)
        wait_until(lambda: app.log_text().count(SWAPPED) == workers, "every worker to swap")
        assert logins(app) == {"pdupont2"}

        # a copy caught half-written (cut short; its length there but its end not yet
        # written): refused by every worker, the loaded file keeps serving
        fresh.write_text(demo_with("pdupont3"), encoding="utf-8")
        write_sqlite(fresh, tmp_path / "whole.sqlite")
        data = (tmp_path / "whole.sqlite").read_bytes()
        replace_file(target, data[: len(data) // 2])
        wait_until(lambda: app.log_text().count(REFUSED) == workers, "every worker to refuse")
        assert logins(app) == {"pdupont2"}
        replace_file(target, data[:-4096] + bytes(4096))
        wait_until(lambda: app.log_text().count(REFUSED) == 2 * workers, "the second refusal")
        assert logins(app) == {"pdupont2"}

        # and the next good file is served again
        replace_file(target, data)
        wait_until(lambda: app.log_text().count(SWAPPED) == 2 * workers, "the next swap")
        assert logins(app) == {"pdupont3"}
        assert app.process.poll() is None
    log = app.log_text()
    assert "SIGHUP" not in log
    assert "is not a directory database" in log
    assert "is not a sound SQLite file" in log
    assert "Traceback" not in log
    no_personal_data(log)


def test_a_replaced_csv_file_is_served_within_seconds_and_a_bad_one_refused(
    tmp_path: Path,
) -> None:
    """With the default interval (2 s)."""
    directory = tmp_path / "staff.csv"
    shutil.copy(DEMO, directory)
    with serve(tmp_path, "--directory", str(directory)) as app:
        assert logins(app) == {"pdupont"}

        replace_file(directory, demo_with("pdupont2").encode())
        wait_until(lambda: SWAPPED in app.log_text(), "the swap")
        assert logins(app) == {"pdupont2"}
        assert "CSV table staff.csv (5 entries)" in app.log_text()

        bad = demo_with("pdupont3") + (
            "nope,x\nmarie.martin@ac-aix-marseille.fr,has space\nMarie.Martin@ac-aix-marseille.fr,mm\n"
        )
        swapped_at = last_reload_success(app)
        assert reload_failed(app) == 0
        replace_file(directory, bad.encode())
        wait_until(lambda: app.log_text().count(REFUSED) == 4, "the refusal, line by line")
        assert logins(app) == {"pdupont2"}
        assert reload_failed(app) == 1  # the file on disk is refused: the alert fires
        log = app.log_text()
        assert "staff.csv: 3 bad row(s)" in log
        assert "line 7, column 1 (email): address has 0 '@' signs" in log
        assert "line 8, column 2 (login): login contains spaces" in log
        assert "line 9, column 1 (email): the same address as line 3" in log

        # a French spreadsheet's export put in its place is served
        export = demo_with("pdupont4").replace(",", ";").encode("cp1252")
        replace_file(directory, export)
        wait_until(lambda: app.log_text().count(SWAPPED) == 2, "the second swap")
        assert logins(app) == {"pdupont4"}
        assert reload_failed(app) == 0
        assert last_reload_success(app) > swapped_at
    log = app.log_text()
    assert "SIGHUP" not in log
    assert "Traceback" not in log
    no_personal_data(log)


def csv_service(tmp_path: Path, interval: float = 2.0) -> tuple[Service, Path]:
    directory = tmp_path / "staff.csv"
    shutil.copy(DEMO, directory)
    settings = Settings(PROFILES, str(directory), lookup=LookupSettings(watch_interval=interval))
    return Service.load(settings), directory


def login_in(service: Service) -> str | None:
    assert service.directory is not None
    entry = service.directory.lookup(parse(PIERRE))
    return entry.login if entry else None


def test_swap_keeps_the_profiles_and_starts_an_empty_cache(tmp_path: Path) -> None:
    before, directory = csv_service(tmp_path)
    app = create_app(before)
    replace_file(directory, demo_with("pdupont2").encode())
    state = FileState.of(directory)
    assert state is not None
    assert asyncio.run(swap(Reloader(app), directory, state, Watch())) is True
    after: Service = app.state.service
    assert (login_in(before), login_in(after)) == ("pdupont", "pdupont2")
    assert after.catalog is before.catalog
    assert after.signer is before.signer
    assert after.lookups is not before.lookups


def test_swap_refuses_a_bad_file_by_line_and_column_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before, directory = csv_service(tmp_path)
    app = create_app(before)
    replace_file(directory, b"email;login\npierre.dupont@Pierre-Dupont;pdupont\n")
    state = FileState.of(directory)
    assert state is not None
    watch = Watch()
    with caplog.at_level(logging.INFO, logger="autoconfig.sync"):
        assert asyncio.run(swap(Reloader(app), directory, state, watch)) is False
    assert app.state.service is before
    assert "line 2, column 1 (email): domain has a single label" in caplog.text
    no_personal_data(caplog.text)
    assert watch.poll(FileState(0, 0, 0, 0), state).value == "keep"  # not tried again


CUT = "jean.cut@ac-aix-marseille.fr,jcut2"
"""A last row as a writer pausing mid-row leaves it: ``jcut2``'s file, seen when ``jcut`` is
written; served, Jean would get another login (``jcut``, someone else's)."""


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            DEMO.read_text(encoding="utf-8") + CUT[:-1],
            "does not end with a line break: caught while being written?",
        ),
        ("email,login,name\n", "it lists 0 people, the loaded one 5"),
        (
            "\n".join(DEMO.read_text(encoding="utf-8").splitlines()[:3]) + "\n",
            "it lists 2 people, the loaded one 5",
        ),
    ],
    ids=["cut-mid-row", "empty-export", "cut-short"],
)
def test_swap_refuses_a_file_that_may_be_half_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str, problem: str
) -> None:
    """A file written in place may look settled to two looks: a last row without its line
    break, or a file listing fewer than half the people, is not swapped in."""
    before, directory = csv_service(tmp_path)
    app = create_app(before)
    directory.write_text(text, encoding="utf-8")  # in place, as a careless export does
    state = FileState.of(directory)
    assert state is not None
    with caplog.at_level(logging.INFO, logger="autoconfig.sync"):
        assert asyncio.run(swap(Reloader(app), directory, state, Watch())) is False
    assert app.state.service is before
    assert problem in caplog.text
    assert app.state.health.reload_failed
    no_personal_data(caplog.text)


def test_swap_takes_a_file_that_ends_with_its_last_row(tmp_path: Path) -> None:
    """The same rows, finished: ``jcut2``, and no one else's login."""
    before, directory = csv_service(tmp_path)
    app = create_app(before)
    directory.write_text(DEMO.read_text(encoding="utf-8") + CUT + "\r\n", encoding="utf-8")
    state = FileState.of(directory)
    assert state is not None
    assert asyncio.run(swap(Reloader(app), directory, state, Watch())) is True
    after: Service = app.state.service
    assert after.directory is not None
    entry = after.directory.lookup(parse("jean.cut@ac-aix-marseille.fr"))
    assert entry is not None
    assert entry.login == "jcut2"


def test_swap_leaves_a_file_replaced_again_meanwhile_for_the_next_poll(tmp_path: Path) -> None:
    before, directory = csv_service(tmp_path)
    app = create_app(before)
    seen = FileState.of(directory)
    assert seen is not None
    replace_file(directory, demo_with("pdupont2").encode())  # after the poll that saw `seen`
    assert asyncio.run(swap(Reloader(app), directory, seen, Watch())) is False
    assert app.state.service is before


def test_a_switched_symbolic_link_is_a_replaced_file(tmp_path: Path) -> None:
    """``--directory`` naming a link to one of several imports: switching the link is seen."""
    for day, login in (("monday", "pdupont"), ("tuesday", "pdupont2")):
        (tmp_path / f"{day}.csv").write_text(demo_with(login), encoding="utf-8")
        write_sqlite(tmp_path / f"{day}.csv", tmp_path / f"{day}.sqlite")
    current = tmp_path / "current.sqlite"
    current.symlink_to(tmp_path / "monday.sqlite")
    settings = Settings(PROFILES, str(current))
    app = create_app(Service.load(settings))
    watch = Watch()
    loaded = FileState.of(current)
    assert loaded is not None
    link = tmp_path / "current.sqlite.new"
    link.symlink_to(tmp_path / "tuesday.sqlite")
    link.replace(current)
    now = FileState.of(current)
    assert now is not None
    assert [watch.poll(loaded, now) for _ in range(2)] == [Action.SETTLING, Action.LOAD]
    assert asyncio.run(swap(Reloader(app), current, now, watch)) is True
    assert login_in(app.state.service) == "pdupont2"


def tasks_of(client: TestClient) -> set[str]:
    async def names() -> set[str]:
        return {task.get_name() for task in asyncio.all_tasks()}

    assert client.portal is not None  # inside `with TestClient(...)`
    return client.portal.call(names)


@pytest.mark.parametrize(
    ("interval", "directory", "watched"),
    [(2.0, "csv", True), (0.0, "csv", False), (2.0, None, False), (2.0, "ldap", False)],
)
def test_only_a_directory_file_is_watched(
    tmp_path: Path, interval: float, directory: str | None, watched: bool
) -> None:
    path = tmp_path / "staff.csv"
    shutil.copy(DEMO, path)
    spec = {"csv": str(path), "ldap": "ldap://127.0.0.1:1/dc=fr", None: None}[directory]
    settings = Settings(PROFILES, spec, lookup=LookupSettings(watch_interval=interval))
    app = create_app(Service.load(settings), lifespan=reload_and_watch)
    with TestClient(app) as client:
        assert (WATCH_TASK in tasks_of(client)) is watched


def test_the_watching_app_swaps_in_a_replaced_file(tmp_path: Path) -> None:
    service, directory = csv_service(tmp_path, interval=0.1)
    app = create_app(service, lifespan=reload_and_watch)
    with TestClient(app) as client:
        replace_file(directory, demo_with("pdupont2").encode())
        wait_until(lambda: login_in(app.state.service) == "pdupont2", "the swap")
        answer = client.get(f"/mail/config-v1.1.xml?emailaddress={PIERRE}")
        assert b"<username>pdupont2</username>" in answer.content
