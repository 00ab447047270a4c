"""``autoconfig doctor``: checks a live deployment against a profile.

The DNS records ``autoconfig dns`` prints are looked up (:mod:`.dnschecks`); the HTTPS hosts are
fetched, their certificates checked and the settings they serve compared with the profile
(:mod:`.httpschecks`); the help site and the signed Apple profile (:mod:`.sitechecks`,
:mod:`.cms`), calendar and contacts (:mod:`.davchecks`), what each client would configure
(:mod:`.clients`) and the mail servers themselves (:mod:`.mailchecks`, with ``--login`` one real
login: :mod:`.people`) follow; :mod:`.report` runs them all and prints them. Every check gives a :class:`Check` row: pass, warn or fail, what was found,
and how to fix it. Every network step has a timeout, so the doctor never hangs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from autoconfig.settings import EnvSettings, Kind, Spec, setting


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a check result, not a secret
    WARN = "warn"
    """Worth a look, but clients still work (e.g. the main website does not forward)."""
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    """One result: which ``check`` (``DNS SRV``, ``TLS``, ``IMAP AUTH`` …) on which ``target`` (a
    record name, a host, a URL), its status, what was found, and how to fix it (``hint``)."""

    check: str
    target: str
    status: Status
    detail: str
    hint: str = ""

    @property
    def name(self) -> str:
        """The check and its target, as the table prints them."""
        return f"{self.check} {self.target}"

    def as_json(self) -> dict[str, str]:
        """The row ``--format json`` prints."""
        return {
            "check": self.check,
            "target": self.target,
            "status": str(self.status),
            "detail": self.detail,
            "fix": self.hint,
        }


FORMATS = ("text", "json")


@dataclass(frozen=True, slots=True)
class Options(EnvSettings):
    """How to reach the deployment (``autoconfig doctor``'s options)."""

    nameserver: str | None = setting(
        Spec(
            "AUTOCONFIG_DOCTOR_NAMESERVER",
            "Ask this name server (default: the system's resolver).",
            "--nameserver",
            metavar="IP[:PORT]",
            show_default=False,
        )
    )
    port: int = setting(
        Spec(
            "AUTOCONFIG_DOCTOR_PORT",
            "HTTPS port of the hosts (another one only for tests).",
            "--port",
            Kind.INT,
            1,
            65535,
        ),
        443,
    )
    ca_file: Path | None = setting(
        Spec(
            "AUTOCONFIG_DOCTOR_CA_FILE",
            "Also trust the CAs of this PEM file, e.g. Caddy's internal root in tests.",
            "--ca-file",
            Kind.PATH,
            show_default=False,
            file=True,
            exists=True,
        )
    )
    timeout: float = setting(
        Spec(
            "AUTOCONFIG_DOCTOR_TIMEOUT",
            "Seconds allowed to each DNS query and each HTTPS, IMAP or SMTP step.",
            "--timeout",
            Kind.FLOAT,
            0.1,
            60,
        ),
        5.0,
    )
    min_days: int = setting(
        Spec(
            "AUTOCONFIG_DOCTOR_MIN_DAYS",
            "Fail when a certificate expires in fewer days.",
            "--min-days",
            Kind.INT,
            0,
            365,
        ),
        14,
    )
    zone_file: Path | None = setting(
        Spec(
            "AUTOCONFIG_DOCTOR_ZONE_FILE",
            "Read the records from this zone file, asking no name server (before delegation).",
            "--zone-file",
            Kind.PATH,
            metavar="FILE",
            show_default=False,
            file=True,
            exists=True,
        )
    )
    login: str | None = setting(
        Spec(
            "AUTOCONFIG_DOCTOR_LOGIN",
            "Also log in to IMAP and SMTP as ADDRESS, with the login the service hands out "
            "(the password is asked for), and replay each client's set-up for ADDRESS.",
            "--login",
            metavar="ADDRESS",
            show_default=False,
        )
    )
    password_file: Path | None = setting(
        Spec(
            "AUTOCONFIG_DOCTOR_PASSWORD_FILE",
            "Read the password of --login from this file's first line instead of the terminal.",
            "--password-file",
            Kind.PATH,
            metavar="FILE",
            show_default=False,
            file=True,
            exists=True,
        )
    )
    format: str = setting(
        Spec(
            "AUTOCONFIG_DOCTOR_FORMAT",
            "Print a table (text) or one JSON array of checks (json).",
            "--format",
            Kind.CHOICE,
            choices=FORMATS,
        ),
        "text",
    )
    prometheus: Path | None = setting(
        Spec(
            "AUTOCONFIG_DOCTOR_PROMETHEUS",
            "Also write the results to FILE in Prometheus textfile format (replaced at once).",
            "--prometheus",
            Kind.PATH,
            metavar="FILE",
            show_default=False,
            file=True,
        )
    )


def failed(checks: list[Check]) -> bool:
    return any(check.status is Status.FAIL for check in checks)
