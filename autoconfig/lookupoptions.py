"""The command-line options that tune directory lookups, shared by the commands that load a
directory (``serve``, ``check``, ``render``, ``directory lookup``). Each also reads an
``AUTOCONFIG_*`` variable; the LDAP bind password is only read from the environment or a file.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from autoconfig import errors
from autoconfig.settings import LookupSettings, parse_networks


def _networks(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> Any:
    problems: list[errors.Problem] = []
    networks = parse_networks(" ".join(value), problems, "--trusted-proxy")
    if problems:
        raise click.BadParameter("; ".join(p.message for p in problems))
    return networks


LOOKUP_OPTIONS = [
    click.option(
        "--directory-timeout",
        envvar="AUTOCONFIG_DIRECTORY_TIMEOUT",
        default=300,
        show_default=True,
        type=click.IntRange(1, 10_000),
        metavar="MS",
        help="Time budget of one directory lookup; past it the answer carries the fallback login.",
    ),
    click.option(
        "--directory-cache-ttl",
        envvar="AUTOCONFIG_DIRECTORY_CACHE_TTL",
        default=600,
        show_default=True,
        type=click.IntRange(0, 86_400),
        metavar="SECONDS",
        help="How long a login found in the directory is reused (0: not cached).",
    ),
    click.option(
        "--directory-miss-ttl",
        envvar="AUTOCONFIG_DIRECTORY_MISS_TTL",
        default=60,
        show_default=True,
        type=click.IntRange(0, 86_400),
        metavar="SECONDS",
        help="How long an address the directory does not know is remembered (0: not cached).",
    ),
    click.option(
        "--directory-rate-limit",
        envvar="AUTOCONFIG_DIRECTORY_RATE_LIMIT",
        default=30,
        show_default=True,
        type=click.IntRange(0, 1_000_000),
        metavar="N",
        help="Answers carrying a looked-up login per client address and minute (0: no limit).",
    ),
    click.option(
        "--trusted-proxy",
        "trusted_proxies",
        envvar="AUTOCONFIG_TRUSTED_PROXIES",
        multiple=True,
        callback=_networks,
        metavar="IP|NET",
        help="Proxy whose X-Forwarded-For names the client (repeatable; env: comma-separated).",
    ),
    click.option(
        "--ldap-timeout",
        envvar="AUTOCONFIG_LDAP_TIMEOUT",
        default=2.0,
        show_default=True,
        type=click.FloatRange(0.1, 60),
        metavar="SECONDS",
        help="Connect and receive timeout of each LDAP operation.",
    ),
    click.option(
        "--ldap-ca-file",
        envvar="AUTOCONFIG_LDAP_CA_FILE",
        type=click.Path(dir_okay=False, path_type=Path),
        help="CA certificates (PEM) checking the LDAP server (default: the system's).",
    ),
    click.option(
        "--ldap-bind-dn",
        envvar="AUTOCONFIG_LDAP_BIND_DN",
        metavar="DN",
        help="DN to bind as (password: AUTOCONFIG_LDAP_PASSWORD_FILE or AUTOCONFIG_LDAP_PASSWORD).",
    ),
    click.option(
        "--ldap-password-file",
        envvar="AUTOCONFIG_LDAP_PASSWORD_FILE",
        type=click.Path(dir_okay=False, path_type=Path),
        help="File whose first line is the bind password.",
    ),
]


def lookup_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the directory tuning options; the command receives them as one ``lookup`` argument."""

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        lookup = LookupSettings(
            timeout_ms=kwargs.pop("directory_timeout"),
            hit_ttl=kwargs.pop("directory_cache_ttl"),
            miss_ttl=kwargs.pop("directory_miss_ttl"),
            rate_limit=kwargs.pop("directory_rate_limit"),
            trusted_proxies=kwargs.pop("trusted_proxies"),
            ldap_timeout=kwargs.pop("ldap_timeout"),
            ldap_ca_file=kwargs.pop("ldap_ca_file"),
            ldap_bind_dn=kwargs.pop("ldap_bind_dn") or None,
            ldap_password_file=kwargs.pop("ldap_password_file"),
            ldap_password=os.environ.get("AUTOCONFIG_LDAP_PASSWORD") or None,
        )
        return command(lookup=lookup, **kwargs)

    for option in reversed(LOOKUP_OPTIONS):
        wrapper = option(wrapper)
    return wrapper
