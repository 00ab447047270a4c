"""The operations side of the CLI: ``serve`` options that reach uvicorn."""

from __future__ import annotations

from typing import Any

import pytest

import autoconfig.server
from autoconfig.service import Service
from autoconfig.settings import ServerSettings, Settings
from tests.conftest import DEMO, Invoke


def test_serve_passes_proxy_trust_and_shutdown_timeout(
    runner: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(autoconfig.server, "run", lambda *args: seen.update(args=args))
    result = runner(
        "serve",
        "--directory",
        str(DEMO),
        "--port",
        "8001",
        env={"AUTOCONFIG_TRUSTED_PROXIES": "127.0.0.1", "AUTOCONFIG_SHUTDOWN_TIMEOUT": "7"},
    )
    assert result.exit_code == 0, result.output
    settings: Settings = seen["args"][0]
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32"]
    assert seen["args"][1].shutdown_timeout == 7


def test_run_leaves_forwarded_headers_to_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn must not rewrite the client address: the app reads X-Forwarded-For itself, and
    only from the trusted proxies."""
    import signal

    import uvicorn

    seen: dict[str, Any] = {}
    masks: list[tuple[int, set[signal.Signals]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda **kwargs: seen.update(kwargs))
    monkeypatch.setattr("os.environ", {})
    monkeypatch.setattr(signal, "pthread_sigmask", lambda how, mask: masks.append((how, set(mask))))
    autoconfig.server.run(Settings(DEMO.parent), ServerSettings())
    assert seen["proxy_headers"] is False
    assert "forwarded_allow_ips" not in seen
    assert seen["timeout_graceful_shutdown"] == 20
    assert masks == [(signal.SIG_BLOCK, {signal.SIGHUP})]


def test_dns_prints_the_rendered_zone(runner: Invoke, service: Service) -> None:
    from autoconfig.formats import dns

    result = runner("dns", "AC-Aix-Marseille.FR")
    assert result.exit_code == 0, result.output
    expected = dns.render(service.catalog.lookup("ac-aix-marseille.fr"))
    assert result.output.encode() == expected.body


def test_dns_without_domain_prints_every_domain(runner: Invoke, service: Service) -> None:
    result = runner("dns")
    assert result.exit_code == 0, result.output
    for domain in (d for provider in service.catalog for d in provider.domains):
        assert f"; {domain}: records from" in result.output


@pytest.mark.parametrize(
    ("options", "line"),
    [
        (
            ["--cname", "Front.Example.net"],
            "autoconfig.ac-aix-marseille.fr.         3600 IN CNAME front.example.net.",
        ),
        (
            ["--address", "192.0.2.7", "--address", "2001:db8::7"],
            "autodiscover.ac-aix-marseille.fr.       3600 IN AAAA  2001:db8::7",
        ),
    ],
)
def test_dns_host_records_from_options(runner: Invoke, options: list[str], line: str) -> None:
    result = runner("dns", "ac-aix-marseille.fr", *options)
    assert result.exit_code == 0, result.output
    assert line in result.output.splitlines()


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["dns", "unknown.example"], 5, "no profile serves the domain 'unknown.example'"),
        (
            ["dns", "ac-aix-marseille.fr", "--cname", "a.example", "--address", "192.0.2.1"],
            2,
            "exclude each other",
        ),
        (
            ["dns", "ac-aix-marseille.fr", "--address", "300.1.1.1"],
            2,
            "'300.1.1.1' is not an IP address",
        ),
        (["doctor", "unknown.example", "--nameserver", "127.0.0.1:9"], 5, "no profile serves"),
    ],
)
def test_dns_and_doctor_errors(runner: Invoke, args: list[str], status: int, message: str) -> None:
    result = runner(*args)
    assert result.exit_code == status, result.output
    assert message in result.output


def test_every_environment_variable_is_documented() -> None:
    """Every variable a command reads, and every settings field's (those without an option too)."""
    import click

    from autoconfig import cli
    from autoconfig.doctor import Options
    from autoconfig.settings import LookupSettings, specs
    from tests.caddy import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    def envvars(command: click.Command) -> set[str]:
        found = {p.envvar for p in command.params if isinstance(p.envvar, str)}
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                found |= envvars(sub)
        return found

    names = envvars(cli.cli) | {
        spec.env
        for cls in (Settings, LookupSettings, ServerSettings, Options)
        for _, spec in specs(cls)
    }
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert missing == []


@pytest.mark.parametrize(
    ("args", "sites"),
    [
        (
            [],
            [
                "autoconfig.ac-aix-marseille.fr, autodiscover.ac-aix-marseille.fr,",
                "autoconfig.example.org, autodiscover.example.org,",
                "autoconfig.example.net, autodiscover.example.net {",
            ],
        ),
        (["Example.NET"], ["autoconfig.example.net, autodiscover.example.net {"]),
    ],
)
def test_caddyfile_serves_the_domains_of_the_profiles(
    runner: Invoke, args: list[str], sites: list[str]
) -> None:
    def plain(row: str) -> str:
        """The same site addresses for plain http."""
        addresses = row.rstrip(" {,")
        return ", ".join(f"http://{a}" for a in addresses.split(", ")) + row[len(addresses) :]

    result = runner("caddyfile", *args)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    for block in (sites, [plain(row) for row in sites]):
        start = lines.index(block[0])
        assert lines[start : start + len(block)] == block


@pytest.mark.parametrize(
    ("args", "pacc_sites"),
    [
        (["ac-aix-marseille.fr"], []),  # no [pacc]: no ua-auto-config name, no certificate asked
        ([], ["ua-auto-config.example.org,", "ua-auto-config.example.net {"]),
        (["ac-aix-marseille.fr", "example.net"], ["ua-auto-config.example.net {"]),
    ],
)
def test_caddyfile_serves_pacc_only_for_the_profiles_offering_it(
    runner: Invoke, args: list[str], pacc_sites: list[str]
) -> None:
    result = runner("caddyfile", *args)
    assert result.exit_code == 0, result.stderr
    sites = [x for x in result.stdout.splitlines() if x.startswith("ua-auto-config.")]
    assert sites == pacc_sites


def test_caddyfile_of_a_domain_no_profile_serves(runner: Invoke) -> None:
    result = runner("caddyfile", "ac-aix-marseille.fr", "gmail.com")
    assert result.exit_code == 5
    assert "no profile serves the domain 'gmail.com'" in result.stderr
    assert result.stdout == ""
