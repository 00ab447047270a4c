"""The LDAP backend against a real slapd (see tests/slapd.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from autoconfig.address import parse
from autoconfig.errors import ConfigError, DirectoryError
from autoconfig.settings import LookupSettings
from autoconfig.usernames import open_directory
from autoconfig.usernames.entry import Entry
from autoconfig.usernames.ldap import LdapDirectory, open_ldap
from tests.slapd import BIND_DN, BIND_PASSWORD, Slapd, make_certificates

NAMES = "?uid,displayName"


def bound(**options: object) -> LookupSettings:
    return LookupSettings(ldap_bind_dn=BIND_DN, ldap_password=BIND_PASSWORD, **options)  # type: ignore[arg-type]


@pytest.fixture
def directory(slapd: Slapd) -> Iterator[LdapDirectory]:
    opened = open_ldap(slapd.url + NAMES, bound())
    yield opened
    opened.close()


AMBIGUOUS = "directory has several entries for one address"

CASES = [
    ("pierre.dupont@ac-aix-marseille.fr", Entry("pdupont", "Pierre Dupont")),
    ("Pierre.Dupont@AC-Aix-Marseille.FR", Entry("pdupont", "Pierre Dupont")),
    ("jean-luc.nguyen@ac-aix-marseille.fr", Entry("jnguyen1", None)),
    ("gaelle.lheritier@ac-aix-marseille.fr", Entry("glhéritier", "Gaëlle L'Héritier")),
    ("o*neil@ac-aix-marseille.fr", Entry("ooneil", "Orla O'Neil")),
    ("nobody@ac-aix-marseille.fr", None),
    ("pierre.dupont@example.org", None),
    ("gaëlle.lhéritier@ac-aix-marseille.fr", None),
    # Filter injection: each would find someone if '*' reached the filter unescaped.
    ("*@ac-aix-marseille.fr", None),
    ("*ierre.dupont@ac-aix-marseille.fr", None),
    ("*neil@ac-aix-marseille.fr", None),
    ("p*@ac-aix-marseille.fr", None),
]


@pytest.mark.parametrize(("address", "expected"), CASES)
def test_lookup(
    directory: LdapDirectory, address: str, expected: Entry | None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="autoconfig"):
        assert directory.lookup(parse(address)) == expected
    assert AMBIGUOUS not in caplog.text


def test_two_entries_for_one_address_are_unknown_and_logged(
    directory: LdapDirectory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="autoconfig"):
        assert directory.lookup(parse("secretariat@ac-aix-marseille.fr")) is None
    assert caplog.text.count(AMBIGUOUS) == 1
    assert "secretariat" not in caplog.text


def test_name_attribute_is_optional(slapd: Slapd) -> None:
    opened = open_ldap(slapd.url, bound())
    try:
        assert opened.lookup(parse("pierre.dupont@ac-aix-marseille.fr")) == Entry("pdupont")
    finally:
        opened.close()


def test_other_login_attribute_and_filter(slapd: Slapd) -> None:
    url = slapd.url + "?employeeNumber?one?(%26(objectClass=inetOrgPerson)(uid={local}))"
    opened = open_ldap(url, bound())
    try:
        assert opened.lookup(parse("pdupont@ac-aix-marseille.fr")) == Entry("0")
        assert opened.lookup(parse("*@ac-aix-marseille.fr")) is None
    finally:
        opened.close()


def test_connections_are_reused_not_bound_per_lookup(slapd: Slapd) -> None:
    before = slapd.binds()
    opened = open_ldap(slapd.url + NAMES, bound())
    try:
        for _ in range(5):
            assert opened.lookup(parse("marie.martin@ac-aix-marseille.fr")) == Entry(
                "mmartin3", "Marie Martin"
            )
    finally:
        opened.close()
    assert slapd.binds() - before == 1


def test_wrong_password_fails_without_showing_it(slapd: Slapd) -> None:
    opened = open_ldap(
        slapd.url, LookupSettings(ldap_bind_dn=BIND_DN, ldap_password="not-the-password")
    )
    with pytest.raises(DirectoryError) as caught:
        opened.lookup(parse("pierre.dupont@ac-aix-marseille.fr"))
    assert "LDAP bind failed: invalidCredentials" in str(caught.value)
    assert "not-the-password" not in str(caught.value) + opened.description
    assert "not-the-password" not in repr(opened.__dict__.get("url"))


def test_anonymous_reads_nothing(slapd: Slapd) -> None:
    opened = open_ldap(slapd.url, LookupSettings())
    try:
        with pytest.raises(DirectoryError):
            opened.lookup(parse("pierre.dupont@ac-aix-marseille.fr"))
        assert "anonymous" in opened.description
    finally:
        opened.close()


def test_password_from_a_file(slapd: Slapd, tmp_path: Path) -> None:
    secret = tmp_path / "bind.secret"
    secret.write_text(BIND_PASSWORD + "\n")
    settings = LookupSettings(ldap_bind_dn=BIND_DN, ldap_password_file=secret)
    opened = open_directory(slapd.url, settings)
    try:
        assert opened.lookup(parse("marie.martin@ac-aix-marseille.fr")) == Entry("mmartin3")
    finally:
        opened.close()


@pytest.mark.parametrize("kind", ["ldaps", "starttls"])
def test_tls_with_the_ca_file(slapd: Slapd, kind: str) -> None:
    url = (
        slapd.ldaps_url + NAMES
        if kind == "ldaps"
        else slapd.url + NAMES + "??(mail={email})?!StartTLS"
    )
    opened = open_ldap(url, bound(ldap_ca_file=slapd.ca))
    try:
        assert opened.lookup(parse("gaelle.lheritier@ac-aix-marseille.fr")) == Entry(
            "glhéritier", "Gaëlle L'Héritier"
        )
    finally:
        opened.close()


@pytest.mark.parametrize("kind", ["ldaps", "starttls"])
def test_tls_refuses_a_server_the_ca_did_not_sign(
    slapd: Slapd, kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other_ca, _, _ = make_certificates(tmp_path_factory.mktemp("other-ca"), "other")
    url = slapd.ldaps_url if kind == "ldaps" else slapd.url + "???(mail={email})?!StartTLS"
    opened = open_ldap(url, bound(ldap_ca_file=other_ca))
    with pytest.raises(DirectoryError, match="LDAP connection failed"):
        opened.lookup(parse("pierre.dupont@ac-aix-marseille.fr"))


def test_server_that_is_down_is_a_directory_error() -> None:
    from tests.tools import free_port

    opened = open_ldap(f"ldap://127.0.0.1:{free_port()}/dc=fr", LookupSettings(ldap_timeout=1))
    with pytest.raises(DirectoryError, match="LDAP connection failed"):
        opened.lookup(parse("pierre.dupont@ac-aix-marseille.fr"))


@pytest.mark.parametrize(
    ("url", "settings", "words"),
    [
        ("ldap://h/dc=fr", LookupSettings(ldap_bind_dn=BIND_DN), "no password"),
        ("ldap://h/dc=fr", LookupSettings(ldap_password="x"), "no bind DN"),
        ("ldap://h/dc=fr", LookupSettings(ldap_ca_file=Path(__file__)), "neither ldaps"),
        (
            "ldaps://h/dc=fr",
            LookupSettings(ldap_ca_file=Path("/nonexistent/ca.pem")),
            "no such file",
        ),
        ("ldaps://h/dc=fr", LookupSettings(ldap_ca_file=Path(__file__)), "not a CA file"),
        (
            "ldap://h/dc=fr",
            LookupSettings(ldap_bind_dn=BIND_DN, ldap_password_file=Path("/nonexistent/secret")),
            "cannot be read",
        ),
    ],
)
def test_bad_ldap_settings(url: str, settings: LookupSettings, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        open_ldap(url, settings)


def test_prime_binds_once_ahead_of_the_first_lookup(slapd: Slapd) -> None:
    opened = open_ldap(slapd.url, bound())
    try:
        opened.prime()
        before = slapd.binds()
        assert opened.lookup(parse("pierre.dupont@ac-aix-marseille.fr")) == Entry("pdupont")
        assert slapd.binds() == before
    finally:
        opened.close()


def test_a_lookup_that_outlives_close_leaves_no_connection_open(slapd: Slapd) -> None:
    """A reload closes the old service's directory while one of its lookups or probes may still
    run; that one's connection, handed back after ``close``, is closed instead of pooled (it
    stayed open, bound, until the garbage collector found it). The interleaving is forced through
    the pool's own two steps: no request can time it."""
    opened = open_ldap(slapd.url, bound())
    connection, _ = opened._acquire()  # a lookup in flight
    opened.close()
    opened._release(connection)  # …that ends after the close
    assert connection.closed
    assert opened._pool.empty()
