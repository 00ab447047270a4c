"""The release: the wheel ``python -m build`` makes, installed into a fresh virtualenv, runs on
its own — its profiles, demo directory, templates, translations, Caddyfile and unit inside it,
nothing read from this checkout."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
import venv
from pathlib import Path

import pytest

import autoconfig
from tests.caddy import ROOT
from tests.servers import clean_env, serve

BUILD_TIMEOUT = 300
INSTALL_TIMEOUT = 600
"""Installing the wheel fetches its dependencies with pip: generous, for a cold download."""


def run(*command: str | Path, cwd: Path, timeout: float = 120) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=clean_env({"AUTOCONFIG_PROFILES": ""}),  # empty: the default, the wheel's own
    )
    assert done.returncode == 0, f"{command} exited with {done.returncode}:\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the built wheel installed: its ``bin`` folder."""
    tmp = tmp_path_factory.mktemp("release")
    dist = tmp / "dist"
    run(
        sys.executable,
        "-m",
        "build",
        "--wheel",
        "--no-isolation",
        "--outdir",
        dist,
        ROOT,
        cwd=tmp,
        timeout=BUILD_TIMEOUT,
    )
    [wheel] = dist.glob("*.whl")
    assert wheel.name == f"mailclient_autoconfig-{autoconfig.__version__}-py3-none-any.whl"
    venv.EnvBuilder(with_pip=True).create(tmp / "venv")
    bin_dir = tmp / "venv" / "bin"
    run(
        bin_dir / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        wheel,
        cwd=tmp,
        timeout=INSTALL_TIMEOUT,
    )
    return bin_dir


def test_the_installed_command_finds_its_own_files(installed: Path, tmp_path: Path) -> None:
    where = run(
        installed / "python", "-c", "import autoconfig; print(autoconfig.__file__)", cwd=tmp_path
    )
    package = Path(where.strip()).parent
    assert package.is_relative_to(installed.parent), package  # not this checkout
    version = run(installed / "autoconfig", "--version", cwd=tmp_path)
    assert autoconfig.__version__ in version
    checked = run(
        installed / "autoconfig",
        "check",
        "--directory",
        package / "_data/demo/staff.csv",
        cwd=tmp_path,
    )
    assert f"ok: {package}/_data/profiles/ac-aix-marseille.toml: ac-aix-marseille.fr" in checked
    assert "example.org" not in checked  # the example profile is not served by default
    caddyfile = run(installed / "autoconfig", "caddyfile", cwd=tmp_path)
    assert "autoconfig.ac-aix-marseille.fr, autodiscover.ac-aix-marseille.fr {" in caddyfile
    assert "\nua-auto-config." not in caddyfile  # no PACC site: the académie has no [pacc]
    for name in (
        "deploy/autoconfig@.service",
        "deploy/autoconfig.env",
        "deploy/main-site.caddy",
        "deploy/pacc.caddy",
    ):
        assert (package / "_data" / name).read_bytes() == (ROOT / name).read_bytes()


def test_the_installed_service_answers(installed: Path, tmp_path: Path) -> None:
    """One client answer (profiles and demo directory from the wheel) and a help page in each
    language (templates and translations from the wheel)."""
    demo = installed.parent / "lib"
    [staff] = demo.glob("python3*/site-packages/autoconfig/_data/demo/staff.csv")
    env = {"AUTOCONFIG_PROFILES": ""}
    with serve(
        tmp_path, "--directory", str(staff), env=env, cwd=tmp_path, python=str(installed / "python")
    ) as app:
        request = urllib.request.Request(
            f"{app.url}/mail/config-v1.1.xml?emailaddress=pierre.dupont%40ac-aix-marseille.fr",
            headers={"Host": "autoconfig.ac-aix-marseille.fr"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert b"<username>pdupont</username>" in response.read()
        for path, words in (
            ("/aide/", "Ce site ne dépose aucun cookie"),  # translated: locale/ is in the wheel
            ("/help/", "This site sets no cookies"),
        ):
            page = urllib.request.Request(
                app.url + path, headers={"Host": "autoconfig.ac-aix-marseille.fr"}
            )
            with urllib.request.urlopen(page, timeout=10) as response:
                assert response.status == 200
                assert words in response.read().decode()
