"""The ``autoconfig`` command: click only. Each command parses its options (built from the
settings' fields, :mod:`.options`) and calls plain functions; our errors become a message and an
exit status in one place, :class:`Group`, which ``CliRunner.invoke`` sees like the shell does.
"""

from __future__ import annotations

import dataclasses
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
from autoconfig.errors import Problem
from autoconfig.formats import ddm, mobileconfig
from autoconfig.formats.mdm import DECLARATIVE, DEFAULT_VENDOR, Vendor
from autoconfig.model import Provider
from autoconfig.profiles.dns import with_hosts
from autoconfig.service import Query, Service, start_warnings
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


def cli_query(service: Service, target: str) -> Query:
    """An address, or a bare domain standing for the generic answer of that domain. A domain no
    profile serves is said as the argument it is (``no profile serves the domain …``), not as
    the HTTP request's host with its hint for clients."""
    if "@" in target:
        return Query(address=target)
    service.catalog.select(target)
    return Query(host=target)


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
    """Validate the profiles, the signing files and the directory, listing every problem at once.

    The files are checked as ``serve`` checks them (an expired signing certificate fails), the
    directory read in full; without ``--connect`` nothing is asked of an LDAP server, so that a
    service can start (``ExecStartPre``) and reload (``ExecReload``) while the directory is down."""
    with Service.load(settings) as service:
        for provider in service.catalog:
            click.echo(f"ok: {provider.source}: {provider.id} ({', '.join(provider.domains)})")
        if service.signer is not None:
            click.echo(f"ok: signing: {service.signer.material.describe()}")
        for warning in start_warnings(service.catalog, settings):
            click.echo(f"warning: {warning}", err=True)
        if service.directory is not None:
            check_rows = getattr(service.directory, "check_rows", None)
            if check_rows is not None:
                check_rows()  # every row of a SQLite file (serving checks the rows it reads)
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
    the new ones are invalid); a replaced CSV or SQLite directory file is swapped in without it
    (--directory-watch-interval). SIGTERM stops accepting connections and lets requests in flight
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
    _rendered(settings, lambda service: service.thunderbird(cli_query(service, address)))


@render.command("autodiscover")
@settings_options
@click.argument("address")
def render_autodiscover(settings: Settings, address: str) -> None:
    """The Autodiscover XML a POST for ADDRESS gets (a bare domain: what a GET without a body gets)."""

    async def answer(service: Service) -> Any:
        query = cli_query(service, address)
        # a malformed address or a domain not served: an error, not a document
        service.locate(query)
        return await service.autodiscover(query)

    _rendered(settings, answer)


@render.command("pacc")
@settings_options
@click.argument("domain")
def render_pacc(settings: Settings, domain: str) -> None:
    """The PACC document of DOMAIN, as https://ua-auto-config.DOMAIN/.well-known/user-agent-
    configuration.json serves it (the bytes whose digest `autoconfig dns` prints)."""
    with Service.load(settings) as service:
        write(service.pacc(cli_query(service, domain)).rendered.body)


mdm_vendor_option = click.option(
    "--mdm-vendor",
    "vendor",
    envvar="AUTOCONFIG_MDM_VENDOR",
    type=click.Choice([v.value for v in Vendor]),
    default=DEFAULT_VENDOR.value,
    show_default=True,
    help="Whose per-user variables stand for the address, login and name.",
)


def _provider_of(settings: Settings, target: str) -> Provider:
    """The provider of TARGET, an address or a bare domain."""
    with Service.load(settings) as service:
        provider, _ = service.locate(cli_query(service, target))
    return provider


@render.command("mobileconfig")
@settings_options
@click.option("--signed", is_flag=True, help="Sign the profile (needs --signing-cert).")
@click.option(
    "--mdm",
    is_flag=True,
    help="A template for an MDM that pushes profiles: its variables for the address, login and "
    "name (ADDRESS may then be a bare domain).",
)
@mdm_vendor_option
@click.argument("address")
def render_mobileconfig(
    settings: Settings, signed: bool, mdm: bool, vendor: str, address: str
) -> None:
    """The Apple profile (.mobileconfig) for ADDRESS, as GET /mobileconfig?email=ADDRESS serves it."""
    source = click.get_current_context().get_parameter_source("vendor")
    if not mdm and source is click.core.ParameterSource.COMMANDLINE:
        raise errors.ConfigError(
            [Problem("--mdm-vendor", "", "is only for --mdm templates (expected --mdm with it)")]
        )
    if mdm:
        if signed:
            raise errors.ConfigError(
                [
                    Problem(
                        "--signed", "", "is not for --mdm templates (the MDM signs what it pushes)"
                    )
                ]
            )
        write(mobileconfig.mdm_template(_provider_of(settings, address), Vendor(vendor)).body)
        return
    _rendered(settings, lambda service: service.mobileconfig(Query(address=address), signed))


@render.command("ddm")
@settings_options
@mdm_vendor_option
@click.argument("domain")
def render_ddm(settings: Settings, vendor: str, domain: str) -> None:
    """The declarative-management mail account (com.apple.configuration.account.mail) of DOMAIN,
    with the assets it references and the MDM's variables for the address, login and name."""
    if Vendor(vendor) not in DECLARATIVE:
        raise errors.ConfigError(
            [
                Problem(
                    "--mdm-vendor",
                    vendor,
                    "takes no custom declarations (expected `render mobileconfig --mdm` for it)",
                )
            ]
        )
    write(ddm.render(_provider_of(settings, domain), Vendor(vendor)).body)


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
    help="SQLite file to write (.sqlite, .sqlite3 or .db; replaced atomically, never CSV_FILE).",
)
def directory_import(csv_file: Path, target: Path) -> None:
    """Build a SQLite directory from CSV_FILE (columns email, login and optionally name).

    CSV_FILE as spreadsheets save it: separated by , or ; (found from the header row), in UTF-8
    (with or without a byte order mark) or Windows-1252. Every bad row is listed by line and
    column, and nothing is written."""
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
    """Look ADDRESS up as the service would: which backend answered, what, and how long it took.

    Exits with status 3 when the directory gave no answer (down, too slow, refused)."""
    with Service.load(settings) as service:
        explained = anyio.run(service.explain, address)
    for line in explained.lines:
        click.echo(line)
    if explained.failed:
        raise errors.DirectoryError("the lookup failed: the directory gave no answer (see result)")


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


@cli.command("caddyfile")
@profiles_option
@click.argument("domains", nargs=-1, metavar="[DOMAIN]...")
def caddyfile_command(settings: Settings, domains: tuple[str, ...]) -> None:
    """Print the project's Caddyfile serving DOMAINs (default: every domain of every profile),
    with the PACC site (deploy/pacc.caddy) for those whose profile has [pacc] enabled = true."""
    from autoconfig.formats import caddyfile
    from autoconfig.settings import data_dir

    with Service.load(settings) as service:
        selected = {
            name: provider.pacc
            for domain in domains or (None,)
            for provider, names in service.catalog.select(domain)
            for name in names
        }
    template = data_dir("Caddyfile").read_text(encoding="utf-8")
    pacc = data_dir(caddyfile.PACC_SITE).read_text(encoding="utf-8")
    offered = [name for name, on in selected.items() if on]
    write(caddyfile.render(template, list(selected), pacc, offered).body)


doctor_address_option = click.option(
    "--address",
    "addresses",
    envvar="AUTOCONFIG_DNS_ADDRESSES",
    multiple=True,
    metavar="IP|ADDRESS",
    help="An IP: point autoconfig. and autodiscover. at it (A/AAAA, repeatable; instead of the "
    "profile's dns.addresses). An e-mail address: replay each client's set-up for that person, "
    "with the login the service hands out (no password, no login to the mail servers).",
)


def split_addresses(
    addresses: tuple[str, ...], login: str | None
) -> tuple[tuple[str, ...], str | None]:
    """``doctor --address``: the IPs, and the one person whose set-up is replayed (``--login``'s
    when it is given: both naming different people is refused)."""
    ips = tuple(a for a in addresses if "@" not in a)
    people = list(dict.fromkeys(a for a in addresses if "@" in a))
    if len(people) > 1 or (people and login is not None and people != [login]):
        problem = "names more than one person: the set-up is replayed for one at a time"
        raise errors.ConfigError([errors.Problem("--address", "", problem)])
    return ips, login if login is not None else (people[0] if people else None)


@cli.command()
@settings_options
@cname_option
@doctor_address_option
@dataclass_options(Options, "options")
@click.option(
    "--dnssec",
    is_flag=True,
    help="Also require every DNS answer to be validated (the AD flag of a validating resolver).",
)
@click.argument("domain")
def doctor(
    settings: Settings,
    cname: str | None,
    addresses: tuple[str, ...],
    options: Options,
    dnssec: bool,
    domain: str,
) -> None:
    """Check the live DNS, HTTPS, calendar and mail servers of DOMAIN against its profile, and
    what each client would configure; exit 1 on any failure. With --address ADDRESS, replay each
    client's set-up for that person; with --login, also log in as them (the password is never
    printed)."""
    from autoconfig.doctor import people
    from autoconfig.doctor.report import PRINTERS, diagnose, prometheus, write_atomically

    if options.prometheus is not None and not options.prometheus.parent.is_dir():
        problem = "its folder does not exist (expected node_exporter's textfile folder)"
        raise errors.ConfigError([errors.Problem("--prometheus", str(options.prometheus), problem)])
    if dnssec and options.zone_file is not None:
        problem = "a zone file is not validated: ask a validating resolver (--nameserver)"
        raise errors.ConfigError([errors.Problem("--dnssec", "", problem)])
    addresses, person = split_addresses(addresses, options.login)
    if person is None:  # only a person (--login, --address ADDRESS) asks the directory anything
        settings = dataclasses.replace(settings, directory=None)
    with Service.load(settings) as service:
        [(provider, (name,))] = service.catalog.select(domain)
        provider = with_hosts(provider, cname, addresses)
        found = []
        credentials = account = None
        if person is not None:
            option = "--login" if options.login is not None else "--address"
            account = anyio.run(people.account_of, service, provider, name, person, option)
            found.append(people.login_check(account, name))
        if account is not None and options.login is not None:
            if options.password_file is not None:
                password = people.read_password(options.password_file)
            else:
                password = click.prompt(
                    f"Password of {options.login}",
                    hide_input=True,
                    err=True,
                    default="",
                    show_default=False,
                )
            if not password:
                raise errors.ConfigError([errors.Problem("--login", "", "no password given")])
            credentials = people.credentials(account, password)
    checks = found + diagnose(provider, name, options, credentials, account, dnssec)
    click.echo(PRINTERS[options.format](checks), nl=False)
    if options.prometheus is not None:
        try:
            write_atomically(options.prometheus, prometheus(checks, name))
        except OSError as exc:
            where = str(options.prometheus)
            problem = f"cannot be written: {exc.strerror or exc}"
            raise errors.ConfigError([errors.Problem("--prometheus", where, problem)]) from exc
    if failed(checks):
        raise click.exceptions.Exit(1)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``autoconfig`` command."""
    return cli.main(args=argv, prog_name="autoconfig")
