"""DNS checks of a profile with every kind of record (example.org: A/AAAA hosts, "not offered"
markers, CalDAV/CardDAV SRV + TXT) against BIND serving the zones ``autoconfig dns`` printed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from autoconfig import cli
from autoconfig.doctor import Check, Options, Status
from autoconfig.doctor.dnschecks import Resolver, compare, dns_checks, split_nameserver
from autoconfig.errors import ConfigError
from autoconfig.formats.dns import Record
from autoconfig.model import Provider
from autoconfig.service import Service
from tests.dnsserver import NameServer, run_named, zone_text

DOMAINS = ("example.org", "example.net")


def printed(domain: str) -> str:
    result = CliRunner().invoke(cli.cli, ["dns", domain])
    assert result.exit_code == 0, result.output
    return result.output


def dropping(fragment: str) -> Callable[[str], str]:
    def edit(zone: str) -> str:
        kept = [line for line in zone.splitlines() if fragment not in line]
        assert len(kept) < len(zone.splitlines())
        return "\n".join(kept)

    return edit


def replacing(old: str, new: str) -> Callable[[str], str]:
    def edit(zone: str) -> str:
        assert old in zone
        return zone.replace(old, new)

    return edit


# (zone edit for example.org, failing check, words of its detail, words of its hint)
MISTAKES: dict[str, tuple[Callable[[str], str], str, str, str]] = {
    "missing-marker": (
        dropping("_pop3._tcp.example.org."),
        "DNS SRV _pop3._tcp.example.org.",
        "missing",
        "publish: _pop3._tcp.example.org. 3600 IN SRV   0 0 0 .",
    ),
    "marker-with-a-server": (
        replacing(
            "_imap._tcp.example.org.         3600 IN SRV   0 0 0 .",
            "_imap._tcp.example.org. 3600 IN SRV 0 1 143 imap.example.org.",
        ),
        "DNS SRV _imap._tcp.example.org.",
        "points at imap.example.org. instead of .; wrong port: 143 instead of 0",
        "replace it with:",
    ),
    "wrong-dav-path": (
        replacing(
            '_caldavs._tcp.example.org.      3600 IN TXT   "path=/caldav/"',
            '_caldavs._tcp.example.org. 3600 IN TXT "path=/cal/"',
        ),
        "DNS TXT _caldavs._tcp.example.org.",
        'found "path=/cal/"; expected "path=/caldav/"',
        'remove: "path=/cal/"',
    ),
    "missing-aaaa": (
        dropping("autoconfig.example.org.         3600 IN AAAA"),
        "DNS AAAA autoconfig.example.org.",
        "missing",
        "publish:",
    ),
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, NameServer]]:
    from contextlib import ExitStack

    tmp = tmp_path_factory.mktemp("named-example")
    correct = {domain: printed(domain) for domain in DOMAINS}
    variants = {"correct": correct} | {
        name: correct | {"example.org": edit(correct["example.org"])}
        for name, (edit, *_) in MISTAKES.items()
    }
    with ExitStack() as stack:
        yield {
            name: stack.enter_context(
                run_named(tmp / name, {d: zone_text(d, text) for d, text in zones.items()})
            )
            for name, zones in variants.items()
        }


def checks(provider: Provider, domain: str, server: NameServer) -> dict[str, Check]:
    resolver = Resolver.from_options(Options(nameserver=server.address, timeout=5))
    return {check.name: check for check in dns_checks(provider, domain, resolver)}


@pytest.mark.parametrize("domain", DOMAINS)
def test_printed_zone_passes(servers: dict[str, NameServer], service: Service, domain: str) -> None:
    provider = service.catalog.lookup("example.org")
    found = checks(provider, domain, servers["correct"])
    assert [c for c in found.values() if c.status is not Status.PASS] == []
    assert f"DNS SRV _pop3s._tcp.{domain}." in found
    assert f"DNS TXT _carddavs._tcp.{domain}." in found
    assert f"DNS AAAA autodiscover.{domain}." in found


@pytest.mark.parametrize("name", MISTAKES)
def test_mistake_fails_with_its_hint(
    servers: dict[str, NameServer], service: Service, name: str
) -> None:
    _, check, detail, hint = MISTAKES[name]
    found = checks(service.catalog.lookup("example.org"), "example.org", servers[name])
    assert found[check].status is Status.FAIL
    assert detail in found[check].detail
    assert hint in found[check].hint
    assert [c.name for c in found.values() if c.status is Status.FAIL] == [check]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
    ],
)
def test_split_nameserver(text: str, expected: tuple[str, int]) -> None:
    assert split_nameserver(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "abc",
        "ns.example.org",
        "127.0.0.1:x",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "[::1",
        "[::1]x",
        "",
        "[]:53",
    ],
)
def test_split_nameserver_refuses_what_is_not_an_address(text: str) -> None:
    with pytest.raises(ConfigError, match="is not a name server address"):
        split_nameserver(text)


def test_compare_reports_extra_records() -> None:
    import dns.rdata

    expected = [Record("a.example.org.", "A", "192.0.2.1", 60, "hosts")]
    found = [dns.rdata.from_text("IN", "A", text) for text in ("192.0.2.1", "192.0.2.2")]
    check = compare("a.example.org.", "A", expected, found)
    assert check.status is Status.FAIL
    assert check.hint == "remove: 192.0.2.2"


def test_nameserver_refusing_the_zone_is_a_failure(tmp_path: Path, service: Service) -> None:
    with run_named(tmp_path / "other", {"other.test": zone_text("other.test", "")}) as other:
        found = checks(service.catalog.lookup("example.org"), "example.org", other)
    assert all(c.status is Status.FAIL for c in found.values())
    assert any("no answer" in c.detail for c in found.values())
