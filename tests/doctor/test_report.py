"""``autoconfig doctor`` against a real name server (BIND) serving the zone ``autoconfig dns``
printed, correct or with one mistake injected, and against the real Caddy front."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from autoconfig import cli
from autoconfig.doctor import Check, Options, Status
from autoconfig.doctor.report import diagnose, table
from autoconfig.service import Service
from tests.caddy import FRONT_DOMAIN, Front
from tests.dnsserver import NameServer, run_named, zone_text

D = FRONT_DOMAIN
APEX = "@ IN A 127.0.0.1"


def printed_zone(domain: str, *options: str) -> str:
    result = CliRunner().invoke(cli.cli, ["dns", domain, *options])
    assert result.exit_code == 0, result.output
    return result.output


def without(fragment: str) -> Callable[[str], str]:
    return lambda zone: "\n".join(line for line in zone.splitlines() if fragment not in line)


def replacing(old: str, new: str) -> Callable[[str], str]:
    def edit(zone: str) -> str:
        assert old in zone
        return zone.replace(old, new)

    return edit


@dataclass(frozen=True)
class Mistake:
    edit: Callable[[str], str]
    check: str
    detail: str
    hint: str


MISTAKES = {
    "wrong-port": Mistake(
        replacing("993 imap.", "994 imap."),
        f"DNS SRV _imaps._tcp.{D}.",
        "wrong port: 994 instead of 993",
        f"replace it with: _imaps._tcp.{D}. 3600 IN SRV   0 1 993 imap.{D}.",
    ),
    "missing-srv": Mistake(
        without("_autodiscover._tcp"),
        f"DNS SRV _autodiscover._tcp.{D}.",
        "missing",
        f"publish: _autodiscover._tcp.{D}. 3600 IN SRV   0 0 443 autodiscover.{D}.",
    ),
    "wrong-target": Mistake(
        replacing("465 smtp.", "465 mail."),
        f"DNS SRV _submissions._tcp.{D}.",
        f"points at mail.{D}. instead of smtp.{D}.",
        "replace it with:",
    ),
    "wrong-host-address": Mistake(
        replacing("IN A     127.0.0.1", "IN A     127.0.0.9"),
        f"DNS A autoconfig.{D}.",
        "found 127.0.0.9; expected 127.0.0.1",
        "remove: 127.0.0.9",
    ),
}


@pytest.fixture(scope="module")
def nameservers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, NameServer]]:
    from contextlib import ExitStack

    tmp = tmp_path_factory.mktemp("named")
    correct = printed_zone(D, "--address", "127.0.0.1")
    variants = {"correct": correct} | {name: m.edit(correct) for name, m in MISTAKES.items()}
    with ExitStack() as stack:
        yield {
            name: stack.enter_context(run_named(tmp / name, {D: zone_text(D, zone, APEX)}))
            for name, zone in variants.items()
        }


def options(front: Front, server: NameServer, **changes: object) -> Options:
    chosen: dict[str, object] = {
        "nameserver": server.address,
        "port": front.caddy.https_port,
        "ca_file": front.caddy.root_certificate,
        "timeout": 5.0,
        "min_days": 0,
    }
    chosen.update(changes)
    return Options(**chosen)  # type: ignore[arg-type]


def run_doctor(front: Front, server: NameServer) -> Result:
    """``autoconfig doctor`` as an operator runs it against the test front and name server."""
    return CliRunner().invoke(
        cli.cli,
        [
            "doctor",
            D,
            "--address",
            "127.0.0.1",
            "--nameserver",
            server.address,
            "--port",
            str(front.caddy.https_port),
            "--ca-file",
            str(front.caddy.root_certificate),
            "--min-days",
            "0",
        ],
    )


def with_hosts(service: Service) -> Service:
    from dataclasses import replace

    provider = service.catalog.lookup(D)
    hosts = replace(provider.dns, addresses=("127.0.0.1",))
    return replace(service, catalog=type(service.catalog)([replace(provider, dns=hosts)]))


def rows(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def test_zone_from_autoconfig_dns_passes_every_check(
    front: Front, nameservers: dict[str, NameServer], service: Service
) -> None:
    provider = with_hosts(service).catalog.lookup(D)
    checks = diagnose(provider, D, options(front, nameservers["correct"]))
    assert [c for c in checks if c.status is not Status.PASS] == []
    names = set(rows(checks))
    assert {
        f"DNS SRV _imaps._tcp.{D}.",
        f"TLS autoconfig.{D}",
        f"TLS autodiscover.{D}",
        f"TLS {D}",
    } <= names
    assert f"HTTPS autoconfig.{D}/mail/config-v1.1.xml" in names
    assert f"HTTPS autodiscover.{D}/autodiscover/autodiscover.xml" in names


def test_doctor_command_exits_zero_and_prints_the_table(
    front: Front, nameservers: dict[str, NameServer]
) -> None:
    result = run_doctor(front, nameservers["correct"])
    assert result.exit_code == 0, result.output
    assert f"PASS  DNS SRV _autodiscover._tcp.{D}." in result.output
    assert "0 warnings, 0 failed" in result.output


@pytest.mark.parametrize("name", MISTAKES)
def test_each_dns_mistake_fails_with_its_hint(
    front: Front, nameservers: dict[str, NameServer], service: Service, name: str
) -> None:
    mistake = MISTAKES[name]
    provider = with_hosts(service).catalog.lookup(D)
    checks = diagnose(provider, D, options(front, nameservers[name]))
    row = rows(checks)[mistake.check]
    assert row.status is Status.FAIL
    assert mistake.detail in row.detail
    assert mistake.hint in row.hint
    failing = {c.name for c in checks if c.status is Status.FAIL}
    assert mistake.check in failing


@pytest.mark.parametrize("name", MISTAKES)
def test_doctor_command_exits_non_zero_on_a_mistake(
    front: Front, nameservers: dict[str, NameServer], name: str
) -> None:
    result = run_doctor(front, nameservers[name])
    assert result.exit_code == 1
    assert f"FAIL  {MISTAKES[name].check}" in result.output
    assert "fix: " in result.output


def test_untrusted_certificate_fails_with_a_hint(
    front: Front, nameservers: dict[str, NameServer], service: Service
) -> None:
    provider = with_hosts(service).catalog.lookup(D)
    checks = rows(diagnose(provider, D, options(front, nameservers["correct"], ca_file=None)))
    row = checks[f"HTTPS autoconfig.{D}/mail/config-v1.1.xml"]
    assert row.status is Status.FAIL
    assert "certificate refused" in row.detail
    assert "--ca-file" in row.hint


def test_certificate_close_to_expiry_fails(
    front: Front, nameservers: dict[str, NameServer], service: Service
) -> None:
    provider = with_hosts(service).catalog.lookup(D)
    checks = rows(diagnose(provider, D, options(front, nameservers["correct"], min_days=30)))
    row = checks[f"TLS autoconfig.{D}"]
    assert row.status is Status.FAIL
    assert "renew" in row.hint


def test_served_settings_that_differ_from_the_profile_fail(
    front: Front, nameservers: dict[str, NameServer], service: Service
) -> None:
    from dataclasses import replace

    provider = with_hosts(service).catalog.lookup(D)
    changed = replace(provider, imap=replace(provider.imap, port=994))
    zone_ok = rows(diagnose(changed, D, options(front, nameservers["correct"])))
    row = zone_ok[f"HTTPS autoconfig.{D}/mail/config-v1.1.xml"]
    assert row.status is Status.FAIL
    assert "imap port is '993', the profile says '994'" in row.detail
    assert "reload" in row.hint
    row = zone_ok[f"HTTPS autodiscover.{D}/autodiscover/autodiscover.xml"]
    assert row.status is Status.FAIL
    assert "imap Port is '993', the profile says '994'" in row.detail


def test_a_silent_name_server_fails_fast_and_never_hangs(tmp_path: Path, service: Service) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        provider = with_hosts(service).catalog.lookup(D)
        checks = diagnose(provider, D, Options(nameserver=address, timeout=0.3))
    assert all(check.status is not Status.PASS for check in checks)
    assert any("skipped, the name server failed before" in check.detail for check in checks)
    assert "FAIL" in table(checks)


def test_cname_hosts_pass_and_are_followed_to_the_front(
    front: Front, service: Service, tmp_path: Path
) -> None:
    from dataclasses import replace

    zone = printed_zone(D, "--cname", f"front.{D}")
    assert f"autoconfig.{D}.         3600 IN CNAME front.{D}." in zone
    provider = service.catalog.lookup(D)
    provider = replace(provider, dns=replace(provider.dns, cname=f"front.{D}"))
    extra = f"{APEX}\nfront IN A 127.0.0.1"
    with run_named(tmp_path / "cname", {D: zone_text(D, zone, extra)}) as server:
        checks = diagnose(provider, D, options(front, server))
        wrong = replace(provider, dns=replace(provider.dns, cname=f"other.{D}"))
        mismatch = rows(diagnose(wrong, D, options(front, server)))
    assert [c for c in checks if c.status is not Status.PASS] == []
    assert rows(checks)[f"DNS CNAME autodiscover.{D}."].detail == f"front.{D}."
    row = mismatch[f"DNS CNAME autoconfig.{D}."]
    assert row.status is Status.FAIL
    assert f"publish: autoconfig.{D}. 3600 IN CNAME other.{D}." in row.hint
