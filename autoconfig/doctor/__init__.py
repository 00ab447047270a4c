"""``autoconfig doctor``: checks a live deployment against a profile.

The DNS records ``autoconfig dns`` prints are looked up (:mod:`.dnschecks`); the HTTPS hosts are
fetched, their certificates checked and the settings they serve compared with the profile
(:mod:`.httpschecks`). Every check gives a :class:`Check` row: pass, warn or fail, what was found,
and how to fix it. Every network step has a timeout, so the doctor never hangs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a check result, not a secret
    WARN = "warn"
    """Worth a look, but clients still work (e.g. the main website does not forward)."""
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class Options:
    """How to reach the deployment. ``nameserver``: ``IP`` or ``IP:PORT`` (default: the system's
    resolver); ``port``: the HTTPS port; ``ca_file``: extra trusted roots (default: the system's)."""

    nameserver: str | None = None
    port: int = 443
    ca_file: Path | None = None
    timeout: float = 5.0
    min_days: int = 14


def failed(checks: list[Check]) -> bool:
    return any(check.status is Status.FAIL for check in checks)
