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
from tests.servers import PROFILES

DOMAINS = ("example.org", "example.net")


def printed(domain: str) -> str:
    result = CliRunner().invoke(cli.cli, ["dns", "--profiles", str(PROFILES), domain])
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


TARGETS = {"example.org": "imap IN A 192.0.2.10\nsmtp IN A 192.0.2.11\ndav IN AAAA 2001:db8::5"}
"""The SRV targets' addresses (example.net's records point at example.org's hosts too)."""


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
                run_named(
                    tmp / name,
                    {d: zone_text(d, text, TARGETS.get(d, "")) for d, text in zones.items()},
                )
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
    assert found["DNS A/AAAA dav.example.org."].detail == "2001:db8::5"


def test_an_srv_target_that_does_not_resolve_fails(tmp_path: Path, service: Service) -> None:
    zone = zone_text("example.org", printed("example.org"), "smtp IN A 192.0.2.11")
    with run_named(tmp_path / "targets", {"example.org": zone}) as server:
        found = checks(service.catalog.lookup("example.org"), "example.org", server)
    failing = {name: c for name, c in found.items() if c.status is Status.FAIL}
    assert set(failing) == {"DNS A/AAAA imap.example.org.", "DNS A/AAAA dav.example.org."}
    hint = failing["DNS A/AAAA imap.example.org."].hint
    assert (
        hint
        == "publish the A/AAAA record of imap.example.org. (the target of _imaps._tcp.example.org. SRV)"
    )
    assert found["DNS A/AAAA smtp.example.org."].status is Status.PASS


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


def dnssec_rows(provider: Provider, server: NameServer) -> dict[str, Check]:
    from autoconfig.doctor.dnschecks import dnssec_checks

    resolver = Resolver.from_options(Options(nameserver=server.address, timeout=5))
    assert all(c.status is Status.PASS for c in dns_checks(provider, "example.org", resolver))
    return {check.name: check for check in dnssec_checks(provider, "example.org", resolver)}


def test_a_signed_zone_through_a_validating_resolver_passes_dnssec(
    tmp_path: Path, service: Service
) -> None:
    from tests.dnsserver import run_resolver, sign_zone

    provider = service.catalog.lookup("example.org")
    text = zone_text("example.org", printed("example.org"), TARGETS["example.org"])
    signed, anchor = sign_zone(tmp_path / "keys", "example.org", text)
    with (
        run_named(tmp_path / "signed", {"example.org": signed}) as primary,
        run_resolver(tmp_path / "resolver", {"example.org": primary.port}, anchor) as resolver,
    ):
        validated = dnssec_rows(provider, resolver)
        direct = dnssec_rows(provider, primary)  # an authoritative server validates nothing
    assert validated
    assert [c for c in validated.values() if c.status is not Status.PASS] == []
    assert validated["DNSSEC SRV _imaps._tcp.example.org."].detail == "validated (AD flag)"
    assert all(c.status is Status.FAIL for c in direct.values())
    assert "validating resolver" in direct["DNSSEC SRV _imaps._tcp.example.org."].hint


def test_an_unsigned_zone_fails_dnssec(tmp_path: Path, service: Service) -> None:
    from tests.dnsserver import run_resolver

    provider = service.catalog.lookup("example.org")
    text = zone_text("example.org", printed("example.org"), TARGETS["example.org"])
    with (
        run_named(tmp_path / "unsigned", {"example.org": text}) as primary,
        run_resolver(tmp_path / "resolver", {"example.org": primary.port}, "") as resolver,
    ):
        rows = dnssec_rows(provider, resolver)
    row = rows["DNSSEC SRV _submissions._tcp.example.org."]
    assert row.status is Status.FAIL
    assert row.detail == "answered without the AD flag: not validated"
    assert "sign the zone" in row.hint


def test_a_zone_file_answers_like_a_name_server(tmp_path: Path, service: Service) -> None:
    from autoconfig.doctor.dnschecks import LookupFailed

    provider = service.catalog.lookup("example.org")
    zone = tmp_path / "example.org.zone"
    zone.write_text(
        printed("example.org")
        + "imap.example.org. 60 IN CNAME mail.example.org.\n"
        + "mail.example.org. 60 IN A 192.0.2.10\n"
        + "smtp.example.org. 60 IN CNAME smtp.elsewhere.test.\n",
        encoding="utf-8",
    )
    resolver = Resolver.from_options(Options(zone_file=zone), "example.org")
    assert resolver.addresses("imap.example.org.") == ["192.0.2.10"]  # CNAME followed
    assert resolver.lookup("nothing.example.org.", "A") == []
    with pytest.raises(LookupFailed, match="outside the zone file"):
        resolver.addresses("smtp.example.org.")
    found = {check.name: check for check in dns_checks(provider, "example.org", resolver)}
    assert found["DNS SRV _imaps._tcp.example.org."].status is Status.PASS
    assert found["DNS A/AAAA imap.example.org."].detail == "192.0.2.10"
    assert "outside the zone file" in found["DNS A/AAAA smtp.example.org."].detail
