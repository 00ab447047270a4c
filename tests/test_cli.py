from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from autoconfig import cli
from autoconfig.settings import Settings
from tests.conftest import DEMO, PIERRE, PROFILES

BROKEN = (
    (PROFILES / "ac-aix-marseille.toml")
    .read_text(encoding="utf-8")
    .replace("port = 993", "port = 0")
)


def autoconfig(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "autoconfig", *args],
        capture_output=True,
        timeout=60,
        check=False,
        env=env,
    )


def broken_profiles(tmp_path: Path) -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "a.toml").write_text(BROKEN, encoding="utf-8")
    (folder / "b.toml").write_text(
        BROKEN.replace("ac-aix-marseille.fr", "b.example"), encoding="utf-8"
    )
    return folder


def test_check_lists_profiles_and_directory() -> None:
    result = autoconfig("check", "--directory", str(DEMO))
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "ac-aix-marseille.toml: ac-aix-marseille.fr" in out
    assert "directory: CSV table staff.csv (5 entries)" in out


def test_check_reports_every_problem_and_fails(tmp_path: Path) -> None:
    result = autoconfig("check", "--profiles", str(broken_profiles(tmp_path)))
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "a.toml: imap.port: 0 is not a valid port (expected 1-65535)" in err
    assert "b.toml: imap.port: 0 is not a valid port" in err
    assert "2 problem(s) found" in err
    assert "Traceback" not in err


def test_check_reads_the_environment(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "AUTOCONFIG_PROFILES": str(broken_profiles(tmp_path))}
    assert autoconfig("check", env=env).returncode == 2


def test_bad_directory_exit_status(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("email,login\nnope,x\n", encoding="utf-8")
    result = autoconfig("check", "--directory", str(bad))
    assert result.returncode == 3
    assert b"line 2" in result.stderr


def test_serve_refuses_to_start_with_invalid_profiles(tmp_path: Path) -> None:
    result = autoconfig("serve", "--profiles", str(broken_profiles(tmp_path)), "--port", "1")
    assert result.returncode == 2
    assert b"is not a valid port" in result.stderr


@pytest.mark.usefixtures("restore_logging")
def test_serve_passes_options_and_environment_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Settings, str, int, int, str]] = []
    monkeypatch.setattr(cli, "run", lambda *args, **_: calls.append(args))
    monkeypatch.setenv("AUTOCONFIG_PORT", "8125")
    monkeypatch.setenv("AUTOCONFIG_DIRECTORY", str(DEMO))
    cli.main(["serve", "--workers", "3", "--host", "127.0.0.2"])
    (settings, host, port, workers, level), *_ = calls
    assert (host, port, workers, level) == ("127.0.0.2", 8125, 3, "info")
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
def test_render_prints_exactly_what_http_serves(client: TestClient, address: str) -> None:
    result = autoconfig("render", "thunderbird", address, "--directory", str(DEMO))
    assert result.returncode == 0, result.stderr
    if "@" in address:
        response = client.get("/mail/config-v1.1.xml", params={"emailaddress": address})
    else:
        response = client.get("/mail/config-v1.1.xml", headers={"host": f"autoconfig.{address}"})
    assert response.status_code == 200
    assert result.stdout == response.content


@pytest.mark.parametrize(
    ("address", "status", "message"),
    [("a@b@c", 4, "2 '@' signs"), ("x@gmail.com", 5, "no profile serves the domain 'gmail.com'")],
)
def test_render_errors(address: str, status: int, message: str) -> None:
    result = autoconfig("render", "thunderbird", address)
    assert result.returncode == status
    assert message in result.stderr.decode()
    assert result.stdout == b""


def test_directory_import(tmp_path: Path) -> None:
    target = tmp_path / "staff.sqlite"
    result = autoconfig("directory", "import", str(DEMO), "--into", str(target))
    assert result.returncode == 0, result.stderr
    assert b"wrote 5 entries" in result.stdout
    rendered = autoconfig("render", "thunderbird", PIERRE, "--directory", str(target))
    assert b"<username>pdupont</username>" in rendered.stdout


def test_usage_errors_are_reported_by_click() -> None:
    result = autoconfig("serve", "--port", "70000")
    assert result.returncode == 2
    assert b"70000 is not in the range" in result.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_stops_when_the_directory_has_a_bad_row(tmp_path: Path, workers: str) -> None:
    """The rows are checked by the workers as they load them: no worker starts, so the service
    stops with the start-up failure status and the reason in its log."""
    from tests.servers import free_port

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,login\npierre.dupont@ac-aix-marseille.fr,pdupont\nnope,x\n", encoding="utf-8"
    )
    result = autoconfig(
        "serve", "--directory", str(bad), "--port", str(free_port()), "--workers", workers
    )
    assert result.returncode == 3
    err = result.stderr.decode()
    assert "line 3: email: address has 0 '@' signs" in err
    assert "Traceback" not in err


def test_serve_refuses_a_directory_without_its_columns_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("mail,uid\na@b.fr,x\n", encoding="utf-8")
    result = autoconfig("serve", "--directory", str(bad), "--port", "1")
    assert result.returncode == 3
    assert "lacks the column(s) email, login" in result.stderr.decode()
