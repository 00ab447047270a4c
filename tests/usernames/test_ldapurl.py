from __future__ import annotations

import pytest

from autoconfig.address import Address, parse
from autoconfig.errors import ConfigError
from autoconfig.usernames.ldapurl import Scope, escape_filter_value, is_ldap_url, parse_url

BASE = "ou=people,dc=ac-aix-marseille,dc=fr"

# (url, host, port, base, login attribute, name attribute, scope, filter, ssl, start_tls)
GOOD = [
    (f"ldap://127.0.0.1:3389/{BASE}?uid?sub?(mail={{email}})",
     "127.0.0.1", 3389, BASE, "uid", None, Scope.SUB, "(mail={email})", False, False),
    (f"ldap://ldap.example.org/{BASE}",
     "ldap.example.org", 389, BASE, "uid", None, Scope.SUB, "(mail={email})", False, False),
    (f"ldaps://ldap.example.org/{BASE}?uid,displayName?one",
     "ldap.example.org", 636, BASE, "uid", "displayName", Scope.ONE, "(mail={email})", True, False),
    (f"LDAP://[::1]:1389/{BASE}?employeeNumber?base?(%26(mail={{email}})(objectClass=person))?!StartTLS",
     "::1", 1389, BASE, "employeeNumber", None, Scope.BASE,
     "(&(mail={email})(objectClass=person))", False, True),
    ("ldap://h/ou=Personnes%20acad%C3%A9miques,dc=fr?uid??(uid={local})?StartTLS,x-other=1",
     "h", 389, "ou=Personnes académiques,dc=fr", "uid", None, Scope.SUB, "(uid={local})",
     False, True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "host", "port", "base", "login", "name", "scope", "search", "ssl", "start_tls"), GOOD
)
def test_parse_good_urls(
    spec: str,
    host: str,
    port: int,
    base: str,
    login: str,
    name: str | None,
    scope: Scope,
    search: str,
    ssl: bool,
    start_tls: bool,
) -> None:
    url = parse_url(spec)
    assert (url.host, url.port, url.base) == (host, port, base)
    assert (url.login_attribute, url.name_attribute, url.scope) == (login, name, scope)
    assert (url.filter, url.use_ssl, url.start_tls) == (search, ssl, start_tls)
    assert parse_url(str(url)) == url


# (url, words the error must contain)
BAD = [
    ("http://h/dc=fr", "expected ldap or ldaps"),
    ("ldap:///dc=fr", "no host"),
    ("ldap://h", "no base DN"),
    ("ldap://h:99999/dc=fr", "not a number from 1 to 65535"),
    ("ldap://admin:hunter2@h/dc=fr", "holds credentials"),
    ("ldap://h/dc=fr?uid,cn,mail", "expected the login attribute"),
    ("ldap://h/dc=fr?u id", "expected the login attribute"),
    ("ldap://h/dc=fr?uid?subtree", "expected base, one or sub"),
    ("ldap://h/dc=fr?uid?sub?(mail={address})", "unknown placeholder"),
    ("ldap://h/dc=fr?uid?sub?(mail=x)", "does not use the address"),
    ("ldap://h/dc=fr?uid?sub?mail={email}", "not one parenthesised filter"),
    ("ldap://h/dc=fr?uid?sub?(mail={email}))(", "not one parenthesised filter"),
    ("ldap://h/dc=fr?uid?sub?(mail={email})?!bindname=cn=x", "critical extension 'bindname'"),
    ("ldaps://h/dc=fr????!StartTLS", "already TLS"),
    ("ldap://h/dc=fr#x", "fragment"),
    ("ldap://h/dc=fr?a?b?c?d?e", "too many"),
    ("ldap://[::1/dc=fr", "Invalid IPv6 URL"),
    ("ldap://h\u00e9/dc=fr", "host 'hé' is not a host name"),
    ("ldap://h\udcff/dc=fr", "is not a host name"),
    ("ldap://h_1/dc=fr", "is not a host name"),
    ("ldap://admin:hunter2@[::1/dc=fr", "Invalid IPv6 URL"),
]


@pytest.mark.parametrize(("spec", "words"), BAD)
def test_bad_urls_say_what_is_wrong(spec: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_url(spec)
    assert words in str(caught.value)
    assert all(p.source == "--directory" for p in caught.value.problems)
    assert "hunter2" not in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_url("ldap://h/?uid,cn,mail?deep?(x=1)")
    assert len(caught.value.problems) == 4


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("pierre.dupont@ac-aix-marseille.fr", "pierre.dupont@ac-aix-marseille.fr"),
        ("*", r"\2a"),
        ("a)(uid=*", r"a\29\28uid=\2a"),
        ("x\\y", r"x\5cy"),
        ("nul\x00byte", r"nul\00byte"),
        (r"\2a", r"\5c2a"),
        ("Gaëlle", "Gaëlle"),
    ],
)
def test_escape_filter_value(value: str, escaped: str) -> None:
    assert escape_filter_value(value) == escaped


# Addresses the address parser never lets through are escaped all the same.
@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (parse("*@ac-aix-marseille.fr"), r"(&(mail=\2a@ac-aix-marseille.fr)(uid=\2a))"),
        (Address("a)(uid=*", "x.fr"), r"(&(mail=a\29\28uid=\2a@x.fr)(uid=a\29\28uid=\2a))"),
        (
            Address("*)(|(mail=*", "x.fr"),
            r"(&(mail=\2a\29\28|\28mail=\2a@x.fr)(uid=\2a\29\28|\28mail=\2a))",
        ),
        (Address("nul\x00", "x.fr"), r"(&(mail=nul\00@x.fr)(uid=nul\00))"),
    ],
)
def test_search_filter_escapes_every_placeholder(address: Address, expected: str) -> None:
    url = parse_url("ldap://h/dc=fr?uid?sub?(%26(mail={email})(uid={local}))")
    assert url.search_filter(address) == expected


def test_domain_placeholder() -> None:
    url = parse_url("ldap://h/dc=fr?uid?sub?(%26(uid={local})(o={domain}))")
    assert url.search_filter(parse("jdoe@Example.ORG")) == "(&(uid=jdoe)(o=example.org))"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("ldap://h/x", True), ("LDAPS://h/x", True), ("staff.csv", False), ("ldap.csv", False)],
)
def test_is_ldap_url(spec: str, expected: bool) -> None:
    assert is_ldap_url(spec) is expected


def test_filter_gets_the_canonical_key_the_cache_and_the_limit_use() -> None:
    url = parse_url("ldap://h/dc=fr?uid?sub?(%26(mail={email})(uid={local})(o={domain}))")
    address = parse("Pierre.Dupont@AC-Aix-Marseille.FR")
    assert url.search_filter(address) == (
        f"(&(mail={address.key})(uid=pierre.dupont)(o=ac-aix-marseille.fr))"
    )
