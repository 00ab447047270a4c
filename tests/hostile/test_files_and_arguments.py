"""Issue 16 L10 and L12: what an administrator (or a script gone wrong) may hand the command line
and the files it reads. Each one is a clear message and the exit status of the exception tree
(:data:`autoconfig.cli.EXIT`), never a traceback; a file that is not a regular file (a FIFO, a
device) is refused at once, by ``check``, by ``serve`` and by a ``SIGHUP`` reload, instead of
waiting for a writer forever. Every command runs as a real process, with a time-out, so a hang
fails the test rather than hanging it."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from tests.conftest import DEMO, PROFILES
from tests.servers import App, run_command, serve
from tests.tools import free_port, wait_until

DEEP = "x = " + "[" * 5000 + "]" * 5000 + "\n"
INVALID_UTF8 = os.fsdecode(b"\xff")
"""A byte that is not UTF-8, as Python hands it over from argv (a lone surrogate); the process
started with it gets the very byte."""


def profiles_with(tmp_path: Path, name: str, make: Callable[[Path], object]) -> Path:
    folder = tmp_path / "profiles"
    shutil.copytree(PROFILES, folder)
    make(folder / name)
    return folder


def deep_toml(path: Path) -> None:
    path.write_text(DEEP, encoding="utf-8")


def fifo(path: Path) -> Path:
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    return path


def device(path: Path) -> Path:
    """A name with the right suffix for a character device (reading it never ends)."""
    path.symlink_to("/dev/zero")
    return path


def replace_with_deep_toml(path: Path) -> None:
    path.unlink(missing_ok=True)
    deep_toml(path)


def replace_with_fifo(path: Path, also_remove: Path) -> None:
    also_remove.unlink()
    fifo(path)


CASES: list[tuple[str, Callable[[Path], list[str]], int, str]] = [
    (
        "deeply nested TOML",
        lambda tmp: ["check", "--profiles", str(profiles_with(tmp, "deep.toml", deep_toml))],
        2,
        "deep.toml: cannot be read as TOML: its tables or arrays nest too deeply",
    ),
    (
        "FIFO as a profile",
        lambda tmp: ["check", "--profiles", str(profiles_with(tmp, "z.toml", fifo))],
        2,
        "z.toml: cannot be read: is not a regular file",
    ),
    (
        "FIFO as the CSV directory",
        lambda tmp: ["check", "--directory", str(fifo(tmp / "staff.csv"))],
        3,
        "staff.csv: cannot be opened: is not a regular file",
    ),
    (
        "FIFO as the SQLite directory",
        lambda tmp: ["check", "--directory", str(fifo(tmp / "staff.sqlite"))],
        3,
        "staff.sqlite: is not a regular file",
    ),
    (
        "device as the CSV directory",
        lambda tmp: ["check", "--directory", str(device(tmp / "zero.csv"))],
        3,
        "zero.csv: cannot be opened: is not a regular file",
    ),
    (
        "FIFO as the serve directory",
        lambda tmp: ["serve", "--directory", str(fifo(tmp / "staff.csv")), "--port", "1"],
        3,
        "staff.csv: cannot be opened: is not a regular file",
    ),
    (
        "FIFO as a served profile",
        lambda tmp: [
            "serve",
            "--profiles",
            str(profiles_with(tmp, "z.toml", fifo)),
            "--port",
            str(free_port()),
        ],
        2,
        "z.toml: cannot be read: is not a regular file",
    ),
    (
        "unclosed IPv6 bracket in an LDAP URL",
        lambda _: ["check", "--directory", "ldap://[::1/ou=people,dc=ac-aix-marseille,dc=fr"],
        2,
        "--directory: ldap://[::1/ou=people,dc=ac-aix-marseille,dc=fr: Invalid IPv6 URL",
    ),
    (
        "invalid UTF-8 in an address",
        lambda _: ["render", "thunderbird", f"a{INVALID_UTF8}@ac-aix-marseille.fr"],
        2,
        "command line: argument 3 ('a\ufffd@ac-aix-marseille.fr') is not valid UTF-8",
    ),
    (
        "invalid UTF-8 in a path",
        lambda _: ["check", "--profiles", INVALID_UTF8],
        2,
        "argument 3 ('\ufffd') is not valid UTF-8",
    ),
    (
        "directory import into a missing folder",
        lambda tmp: ["directory", "import", str(DEMO), "--into", str(tmp / "no" / "x.sqlite")],
        2,
        "--into: ",
    ),
    (
        "doctor with a name server that is not an address",
        lambda _: ["doctor", "--nameserver", "abc", "ac-aix-marseille.fr"],
        2,
        "--nameserver: 'abc' is not a name server address",
    ),
    (
        "doctor with a name server port that is not one",
        lambda _: ["doctor", "--nameserver", "127.0.0.1:99999", "ac-aix-marseille.fr"],
        2,
        "--nameserver: '127.0.0.1:99999' is not a name server address",
    ),
]


@pytest.mark.parametrize(
    ("args", "status", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_clear_message_and_the_status_of_the_error_never_a_traceback_or_a_hang(
    tmp_path: Path, args: Callable[[Path], list[str]], status: int, message: str
) -> None:
    result = run_command(*args(tmp_path))  # a time-out (a hang) fails the test
    err = result.stderr.decode(errors="replace")
    assert "Traceback" not in err
    assert message in err
    assert result.returncode == status, err


def refusals_are(app: App, count: int) -> bool:
    return app.log_text().count("reload refused") == count


def test_a_reload_refuses_fifos_and_deep_toml_and_the_next_one_still_runs(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "profiles"
    shutil.copytree(PROFILES, folder)
    directory = tmp_path / "staff.csv"
    shutil.copy(DEMO, directory)
    args = ("--profiles", str(folder), "--directory", str(directory))
    with serve(tmp_path, *args) as app:
        steps: list[tuple[Callable[[], object], str]] = [
            (lambda: fifo(folder / "z.toml"), "z.toml: cannot be read: is not a regular file"),
            (lambda: replace_with_deep_toml(folder / "z.toml"), "nest too deeply"),
            (
                lambda: replace_with_fifo(directory, also_remove=folder / "z.toml"),
                "staff.csv: cannot be opened: is not a regular file",
            ),
        ]
        for number, (make, message) in enumerate(steps, start=1):
            make()
            app.signal(signal.SIGHUP)
            wait_until(partial(refusals_are, app, number), message)
            assert message in app.log_text()
        directory.unlink()
        shutil.copy(DEMO, directory)
        app.signal(signal.SIGHUP)  # the reload lock was never held: this one goes through
        wait_until(lambda: "reloaded 2 profile(s)" in app.log_text(), "the good reload")
        assert app.process.poll() is None
    log = app.log_text()
    assert "Traceback" not in log
    assert "Task exception was never retrieved" not in log
