"""The ``autoconfig`` command. Thin: it parses options and calls plain functions.

Every option also reads an ``AUTOCONFIG_*`` environment variable. Errors are turned into a message
and an exit status in one place, :func:`main`.
"""

from __future__ import annotations

import ipaddress
import logging
import logging.config
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import click

from autoconfig import errors
from autoconfig.address import is_hostname, normalise_domain
from autoconfig.lookupoptions import lookup_options
from autoconfig.model import Provider
from autoconfig.service import Query, Service
from autoconfig.settings import LookupSettings, Settings, default_profiles
from autoconfig.usernames import check_directory

EXIT = {
    errors.ConfigError: 2,
    errors.DirectoryError: 3,
    errors.AddressError: 4,
    errors.UnknownDomainError: 5,
}
"""Exit status for each error class (1 for any other of ours)."""

log = logging.getLogger("autoconfig.cli")

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
    metavar="FILE|URL",
    help="Login directory: a .csv or .sqlite file mapping addresses to login IDs, or an LDAP URL "
    "(ldap[s]://host:port/base-dn?uid[,displayName]?sub?(mail={email})[?!StartTLS]).",
)

signing_cert_option = click.option(
    "--signing-cert",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="AUTOCONFIG_SIGNING_CERT",
    default=None,
    metavar="FILE",
    help="Certificate that signs Apple profiles (PEM; may be a full chain). Unsigned without it.",
)
signing_key_option = click.option(
    "--signing-key",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="AUTOCONFIG_SIGNING_KEY",
    default=None,
    metavar="FILE",
    help="Unencrypted private key of the signing certificate (default: the certificate file).",
)
signing_chain_option = click.option(
    "--signing-chain",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="AUTOCONFIG_SIGNING_CHAIN",
    default=None,
    metavar="FILE",
    help="Intermediate certificates sent with the signature (PEM).",
)


def signing_options(function: Any) -> Any:
    return signing_cert_option(signing_key_option(signing_chain_option(function)))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mailclient-autoconfig")
def cli() -> None:
    """Mail client auto-configuration server."""


@cli.command()
@profiles_option
@directory_option
@lookup_options
def check(profiles: Path, directory: str | None, lookup: LookupSettings) -> None:
    """Validate the profiles (and the directory), listing every problem at once."""
    service = Service.load(Settings(profiles, directory, lookup=lookup))
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
@signing_options
@lookup_options
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
    signing_cert: Path | None,
    signing_key: Path | None,
    signing_chain: Path | None,
    lookup: LookupSettings,
    shutdown_timeout: int,
) -> None:
    """Serve HTTP. Refuses to start when a profile, the directory or the signing files are invalid.

    SIGHUP reloads the profiles and the directory (kept as they were if the new ones are invalid);
    SIGTERM stops accepting connections and lets requests in flight finish."""
    settings = Settings(
        profiles.resolve(),
        directory,
        signing_cert=signing_cert.resolve() if signing_cert else None,
        signing_key=signing_key.resolve() if signing_key else None,
        signing_chain=signing_chain.resolve() if signing_chain else None,
        lookup=lookup,
    )
    from autoconfig.logs import log_config

    logging.config.dictConfig(log_config(log_level))
    # The workers load the directory in full (checking every row) as they start; here only
    # what makes a clear error cheaply, so the service starts within a second.
    service = Service.load(replace(settings, directory=None))
    if directory:
        check_directory(directory, lookup)
    if service.signer is None:
        log.warning("Apple profiles are served unsigned: no signing certificate (--signing-cert)")
    else:
        log.info("Apple profiles are signed by %s", service.signer.material.describe())
    service.close()
    run(settings, host, port, workers, log_level, shutdown_timeout=shutdown_timeout)


def run(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    *,
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
        # The client address is taken from X-Forwarded-For by the app itself, and only from
        # the trusted proxies (--trusted-proxy): uvicorn must not rewrite it first.
        "proxy_headers": False,
        "server_header": False,
        # Chosen by measurement (bench/RESULTS.md); both come with uvicorn[standard]. Named so
        # that a missing one is an error, not a silent fall-back to a far slower implementation.
        "http": "httptools",
        "loop": "uvloop",
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
@lookup_options
@click.argument("address")
def render_thunderbird(
    profiles: Path, directory: str | None, address: str, lookup: LookupSettings
) -> None:
    """The autoconfig XML for ADDRESS (or the generic one, when ADDRESS is a bare domain)."""
    service = Service.load(Settings(profiles, directory, lookup=lookup))
    rendered, _ = anyio.run(service.thunderbird, cli_query(address))
    sys.stdout.buffer.write(rendered.body)
    service.close()


@render.command("autodiscover")
@profiles_option
@directory_option
@click.argument("address")
def render_autodiscover(profiles: Path, directory: str | None, address: str) -> None:
    """The Autodiscover XML a POST for ADDRESS gets (a bare domain: what a GET without a body gets)."""
    service = Service.load(Settings(profiles, directory))
    query = cli_query(address)
    service.locate(query)  # a malformed address or a domain not served: an error, not a document
    rendered, _ = anyio.run(service.autodiscover, query)
    sys.stdout.buffer.write(rendered.body)
    service.close()


@render.command("mobileconfig")
@profiles_option
@directory_option
@signing_options
@click.option("--signed", is_flag=True, help="Sign the profile (needs --signing-cert).")
@click.argument("address")
def render_mobileconfig(
    profiles: Path,
    directory: str | None,
    signing_cert: Path | None,
    signing_key: Path | None,
    signing_chain: Path | None,
    signed: bool,
    address: str,
) -> None:
    """The Apple profile (.mobileconfig) for ADDRESS, as GET /mobileconfig?email=ADDRESS serves it."""
    service = Service.load(Settings(profiles, directory, signing_cert, signing_key, signing_chain))
    rendered = anyio.run(service.mobileconfig, Query(address=address), signed)
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


@directory.command("lookup")
@profiles_option
@directory_option
@lookup_options
@click.argument("address")
def directory_lookup(
    profiles: Path, directory: str | None, address: str, lookup: LookupSettings
) -> None:
    """Look ADDRESS up as the service would: which backend answered, what, and how long it took."""
    from autoconfig.address import parse
    from autoconfig.model import Found, LoginSource

    parsed = parse(address)
    service = Service.load(Settings(profiles, directory, lookup=lookup))
    try:
        provider = service.catalog.lookup(parsed.domain)
        click.echo(f"provider: {provider.id} (login source: {provider.login.source})")
        if provider.login.source is LoginSource.TEMPLATE:
            click.echo(f"login: {provider.login.expand(parsed)} ({Found.TEMPLATE})")
            return
        click.echo(f"backend: {service.directory.description if service.directory else 'none'}")
        start = time.perf_counter()
        result = anyio.run(service.lookups.find, parsed)
        elapsed = (time.perf_counter() - start) * 1000
        click.echo(f"result: {result.detail}")
        login = result.entry.login if result.entry else provider.login.expand(parsed)
        click.echo(f"login: {login} ({result.found})")
        if result.entry and result.entry.name:
            click.echo(f"name: {result.entry.name}")
        click.echo(f"time: {elapsed:.1f} ms (budget {lookup.timeout_ms} ms)")
    finally:
        service.close()


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
