"""Run every check of a domain and print them: a table, one JSON array, or a Prometheus
textfile (for a nightly run that alerts on a change)."""

from __future__ import annotations

import json
import os
import tempfile
import textwrap
import time
from pathlib import Path

from autoconfig.doctor import Check, Options, Status
from autoconfig.doctor.clients import replay
from autoconfig.doctor.davchecks import dav_checks
from autoconfig.doctor.dnschecks import Resolver, dns_checks, dnssec_checks
from autoconfig.doctor.httpschecks import https_checks
from autoconfig.doctor.mailchecks import Credentials, mail_checks
from autoconfig.doctor.sitechecks import site_checks
from autoconfig.model import Account, Provider

MARK = {Status.PASS: "PASS", Status.WARN: "WARN", Status.FAIL: "FAIL"}
WIDTH = 100


def diagnose(
    provider: Provider,
    domain: str,
    options: Options,
    credentials: Credentials | None = None,
    account: Account | None = None,
    dnssec: bool = False,
) -> list[Check]:
    """DNS checks, HTTPS checks, each client's replay (for ``account``'s address when given),
    then the mail servers (logging in with ``credentials``), for one domain of ``provider``.
    ``dnssec``: the DNS answers must also have been validated."""
    resolver = Resolver.from_options(options, domain)
    checks = dns_checks(provider, domain, resolver)
    if dnssec:
        checks += dnssec_checks(provider, domain, resolver)
    return (
        checks
        + https_checks(provider, domain, resolver, options)
        + site_checks(provider, domain, resolver, options, _typed(account))
        + dav_checks(provider, domain, resolver, options)
        + replay(provider, domain, resolver, options, account)
        + mail_checks(provider.imap, provider.smtp, resolver, options, credentials)
    )


def _typed(account: Account | None) -> str | None:
    return str(account.address) if account is not None and account.address is not None else None


def table(checks: list[Check]) -> str:
    """One line per check (status, name, what was found), the fix indented below failures."""
    width = max(len(check.name) for check in checks)
    lines = []
    for check in checks:
        lines.append(f"{MARK[check.status]}  {check.name:<{width}}  {check.detail}")
        if check.hint and check.status is not Status.PASS:
            for line in textwrap.wrap(f"fix: {check.hint}", WIDTH - 6, break_on_hyphens=False):
                lines.append(f"      {line}")
    counts = {status: sum(c.status is status for c in checks) for status in Status}
    lines.append(
        f"{counts[Status.PASS]} passed, {counts[Status.WARN]} warnings, {counts[Status.FAIL]} failed"
    )
    return "\n".join(lines) + "\n"


def as_json(checks: list[Check]) -> str:
    """``--format json``: one array of ``{"check", "target", "status", "detail", "fix"}``."""
    return json.dumps([check.as_json() for check in checks], ensure_ascii=False, indent=2) + "\n"


PRINTERS = {"text": table, "json": as_json}

STATUS_VALUE = {Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2}
PROMETHEUS_HELP = (
    "# HELP autoconfig_doctor_check_status Result of one doctor check: 0 pass, 1 warn, 2 fail.\n"
    "# TYPE autoconfig_doctor_check_status gauge\n"
)


def _label(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus(checks: list[Check], domain: str, now: float | None = None) -> str:
    """The checks in the Prometheus text format, for node_exporter's textfile collector: one
    status per (check, target), the count per status, and the time of the run. Details are left
    out (they may name a person); targets are records, hosts and URLs."""
    lines = [PROMETHEUS_HELP.rstrip("\n")]
    for check in checks:
        labels = (
            f'domain="{_label(domain)}",check="{_label(check.check)}",'
            f'target="{_label(check.target)}"'
        )
        lines.append(f"autoconfig_doctor_check_status{{{labels}}} {STATUS_VALUE[check.status]}")
    lines += [
        "# HELP autoconfig_doctor_checks Number of doctor checks per status in the last run.",
        "# TYPE autoconfig_doctor_checks gauge",
    ]
    for status in Status:
        count = sum(check.status is status for check in checks)
        lines.append(
            f'autoconfig_doctor_checks{{domain="{_label(domain)}",status="{status}"}} {count}'
        )
    lines += [
        "# HELP autoconfig_doctor_last_run_timestamp_seconds When the doctor last ran.",
        "# TYPE autoconfig_doctor_last_run_timestamp_seconds gauge",
        f'autoconfig_doctor_last_run_timestamp_seconds{{domain="{_label(domain)}"}} '
        f"{time.time() if now is None else now:.0f}",
    ]
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` at once (the textfile collector never reads half a file)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as sink:
            sink.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
