from __future__ import annotations

from pathlib import Path

import pytest

from autoconfig.errors import ConfigError
from autoconfig.settings import LookupSettings, Settings


def test_defaults() -> None:
    settings = Settings.from_env({})
    lookup = settings.lookup
    assert lookup == LookupSettings()
    assert (lookup.timeout_ms, lookup.hit_ttl, lookup.miss_ttl, lookup.rate_limit) == (
        300,
        600,
        60,
        30,
    )
    assert settings.trusted_proxies == ()


def test_round_trip_through_the_environment() -> None:
    env = {
        "AUTOCONFIG_PROFILES": "/p",
        "AUTOCONFIG_DIRECTORY": "ldaps://h/dc=fr",
        "AUTOCONFIG_DIRECTORY_TIMEOUT": "250",
        "AUTOCONFIG_DIRECTORY_CACHE_TTL": "0",
        "AUTOCONFIG_DIRECTORY_MISS_TTL": "10",
        "AUTOCONFIG_DIRECTORY_RATE_LIMIT": "0",
        "AUTOCONFIG_TRUSTED_PROXIES": "10.0.0.0/8, ::1",
        "AUTOCONFIG_LDAP_TIMEOUT": "0.5",
        "AUTOCONFIG_LDAP_CA_FILE": "/etc/ssl/ca.pem",
        "AUTOCONFIG_LDAP_BIND_DN": "cn=svc,dc=fr",
        "AUTOCONFIG_LDAP_PASSWORD_FILE": "/run/secrets/ldap",
    }
    settings = Settings.from_env(env)
    assert settings.lookup.ldap_ca_file == Path("/etc/ssl/ca.pem")
    assert settings.lookup.ldap_timeout == 0.5
    assert Settings.from_env(settings.to_env()) == settings


def test_password_stays_out_of_repr() -> None:
    settings = Settings.from_env({"AUTOCONFIG_LDAP_PASSWORD": "Sup3r-secret"})
    assert settings.lookup.ldap_password == "Sup3r-secret"
    assert "Sup3r-secret" not in repr(settings)


def test_every_bad_value_is_reported() -> None:
    env = {
        "AUTOCONFIG_DIRECTORY_TIMEOUT": "fast",
        "AUTOCONFIG_DIRECTORY_RATE_LIMIT": "-1",
        "AUTOCONFIG_LDAP_TIMEOUT": "1s",
        "AUTOCONFIG_TRUSTED_PROXIES": "10.0.0.1,proxy",
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert [str(p) for p in caught.value.problems] == [
        "AUTOCONFIG_DIRECTORY_TIMEOUT: 'fast' is not a whole number >= 0",
        "AUTOCONFIG_DIRECTORY_RATE_LIMIT: '-1' is not a whole number >= 0",
        "AUTOCONFIG_LDAP_TIMEOUT: '1s' is not a number >= 0",
        "AUTOCONFIG_TRUSTED_PROXIES: 'proxy' is not an IP address or network (expected e.g. 10.0.0.0/8)",
    ]


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "1e999"])
def test_numbers_that_are_not_finite_are_refused(text: str) -> None:
    """``nan`` passes every range comparison: a time-out of nan made every lookup fail."""
    with pytest.raises(ConfigError, match="AUTOCONFIG_LDAP_TIMEOUT"):
        Settings.from_env({"AUTOCONFIG_LDAP_TIMEOUT": text})
