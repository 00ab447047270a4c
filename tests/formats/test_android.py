"""Thunderbird for Android's "Export for Mobile" code: what the encoder writes, read as the app
reads it (``tests/clientrules.py``); the code drawn on the setup page is decoded for real in
``tests/web/test_android_code.py``."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from autoconfig.address import parse
from autoconfig.formats import android
from autoconfig.model import Auth, Certainty, Found, Listed, Provider, Security, Unknown
from tests import clientrules
from tests.conftest import PIERRE, PROVIDERS
from tests.fakes import account

ACADEMIE = next(p for p in PROVIDERS if p.id == "ac-aix-marseille.fr")


def test_known_login_gives_the_spec_s_one_account_shape() -> None:
    person = ACADEMIE.login.decide(parse(PIERRE), Listed.YES, "pdupont", "Pierre Dupont")
    payload = android.payload(ACADEMIE, person)
    assert payload is not None
    assert json.loads(payload) == [
        1,
        [1, 1],
        [0, "imap.ac-aix-marseille.fr", 993, 3, 1, "pdupont"],
        [[[0, "smtp.ac-aix-marseille.fr", 465, 3, 1, "pdupont"], [PIERRE, "Pierre Dupont"]]],
    ]
    imported = clientrules.thunderbird_android_code(payload)
    assert (imported.incoming.username, imported.outgoing.username) == ("pdupont", "pdupont")
    assert payload.isascii()
    assert "password" not in payload.lower()


@pytest.mark.parametrize(
    ("security", "auth", "codes"),
    [
        (Security.TLS, Auth.PASSWORD, (3, 1)),
        (Security.STARTTLS, Auth.PASSWORD, (2, 1)),
        (Security.TLS, Auth.PASSWORD_ENCRYPTED, (3, 2)),
    ],
)
def test_every_server_setting_maps_to_a_value_the_version_defines(
    security: Security, auth: Auth, codes: tuple[int, int]
) -> None:
    server = replace(ACADEMIE.imap, port=143, security=security, auth=auth)
    provider: Provider = replace(ACADEMIE, imap=server, smtp=replace(server, port=587))
    person = account(parse(PIERRE), "pdupont", Found.DIRECTORY)
    payload = android.payload(provider, person)
    assert payload is not None
    imported = clientrules.thunderbird_android_code(payload)
    assert (imported.incoming.security, imported.incoming.auth) == codes
    assert (imported.outgoing.port, imported.incoming.port) == (587, 143)


def test_certain_login_is_given_and_an_unknown_one_is_not() -> None:
    lyon_rule = replace(ACADEMIE.login, unknown=Unknown.FALLBACK)
    unlisted = parse("thomas.roux@ac-aix-marseille.fr")
    certain = lyon_rule.decide(unlisted, Listed.NO)
    assert certain.certainty is Certainty.CERTAIN
    payload = android.payload(replace(ACADEMIE, login=lyon_rule), certain)
    assert payload is not None
    assert clientrules.thunderbird_android_code(payload).incoming.username == "thomas.roux"
    assert clientrules.thunderbird_android_code(payload).display_name == ""
    assert android.payload(ACADEMIE, ACADEMIE.login.decide(unlisted, Listed.NO)) is None
    assert android.payload(ACADEMIE, ACADEMIE.login.decide(unlisted, Listed.UNSURE)) is None
    assert android.payload(ACADEMIE, ACADEMIE.login.decide(None)) is None


def test_no_code_for_an_address_the_format_cannot_hold() -> None:
    person = account(parse("gaëlle.lhéritier@ac-aix-marseille.fr"), "glheritier", Found.DIRECTORY)
    assert android.payload(ACADEMIE, person) is None


def test_non_ascii_login_and_name_are_escaped_into_ascii_json() -> None:
    person = account(parse(PIERRE), "glhéritier", Found.DIRECTORY, "Gaëlle L'Héritier")
    payload = android.payload(ACADEMIE, person)
    assert payload is not None
    assert payload.isascii()
    imported = clientrules.thunderbird_android_code(payload)
    assert (imported.incoming.username, imported.display_name) == (
        "glhéritier",
        "Gaëlle L'Héritier",
    )
