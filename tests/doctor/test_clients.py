"""What each client would configure, replayed against the journey's front: the URL it takes its
settings from and the login it would use, with and without ``--login``, and when it goes wrong."""

from __future__ import annotations

from tests.conftest import PIERRE, PIERRE_LOGIN
from tests.doctor.conftest import (
    AUTOCONFIG_URL,
    D,
    Journey,
    Lab,
    clients,
    doctor_json,
    login_args,
    profile_text,
    profiles_folder,
)

REPLAY = {
    # client: (status, detail, words of the fix) with --login PIERRE
    "Thunderbird": ("pass", f"username {PIERRE_LOGIN} from {AUTOCONFIG_URL}", ""),
    "Thunderbird for Android": (
        "warn",
        f"username pierre.dupont (%EMAILLOCALPART%) from {AUTOCONFIG_URL}; not {PIERRE_LOGIN}",
        f"QR code of the setup page of the help site (https://autoconfig.{D}/aide/)",
    ),
    "Outlook": (
        "pass",
        f"username {PIERRE_LOGIN} from https://{D}/autodiscover/autodiscover.xml",
        "",
    ),
    "Apple": ("pass", f"username {PIERRE_LOGIN} from https://autoconfig.{D}/mobileconfig", ""),
    "Evolution": ("pass", f"username {PIERRE_LOGIN} from {AUTOCONFIG_URL}", ""),
    "KDE": (
        "warn",
        f"username pierre.dupont (%EMAILLOCALPART%) from {AUTOCONFIG_URL}; not {PIERRE_LOGIN}",
        f"the help site (https://autoconfig.{D}/aide/) names the login",
    ),
}


def test_each_client_replay_names_the_login_it_would_use(journey: Journey) -> None:
    _status, rows, output = doctor_json(journey, *login_args(journey))
    replayed = clients(rows)
    assert list(replayed) == list(REPLAY), output
    for name, (status, detail, fix) in REPLAY.items():
        assert replayed[name]["status"] == status, replayed[name]
        assert replayed[name]["detail"] == detail
        assert fix in replayed[name]["fix"]


def test_address_replays_each_client_for_the_person_without_a_password(journey: Journey) -> None:
    # A nightly run knows no one's password: --address ADDRESS replays the set-up of the person
    # (the same rows as with --login) and logs in nowhere.
    _status, rows, output = doctor_json(journey, "--address", PIERRE)
    replayed = clients(rows)
    assert list(replayed) == list(REPLAY), output
    for name, (status, detail, _fix) in REPLAY.items():
        assert (replayed[name]["status"], replayed[name]["detail"]) == (status, detail)
    login = next(row for row in rows if row["check"] == "login")
    assert login["status"] == "pass"
    assert login["detail"].startswith(f"the service hands out {PIERRE_LOGIN} for {PIERRE}")
    assert not [row for row in rows if row["check"] in ("IMAP login", "SMTP login")]


def test_without_an_address_only_the_clients_that_send_none_are_replayed(
    journey: Journey,
) -> None:
    _status, rows, _output = doctor_json(journey)
    replayed = clients(rows)
    assert set(replayed) == {"Thunderbird", "Thunderbird for Android", "KDE"}
    for row in replayed.values():
        assert row["status"] == "pass"
        assert row["detail"] == f"username %EMAILLOCALPART% from {AUTOCONFIG_URL}"


def test_a_client_given_other_servers_than_the_profile_fails(journey: Journey, lab: Lab) -> None:
    # The front serves the journey's profile; checked against another one, every client gets
    # servers that profile does not name.
    profiles = profiles_folder(
        journey.tmp,
        "other-imap",
        profile_text(lab, **{f"port = {lab.dovecot.imaps}": "port = 9993"}),
    )
    _status, rows, _output = doctor_json(journey, profiles=profiles)
    row = clients(rows)["Thunderbird"]
    assert row["status"] == "fail"
    assert f"gets IMAP imap.{D}:{lab.dovecot.imaps} from {AUTOCONFIG_URL}" in row["detail"]


def test_a_client_whose_urls_all_fail_fails(journey: Journey) -> None:
    zone = journey.tmp / "no-hosts.zone"
    kept = [
        line for line in journey.zone.splitlines() if not line.startswith(("autoconfig.", f"{D}."))
    ]
    zone.write_text("\n".join(kept) + "\n", encoding="utf-8")
    _status, rows, _output = doctor_json(journey, where=("--zone-file", str(zone)))
    row = clients(rows)["KDE"]
    assert row["status"] == "fail"
    assert row["detail"] == f"{AUTOCONFIG_URL}: autoconfig.{D} does not resolve"
    assert "see the HTTPS checks" in row["fix"]
