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
from tests.conftest import PIERRE, PIERRE_LOGIN
from tests.dnsserver import NameServer, run_named, zone_text
from tests.doctor.conftest import (
    PASSWORDS,
    Journey,
    Lab,
    doctor_args,
    doctor_json,
    keyed,
    login_args,
    printed_zone,
    profile_text,
    profiles_folder,
)

D = FRONT_DOMAIN
APEX = "@ IN A 127.0.0.1"
SERVERS = f"{APEX}\nimap IN A 127.0.0.2\nsmtp IN A 127.0.0.2"
"""The main website, and the mail servers' addresses (the SRV targets)."""


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
            name: stack.enter_context(run_named(tmp / name, {D: zone_text(D, zone, SERVERS)}))
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


def web(checks: list[Check]) -> list[Check]:
    """The DNS and HTTPS checks: the project profile's mail servers are not on loopback (the
    journey tests below check mail servers, against Dovecot)."""
    return [check for check in checks if not check.check.startswith(("IMAP", "SMTP"))]


def rows(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def test_zone_from_autoconfig_dns_passes_every_check(
    front: Front, nameservers: dict[str, NameServer], service: Service
) -> None:
    provider = with_hosts(service).catalog.lookup(D)
    checks = web(diagnose(provider, D, options(front, nameservers["correct"])))
    [unsigned] = [c for c in checks if c.status is not Status.PASS]
    assert unsigned.name == f"Apple profile autoconfig.{D}/mobileconfig"
    assert unsigned.status is Status.WARN
    assert unsigned.detail == "not signed: devices show the profile as unverified"
    names = set(rows(checks))
    assert {
        f"DNS SRV _imaps._tcp.{D}.",
        f"TLS autoconfig.{D}",
        f"TLS autodiscover.{D}",
        f"TLS {D}",
    } <= names
    assert f"HTTPS autoconfig.{D}/mail/config-v1.1.xml" in names
    assert f"HTTPS autodiscover.{D}/autodiscover/autodiscover.xml" in names


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
    extra = f"{SERVERS}\nfront IN A 127.0.0.1"
    with run_named(tmp_path / "cname", {D: zone_text(D, zone, extra)}) as server:
        checks = web(diagnose(provider, D, options(front, server)))
        wrong = replace(provider, dns=replace(provider.dns, cname=f"other.{D}"))
        mismatch = rows(diagnose(wrong, D, options(front, server)))
    # The session front signs no Apple profile: that warning only.
    assert [c.check for c in checks if c.status is not Status.PASS] == ["Apple profile"]
    assert rows(checks)[f"DNS CNAME autodiscover.{D}."].detail == f"front.{D}."
    row = mismatch[f"DNS CNAME autoconfig.{D}."]
    assert row.status is Status.FAIL
    assert f"publish: autoconfig.{D}. 3600 IN CNAME other.{D}." in row.hint


def test_the_whole_journey_passes_in_json_and_logs_in_with_the_directory_id(
    journey: Journey, lab: Lab
) -> None:
    status, rows, output = doctor_json(journey, *login_args(journey))
    assert status == 0, output
    assert rows
    assert all(set(row) == {"check", "target", "status", "detail", "fix"} for row in rows)
    not_passed = {row["target"] for row in rows if row["status"] != "pass"}
    assert not_passed == {"Thunderbird for Android", "KDE"}  # warnings: they send no address
    mail = keyed(rows)
    for kind in ("IMAP", "SMTP"):
        for step in ("DNS", "connect", "TLS", "AUTH", "login"):
            assert mail[f"{kind} {step}"]["status"] == "pass"
        assert mail[f"{kind} login"]["detail"] == f"logged in as {PIERRE_LOGIN} (PLAIN)"
    assert mail["IMAP TLS"]["target"] == f"imap.{D}:{lab.dovecot.imaps}"
    login = next(row for row in rows if row["check"] == "login")
    assert login["detail"].startswith(f"the service hands out {PIERRE_LOGIN} for {PIERRE}")
    assert PASSWORDS[PIERRE_LOGIN] not in output


def test_the_table_is_the_default_and_counts_every_check(journey: Journey) -> None:
    result = CliRunner().invoke(cli.cli, doctor_args(journey, directory=False))
    assert result.exit_code == 0, result.output
    assert f"PASS  SMTP AUTH smtp.{D}:" in result.output
    assert "0 warnings, 0 failed" in result.output


JOURNEY_MISTAKES: dict[str, tuple[dict[str, str], str, str]] = {
    # name: (profile lines replaced, failing check, words of its fix)
    "wrong-port": ({"port = 4": "port = 1"}, "SMTP connect", "the profile says port 1"),
    "starttls-missing": (
        {f'host = "imap.{D}"': f'host = "plain.{D}"', 'security = "tls"': 'security = "starttls"'},
        "IMAP TLS",
        "ssl = yes",
    ),
    "certificate-for-another-name": (
        {f'host = "smtp.{D}"': f'host = "other.{D}"'},
        "SMTP TLS",
        f"does not name other.{D}",
    ),
    "expired-certificate": (
        {f'host = "imap.{D}"': f'host = "expired.{D}"'},
        "IMAP TLS",
        "renew it",
    ),
    "auth-mechanism-missing": (
        {'auth = "password"': 'auth = "password-encrypted"'},
        "IMAP AUTH",
        "auth_mechanisms = cram-md5",
    ),
}


@pytest.mark.parametrize("name", [*JOURNEY_MISTAKES, "wrong-password"])
def test_each_mail_mistake_fails_in_json_with_a_fix(journey: Journey, lab: Lab, name: str) -> None:
    profiles = None
    password = PASSWORDS[PIERRE_LOGIN]
    if name == "wrong-password":
        password, check, fix = "not-his-password", "IMAP login", "check the password"
    else:
        changes, check, fix = JOURNEY_MISTAKES[name]
        if name == "wrong-port":  # the submissions port: its first digit, then 1
            port = str(lab.dovecot.submissions)
            changes = {f"port = {port}": f"port = 1{port[1:]}"}
            fix = f"the profile says port 1{port[1:]}"
        if name == "starttls-missing":
            changes = {**changes, f"port = {lab.dovecot.imaps}": f"port = {lab.plain.imap}"}
        profiles = profiles_folder(journey.tmp, name, profile_text(lab, **changes))
    status, rows, output = doctor_json(journey, *login_args(journey, password), profiles=profiles)
    assert status == 1, output
    row = keyed(rows)[check]
    assert row["status"] == "fail", row
    assert fix in row["fix"], row
    assert password not in output


def test_the_zone_file_is_checked_without_any_name_server(journey: Journey) -> None:
    good = journey.tmp / "good.zone"
    good.write_text(journey.zone, encoding="utf-8")
    status, rows, output = doctor_json(journey, where=("--zone-file", str(good)))
    assert status == 0, output
    assert any(row["check"] == "DNS SRV" for row in rows)
    broken = journey.tmp / "broken.zone"
    assert f" imap.{D}." in journey.zone
    broken.write_text(journey.zone.replace(f" imap.{D}.", f" mail.{D}."), encoding="utf-8")
    status, rows, output = doctor_json(journey, where=("--zone-file", str(broken)))
    assert status == 1, output
    row = next(row for row in rows if row["target"] == f"_imaps._tcp.{D}.")
    assert row["status"] == "fail"
    assert row["detail"] == f"points at mail.{D}. instead of imap.{D}."


@pytest.mark.parametrize(
    ("text", "message"),
    [("this is not a zone\n", "--zone-file"), (f"imap.{D}. IN A 300.1.1.1\n", "--zone-file")],
)
def test_an_unreadable_zone_file_is_a_clear_error(
    journey: Journey, text: str, message: str
) -> None:
    path = journey.tmp / "bad.zone"
    path.write_text(text, encoding="utf-8")
    status, _rows, output = doctor_json(journey, where=("--zone-file", str(path)))
    assert status == 2, output
    assert f"error: {message}: {path}:" in output
    assert "Traceback" not in output


def test_the_prometheus_textfile_has_one_status_per_check(journey: Journey) -> None:
    target = journey.tmp / "doctor.prom"
    status, rows, output = doctor_json(journey, *login_args(journey), "--prometheus", str(target))
    assert status == 0, output
    text = target.read_text(encoding="utf-8")
    assert f'autoconfig_doctor_checks{{domain="{D}",status="fail"}} 0' in text
    passed = sum(row["status"] == "pass" for row in rows)
    assert f'autoconfig_doctor_checks{{domain="{D}",status="pass"}} {passed}' in text
    line = f'autoconfig_doctor_check_status{{domain="{D}",check="IMAP login",target="imap.{D}:'
    assert line in text
    assert PIERRE not in text
    assert PIERRE_LOGIN not in text


def test_every_format_has_its_printer() -> None:
    from autoconfig.doctor import FORMATS
    from autoconfig.doctor.report import PRINTERS

    assert tuple(PRINTERS) == FORMATS


def test_prometheus_labels_are_escaped() -> None:
    from autoconfig.doctor.report import prometheus

    check = Check("HTTPS", 'a"b\\c', Status.FAIL, "secret detail", "fix")
    text = prometheus([check], D, now=1.0)
    assert 'target="a\\"b\\\\c"} 2' in text
    assert "secret detail" not in text
    assert text.endswith(f'autoconfig_doctor_last_run_timestamp_seconds{{domain="{D}"}} 1\n')
