"""``--login``: the login the service hands out (the demo directory), the password from a file or
the terminal, never printed."""

from __future__ import annotations

from click.testing import CliRunner

from autoconfig import cli
from tests.conftest import PIERRE, PIERRE_LOGIN
from tests.doctor.conftest import (
    PASSWORDS,
    D,
    Journey,
    clients,
    doctor_args,
    doctor_json,
    keyed,
    password_file,
)


def test_a_person_the_directory_does_not_list(journey: Journey) -> None:
    stranger = f"paul.inconnu@{D}"
    args = ("--login", stranger, "--password-file", password_file(journey, "whatever-9"))
    status, rows, output = doctor_json(journey, *args)
    assert status == 1, output  # the mail servers refuse him
    login = next(row for row in rows if row["check"] == "login")
    assert login["status"] == "warn"
    assert "not known for sure" in login["detail"]
    replayed = clients(rows)
    assert replayed["Outlook"]["detail"] == (
        f"no username from https://{D}/autodiscover/autodiscover.xml: logs in with the address"
    )
    assert replayed["Apple"]["detail"].endswith(
        "asks for the login at install (the help site names it)"
    )
    assert keyed(rows)["IMAP login"]["status"] == "fail"


def test_the_password_typed_on_the_terminal_logs_in_and_is_never_echoed(journey: Journey) -> None:
    password = PASSWORDS[PIERRE_LOGIN]
    result = CliRunner().invoke(
        cli.cli, doctor_args(journey, "--login", PIERRE), input=f"{password}\n"
    )
    assert result.exit_code == 0, result.output
    assert f"PASS  IMAP login imap.{D}:" in result.output
    assert f"logged in as {PIERRE_LOGIN} (PLAIN)" in result.output
    assert password not in result.output
