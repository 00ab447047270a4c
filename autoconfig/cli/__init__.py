"""The ``autoconfig`` command: click only. Each command parses its options (built from the
settings' fields, :mod:`.options`) and calls plain functions; our errors become a message and an
exit status in one place, :class:`Group`, which ``CliRunner.invoke`` sees like the shell does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import click

from autoconfig import errors
from autoconfig.cli.options import (
    dataclass_options,
    profiles_option,
    server_options,
    settings_options,
)
from autoconfig.doctor import Options, failed
from autoconfig.profiles.dns import with_hosts
from autoconfig.service import Query, Service
from autoconfig.settings import ServerSettings, Settings

EXIT: dict[type[Exception], int] = {
    errors.ConfigError: 2,
    errors.DirectoryError: 3,
    errors.AddressError: 4,
    errors.UnknownDomainError: 5,
}
"""Exit status for each error class (its class or nearest parent; 1 for any other of ours)."""


def report(error: errors.AutoconfigError) -> int:
    """Show one of our errors as ``error: …`` lines on stderr; its exit status."""
    if isinstance(error, errors.ConfigError):
        for problem in error.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(error.problems)} problem(s) found", err=True)
    else:
        click.echo(f"error: {error}", err=True)
    return errors.for_class(EXIT, error, 1)


class Group(click.Group):
    """A command group whose commands' errors are reported (:func:`report`) and end the command
    with their exit status, as the shell and ``CliRunner.invoke`` both see it. The top group
    first refuses arguments that are not UTF-8 text (the shell passes bytes; Python keeps the
    bad ones as lone surrogates, which no message can print)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            for number, arg in enumerate(args, start=1):
                if not _is_text(arg):
                    shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                    problem = f"argument {number} ({shown!r}) is not valid UTF-8 (expected text)"
                    raise click.exceptions.Exit(
                        report(errors.ConfigError([errors.Problem("command line", "", problem)]))
                    )
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except errors.AutoconfigError as exc:
            raise click.exceptions.Exit(report(exc)) from exc


def _is_text(arg: str) -> bool:
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def write(body: bytes) -> None:
    sys.stdout.buffer.write(body)


def cli_query(address: str) -> Query:
    """An address, or a bare domain standing for the generic answer of that domain."""
    return Query(address=address) if "@" in address else Query(host=address)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mailclient-autoconfig")
def cli() -> None:
    """Mail client auto-configuration server."""


@cli.command()
@settings_options
@click.option(
    "--connect",
    is_flag=True,
    help="Also bind to the LDAP directory and run one test search (exit 3 when that fails).",
)
def check(settings: Settings, connect: bool) -> None:
    """Validate the profiles, the signing files and the directory, listing every problem at once."""
    with Service.load(settings) as service:
        for provider in service.catalog:
            click.echo(f"ok: {provider.source}: {provider.id} ({', '.join(provider.domains)})")
        if service.directory is not None:
            probe = getattr(service.directory, "probe", None)
            if connect and probe is not None:
                probe()
                click.echo(f"ok: directory: {service.directory.description}: bound and searched")
            else:
                click.echo(f"ok: directory: {service.directory.description}")


@cli.command()
@settings_options
@server_options
def serve(settings: Settings, server: ServerSettings) -> None:
    """Serve HTTP. Refuses to start when a profile, the directory or the signing files are invalid.

    SIGHUP reloads the profiles, the directory and the signing certificate (kept as they were if
    the new ones are invalid); SIGTERM stops accepting connections and lets requests in flight
    finish."""
    from autoconfig import server as running

    running.serve(settings, server)


@cli.group(cls=Group)
def render() -> None:
    """Print an answer exactly as the HTTP service would serve it."""


def _rendered(settings: Settings, answer: Callable[[Service], Any]) -> None:
    with Service.load(settings) as service:
        write(anyio.run(answer, service).rendered.body)


@render.command("thunderbird")
@settings_options
@click.argument("address")
def render_thunderbird(settings: Settings, address: str) -> None:
    """The autoconfig XML for ADDRESS (or the generic one, when ADDRESS is a bare domain)."""
    _rendered(settings, lambda service: service.thunderbird(cli_query(address)))


@render.command("autodiscover")
@settings_options
@click.argument("address")
def render_autodiscover(settings: Settings, address: str) -> None:
    """The Autodiscover XML a POST for ADDRESS gets (a bare domain: what a GET without a body gets)."""
    query = cli_query(address)

    async def answer(service: Service) -> Any:
        service.locate(
            query
        )  # a malformed address or a domain not served: an error, not a document
        return await service.autodiscover(query)

    _rendered(settings, answer)


@render.command("mobileconfig")
@settings_options
@click.option("--signed", is_flag=True, help="Sign the profile (needs --signing-cert).")
@click.argument("address")
def render_mobileconfig(settings: Settings, signed: bool, address: str) -> None:
    """The Apple profile (.mobileconfig) for ADDRESS, as GET /mobileconfig?email=ADDRESS serves it."""
    _rendered(settings, lambda service: service.mobileconfig(Query(address=address), signed))


@cli.group(cls=Group)
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
    import sqlite3

    from autoconfig.usernames.table import write_sqlite

    if not target.parent.is_dir():
        problem = f"{target.parent}: no such folder (expected an existing folder for {target.name})"
        raise errors.ConfigError([errors.Problem("--into", "", problem)])
    try:
        count = write_sqlite(csv_file, target)
    except (sqlite3.Error, OSError) as exc:
        if isinstance(exc, errors.AutoconfigError):
            raise
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise errors.DirectoryError(f"{target}: cannot be written: {reason}") from exc
    click.echo(f"wrote {count} entries to {target}")


@directory.command("lookup")
@settings_options
@click.argument("address")
def directory_lookup(settings: Settings, address: str) -> None:
    """Look ADDRESS up as the service would: which backend answered, what, and how long it took."""
    with Service.load(settings) as service:
        for line in anyio.run(service.explain, address):
            click.echo(line)


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
    settings: Settings, cname: str | None, addresses: tuple[str, ...], domain: str | None
) -> None:
    """Print the DNS records to publish for DOMAIN (default: every domain of every profile)."""
    from autoconfig.formats import dns

    with Service.load(settings) as service:
        selected = service.catalog.select(domain)
    write(
        b"\n".join(
            dns.render(with_hosts(provider, cname, addresses), domains).body
            for provider, domains in selected
        )
    )


@cli.command()
@profiles_option
@cname_option
@address_option
@dataclass_options(Options, "options")
@click.argument("domain")
def doctor(
    settings: Settings,
    cname: str | None,
    addresses: tuple[str, ...],
    options: Options,
    domain: str,
) -> None:
    """Check the live DNS and HTTPS of DOMAIN against its profile; exit 1 on any failure."""
    from autoconfig.doctor.report import diagnose, table

    with Service.load(settings) as service:
        [(provider, (name,))] = service.catalog.select(domain)
    checks = diagnose(with_hosts(provider, cname, addresses), name, options)
    click.echo(table(checks), nl=False)
    if failed(checks):
        raise click.exceptions.Exit(1)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``autoconfig`` command."""
    return cli.main(args=argv, prog_name="autoconfig")
