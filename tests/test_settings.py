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


CREDENTIAL_FILES = ("signing-cert", "signing-key", "signing-chain", "ldap-password")


@pytest.mark.parametrize(
    ("present", "env", "expected"),
    [
        # (credential files systemd wrote, AUTOCONFIG_* set, the four paths: "cred" or given)
        (CREDENTIAL_FILES, {}, ("cred", "cred", "cred", "cred")),
        (("signing-cert", "ldap-password"), {}, ("cred", None, None, "cred")),
        (
            CREDENTIAL_FILES,
            {"AUTOCONFIG_SIGNING_CERT": "/etc/c.pem", "AUTOCONFIG_LDAP_PASSWORD_FILE": "/p"},
            ("/etc/c.pem", "cred", "cred", "/p"),
        ),
        ((), {}, (None, None, None, None)),
    ],
)
@pytest.mark.parametrize("empty", ["signing-key", "none"])
def test_files_from_systemd_credentials(
    tmp_path: Path,
    present: tuple[str, ...],
    env: dict[str, str],
    expected: tuple[str | None, ...],
    empty: str,
) -> None:
    """``LoadCredential=NAME:…`` puts the file in $CREDENTIALS_DIRECTORY: used for an unset
    setting, never instead of one that is set; a blank one (the unit's ``SetCredential=NAME:\\n``
    default, when the file is missing) is not there. (The command line: tests/cli.)"""
    for name in CREDENTIAL_FILES:
        (tmp_path / name).write_text("x" if name in present and name != empty else "\n")
    if empty in present:
        expected = tuple(
            None if name == empty else value
            for name, value in zip(CREDENTIAL_FILES, expected, strict=True)
        )
    settings = Settings.from_env({"CREDENTIALS_DIRECTORY": str(tmp_path), **env})
    got = (
        settings.signing_cert,
        settings.signing_key,
        settings.signing_chain,
        settings.lookup.ldap_password_file,
    )
    wanted = tuple(
        tmp_path / name if value == "cred" else (Path(value) if value else None)
        for name, value in zip(CREDENTIAL_FILES, expected, strict=True)
    )
    assert got == wanted
