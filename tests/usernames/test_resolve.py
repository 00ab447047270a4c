from __future__ import annotations

from dataclasses import replace

import pytest

from autoconfig.address import Address, parse
from autoconfig.errors import DirectoryError
from autoconfig.model import Found, LoginPolicy, LoginSource
from autoconfig.service import Service
from autoconfig.usernames import Entry, TemplateResolver, resolve
from tests.conftest import PIERRE


class Failing:
    description = "always failing"

    def lookup(self, address: Address) -> Entry | None:
        raise DirectoryError("directory unreachable")

    def close(self) -> None:
        pass


def test_directory_hit(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    account = resolve(provider, parse(PIERRE), service.directory)
    assert (account.login, account.found, account.name, account.personal) == (
        "pdupont",
        Found.DIRECTORY,
        "Pierre Dupont",
        True,
    )


def test_directory_miss_uses_the_expanded_fallback(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    account = resolve(provider, parse("Jeanne.Inconnue@ac-aix-marseille.fr"), service.directory)
    assert (account.login, account.found, account.personal) == (
        "Jeanne.Inconnue",
        Found.FALLBACK,
        False,
    )


def test_no_directory_uses_the_fallback(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    assert resolve(provider, parse(PIERRE), None).found is Found.FALLBACK


def test_failing_directory_uses_the_fallback(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    account = resolve(provider, parse(PIERRE), Failing())
    assert (account.login, account.found) == ("pierre.dupont", Found.FALLBACK)
    assert "directory unreachable" in caplog.text
    assert "pierre" not in caplog.text


def test_no_address_keeps_the_placeholder(service: Service) -> None:
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    account = resolve(provider, None, service.directory)
    assert (account.address, account.login, account.found) == (
        None,
        "%EMAILLOCALPART%",
        Found.FALLBACK,
    )


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
    assert TemplateResolver(policy).lookup(address) == Entry(expected)
    account = resolve(replace(provider, login=policy), address, service.directory)
    assert (account.login, account.found, account.personal) == (expected, Found.TEMPLATE, False)
