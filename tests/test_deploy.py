"""The example systemd unit: valid for systemd, and only settings ``autoconfig serve`` knows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from autoconfig import cli
from tests.caddy import ROOT
from tests.tools import require

UNIT = ROOT / "deploy" / "autoconfig.service"


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    installed = Path(sys.executable).parent / "autoconfig"
    unit = tmp_path / "autoconfig.service"
    unit.write_text(UNIT.read_text().replace("/opt/autoconfig/bin/autoconfig", str(installed)))
    done = subprocess.run(
        [require("systemd-analyze"), "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "autoconfig.service" not in done.stderr, done.stderr


def test_unit_sets_only_known_settings_and_reloads_with_sighup() -> None:
    text = UNIT.read_text()
    known = {
        param.envvar
        for command in (cli.check, cli.serve)
        for param in command.params
        if isinstance(param.envvar, str)
    }
    used = set(re.findall(r"^Environment=(AUTOCONFIG_\w+)=", text, re.MULTILINE))
    assert used
    assert used <= known, used - known
    assert "ExecReload=/bin/kill -HUP $MAINPID" in text
    assert re.search(r"^ExecStart=\S+ serve$", text, re.MULTILINE)


DOCTOR = ROOT / "deploy" / "autoconfig-doctor.service"
TIMER = ROOT / "deploy" / "autoconfig-doctor.timer"


def test_doctor_timer_and_unit_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    installed = Path(sys.executable).parent / "autoconfig"
    unit = tmp_path / DOCTOR.name
    unit.write_text(DOCTOR.read_text().replace("/opt/autoconfig/bin/autoconfig", str(installed)))
    timer = tmp_path / TIMER.name
    timer.write_text(TIMER.read_text())
    done = subprocess.run(
        [require("systemd-analyze"), "verify", str(timer), str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "autoconfig-doctor" not in done.stderr, done.stderr


def test_doctor_unit_sets_only_doctor_settings_and_writes_the_textfile() -> None:
    text = DOCTOR.read_text()
    known = {param.envvar for param in cli.doctor.params if isinstance(param.envvar, str)}
    used = set(re.findall(r"^Environment=(AUTOCONFIG_\w+)=", text, re.MULTILINE))
    assert used <= known, used - known
    assert "AUTOCONFIG_DOCTOR_PROMETHEUS" in used
    assert re.search(r"^ExecStart=\S+ doctor \S+$", text, re.MULTILINE)
    assert "OnCalendar=" in TIMER.read_text()
