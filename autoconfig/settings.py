"""Service settings: where the profiles and the directory are. Provider data lives in profiles.

Settings come from CLI options or ``AUTOCONFIG_*`` environment variables (the CLI reads both; the
web workers started by ``autoconfig serve`` read the environment the CLI prepared for them).
Nothing is read at import time.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from autoconfig.errors import ConfigError, Problem

PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """A folder shipped with the project (``profiles``, ``demo``): inside an installed wheel, or
    beside the package in a source checkout. Never relative to the current directory."""
    installed = PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / name


def default_profiles() -> Path:
    return data_dir("profiles")


def demo_directory() -> Path:
    return data_dir("demo") / "staff.csv"


@dataclass(frozen=True, slots=True)
class Settings:
    """What the service loads at start: one folder of profiles and, optionally, one directory
    and the certificate that signs Apple profiles (its key and intermediates)."""

    profiles: Path
    directory: str | None = None
    signing_cert: Path | None = None
    signing_key: Path | None = None
    signing_chain: Path | None = None
    lookup: LookupSettings = field(default_factory=lambda: LookupSettings())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        profiles = env.get("AUTOCONFIG_PROFILES")
        return cls(
            profiles=Path(profiles) if profiles else default_profiles(),
            directory=env.get("AUTOCONFIG_DIRECTORY") or None,
            signing_cert=_path(env.get("AUTOCONFIG_SIGNING_CERT")),
            signing_key=_path(env.get("AUTOCONFIG_SIGNING_KEY")),
            signing_chain=_path(env.get("AUTOCONFIG_SIGNING_CHAIN")),
            lookup=LookupSettings.from_env(env),
        )

    def to_env(self) -> dict[str, str]:
        """The environment that makes :meth:`from_env` give back these settings."""
        env = {"AUTOCONFIG_PROFILES": str(self.profiles)}
        if self.directory:
            env["AUTOCONFIG_DIRECTORY"] = self.directory
        for name, path in (
            ("AUTOCONFIG_SIGNING_CERT", self.signing_cert),
            ("AUTOCONFIG_SIGNING_KEY", self.signing_key),
            ("AUTOCONFIG_SIGNING_CHAIN", self.signing_chain),
        ):
            if path is not None:
                env[name] = str(path)
        env.update(self.lookup.to_env())
        return env


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class LookupSettings:
    """How directory lookups are bounded, cached and limited, and how the LDAP backend connects.

    The LDAP bind password is never an option: it comes from ``AUTOCONFIG_LDAP_PASSWORD_FILE``
    (preferred) or ``AUTOCONFIG_LDAP_PASSWORD``, and is left out of ``repr``.
    """

    timeout_ms: int = 300
    """Total time budget of one lookup; past it the answer carries the fallback login."""
    hit_ttl: int = 600
    """Seconds a found login is reused before the directory is asked again."""
    miss_ttl: int = 60
    """Seconds an unknown address is remembered as unknown."""
    rate_limit: int = 30
    """Answers carrying a looked-up login per client address and minute (0: no limit)."""
    trusted_proxies: tuple[Network, ...] = ()
    """Peers whose ``X-Forwarded-For`` header names the client."""
    ldap_timeout: float = 2.0
    """Connect and receive timeout of one LDAP operation, in seconds."""
    ldap_ca_file: Path | None = None
    ldap_bind_dn: str | None = None
    ldap_password_file: Path | None = None
    ldap_password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LookupSettings:
        problems: list[Problem] = []

        def number(name: str, default: float, kind: type[int] | type[float]) -> float:
            text = env.get(name, "").strip()
            if not text:
                return default
            try:
                value = kind(text)
                if value < 0:
                    raise ValueError
            except ValueError:
                what = "whole number" if kind is int else "number"
                problems.append(Problem(name, "", f"{text!r} is not a {what} >= 0"))
                return default
            return value

        def path(name: str) -> Path | None:
            text = env.get(name, "").strip()
            return Path(text) if text else None

        defaults = cls()
        settings = cls(
            timeout_ms=int(number("AUTOCONFIG_DIRECTORY_TIMEOUT", defaults.timeout_ms, int)),
            hit_ttl=int(number("AUTOCONFIG_DIRECTORY_CACHE_TTL", defaults.hit_ttl, int)),
            miss_ttl=int(number("AUTOCONFIG_DIRECTORY_MISS_TTL", defaults.miss_ttl, int)),
            rate_limit=int(number("AUTOCONFIG_DIRECTORY_RATE_LIMIT", defaults.rate_limit, int)),
            trusted_proxies=parse_networks(env.get("AUTOCONFIG_TRUSTED_PROXIES", ""), problems),
            ldap_timeout=number("AUTOCONFIG_LDAP_TIMEOUT", defaults.ldap_timeout, float),
            ldap_ca_file=path("AUTOCONFIG_LDAP_CA_FILE"),
            ldap_bind_dn=env.get("AUTOCONFIG_LDAP_BIND_DN") or None,
            ldap_password_file=path("AUTOCONFIG_LDAP_PASSWORD_FILE"),
            ldap_password=env.get("AUTOCONFIG_LDAP_PASSWORD") or None,
        )
        if problems:
            raise ConfigError(problems)
        return settings

    def to_env(self) -> dict[str, str]:
        env = {
            "AUTOCONFIG_DIRECTORY_TIMEOUT": str(self.timeout_ms),
            "AUTOCONFIG_DIRECTORY_CACHE_TTL": str(self.hit_ttl),
            "AUTOCONFIG_DIRECTORY_MISS_TTL": str(self.miss_ttl),
            "AUTOCONFIG_DIRECTORY_RATE_LIMIT": str(self.rate_limit),
            "AUTOCONFIG_TRUSTED_PROXIES": ",".join(str(n) for n in self.trusted_proxies),
            "AUTOCONFIG_LDAP_TIMEOUT": str(self.ldap_timeout),
        }
        optional = {
            "AUTOCONFIG_LDAP_CA_FILE": self.ldap_ca_file,
            "AUTOCONFIG_LDAP_BIND_DN": self.ldap_bind_dn,
            "AUTOCONFIG_LDAP_PASSWORD_FILE": self.ldap_password_file,
            "AUTOCONFIG_LDAP_PASSWORD": self.ldap_password,
        }
        env.update({name: str(value) for name, value in optional.items() if value})
        return env


def parse_networks(
    text: str, problems: list[Problem], key: str = "AUTOCONFIG_TRUSTED_PROXIES"
) -> tuple[Network, ...]:
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
