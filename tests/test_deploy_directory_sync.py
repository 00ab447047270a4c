"""The example directory-sync units (``deploy/autoconfig-directory-sync.{service,timer}``): valid
for systemd, and the command they run imports an export into the file the service serves."""

from __future__ import annotations

import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.caddy import ROOT
from tests.conftest import DEMO
from tests.servers import run_command
from tests.tools import require

DEPLOY = ROOT / "deploy"
SERVICE = DEPLOY / "autoconfig-directory-sync.service"
TIMER = DEPLOY / "autoconfig-directory-sync.timer"
INSTALLED = "/opt/autoconfig/bin/autoconfig"
STATE = "/var/lib/autoconfig"


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    installed = Path(sys.executable).parent / "autoconfig"
    service = tmp_path / SERVICE.name
    service.write_text(SERVICE.read_text().replace(INSTALLED, str(installed)))
    timer = tmp_path / TIMER.name
    timer.write_text(TIMER.read_text())
    done = subprocess.run(
        [require("systemd-analyze"), "verify", str(service), str(timer)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "autoconfig-directory-sync" not in done.stderr, done.stderr


def import_command(state: Path) -> list[str]:
    """The arguments of the unit's ``ExecStart`` after the program, with ``state`` in place of
    ``/var/lib/autoconfig``."""
    [line] = re.findall(r"^ExecStart=(.+)$", SERVICE.read_text(), re.MULTILINE)
    program, *args = shlex.split(line.replace(STATE, str(state)))
    assert program == INSTALLED
    return args


def test_the_unit_imports_the_export_into_the_served_file(tmp_path: Path) -> None:
    args = import_command(tmp_path)
    assert args[:2] == ["directory", "import"]
    export = Path(args[2])
    served = Path(args[args.index("--into") + 1])
    text = "email;login;name\npierre.dupont@ac-aix-marseille.fr;pdupont;Pierre-Gaël Dupont\n"
    export.parent.mkdir(parents=True)
    export.write_bytes(text.encode("cp1252"))  # a French spreadsheet's export
    done = run_command(*args)
    assert done.returncode == 0, done.stderr
    rows = sqlite3.connect(served).execute("SELECT login, name FROM directory").fetchall()
    assert rows == [("pdupont", "Pierre-Gaël Dupont")]

    export.write_text(DEMO.read_text(encoding="utf-8") + "nope,x\n", encoding="utf-8")
    done = run_command(*args)
    assert done.returncode == 3  # the unit fails, and the served file is left as it was
    assert b"line 7, column 1 (email)" in done.stderr
    rows = sqlite3.connect(served).execute("SELECT login, name FROM directory").fetchall()
    assert rows == [("pdupont", "Pierre-Gaël Dupont")]
    assert (tmp_path / "staff.sqlite") == served


def test_the_timer_runs_the_service_and_the_service_writes_what_the_instances_read() -> None:
    service = SERVICE.read_text()
    assert re.search(r"^Type=oneshot$", service, re.MULTILINE)
    assert re.search(r"^OnCalendar=", TIMER.read_text(), re.MULTILINE)
    # every example that sets the instances' directory names the file the import writes
    named = {
        match
        for path in DEPLOY.iterdir()
        if path.is_file() and path != SERVICE
        for match in re.findall(r"AUTOCONFIG_DIRECTORY=(/\S+)$", path.read_text(), re.MULTILINE)
    }
    assert named
    assert {f"--into {directory}" in service for directory in named} == {True}, named
