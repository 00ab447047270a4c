"""Reloading profiles and directory: in process, and with SIGHUP sent to a real ``autoconfig serve``."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import signal
import urllib.request
from pathlib import Path

import pytest
from lxml import etree

from autoconfig.server.reload import Reloader
from autoconfig.service import Service
from autoconfig.settings import Settings
from autoconfig.web import create_app
from tests.conftest import ACADEMIE, DEMO, PIERRE, PROFILES
from tests.servers import WORKER_READY, App, serve
from tests.tools import wait_until

PROFILE = "ac-aix-marseille.toml"
OLD_HOST = f"imap.{ACADEMIE}"
NEW_HOST = f"imap2.{ACADEMIE}"


def copy_profiles(tmp_path: Path) -> Path:
    folder = tmp_path / "profiles"
    shutil.copytree(PROFILES, folder)
    return folder


def edit(folder: Path, old: str, new: str) -> None:
    path = folder / PROFILE
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def imap_host(service: Service) -> str:
    return service.catalog.lookup(ACADEMIE).imap.host


def test_reload_swaps_in_the_new_profiles(tmp_path: Path) -> None:
    folder = copy_profiles(tmp_path)
    app = create_app(Service.load(Settings(folder, str(DEMO))))
    edit(folder, f'host = "{OLD_HOST}"', f'host = "{NEW_HOST}"')
    assert asyncio.run(Reloader(app).reload()) is True
    assert imap_host(app.state.service) == NEW_HOST


@pytest.mark.parametrize("shared", [False, True], ids=["own-table", "shared-file"])
@pytest.mark.parametrize("how", ["sighup", "replaced-directory"])
def test_a_reload_keeps_counting_each_clients_people(
    tmp_path: Path, how: str, shared: bool
) -> None:
    """An enumerator at its limit stays there across a reload or a directory swap (with one
    worker and no shared folder, the limit's table lived in the service that was replaced)."""
    from autoconfig.server.sync import load
    from autoconfig.settings import LookupSettings

    folder = tmp_path / "limit" if shared else None
    if folder is not None:
        folder.mkdir()
    lookup = LookupSettings(rate_limit=2, rate_limit_dir=folder)
    settings = Settings(copy_profiles(tmp_path), str(DEMO), lookup=lookup)
    before = Service.load(settings)
    app = create_app(before)
    assert before.lookups.limit.admit("203.0.113.9", "a@ac-aix-marseille.fr")
    assert before.lookups.limit.admit("203.0.113.9", "b@ac-aix-marseille.fr")
    reloader = Reloader(app)
    if how == "sighup":
        assert asyncio.run(reloader.reload()) is True
    else:
        asyncio.run(reloader.replace_directory(load(settings)))
    after: Service = app.state.service
    assert after is not before
    assert not after.lookups.limit.admit("203.0.113.9", "c@ac-aix-marseille.fr")
    assert after.lookups.limit.admit("198.51.100.7", "c@ac-aix-marseille.fr")
    before.close()  # the replaced service retires: the limit it handed on stays open
    assert not after.lookups.limit.admit("203.0.113.9", "d@ac-aix-marseille.fr")
    after.close()


def test_reload_refuses_a_broken_profile_and_keeps_the_old_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = copy_profiles(tmp_path)
    before = Service.load(Settings(folder, str(DEMO)))
    app = create_app(before)
    edit(folder, "port = 993", "port = 99330")
    with caplog.at_level(logging.ERROR, logger="autoconfig.reload"):
        assert asyncio.run(Reloader(app).reload()) is False
    assert app.state.service is before
    assert "imap.port: 99330 is not a valid port" in caplog.text


def test_reload_refuses_a_broken_directory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "staff.csv"
    shutil.copy(DEMO, directory)
    before = Service.load(Settings(PROFILES, str(directory)))
    app = create_app(before)
    directory.write_text("no,header\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="autoconfig.reload"):
        assert asyncio.run(Reloader(app).reload()) is False
    assert app.state.service is before
    assert "lacks the column" in caplog.text


def answered_host(app: App) -> str:
    url = f"{app.url}/mail/config-v1.1.xml?emailaddress={PIERRE}"
    with urllib.request.urlopen(url, timeout=5) as response:
        document = etree.fromstring(response.read())
    return str(document.findtext("emailProvider/incomingServer/hostname"))


@pytest.mark.parametrize("workers", [1, 2])
def test_sighup_reloads_a_running_server_and_survives_a_bad_profile(
    tmp_path: Path, workers: int
) -> None:
    folder = copy_profiles(tmp_path)
    args = ("--profiles", str(folder), "--directory", str(DEMO), "--workers", str(workers))
    with serve(tmp_path, *args) as app:
        assert answered_host(app) == OLD_HOST

        edit(folder, f'host = "{OLD_HOST}"', f'host = "{NEW_HOST}"')
        app.signal(signal.SIGHUP)
        wait_until(lambda: app.log_text().count("reloaded 2 profile(s)") == workers, "reloads")
        assert {answered_host(app) for _ in range(6)} == {NEW_HOST}

        # Each worker's line says which worker it is.
        assert len(set(re.findall(r"worker (\d+): reloaded", app.log_text()))) == workers
        assert reload_failed(app) == 0
        loaded_at = last_reload_success(app)

        edit(folder, "port = 993", "port = 99330")
        app.signal(signal.SIGHUP)
        wait_until(lambda: app.log_text().count("reload refused") == workers, "refusals")
        assert {answered_host(app) for _ in range(6)} == {NEW_HOST}
        assert "imap.port: 99330 is not a valid port (expected 1-65535)" in app.log_text()
        assert app.process.poll() is None
        assert len(set(re.findall(r"worker (\d+): reload refused", app.log_text()))) == workers
        assert reload_failed(app) == 1
        assert last_reload_success(app) == loaded_at

        edit(folder, "port = 99330", "port = 993")
        app.signal(signal.SIGHUP)
        wait_until(lambda: app.log_text().count("reloaded 2 profile(s)") == 2 * workers, "reloads")
        assert reload_failed(app) == 0
        assert last_reload_success(app) > loaded_at
    assert "pierre" not in app.log_text()


def gauge_of(app: App, name: str) -> float:
    from tests.web.test_operations import samples

    with urllib.request.urlopen(f"{app.url}/metrics", timeout=5) as response:
        return samples(response.read().decode())[(name, frozenset())]


def reload_failed(app: App) -> float:
    return gauge_of(app, "autoconfig_reload_failed")


def last_reload_success(app: App) -> float:
    return gauge_of(app, "autoconfig_last_reload_success_timestamp_seconds")


def test_sigterm_shuts_down_gracefully(tmp_path: Path) -> None:
    with serve(tmp_path, "--directory", str(DEMO)) as app:
        assert answered_host(app) == OLD_HOST
        app.stop()
    log = app.log_text()
    assert "Shutting down" in log
    assert "Finished server process" in log
    assert "Traceback" not in log


def workers_of(app: App) -> set[int]:
    """Worker processes of a multi-worker server (children running multiprocessing's spawn)."""
    pid = app.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    found = set()
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in command:
            found.add(int(child))
    return found


def test_a_worker_lost_while_profiles_are_broken_does_not_take_the_service_down(
    tmp_path: Path,
) -> None:
    folder = copy_profiles(tmp_path)
    args = ("--profiles", str(folder), "--directory", str(DEMO), "--workers", "2")
    with serve(tmp_path, *args) as app:
        assert len(workers_of(app)) == 2
        edit(folder, "port = 993", "port = 99330")
        os.kill(min(workers_of(app)), signal.SIGKILL)
        wait_until(lambda: "new worker(s) could not load" in app.log_text(), "the failed restart")
        assert {answered_host(app) for _ in range(6)} == {OLD_HOST}
        assert app.process.poll() is None
        assert "cannot load: " in app.log_text()
        assert "Traceback" not in app.log_text()

        edit(folder, "port = 99330", "port = 993")
        app.signal(signal.SIGHUP)
        wait_until(lambda: len(workers_of(app)) == 2, "the worker to be replaced")
        assert {answered_host(app) for _ in range(6)} == {OLD_HOST}


def test_reload_picks_up_a_new_directory(tmp_path: Path) -> None:
    from autoconfig.address import parse

    directory = tmp_path / "staff.csv"
    shutil.copy(DEMO, directory)
    app = create_app(Service.load(Settings(PROFILES, str(directory))))
    text = directory.read_text(encoding="utf-8")
    assert ",pdupont" in text
    directory.write_text(text.replace(",pdupont", ",pdupont2"), encoding="utf-8")
    assert asyncio.run(Reloader(app).reload()) is True
    entry = app.state.service.directory.lookup(parse(PIERRE))
    assert entry is not None
    assert entry.login == "pdupont2"


def test_a_refused_reload_sets_the_gauge_until_a_good_one(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from tests.web.test_operations import samples

    folder = copy_profiles(tmp_path)
    app = create_app(Service.load(Settings(folder, str(DEMO))))
    key: tuple[str, frozenset[tuple[str, str]]] = ("autoconfig_reload_failed", frozenset())
    with TestClient(app) as client:
        edit(folder, "port = 993", "port = 99330")
        assert asyncio.run(Reloader(app).reload()) is False
        assert samples(client.get("/metrics").text)[key] == 1
        report = client.get("/status").json()
        assert report["reload"]["failed"] is True
        assert any("99330" in problem for problem in report["reload"]["problems"])
        edit(folder, "port = 99330", "port = 993")
        assert asyncio.run(Reloader(app).reload()) is True
        assert samples(client.get("/metrics").text)[key] == 0
        assert client.get("/status").json()["status"] == "ok"


def test_a_renewed_signing_certificate_is_logged_when_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.pki import make_pki

    pki = make_pki(tmp_path / "pki")
    cert, key, first = pki.signer("signer.example")
    settings = Settings(PROFILES, str(DEMO), signing_cert=cert, signing_key=key)
    app = create_app(Service.load(settings))
    with caplog.at_level(logging.INFO, logger="autoconfig.reload"):
        assert asyncio.run(Reloader(app).reload()) is True
        assert "renewed" not in caplog.text  # the same certificate: nothing to say
        _, _, renewed = pki.signer("signer.example")  # written over the same files
        assert renewed != first
        assert asyncio.run(Reloader(app).reload()) is True
    (line,) = [r.getMessage() for r in caplog.records if "renewed" in r.getMessage()]
    assert line.startswith(f"worker {os.getpid()}: a renewed signing certificate is used")
    assert f"expires {renewed.not_valid_after_utc:%Y-%m-%d}" in line


def test_the_gauges_of_a_dead_worker_are_forgotten(tmp_path: Path) -> None:
    """Both workers refused a reload; the files are fixed and both workers are replaced (no
    SIGHUP): the new ones loaded good files, and the dead ones' 1 must not linger."""
    import os

    folder = copy_profiles(tmp_path)
    args = ("--profiles", str(folder), "--directory", str(DEMO), "--workers", "2")
    with serve(tmp_path, *args) as app:
        edit(folder, "port = 993", "port = 99330")
        app.signal(signal.SIGHUP)
        wait_until(lambda: app.log_text().count("reload refused") >= 2, "refusals", timeout=60)
        assert reload_failed(app) == 1
        edit(folder, "port = 99330", "port = 993")
        for old in sorted(workers_of(app)):
            os.kill(old, signal.SIGKILL)
            wait_until(
                lambda old=old: old not in workers_of(app) and len(workers_of(app)) == 2,  # type: ignore[misc]
                "the worker to be replaced",
            )
        # A replacement is there long before it answers: wait for both to have started.
        wait_until(lambda: app.log_text().count(WORKER_READY) >= 4, "the new workers to start")
        wait_until(lambda: answered_host(app) == OLD_HOST, "answers")
        assert reload_failed(app) == 0
