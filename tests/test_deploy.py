"""The systemd template unit and its environment file: valid for systemd, only settings
``autoconfig`` knows, the credentials it reads, and a reload that runs the offline check first."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autoconfig import cli
from autoconfig.settings import LookupSettings, Settings, specs
from tests.caddy import ROOT
from tests.conftest import DEMO
from tests.servers import PROFILES, clean_env, serve
from tests.tools import require, wait_until

UNIT = ROOT / "deploy" / "autoconfig@.service"
ENV_FILE = ROOT / "deploy" / "autoconfig.env"
INSTALLED = "/opt/autoconfig/bin/autoconfig"
PER_INSTANCE = {"AUTOCONFIG_HOST", "AUTOCONFIG_PORT", "AUTOCONFIG_DIRECTORY_RATE_LIMIT_DIR"}
"""What the unit sets itself, and the environment file must not (it would win over the unit)."""


def directives(name: str) -> list[str]:
    """The values of every ``name=`` line of the unit, in order."""
    return re.findall(rf"^{name}=(.*)$", UNIT.read_text(), re.MULTILINE)


def known_variables() -> set[str]:
    return {
        param.envvar
        for command in (cli.check, cli.serve)
        for param in command.params
        if isinstance(param.envvar, str)
    } | {spec.env for cls in (Settings, LookupSettings) for _, spec in specs(cls)}


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """Verified as the instance ``autoconfig@8001`` (a template alone is not checked for what
    ``%i`` gives), with the command at its place in this checkout."""
    installed = Path(sys.executable).parent / "autoconfig"
    template = tmp_path / UNIT.name
    template.write_text(UNIT.read_text().replace(INSTALLED, str(installed)))
    (tmp_path / "autoconfig@8001.service").symlink_to(template.name)
    done = subprocess.run(
        [require("systemd-analyze"), "verify", str(tmp_path / "autoconfig@8001.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "autoconfig@" not in done.stderr, done.stderr  # no line of ours ignored or doubted


def test_unit_and_environment_file_set_only_known_settings() -> None:
    environment = dict(line.split("=", 1) for line in directives("Environment"))
    assert environment == {
        "AUTOCONFIG_HOST": "127.0.0.1",
        "AUTOCONFIG_PORT": "%i",  # instances by port: autoconfig@8001
        "AUTOCONFIG_DIRECTORY_RATE_LIMIT_DIR": "/run/autoconfig",
    }
    in_file = set(re.findall(r"^#?(AUTOCONFIG_\w+)=", ENV_FILE.read_text(), re.MULTILINE))
    assert in_file
    assert in_file <= known_variables(), in_file - known_variables()
    assert not in_file & PER_INSTANCE
    assert directives("EnvironmentFile") == ["/etc/autoconfig/autoconfig.env"]


def test_instances_share_one_user_and_the_runtime_directory() -> None:
    """One per-client limit for the host: every instance writes /run/autoconfig, so one fixed
    user (DynamicUser= would give each instance its own uid) and a folder kept while one stops."""
    assert directives("User") == ["autoconfig"]
    assert directives("DynamicUser") == []
    assert directives("RuntimeDirectory") == ["autoconfig"]
    assert directives("RuntimeDirectoryPreserve") == ["yes"]


def test_credentials_are_the_ones_the_settings_read() -> None:
    """Each credential the unit loads is one a setting reads, each has a blank default (a missing
    file does not stop the service), and the comment lists them all."""
    read = {spec.credential for cls in (Settings, LookupSettings) for _, spec in specs(cls)}
    read.discard(None)
    loaded = {value.split(":", 1)[0] for value in directives("LoadCredential")}
    assert loaded == read == {"ldap-password", "signing-cert", "signing-key", "signing-chain"}
    defaults = directives("SetCredential")
    assert {value.split(":", 1)[0] for value in defaults} == read
    assert all(value.endswith(":\\n") for value in defaults)  # blank: "not given"
    comment = UNIT.read_text()
    assert all(f"#   {name} " in comment for name in read)


def test_start_and_reload_run_the_offline_check_first() -> None:
    check = f"{INSTALLED} check"
    assert directives("ExecStartPre") == [check]
    assert directives("ExecStart") == [f"{INSTALLED} serve"]
    assert directives("ExecReload") == [check, "/bin/kill -HUP $MAINPID"]


@pytest.mark.parametrize("broken", [False, True])
def test_systemctl_reload_fails_on_bad_files_and_keeps_serving(
    tmp_path: Path, broken: bool
) -> None:
    """The unit's ``ExecReload`` lines run as systemd runs them (in order, stopping at the first
    that fails, ``$MAINPID`` the server): a bad profile fails the reload before any signal."""
    folder = tmp_path / "profiles"
    shutil.copytree(PROFILES, folder)
    env = {"AUTOCONFIG_PROFILES": str(folder), "AUTOCONFIG_DIRECTORY": str(DEMO)}
    with serve(tmp_path, env=env) as app:
        profile = folder / "ac-aix-marseille.toml"
        text = profile.read_text(encoding="utf-8")
        profile.write_text(text.replace("port = 993", "port = 0" if broken else "port = 993 "))
        status = 0
        for line in directives("ExecReload"):
            argv = shlex.split(line.replace("$MAINPID", str(app.process.pid)))
            if argv[0] == INSTALLED:
                argv = [sys.executable, "-m", "autoconfig", *argv[1:]]
            status = subprocess.run(
                argv, env=clean_env(env), capture_output=True, timeout=60
            ).returncode
            if status != 0:
                break
        assert (status != 0) == broken
        if not broken:
            wait_until(lambda: "reloaded 2 profile(s)" in app.log_text(), "the reload")
        else:
            assert status == 2  # ConfigError: what `systemctl reload` reports as failed
            assert "SIGHUP" not in app.log_text()
        assert app.process.poll() is None


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
