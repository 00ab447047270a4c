"""The ``[dns]`` table of profiles: parsed when right, every mistake reported with file and key."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from autoconfig.errors import Problem
from autoconfig.model import DnsPolicy
from autoconfig.profiles import parse_profile
from tests.conftest import PROFILES

SOURCE = "profiles/x.toml"


def example(**dns: Any) -> dict[str, Any]:
    data = tomllib.loads((PROFILES / "example.toml").read_text(encoding="utf-8"))
    data.pop("dns")
    if dns:
        data["dns"] = dns
    return data


def parse(data: dict[str, Any]) -> tuple[Any, list[str]]:
    problems: list[Problem] = []
    provider = parse_profile(SOURCE, data, problems)
    return provider, [str(p) for p in problems]


def test_no_dns_table_means_the_defaults() -> None:
    provider, problems = parse(example())
    assert problems == []
    assert provider.dns == DnsPolicy()


def test_dns_table_is_read() -> None:
    provider, problems = parse(
        example(ttl=300, addresses=["192.0.2.10", "2001:DB8::10"], absent=["pop3", "imap"])
    )
    assert problems == []
    assert provider.dns == DnsPolicy(300, None, ("192.0.2.10", "2001:db8::10"), ("pop3", "imap"))


def test_cname_is_normalised() -> None:
    provider, problems = parse(example(cname="Front.Example.ORG."))
    assert problems == []
    assert provider.dns.cname == "front.example.org"


BROKEN = [
    ({"ttl": 10}, "profiles/x.toml: dns.ttl: 10 is not a TTL (expected seconds, 60-604800)"),
    ({"ttl": True}, "profiles/x.toml: dns.ttl: True is not a TTL (expected seconds, 60-604800)"),
    ({"cname": "not a host"}, "profiles/x.toml: dns.cname: 'not a host' is not a host name"),
    (
        {"addresses": ["999.1.1.1"]},
        "profiles/x.toml: dns.addresses[0]: '999.1.1.1' is not an IP address",
    ),
    ({"addresses": []}, "profiles/x.toml: dns.addresses: [] is not a non-empty list"),
    (
        {"cname": "front.example.org", "addresses": ["192.0.2.1"]},
        "profiles/x.toml: dns.addresses: is set together with dns.cname",
    ),
    (
        {"absent": ["imaps"]},
        "profiles/x.toml: dns.absent: 'imaps' is offered by this profile's servers",
    ),
    ({"absent": ["submissions"]}, "profiles/x.toml: dns.absent: 'submissions' is offered"),
    ({"absent": ["smtp"]}, "profiles/x.toml: dns.absent[0]: 'smtp' is not a mail service label"),
    (
        {"absent": ["pop3", "pop3"]},
        "profiles/x.toml: dns.absent: ['pop3', 'pop3'] lists a service twice",
    ),
    (
        {"cnam": "front.example.org"},
        "profiles/x.toml: dns.cnam: is not a known key; did you mean 'cname'?",
    ),
]


@pytest.mark.parametrize(
    ("dns", "message"), BROKEN, ids=[m.split(": ")[1] + str(i) for i, (_, m) in enumerate(BROKEN)]
)
def test_broken_dns_table_is_reported(dns: dict[str, Any], message: str) -> None:
    provider, problems = parse(example(**dns))
    assert provider is None
    assert any(problem.startswith(message) for problem in problems), problems


def test_dns_must_be_a_table() -> None:
    data = example()
    data["dns"] = "yes"
    provider, problems = parse(data)
    assert provider is None
    assert problems == ["profiles/x.toml: dns: 'yes' is not a table (expected [dns])"]


def test_every_problem_of_the_table_is_reported_at_once() -> None:
    _, problems = parse(example(ttl=1, cname="bad name", absent=["imaps"]))
    assert len(problems) == 3
