from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

import autoconfig.server
from autoconfig.settings import ServerSettings, Settings
from tests.conftest import DEMO, PIERRE, PROFILES, Invoke
from tests.servers import run_command

BROKEN = (
    (PROFILES / "ac-aix-marseille.toml")
    .read_text(encoding="utf-8")
    .replace("port = 993", "port = 0")
)


def broken_profiles(tmp_path: Path) -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "a.toml").write_text(BROKEN, encoding="utf-8")
    (folder / "b.toml").write_text(
        BROKEN.replace("ac-aix-marseille.fr", "b.example"), encoding="utf-8"
    )
    return folder


def test_check_lists_profiles_and_directory(runner: Invoke) -> None:
    result = runner("check", "--directory", str(DEMO))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "ac-aix-marseille.toml: ac-aix-marseille.fr" in out
    assert "directory: CSV table staff.csv (5 entries)" in out


NO_DIRECTORY = (
    "ac-aix-marseille.toml: ac-aix-marseille.fr looks logins up in the directory, but no "
    "directory is given (--directory): everyone gets the fallback login"
)


@pytest.mark.parametrize(("args", "warned"), [([], True), (["--directory", str(DEMO)], False)])
def test_check_and_serve_warn_of_a_directory_profile_without_directory(
    runner: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    restore_logging: None,
    args: list[str],
    warned: bool,
) -> None:
    monkeypatch.setattr(autoconfig.server, "run", lambda *args, **_: None)
    checked = runner("check", "--profiles", str(PROFILES), *args)
    assert checked.exit_code == 0, checked.stderr  # a warning, not a failure
    assert (f"warning: {PROFILES / NO_DIRECTORY}" in checked.stderr) == warned
    served = runner("serve", "--profiles", str(PROFILES), *args)
    assert served.exit_code == 0, served.stderr
    assert (NO_DIRECTORY in served.stderr) == warned


def test_check_reports_every_problem_and_fails(runner: Invoke, tmp_path: Path) -> None:
    result = runner("check", "--profiles", str(broken_profiles(tmp_path)))
    assert result.exit_code == 2
    err = result.stderr
    assert "a.toml: imap.port: 0 is not a valid port (expected 1-65535)" in err
    assert "b.toml: imap.port: 0 is not a valid port" in err
    assert "2 problem(s) found" in err
    assert "Traceback" not in err


def test_check_reads_the_environment(runner: Invoke, tmp_path: Path) -> None:
    env = {"AUTOCONFIG_PROFILES": str(broken_profiles(tmp_path))}
    assert runner("check", env=env).exit_code == 2


def test_bad_directory_exit_status(runner: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("email,login\nnope,x\n", encoding="utf-8")
    result = runner("check", "--directory", str(bad))
    assert result.exit_code == 3
    assert "line 2" in result.stderr


def test_check_reads_every_sqlite_row(runner: Invoke, tmp_path: Path) -> None:
    import sqlite3

    bad = tmp_path / "bad.sqlite"
    db = sqlite3.connect(bad)
    db.execute("CREATE TABLE directory (email, login, name)")
    db.execute("INSERT INTO directory VALUES ('a@ac-aix-marseille.fr', 42, NULL)")
    db.commit()
    db.close()
    result = runner("check", "--directory", str(bad))
    assert result.exit_code == 3
    assert "row 1: login is an integer (expected text)" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_to_start_with_invalid_profiles(runner: Invoke, tmp_path: Path) -> None:
    result = runner("serve", "--profiles", str(broken_profiles(tmp_path)), "--port", "1")
    assert result.exit_code == 2
    assert "is not a valid port" in result.stderr


@pytest.mark.usefixtures("restore_logging")
def test_serve_passes_options_and_environment_to_run(
    runner: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Settings, ServerSettings]] = []
    monkeypatch.setattr(autoconfig.server, "run", lambda *args, **_: calls.append(args))
    env = {"AUTOCONFIG_PORT": "8125", "AUTOCONFIG_DIRECTORY": str(DEMO)}
    assert runner("serve", "--workers", "3", "--host", "127.0.0.2", env=env).exit_code == 0
    (settings, server), *_ = calls
    assert (server.host, server.port, server.workers, server.log_level) == (
        "127.0.0.2",
        8125,
        3,
        "info",
    )
    assert settings == Settings(PROFILES.resolve(), str(DEMO))
    assert Settings.from_env(settings.to_env()) == settings


@pytest.mark.parametrize(
    "address",
    [
        PIERRE,
        "Marie.Martin@AC-AIX-MARSEILLE.FR",
        "nobody@ac-aix-marseille.fr",
        "x@example.net",
        "ac-aix-marseille.fr",
    ],
)
def test_render_prints_exactly_what_http_serves(
    runner: Invoke, client: TestClient, address: str
) -> None:
    result = runner("render", "thunderbird", address, "--directory", str(DEMO))
    assert result.exit_code == 0, result.stderr
    if "@" in address:
        response = client.get("/mail/config-v1.1.xml", params={"emailaddress": address})
    else:
        response = client.get("/mail/config-v1.1.xml", headers={"host": f"autoconfig.{address}"})
    assert response.status_code == 200
    assert result.stdout_bytes == response.content


@pytest.mark.parametrize(
    ("address", "status", "message"),
    [("a@b@c", 4, "2 '@' signs"), ("x@gmail.com", 5, "no profile serves the domain 'gmail.com'")],
)
def test_render_errors(runner: Invoke, address: str, status: int, message: str) -> None:
    result = runner("render", "thunderbird", address)
    assert result.exit_code == status
    assert message in result.stderr
    assert result.stdout_bytes == b""


def test_directory_import(runner: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "staff.sqlite"
    result = runner("directory", "import", str(DEMO), "--into", str(target))
    assert result.exit_code == 0, result.stderr
    assert "wrote 5 entries" in result.stdout
    rendered = runner("render", "thunderbird", PIERRE, "--directory", str(target))
    assert "<username>pdupont</username>" in rendered.stdout


def test_usage_errors_are_reported_by_click(runner: Invoke) -> None:
    result = runner("serve", "--port", "70000")
    assert result.exit_code == 2
    assert "70000 is not in the range" in result.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_stops_when_the_directory_has_a_bad_row(tmp_path: Path, workers: str) -> None:
    """The rows are checked by the workers as they load them: no worker starts, so the service
    stops with the start-up failure status and the reason in its log."""
    from tests.tools import free_port

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,login\npierre.dupont@ac-aix-marseille.fr,pdupont\nnope,x\n", encoding="utf-8"
    )
    result = run_command(
        "serve", "--directory", str(bad), "--port", str(free_port()), "--workers", workers
    )
    assert result.returncode == 3
    err = result.stderr.decode()
    assert "line 3, column 1 (email): address has 0 '@' signs" in err
    assert "Traceback" not in err


def test_serve_refuses_a_directory_without_its_columns_before_starting(
    runner: Invoke, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("mail,uid\na@b.fr,x\n", encoding="utf-8")
    result = runner("serve", "--directory", str(bad), "--port", "1")
    assert result.exit_code == 3
    assert "lacks the column(s) email, login" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("check", "--ldap-timeout", "nan"),
        ("check", "--ldap-timeout", "inf"),
        ("serve", "--ldap-timeout", "nan"),
        ("doctor", "--timeout", "nan", "ac-aix-marseille.fr"),
    ],
)
def test_numbers_that_are_not_finite_are_usage_errors(
    runner: Invoke, args: tuple[str, ...]
) -> None:
    result = runner(*args)
    assert result.exit_code == 2
    assert "finite" in result.output or "range" in result.output
    assert "Traceback" not in result.output


def test_a_time_out_of_nan_in_the_environment_is_refused(runner: Invoke) -> None:
    result = runner("check", env={"AUTOCONFIG_LDAP_TIMEOUT": "nan"})
    assert result.exit_code == 2
    assert "finite" in result.output
