"""Service settings: where the profiles and the directory are, how lookups are bounded, how the
server runs. Provider data lives in profiles.

Each setting is a dataclass field whose metadata (:class:`Spec`) names its command-line option, its
``AUTOCONFIG_*`` environment variable and what it accepts; its default is the field's default. That
is the only place those facts are written: the CLI builds its options from the fields
(``autoconfig.cli.options``), :meth:`Settings.from_env` and :meth:`Settings.to_env` read and write
the environment the workers of ``autoconfig serve`` start with, and a test checks that the README
documents every variable. Nothing is read at import time.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from autoconfig.errors import ConfigError, Problem

PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """A folder or file shipped with the project (``profiles``, ``demo``, ``templates``,
    ``locale``, ``Caddyfile``, ``deploy``): inside an installed wheel, or beside the package in a
    source checkout. Never relative to the current directory."""
    installed = PACKAGE_DIR / "_data" / name
    if installed.exists():
        return installed
    return PACKAGE_DIR.parent / name


def default_profiles() -> Path:
    return data_dir("profiles")


def demo_directory() -> Path:
    return data_dir("demo") / "staff.csv"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Kind(StrEnum):
    """What a setting's text means, in an option or an environment variable."""

    TEXT = "text"
    INT = "int"
    """A whole number, within the spec's range on the command line, >= 0 in the environment."""
    FLOAT = "float"
    PATH = "path"
    CHOICE = "choice"
    NETWORKS = "networks"
    """IP addresses or networks, separated by commas or spaces (repeatable option)."""


@dataclass(frozen=True, slots=True)
class Spec:
    """How one setting is given. ``option`` is ``None`` for a value read only from the
    environment (a secret that must not appear in a process listing)."""

    env: str
    help: str
    option: str | None = None
    kind: Kind = Kind.TEXT
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    show_default: str | bool = True
    secret: bool = False
    file: bool = False
    """A path that must name a file, not a folder."""
    exists: bool = False
    """A path that must exist when given."""
    credential: str | None = None
    """The systemd credential (``LoadCredential=NAME:…``) that gives this file when the setting
    is not set: ``$CREDENTIALS_DIRECTORY/NAME``, used only if it is there and not blank (the
    shipped unit gives every credential a blank default, ``SetCredential=NAME:\\n``, so that a
    missing file does not stop the service)."""


def setting(spec: Spec, default: Any = None, factory: Callable[[], Any] | None = None) -> Any:
    """A dataclass field described by ``spec``: its default, or a factory computing it."""
    if factory is not None:
        return field(default_factory=factory, metadata={"spec": spec})
    return field(default=default, metadata={"spec": spec}, repr=not spec.secret)


def specs(cls: type[Any]) -> Iterator[tuple[dataclasses.Field[Any], Spec]]:
    """The settings fields of a settings class, in order, with their specs."""
    for item in dataclasses.fields(cls):
        spec = item.metadata.get("spec")
        if spec is not None:
            yield item, spec


def default_of(item: dataclasses.Field[Any]) -> Any:
    if item.default_factory is not dataclasses.MISSING:
        return item.default_factory()
    return None if item.default is dataclasses.MISSING else item.default


CREDENTIALS_DIRECTORY = "CREDENTIALS_DIRECTORY"
"""Where systemd puts the files of a unit's ``LoadCredential=`` (readable by the service's user
only, whatever the owner of the originals)."""


def credential_file(spec: Spec, env: Mapping[str, str]) -> Path | None:
    """The file the credential of ``spec`` names, when systemd gave the service one that is not
    blank (whitespace only)."""
    folder = env.get(CREDENTIALS_DIRECTORY)
    if spec.credential is None or not folder:
        return None
    path = Path(folder) / spec.credential
    try:
        return path if path.read_bytes().strip() else None
    except OSError:
        return None


def parse_networks(text: str, problems: list[Problem], key: str) -> tuple[Network, ...]:
    """Addresses or networks (``10.0.0.1``, ``10.0.0.0/8``, ``::1``) separated by commas or spaces."""
    networks: list[Network] = []
    for item in text.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            problems.append(
                Problem(
                    key, "", f"{item!r} is not an IP address or network (expected e.g. 10.0.0.0/8)"
                )
            )
    return tuple(networks)


def _from_text(spec: Spec, text: str, default: Any, problems: list[Problem]) -> Any:
    """The value of an environment variable's ``text``; ``default`` (and a problem) when invalid."""
    if spec.kind is Kind.NETWORKS:
        return parse_networks(text, problems, spec.env)
    text = text.strip()
    if not text:
        return default
    if spec.kind is Kind.PATH:
        return Path(text)
    if spec.kind in (Kind.INT, Kind.FLOAT):
        number = int if spec.kind is Kind.INT else float
        try:
            value = number(text)
            if not math.isfinite(value) or value < 0:
                raise ValueError
        except ValueError:
            what = "whole number" if spec.kind is Kind.INT else "number"
            problems.append(Problem(spec.env, "", f"{text!r} is not a {what} >= 0"))
            return default
        return value
    if spec.kind is Kind.CHOICE and text not in spec.choices:
        expected = ", ".join(spec.choices)
        problems.append(
            Problem(spec.env, "", f"{text!r} is not allowed (expected one of {expected})")
        )
        return default
    return text


def _to_text(spec: Spec, value: Any) -> str:
    if spec.kind is Kind.NETWORKS:
        return ",".join(str(n) for n in value)
    return str(value)


class EnvSettings:
    """Reading and writing a settings class through its fields' environment variables."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """The settings the environment gives (each unset variable: the default); a
        :class:`ConfigError` listing every invalid value."""
        env = os.environ if env is None else env
        problems: list[Problem] = []
        values = cls._values(env, problems)
        if problems:
            raise ConfigError(problems)
        return cls(**values)

    @classmethod
    def _values(cls, env: Mapping[str, str], problems: list[Problem]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for item, spec in specs(cls):
            default = default_of(item)
            text = env.get(spec.env)
            values[item.name] = (
                default if text is None else _from_text(spec, text, default, problems)
            )
            if values[item.name] is None:
                values[item.name] = credential_file(spec, env)
        return values

    @classmethod
    def with_options(cls, options: Mapping[str, Any], **values: Any) -> Self:
        """The settings given by command-line ``options`` (by field name) and ``values``; the
        fields without an option (the LDAP password) from the environment."""
        problems: list[Problem] = []
        options = dict(options)
        for item, spec in specs(cls):
            if spec.option is None and (text := os.environ.get(spec.env)) is not None:
                values[item.name] = _from_text(spec, text, default_of(item), problems)
            unset = options.get(item.name, values.get(item.name)) is None
            if unset and (path := credential_file(spec, os.environ)) is not None:
                options[item.name] = path
        if problems:
            raise ConfigError(problems)
        return cls(**options, **values)

    def to_env(self) -> dict[str, str]:
        """The environment that makes :meth:`from_env` give back these settings (unset values
        and empty lists left out)."""
        env: dict[str, str] = {}
        for item, spec in specs(type(self)):
            value = getattr(self, item.name)
            if value is not None and value != ():
                env[spec.env] = _to_text(spec, value)
        return env


@dataclass(frozen=True, slots=True)
class LookupSettings(EnvSettings):
    """How directory lookups are bounded, cached and limited, and how the LDAP backend connects.

    The LDAP bind password is never an option: it comes from ``AUTOCONFIG_LDAP_PASSWORD_FILE``
    (preferred) or ``AUTOCONFIG_LDAP_PASSWORD``, and is left out of ``repr``.
    """

    timeout_ms: int = setting(
        Spec(
            "AUTOCONFIG_DIRECTORY_TIMEOUT",
            "Time budget of one directory lookup; past it the answer carries the fallback login.",
            "--directory-timeout",
            Kind.INT,
            1,
            10_000,
            metavar="MS",
        ),
        300,
    )
    hit_ttl: int = setting(
        Spec(
            "AUTOCONFIG_DIRECTORY_CACHE_TTL",
            "How long a login found in the directory is reused (0: not cached).",
            "--directory-cache-ttl",
            Kind.INT,
            0,
            86_400,
            metavar="SECONDS",
        ),
        600,
    )
    miss_ttl: int = setting(
        Spec(
            "AUTOCONFIG_DIRECTORY_MISS_TTL",
            "How long an address the directory does not know is remembered (0: not cached).",
            "--directory-miss-ttl",
            Kind.INT,
            0,
            86_400,
            metavar="SECONDS",
        ),
        60,
    )
    rate_limit: int = setting(
        Spec(
            "AUTOCONFIG_DIRECTORY_RATE_LIMIT",
            "Distinct people whose looked-up login one client address may get per minute "
            "(0: no limit; asking again for the same person costs nothing).",
            "--directory-rate-limit",
            Kind.INT,
            0,
            1_000_000,
            metavar="N",
        ),
        30,
    )
    rate_limit_exempt: tuple[Network, ...] = setting(
        Spec(
            "AUTOCONFIG_DIRECTORY_RATE_LIMIT_EXEMPT",
            "Network the per-client limit never applies to, e.g. the schools' own (repeatable; "
            "env: comma- or space-separated).",
            "--directory-rate-limit-exempt",
            Kind.NETWORKS,
            metavar="IP|NET",
            show_default=False,
        ),
        (),
    )
    rate_limit_dir: Path | None = setting(
        Spec(
            "AUTOCONFIG_DIRECTORY_RATE_LIMIT_DIR",
            "Folder the per-client limit is kept in: every instance on this host that names the "
            "same folder holds one limit with the others (default: each server its own).",
            "--directory-rate-limit-dir",
            Kind.PATH,
            exists=True,
            metavar="DIR",
            show_default=False,
        )
    )
    shared_dir: Path | None = setting(
        Spec(
            "AUTOCONFIG_SHARED_DIR",
            "Folder the workers of one server share the per-client limit in (set by "
            "`autoconfig serve --workers N` itself).",
            kind=Kind.PATH,
        )
    )
    ldap_timeout: float = setting(
        Spec(
            "AUTOCONFIG_LDAP_TIMEOUT",
            "Connect and receive timeout of each LDAP operation.",
            "--ldap-timeout",
            Kind.FLOAT,
            0.1,
            60,
            metavar="SECONDS",
        ),
        2.0,
    )
    ldap_ca_file: Path | None = setting(
        Spec(
            "AUTOCONFIG_LDAP_CA_FILE",
            "CA certificates (PEM) checking the LDAP server (default: the system's).",
            "--ldap-ca-file",
            Kind.PATH,
            file=True,
            show_default=False,
        )
    )
    ldap_bind_dn: str | None = setting(
        Spec(
            "AUTOCONFIG_LDAP_BIND_DN",
            "DN to bind as (password: AUTOCONFIG_LDAP_PASSWORD_FILE or AUTOCONFIG_LDAP_PASSWORD).",
            "--ldap-bind-dn",
            metavar="DN",
            show_default=False,
        )
    )
    ldap_password_file: Path | None = setting(
        Spec(
            "AUTOCONFIG_LDAP_PASSWORD_FILE",
            "File whose first line is the bind password.",
            "--ldap-password-file",
            Kind.PATH,
            file=True,
            show_default=False,
            credential="ldap-password",
        )
    )
    ldap_password: str | None = setting(
        Spec("AUTOCONFIG_LDAP_PASSWORD", "The bind password itself (prefer the file).", secret=True)
    )
    watch_interval: float = setting(
        Spec(
            "AUTOCONFIG_DIRECTORY_WATCH_INTERVAL",
            "How often each worker looks at a CSV or SQLite directory file: a replaced one is "
            "loaded once it has stayed the same for that long, and swapped in if it is valid "
            "(0: only on SIGHUP).",
            "--directory-watch-interval",
            Kind.FLOAT,
            0,
            3600,
            metavar="SECONDS",
        ),
        2.0,
    )


@dataclass(frozen=True)  # no slots: a slotted class breaks super() in its methods
class Settings(EnvSettings):
    """What the service loads at start: one folder of profiles and, optionally, one directory
    and the certificate that signs Apple profiles (its key and intermediates); how lookups are
    bounded; which proxies name the client."""

    profiles: Path = setting(
        Spec(
            "AUTOCONFIG_PROFILES",
            "Folder of provider profiles (*.toml).",
            "--profiles",
            Kind.PATH,
            show_default="the project's profiles/",
        ),
        factory=default_profiles,
    )
    directory: str | None = setting(
        Spec(
            "AUTOCONFIG_DIRECTORY",
            "Login directory: a .csv or .sqlite file mapping addresses to login IDs, or an LDAP URL "
            "(ldap[s]://host:port/base-dn?uid[,displayName]?sub?(mail={email})[?!StartTLS]).",
            "--directory",
            metavar="FILE|URL",
            show_default=False,
        )
    )
    signing_cert: Path | None = setting(
        Spec(
            "AUTOCONFIG_SIGNING_CERT",
            "Certificate that signs Apple profiles (PEM; may be a full chain). Unsigned without it.",
            "--signing-cert",
            Kind.PATH,
            file=True,
            metavar="FILE",
            show_default=False,
            credential="signing-cert",
        )
    )
    signing_key: Path | None = setting(
        Spec(
            "AUTOCONFIG_SIGNING_KEY",
            "Unencrypted private key of the signing certificate (default: the certificate file).",
            "--signing-key",
            Kind.PATH,
            file=True,
            metavar="FILE",
            show_default=False,
            credential="signing-key",
        )
    )
    signing_chain: Path | None = setting(
        Spec(
            "AUTOCONFIG_SIGNING_CHAIN",
            "Intermediate certificates sent with the signature (PEM).",
            "--signing-chain",
            Kind.PATH,
            file=True,
            metavar="FILE",
            show_default=False,
            credential="signing-chain",
        )
    )
    lookup: LookupSettings = field(default_factory=LookupSettings)
    trusted_proxies: tuple[Network, ...] = setting(
        Spec(
            "AUTOCONFIG_TRUSTED_PROXIES",
            "Proxy whose X-Forwarded-For names the client (repeatable; env: comma-separated).",
            "--trusted-proxy",
            Kind.NETWORKS,
            metavar="IP|NET",
            show_default=False,
        ),
        (),
    )

    @classmethod
    def _values(cls, env: Mapping[str, str], problems: list[Problem]) -> dict[str, Any]:
        lookup = LookupSettings(**LookupSettings._values(env, problems))
        return {**super()._values(env, problems), "lookup": lookup}

    def to_env(self) -> dict[str, str]:
        return {**super().to_env(), **self.lookup.to_env()}

    def resolved(self) -> Settings:
        """These settings with absolute paths, for processes that may not share the current
        directory."""
        files = {
            name: path.resolve()
            for name in ("profiles", "signing_cert", "signing_key", "signing_chain")
            if (path := getattr(self, name)) is not None
        }
        return dataclasses.replace(self, **files)


LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("plain", "json")


@dataclass(frozen=True, slots=True)
class ServerSettings(EnvSettings):
    """How ``autoconfig serve`` runs: where it listens, how many workers, how it logs and stops."""

    host: str = setting(Spec("AUTOCONFIG_HOST", "Address to listen on.", "--host"), "127.0.0.1")
    port: int = setting(
        Spec("AUTOCONFIG_PORT", "Port to listen on.", "--port", Kind.INT, 1, 65535), 8000
    )
    workers: int = setting(
        Spec("AUTOCONFIG_WORKERS", "Worker processes.", "--workers", Kind.INT, 1, 64), 1
    )
    log_level: str = setting(
        Spec(
            "AUTOCONFIG_LOG_LEVEL",
            "Lowest level of the log lines written.",
            "--log-level",
            Kind.CHOICE,
            choices=LOG_LEVELS,
        ),
        "info",
    )
    log_format: str = setting(
        Spec(
            "AUTOCONFIG_LOG_FORMAT",
            "Log lines as plain text, or as one JSON object per line (UTC time, level, worker "
            "pid, request id).",
            "--log-format",
            Kind.CHOICE,
            choices=LOG_FORMATS,
        ),
        "plain",
    )
    shutdown_timeout: int = setting(
        Spec(
            "AUTOCONFIG_SHUTDOWN_TIMEOUT",
            "Seconds that requests in flight get to finish after SIGTERM.",
            "--shutdown-timeout",
            Kind.INT,
            1,
            600,
        ),
        20,
    )
