from __future__ import annotations

import pytest

from autoconfig.errors import UnknownDomainError
from autoconfig.service import Service
from tests.caddy import ROOT
from tests.conftest import Invoke

EXAMPLE = ROOT / "docs" / "example-profile.toml"

HOSTS = [
    ("autoconfig.ac-aix-marseille.fr", "ac-aix-marseille.fr"),
    ("AUTOCONFIG.AC-AIX-MARSEILLE.FR", "ac-aix-marseille.fr"),
    ("autoconfig.ac-aix-marseille.fr:443", "ac-aix-marseille.fr"),
    ("autodiscover.ac-aix-marseille.fr", "ac-aix-marseille.fr"),
    ("ac-aix-marseille.fr", "ac-aix-marseille.fr"),
    ("ac-aix-marseille.fr.", "ac-aix-marseille.fr"),
    ("autoconfig.example.net", "example.org"),
]


@pytest.mark.parametrize(("host", "provider_id"), HOSTS)
def test_for_host(service: Service, host: str, provider_id: str) -> None:
    assert service.catalog.for_host(host).id == provider_id


@pytest.mark.parametrize(
    "host",
    [
        "",
        "127.0.0.1:8000",
        "[::1]:8000",
        "localhost",
        "www.ac-aix-marseille.fr",
        "autoconfig.other.fr",
        "a" * 5000,
        "é" * 300,
    ],
)
def test_unknown_hosts(service: Service, host: str) -> None:
    with pytest.raises(UnknownDomainError):
        service.catalog.for_host(host)


def test_lookup_by_domain(service: Service) -> None:
    assert service.catalog.lookup("example.net").id == "example.org"
    served = {d for _, domains in service.catalog.select(None) for d in domains}
    assert served == {"ac-aix-marseille.fr", "example.org", "example.net"}
    assert service.catalog.select("Example.NET") == [
        (service.catalog.lookup("example.net"), ("example.net",))
    ]
    with pytest.raises(UnknownDomainError, match=r"'gmail\.com'"):
        service.catalog.lookup("gmail.com")


def test_the_example_profile_is_served_only_when_asked_for(runner: Invoke) -> None:
    """The default profiles folder holds the académie's profile only: the documented example
    (docs/example-profile.toml) would answer, and sign profiles, for example.org."""
    from autoconfig.settings import Settings

    with Service.load(Settings()) as default:
        assert [provider.id for provider in default.catalog] == ["ac-aix-marseille.fr"]
    result = runner("check", env={"AUTOCONFIG_PROFILES": ""})  # empty: the default folder
    assert result.exit_code == 0, result.stderr
    assert "example" not in result.stdout
    asked = runner("check", "--profiles", str(EXAMPLE.parent))
    assert asked.exit_code == 0, asked.stderr
    assert "ok: " + str(EXAMPLE) + ": example.org (example.org, example.net)" in asked.stdout


@pytest.mark.parametrize("host", ["", "127.0.0.1:8000", "[::1]", "autoconfig.ac-aix-marseile.fr"])
def test_a_catalogue_of_one_provider_gives_its_site_to_any_host(
    service: Service, host: str
) -> None:
    from autoconfig.profiles import Catalog

    academie = service.catalog.lookup("ac-aix-marseille.fr")
    assert Catalog([academie]).for_site(host) is academie
    with pytest.raises(UnknownDomainError):
        service.catalog.for_site(host)  # two providers: an unknown host stays unknown
    with pytest.raises(UnknownDomainError):
        Catalog([academie]).for_host(host)  # client configurations still need a known host
