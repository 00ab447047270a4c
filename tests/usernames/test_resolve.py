"""The account each request is answered with, as the service builds it (``Lookups.account``)."""

from __future__ import annotations

from dataclasses import replace

import anyio
import pytest

from autoconfig.address import Address, parse
from autoconfig.errors import DirectoryError
from autoconfig.model import Account, Found, LoginPolicy, LoginSource, Provider
from autoconfig.service import Service
from autoconfig.settings import LookupSettings
from autoconfig.usernames import Directory, Entry
from autoconfig.usernames.bounded import Lookups
from tests.conftest import PIERRE
from tests.fakes import account as make_account


class Failing:
    description = "always failing"

    def lookup(self, address: Address) -> Entry | None:
        raise DirectoryError("directory unreachable")

    def close(self) -> None:
        pass


def account(provider: Provider, address: Address | None, directory: Directory | None) -> Account:
    lookups = Lookups(directory, LookupSettings(rate_limit=0))
    try:
        return anyio.run(lookups.account, provider.login, address, None).account
    finally:
        lookups.close()


def test_directory_hit(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    found = account(provider, parse(PIERRE), service.directory)
    assert (found.login, found.found, found.name, found.personal, found.login_known) == (
        "pdupont",
        Found.DIRECTORY,
        "Pierre Dupont",
        True,
        True,
    )


def test_directory_miss_uses_the_expanded_fallback(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    found = account(provider, parse("Jeanne.Inconnue@ac-aix-marseille.fr"), service.directory)
    assert (found.login, found.found, found.personal, found.login_known) == (
        "Jeanne.Inconnue",
        Found.FALLBACK,
        False,
        False,
    )


def test_no_directory_uses_the_fallback(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    assert account(provider, parse(PIERRE), None).found is Found.FALLBACK


def test_failing_directory_uses_the_fallback(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    found = account(provider, parse(PIERRE), Failing())
    assert (found.login, found.found) == ("pierre.dupont", Found.FALLBACK)
    assert "directory unreachable" in caplog.text
    assert "pierre" not in caplog.text


def test_no_address_keeps_the_placeholder(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    found = account(provider, None, service.directory)
    assert (found.address, found.login, found.found) == (None, "%EMAILLOCALPART%", Found.FALLBACK)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("%EMAILADDRESS%", "Jo.Doe@example.org"),
        ("%EMAILLOCALPART%", "Jo.Doe"),
        ("%EMAILDOMAIN%", "example.org"),
        ("staff\\%EMAILLOCALPART%", "staff\\Jo.Doe"),
        ("fixed", "fixed"),
    ],
)
def test_template_backend(service: Service, template: str, expected: str) -> None:
    provider = service.catalog.lookup("example.org")
    policy = LoginPolicy(LoginSource.TEMPLATE, template)
    address = parse("Jo.Doe@EXAMPLE.org")
    found = account(replace(provider, login=policy), address, service.directory)
    assert (found.login, found.found, found.personal, found.login_known) == (
        expected,
        Found.TEMPLATE,
        False,
        True,
    )


def test_cached_answers_are_personal_and_known() -> None:
    found = make_account(parse(PIERRE), "pdupont", Found.CACHE)
    assert found.personal
    assert found.login_known
