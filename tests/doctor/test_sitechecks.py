"""The help site and the signed Apple profile of the journey's front (signed with the test PKI)."""

from __future__ import annotations

from tests.doctor.conftest import (
    D,
    Journey,
    Lab,
    doctor_json,
    login_args,
    profile_text,
    profiles_folder,
)


def test_the_help_site_the_signed_apple_profile_and_the_main_website_forwards(
    journey: Journey,
) -> None:
    _status, rows, output = doctor_json(journey, *login_args(journey))
    found = {(row["check"], row["target"]): row for row in rows}
    apple = found[("Apple profile", f"autoconfig.{D}/mobileconfig")]
    assert apple["status"] == "pass", output
    assert apple["detail"].startswith(
        f"signature verifies: CN=autoconfig.{D},O=Autoconfig test PKI, 3 certificates to a trusted root"
    )
    assert found[("help site", f"https://autoconfig.{D}/aide/")]["status"] == "pass"
    forward = found[("HTTPS", f"{D}/autodiscover/autodiscover.xml")]
    assert forward["status"] == "pass"


def test_an_apple_profile_signed_by_an_unknown_ca_fails(journey: Journey) -> None:
    roots = journey.tmp / "caddy-root-only.pem"
    roots.write_bytes(journey.caddy.root_certificate.read_bytes())
    _status, rows, _output = doctor_json(journey, "--ca-file", str(roots))
    apple = next(row for row in rows if row["check"] == "Apple profile")
    assert apple["status"] == "fail"
    assert apple["detail"].startswith(
        "signature refused: no trusted root for CN=Autoconfig Test Root CA"
    )


def test_an_apple_profile_close_to_expiry_fails(journey: Journey) -> None:
    _status, rows, _output = doctor_json(journey, "--min-days", "45")
    apple = next(row for row in rows if row["check"] == "Apple profile")
    assert apple["status"] == "fail"
    assert "(< 45)" in apple["detail"]
    assert "renew the signing certificate" in apple["fix"]


def test_a_help_site_url_that_does_not_answer_fails(journey: Journey, lab: Lab) -> None:
    old = f'url = "https://autoconfig.{D}/aide/"'
    text = profile_text(lab, **{old: f'url = "https://autoconfig.{D}/nulle-part/"'})
    profiles = profiles_folder(journey.tmp, "help-elsewhere", text)
    _status, rows, _output = doctor_json(journey, profiles=profiles)
    row = next(row for row in rows if row["check"] == "help site")
    assert row["status"] == "fail"
    assert row["detail"] == "HTTP 404"
    assert "help.url" in row["fix"]
