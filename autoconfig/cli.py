"""The ``autoconfig`` command. Thin: it parses options and calls plain functions.

Every option also reads an ``AUTOCONFIG_*`` environment variable. Errors are turned into a message
and an exit status in one place, :func:`main`.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import click

from autoconfig import errors
from autoconfig.address import is_hostname, normalise_domain
from autoconfig.model import Provider
from autoconfig.service import Query, Service
from autoconfig.settings import Settings, default_profiles

EXIT = {
    errors.ConfigError: 2,
    errors.DirectoryError: 3,
    errors.AddressError: 4,
    errors.UnknownDomainError: 5,
}
"""Exit status for each error class (1 for any other of ours)."""

profiles_option = click.option(
    "--profiles",
    type=click.Path(path_type=Path),
    envvar="AUTOCONFIG_PROFILES",
    default=default_profiles,
    show_default="the project's profiles/",
    help="Folder of provider profiles (*.toml).",
)
directory_option = click.option(
    "--directory",
    envvar="AUTOCONFIG_DIRECTORY",
    default=None,
    metavar="FILE",
    help="Login directory: a .csv or .sqlite file mapping addresses to login IDs.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mailclient-autoconfig")
def cli() -> None:
    """Mail client auto-configuration server."""


@cli.command()
@profiles_option
@directory_option
def check(profiles: Path, directory: str | None) -> None:
    """Validate the profiles (and the directory), listing every problem at once."""
    service = Service.load(Settings(profiles, directory))
    for provider in service.catalog:
        click.echo(f"ok: {provider.source}: {provider.id} ({', '.join(provider.domains)})")
    if service.directory is not None:
        click.echo(f"ok: directory: {service.directory.description}")
    service.close()


@cli.command()
@profiles_option
@directory_option
@click.option(
    "--host",
    envvar="AUTOCONFIG_HOST",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on.",
)
@click.option(
    "--port",
    envvar="AUTOCONFIG_PORT",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option(
    "--workers",
    envvar="AUTOCONFIG_WORKERS",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes.",
)
@click.option(
    "--log-level",
    envvar="AUTOCONFIG_LOG_LEVEL",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@click.option(
    "--forwarded-allow-ips",
    envvar="AUTOCONFIG_FORWARDED_ALLOW_IPS",
    default=None,
    metavar="IPS",
    help="Comma-separated addresses of the reverse proxy (Caddy) whose X-Forwarded-For and "
    "X-Forwarded-Proto are believed. Default: believe no one.",
)
@click.option(
    "--shutdown-timeout",
    envvar="AUTOCONFIG_SHUTDOWN_TIMEOUT",
    default=20,
    show_default=True,
    type=click.IntRange(1, 600),
    help="Seconds that requests in flight get to finish after SIGTERM.",
)
def serve(
    profiles: Path,
    directory: str | None,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    forwarded_allow_ips: str | None,
    shutdown_timeout: int,
) -> None:
    """Serve HTTP. Refuses to start when a profile or the directory is invalid.

    SIGHUP reloads the profiles and the directory (kept as they were if the new ones are invalid);
    SIGTERM stops accepting connections and lets requests in flight finish."""
    settings = Settings(profiles.resolve(), directory)
    Service.load(settings).close()
    run(
        settings,
        host,
        port,
        workers,
        log_level,
        forwarded_allow_ips=forwarded_allow_ips,
        shutdown_timeout=shutdown_timeout,
    )


def run(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    *,
    forwarded_allow_ips: str | None = None,
    shutdown_timeout: int = 20,
) -> None:
    """Start uvicorn with the app factory; the workers read the settings from the environment."""
    import uvicorn

    from autoconfig.logs import log_config

    os.environ.update(settings.to_env())
    # Until a process is ready to reload, SIGHUP would kill it (its default action): keep it
    # pending. Workers inherit the mask; each unblocks once its handler is in place.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
    options: dict[str, Any] = {
        "app": "autoconfig.web.app:app_from_env",
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "log_config": log_config(log_level),
        "access_log": False,
        "proxy_headers": forwarded_allow_ips is not None,
        "forwarded_allow_ips": forwarded_allow_ips,
        "server_header": False,
        "timeout_graceful_shutdown": shutdown_timeout,
    }
    if workers == 1:
        uvicorn.run(**options)
        return
    import shutil
    import tempfile

    from autoconfig.supervisor import run_workers

    shared = tempfile.mkdtemp(prefix="autoconfig-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = shared
    try:
        run_workers(**options)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def cli_query(address: str) -> Query:
    """An address, or a bare domain standing for the generic answer of that domain."""
    return Query(address=address) if "@" in address else Query(host=address)


@cli.group()
def render() -> None:
    """Print an answer exactly as the HTTP service would serve it."""


@render.command("thunderbird")
@profiles_option
@directory_option
@click.argument("address")
def render_thunderbird(profiles: Path, directory: str | None, address: str) -> None:
    """The autoconfig XML for ADDRESS (or the generic one, when ADDRESS is a bare domain)."""
    service = Service.load(Settings(profiles, directory))
    rendered, _ = anyio.run(service.thunderbird, cli_query(address))
    sys.stdout.buffer.write(rendered.body)
    service.close()


@cli.group()
def directory() -> None:
    """Work with login directories."""


@directory.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--into",
    "target",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file to write (replaced atomically).",
)
def directory_import(csv_file: Path, target: Path) -> None:
    """Build a SQLite directory from CSV_FILE (columns email, login and optionally name)."""
    from autoconfig.usernames.table import write_sqlite

    count = write_sqlite(csv_file, target)
    click.echo(f"wrote {count} entries to {target}")


def _select(service: Service, domain: str | None) -> list[tuple[Provider, tuple[str, ...]]]:
    """The provider of ``domain`` (just that domain), or every provider with all its domains."""
    if domain is None:
        return [(provider, provider.domains) for provider in service.catalog]
    name = normalise_domain(domain)
    return [(service.catalog.lookup(name), (name,))]


def _with_hosts(provider: Provider, cname: str | None, addresses: tuple[str, ...]) -> Provider:
    """The provider with the host records given on the command line instead of its ``[dns]``."""
    if cname and addresses:
        raise click.UsageError("--cname and --address exclude each other (a CNAME stands alone)")
    if not cname and not addresses:
        return provider
    if cname and not is_hostname(normalise_domain(cname)):
        raise click.BadParameter(f"{cname!r} is not a host name", param_hint="--cname")
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise click.BadParameter(
                f"{address!r} is not an IP address", param_hint="--address"
            ) from None
    hosts = replace(
        provider.dns, cname=normalise_domain(cname) if cname else None, addresses=addresses
    )
    return replace(provider, dns=hosts)


cname_option = click.option(
    "--cname",
    envvar="AUTOCONFIG_DNS_CNAME",
    default=None,
    metavar="HOST",
    help="Point autoconfig. and autodiscover. at HOST with CNAMEs (instead of the profile's dns.cname).",
)
address_option = click.option(
    "--address",
    "addresses",
    envvar="AUTOCONFIG_DNS_ADDRESSES",
    multiple=True,
    metavar="IP",
    help="Point autoconfig. and autodiscover. at IP with A/AAAA records (repeatable; instead of "
    "the profile's dns.addresses).",
)


@cli.command("dns")
@profiles_option
@cname_option
@address_option
@click.argument("domain", required=False)
def dns_command(
    profiles: Path, cname: str | None, addresses: tuple[str, ...], domain: str | None
) -> None:
    """Print the DNS records to publish for DOMAIN (default: every domain of every profile)."""
    from autoconfig.render import dns

    service = Service.load(Settings(profiles))
    blocks = [
        dns.render(_with_hosts(provider, cname, addresses), domains).body
        for provider, domains in _select(service, domain)
    ]
    sys.stdout.buffer.write(b"\n".join(blocks))
    service.close()


@cli.command()
@profiles_option
@cname_option
@address_option
@click.option(
    "--nameserver",
    envvar="AUTOCONFIG_DOCTOR_NAMESERVER",
    default=None,
    metavar="IP[:PORT]",
    help="Ask this name server (default: the system's resolver).",
)
@click.option(
    "--port",
    envvar="AUTOCONFIG_DOCTOR_PORT",
    default=443,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="HTTPS port of the hosts (another one only for tests).",
)
@click.option(
    "--ca-file",
    envvar="AUTOCONFIG_DOCTOR_CA_FILE",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also trust this CA (PEM), e.g. Caddy's internal root in tests.",
)
@click.option(
    "--timeout",
    envvar="AUTOCONFIG_DOCTOR_TIMEOUT",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.1, 60),
    help="Seconds allowed to each DNS query and each HTTPS step.",
)
@click.option(
    "--min-days",
    envvar="AUTOCONFIG_DOCTOR_MIN_DAYS",
    default=14,
    show_default=True,
    type=click.IntRange(0, 365),
    help="Fail when a certificate expires in fewer days.",
)
@click.argument("domain")
def doctor(
    profiles: Path,
    cname: str | None,
    addresses: tuple[str, ...],
    nameserver: str | None,
    port: int,
    ca_file: Path | None,
    timeout: float,
    min_days: int,
    domain: str,
) -> None:
    """Check the live DNS and HTTPS of DOMAIN against its profile; exit 1 on any failure."""
    from autoconfig.doctor import Options, failed
    from autoconfig.doctor.report import diagnose, table

    service = Service.load(Settings(profiles))
    [(provider, (name,))] = _select(service, domain)
    service.close()
    options = Options(nameserver, port, ca_file, timeout, min_days)
    checks = diagnose(_with_hosts(provider, cname, addresses), name, options)
    click.echo(table(checks), nl=False)
    if failed(checks):
        raise click.exceptions.Exit(1)


def exit_status(exc: errors.AutoconfigError) -> int:
    for cls in type(exc).__mro__:
        if cls in EXIT:
            return EXIT[cls]
    return 1


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the command, turning our errors into a message and an exit status."""
    try:
        return cli.main(args=argv, prog_name="autoconfig", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except errors.ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(exc.problems)} problem(s) found", err=True)
        sys.exit(exit_status(exc))
    except errors.AutoconfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exit_status(exc))
