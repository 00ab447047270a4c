"""Run every check of a domain and print them as a table."""

from __future__ import annotations

import textwrap

from autoconfig.doctor import Check, Options, Status
from autoconfig.doctor.dnschecks import Resolver, dns_checks
from autoconfig.doctor.httpschecks import https_checks
from autoconfig.model import Provider

MARK = {Status.PASS: "PASS", Status.WARN: "WARN", Status.FAIL: "FAIL"}
WIDTH = 100


def diagnose(provider: Provider, domain: str, options: Options) -> list[Check]:
    """DNS checks, then HTTPS checks, for one domain of ``provider``."""
    resolver = Resolver.from_options(options)
    return dns_checks(provider, domain, resolver) + https_checks(
        provider, domain, resolver, options
    )


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
