"""The one login decision (``LoginPolicy.decide``): what every output says, for each rule and
each answer of the directory."""

from __future__ import annotations

import pytest

from autoconfig.address import parse
from autoconfig.model import Certainty, Found, Listed, LoginPolicy, LoginSource, Unknown

ADDRESS = parse("Thomas.Roux@ac-lyon.example")
DIRECTORY_ASK = LoginPolicy(LoginSource.DIRECTORY, "%EMAILLOCALPART%", Unknown.ASK)
DIRECTORY_FALLBACK = LoginPolicy(LoginSource.DIRECTORY, "%EMAILLOCALPART%", Unknown.FALLBACK)
TEMPLATE = LoginPolicy(LoginSource.TEMPLATE, "%EMAILADDRESS%")

# (rule, address given, what the directory said, login, where it came from, certainty)
CASES = [
    (DIRECTORY_ASK, True, Listed.YES, "troux4", Found.DIRECTORY, Certainty.KNOWN),
    (DIRECTORY_FALLBACK, True, Listed.YES, "troux4", Found.DIRECTORY, Certainty.KNOWN),
    (DIRECTORY_ASK, True, Listed.NO, "Thomas.Roux", Found.FALLBACK, Certainty.ASK),
    (DIRECTORY_FALLBACK, True, Listed.NO, "Thomas.Roux", Found.FALLBACK, Certainty.CERTAIN),
    (DIRECTORY_ASK, True, Listed.UNSURE, "Thomas.Roux", Found.FALLBACK, Certainty.ASK),
    (DIRECTORY_FALLBACK, True, Listed.UNSURE, "Thomas.Roux", Found.FALLBACK, Certainty.ASK),
    (DIRECTORY_ASK, False, Listed.UNSURE, "%EMAILLOCALPART%", Found.FALLBACK, Certainty.ASK),
    (DIRECTORY_FALLBACK, False, Listed.UNSURE, "%EMAILLOCALPART%", Found.FALLBACK, Certainty.ASK),
    (
        TEMPLATE,
        True,
        Listed.UNSURE,
        "Thomas.Roux@ac-lyon.example",
        Found.TEMPLATE,
        Certainty.CERTAIN,
    ),
    (TEMPLATE, False, Listed.UNSURE, "%EMAILADDRESS%", Found.TEMPLATE, Certainty.CERTAIN),
]


@pytest.mark.parametrize(("policy", "addressed", "listed", "login", "found", "certainty"), CASES)
def test_decide(
    policy: LoginPolicy,
    addressed: bool,
    listed: Listed,
    login: str,
    found: Found,
    certainty: Certainty,
) -> None:
    decided = policy.decide(
        ADDRESS if addressed else None, listed, "troux4" if listed is Listed.YES else None
    )
    assert (decided.login, decided.found, decided.certainty) == (login, found, certainty)
    assert decided.login_known is (certainty is not Certainty.ASK)


def test_a_remembered_answer_is_known_and_from_the_cache() -> None:
    decided = DIRECTORY_ASK.decide(ADDRESS, Listed.YES, "troux4", "Thomas Roux", cached=True)
    assert (decided.found, decided.certainty, decided.name) == (
        Found.CACHE,
        Certainty.KNOWN,
        "Thomas Roux",
    )
