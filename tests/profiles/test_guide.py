"""The optional ``[guide]`` profile table: read into the model, and every mistake reported with its
key, its value and what was expected."""

from __future__ import annotations

import copy
import datetime
import tomllib
from typing import Any

import pytest

from autoconfig.errors import Problem
from autoconfig.model import Feature, Provider, ResetOption
from autoconfig.profiles import parse_profile
from tests.conftest import PROFILES

ACADEMIE = tomllib.loads((PROFILES / "ac-aix-marseille.toml").read_text(encoding="utf-8"))
NOTICE: dict[str, Any] = {
    "from": datetime.date(2026, 1, 1),
    "until": datetime.date(2026, 1, 2),
    "text": {"fr": "Coupure", "en": "Outage"},
}


def load(data: dict[str, Any]) -> tuple[Provider | None, list[Problem]]:
    problems: list[Problem] = []
    return parse_profile("x.toml", data, problems), problems


def with_guide(**changes: Any) -> dict[str, Any]:
    """The académie's profile with ``[guide]`` keys changed (dotted names; None removes)."""
    data = copy.deepcopy(ACADEMIE)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        table = data["guide"]
        for name in parents:
            table = table[name]
        if value is None:
            del table[last]
        else:
            table[last] = value
    return data


def test_academie_guide_is_read() -> None:
    provider, problems = load(copy.deepcopy(ACADEMIE))
    assert problems == []
    assert provider is not None
    assert provider.guide is not None
    guide = provider.guide
    assert guide.services == (Feature.MAIL, Feature.CALENDAR, Feature.CONTACTS)
    assert guide.address_format == "prenom.nom"
    assert guide.one_time_code is True
    assert guide.first_login is not None
    assert guide.first_login.route is not None
    assert guide.first_login.route.code.get("fr") == "NUMEN"
    assert guide.password is not None
    assert guide.password.menu == ("Oubli de mot de passe ou d'identification", "M'auto dépanner")
    assert guide.password.options == tuple(ResetOption)
    assert guide.password.code_length == 6
    assert guide.password.recovers_login is True
    assert guide.deleted_account is not None
    assert guide.deleted_account.letter is True


def test_guide_is_optional() -> None:
    data = copy.deepcopy(ACADEMIE)
    del data["guide"]
    provider, problems = load(data)
    assert problems == []
    assert provider is not None
    assert provider.guide is None


def test_every_key_of_the_guide_is_optional_except_inside_subtables() -> None:
    data = copy.deepcopy(ACADEMIE)
    data["guide"] = {}
    provider, problems = load(data)
    assert problems == []
    assert provider is not None
    assert provider.guide is not None
    assert provider.guide.first_login is None
    assert provider.guide.services == ()


@pytest.mark.parametrize(
    ("changes", "key", "message"),
    [
        ({"colour": "blue"}, "guide.colour", "is not a known key"),
        ({"audiance": {"fr": "x", "en": "y"}}, "guide.audiance", "did you mean 'audience'"),
        ({"audience": "tout le monde"}, "guide.audience", "is not a table of texts by language"),
        ({"audience": {"fr": "x"}}, "guide.audience", "expected ['fr', 'en']"),
        ({"creator": {"fr": "x" * 201, "en": "y"}}, "guide.creator.fr", "at most 200"),
        ({"address_format": "Prénom Nom"}, "guide.address_format", "expected e.g. prenom.nom"),
        ({"address_format": 3}, "guide.address_format", "is not a non-empty string"),
        ({"services": ["mail", "fax"]}, "guide.services[1]", "'fax' is not allowed"),
        ({"services": ["mail", "mail"]}, "guide.services[1]", "listed twice"),
        ({"services": []}, "guide.services", "is not a non-empty list"),
        ({"services": "mail"}, "guide.services", "is not a non-empty list"),
        ({"webmail_button": "x" * 81}, "guide.webmail_button", "at most 80 characters"),
        ({"one_time_code": "yes"}, "guide.one_time_code", "is not a boolean"),
        ({"maintenance": {"fr": "", "en": "y"}}, "guide.maintenance.fr", "non-empty string"),
        ({"first_login": "notified"}, "guide.first_login", "is not a table"),
        ({"first_login__notified": None}, "guide.first_login.notified", "is missing"),
        ({"first_login__contact": None}, "guide.first_login.contact", "is missing"),
        ({"first_login__numen": True}, "guide.first_login.numen", "is no longer read"),
        ({"first_login__numéro": "x"}, "guide.first_login.numéro", "is not a known key"),
        ({"password__portal": "http://x.fr/"}, "guide.password.portal", "is not an https URL"),
        ({"password__menu": []}, "guide.password.menu", "is not a non-empty list"),
        ({"password__menu": ["a"] * 6}, "guide.password.menu", "expected at most 5"),
        ({"password__menu": ["ok", 7]}, "guide.password.menu[1]", "is not a menu label"),
        ({"password__options": None}, "guide.password.options", "is missing"),
        ({"password__options": ["sms"]}, "guide.password.options[0]", "'sms' is not allowed"),
        ({"password__continue_button": None}, "guide.password.continue_button", "is missing"),
        ({"password__code_length": 0}, "guide.password.code_length", "from 4 to 12"),
        ({"password__code_length": "6"}, "guide.password.code_length", "from 4 to 12"),
        ({"password__code_length": True}, "guide.password.code_length", "from 4 to 12"),
        ({"password__code_length": None}, "guide.password.code_length", "is missing"),
        ({"password__recovers_login": "oui"}, "guide.password.recovers_login", "not a boolean"),
        ({"deleted_account__contact": None}, "guide.deleted_account.contact", "is missing"),
        ({"deleted_account__letter": "no"}, "guide.deleted_account.letter", "is not a boolean"),
        ({"deleted_account__offices": {"en": "x"}}, "guide.deleted_account.offices", "expected"),
        (
            {"deleted_account__letter": False},
            "guide.deleted_account.letter_with",
            "only used with letter = true",
        ),
        ({"webmail_login_field": "x" * 81}, "guide.webmail_login_field", "at most 80"),
        ({"webmail_accepts_address": 1}, "guide.webmail_accepts_address", "not a boolean"),
        ({"first_login__route__code": None}, "guide.first_login.route.code", "is missing"),
        (
            {"first_login__route__code": {"fr": "x" * 41, "en": "y"}},
            "guide.first_login.route.code.fr",
            "at most 40",
        ),
        ({"first_login__route__via": "x"}, "guide.first_login.route.via", "not a known key"),
        ({"password__labels__sms": {"fr": "x"}}, "guide.password.labels.sms", "not a known key"),
        (
            {"password__options": ["assistance"]},
            "guide.password.labels.mail",
            "labels an option not listed in options",
        ),
        ({"password__labels__mail": "x"}, "guide.password.labels.mail", "table of texts"),
        ({"helpdesk": {"phone": "04 12 AB"}}, "guide.helpdesk.phone", "is not a phone number"),
        ({"helpdesk": {"phone": "+33  4 12"}}, "guide.helpdesk.phone", "is not a phone number"),
        ({"helpdesk": {"phone": "12"}}, "guide.helpdesk.phone", "is not a phone number"),
        ({"helpdesk": {"phone": 412345678}}, "guide.helpdesk.phone", "not a non-empty string"),
        ({"helpdesk": {"url": "http://help.fr/"}}, "guide.helpdesk.url", "is not an https URL"),
        ({"helpdesk": {"email": "help@"}}, "guide.helpdesk.email", "is not an e-mail address"),
        ({"helpdesk": {"hours": {"fr": "x", "en": "y"}}}, "guide.helpdesk", "gives no way"),
        ({"helpdesk": {"phone": "0412", "fax": "1"}}, "guide.helpdesk.fax", "not a known key"),
        ({"notice": {"from": 1}}, "guide.notice", "is not a list of tables"),
        ({"notice": ["x"]}, "guide.notice[0]", "is not a table"),
        ({"notice": [NOTICE | {"from": "2026-01-01"}]}, "guide.notice[0].from", "not a date"),
        (
            {"notice": [NOTICE | {"until": datetime.datetime(2026, 1, 2, 8, 0)}]},
            "guide.notice[0].until",
            "not a date",
        ),
        (
            {"notice": [NOTICE | {"until": datetime.date(2025, 12, 31)}]},
            "guide.notice[0].until",
            "is before from = 2026-01-01",
        ),
        ({"notice": [{"from": datetime.date(2026, 1, 1)}]}, "guide.notice[0].until", "missing"),
        ({"notice": [NOTICE | {"text": {"fr": "x"}}]}, "guide.notice[0].text", "expected"),
        ({"notice": [NOTICE | {"texte": "x"}]}, "guide.notice[0].texte", "did you mean 'text'"),
        ({"notice": [NOTICE] * 21}, "guide.notice", "expected at most 20"),
    ],
)
def test_broken_guide_is_refused_with_its_key(
    changes: dict[str, Any], key: str, message: str
) -> None:
    provider, problems = load(with_guide(**changes))
    assert provider is None
    assert problems, "the broken profile was accepted"
    assert {p.key.split(".")[1].split("[")[0] for p in problems} == {
        key.split(".")[1].split("[")[0]
    }
    assert problems[0].key == key, problems
    assert message in problems[0].message
    assert problems[0].source == "x.toml"


def test_password_portal_defaults_to_the_webmail_login_portal() -> None:
    provider, _ = load(copy.deepcopy(ACADEMIE))
    assert provider is not None
    assert provider.guide is not None
    assert provider.guide.password is not None
    assert provider.guide.password.portal == provider.webmail.login_portal
    provider, _ = load(with_guide(password__portal="https://reset.example.org/"))
    assert provider is not None
    assert provider.guide is not None
    assert provider.guide.password is not None
    assert provider.guide.password.portal == "https://reset.example.org/"


def test_password_portal_is_required_without_a_login_portal() -> None:
    data = copy.deepcopy(ACADEMIE)
    del data["webmail"]["login_portal"]
    provider, problems = load(data)
    assert provider is None
    assert [(p.key, p.message) for p in problems] == [
        (
            "guide.password.portal",
            "is missing (required when webmail.login_portal is not set)",
        )
    ]


def test_every_problem_of_the_guide_is_reported_at_once() -> None:
    provider, problems = load(
        with_guide(one_time_code="yes", password__code_length=99, services=["x"])
    )
    assert provider is None
    assert {p.key for p in problems} == {
        "guide.one_time_code",
        "guide.password.code_length",
        "guide.services[0]",
    }


def test_help_desk_notices_and_labels_are_read() -> None:
    notice = NOTICE | {"until": datetime.date(2026, 1, 1)}
    provider, problems = load(
        with_guide(
            helpdesk={
                "phone": "+33 4 12 34 56 78",
                "hours": {"fr": "en semaine", "en": "on weekdays"},
                "url": "https://aide.example.org/",
                "email": "Aide@Example.ORG",
            },
            notice=[NOTICE, notice],
            webmail_login_field="Identifiant",
        )
    )
    assert problems == []
    assert provider is not None
    assert provider.guide is not None
    guide = provider.guide
    assert guide.helpdesk is not None
    assert guide.helpdesk.phone == "+33 4 12 34 56 78"
    assert guide.helpdesk.tel == "tel:+33412345678"
    assert guide.helpdesk.email == "Aide@example.org"
    assert guide.webmail_login_field == "Identifiant"
    assert guide.webmail_accepts_address is True
    day = datetime.date
    assert guide.current_notices(day(2025, 12, 31)) == ()
    assert len(guide.current_notices(day(2026, 1, 1))) == 2  # both ends are included
    assert [n.end for n in guide.current_notices(day(2026, 1, 2))] == [day(2026, 1, 2)]
    assert guide.current_notices(day(2026, 1, 3)) == ()
    assert guide.password is not None
    label = guide.password.label(ResetOption.MAIL)
    assert label is not None
    assert "INA" in label.get("fr")
    assert guide.password.label(ResetOption.ASSISTANCE) is None
    assert guide.deleted_account is not None
    assert guide.deleted_account.letter_with is not None


def test_a_help_desk_may_be_only_a_phone_number() -> None:
    provider, problems = load(with_guide(helpdesk={"phone": "3615"}))
    assert problems == []
    assert provider is not None
    assert provider.guide is not None
    assert provider.guide.helpdesk is not None
    assert (provider.guide.helpdesk.url, provider.guide.helpdesk.hours) == (None, None)
