"""Service settings: where the profiles and the directory are. Provider data lives in profiles.

Settings come from CLI options or ``AUTOCONFIG_*`` environment variables (the CLI reads both; the
web workers started by ``autoconfig serve`` read the environment the CLI prepared for them).
Nothing is read at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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
        return env


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
