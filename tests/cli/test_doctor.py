"""``autoconfig doctor``'s own options refuse bad input with a clear message and exit status,
before any check runs. Every run is given a zone file, so that even a regression (a check that
runs after all) asks no name server but loopback's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ACADEMIE, DEMO, Invoke


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "password").write_text("secret-9\n", encoding="utf-8")
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    (tmp_path / "zone").write_text(f"imap.{ACADEMIE}. 60 IN A 127.0.0.2\n", encoding="utf-8")
    paths = {name: str(tmp_path / name) for name in ("password", "empty", "zone")}
    return paths | {"missing": str(tmp_path / "no-such-folder")}


CASES = {
    "malformed-login": (
        ["--login", "not-an-address", "--password-file", "{password}"],
        4,
        "error:",
    ),
    "login-of-another-domain": (
        ["--login", "jean@example.org", "--password-file", "{password}"],
        2,
        f"is not an address of {ACADEMIE}",
    ),
    "empty-password-file": (
        ["--login", f"pierre.dupont@{ACADEMIE}", "--password-file", "{empty}"],
        2,
        "its first line is empty",
    ),
    "address-of-another-domain": (
        ["--address", "jean@example.org"],
        2,
        f"--address: jean@example.org: is not an address of {ACADEMIE}",
    ),
    "two-people-to-replay": (
        ["--address", f"pierre.dupont@{ACADEMIE}", "--address", f"marie.curie@{ACADEMIE}"],
        2,
        "--address: names more than one person",
    ),
    "address-and-login-of-two-people": (
        ["--address", f"marie.curie@{ACADEMIE}", "--login", f"pierre.dupont@{ACADEMIE}"],
        2,
        "--address: names more than one person",
    ),
    "not-an-ip-nor-an-address": (["--address", "not-an-ip"], 2, "'not-an-ip' is not an IP address"),
    "dnssec-with-a-zone-file": (
        ["--zone-file", "{zone}", "--dnssec"],
        2,
        "a zone file is not validated",
    ),
    "unknown-format": (["--format", "xml"], 2, "'xml' is not one of 'text', 'json'"),
    "missing-zone-file": (["--zone-file", "/nonexistent/zone"], 2, "does not exist"),
    "prometheus-in-no-folder": (
        ["--prometheus", "{missing}/doctor.prom"],
        2,
        "/doctor.prom: its folder does not exist",
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_doctor_options_are_clear_errors(
    runner: Invoke, files: dict[str, str], name: str
) -> None:
    args, status, message = CASES[name]
    result = runner(
        "doctor",
        ACADEMIE,
        "--directory",
        str(DEMO),
        "--zone-file",
        files["zone"],
        *(a.format(**files) for a in args),
    )
    assert result.exit_code == status, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert "secret-9" not in result.output


def test_an_empty_password_typed_on_the_terminal_is_refused(files: dict[str, str]) -> None:
    from click.testing import CliRunner

    from autoconfig import cli

    args = ["doctor", ACADEMIE, "--directory", str(DEMO), "--login", f"pierre.dupont@{ACADEMIE}"]
    args += ["--zone-file", files["zone"]]
    result = CliRunner().invoke(cli.cli, args, input="\n")
    assert result.exit_code == 2, result.output
    assert f"Password of pierre.dupont@{ACADEMIE}: " in result.output
    assert "error: --login: no password given" in result.output


PERSON = f"pierre.dupont@{ACADEMIE}"


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ((), 1),  # checks failed (nothing answers), the directory never opened: no exit 3
        (("--login", PERSON, "--password-file", "{password}"), 3),
        (("--address", PERSON), 3),
    ],
    ids=["nobody", "login", "address"],
)
def test_only_a_person_opens_the_directory(
    runner: Invoke, files: dict[str, str], person: tuple[str, ...], status: int
) -> None:
    result = runner(
        "doctor",
        ACADEMIE,
        *("--zone-file", files["zone"], "--directory", "/nonexistent/staff.csv"),
        *(a.format(**files) for a in person),
    )
    assert result.exit_code == status, result.output
    assert ("staff.csv" in result.output) is bool(person)
