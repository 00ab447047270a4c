"""A profile's optional ``[dns]`` table: what ``autoconfig dns`` publishes beyond the mail servers,
and the same checks for the host records given on the command line instead (``--cname``,
``--address``)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from autoconfig.errors import ConfigError, Problem
from autoconfig.model import DEFAULT_TTL, MAIL_SERVICES, DnsPolicy, Provider, Security, Server
from autoconfig.profiles.reader import MISSING, Reader, host_name

MIN_TTL, MAX_TTL = 60, 604800


def _ip_address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _service(text: str) -> str | None:
    return text if text in MAIL_SERVICES else None


def offered_services(imap: Server | None, smtp: Server | None) -> set[str]:
    """The RFC 6186 / 8314 labels of the services a profile's servers provide."""
    offered = set()
    if imap is not None:
        offered.add("imaps" if imap.security is Security.TLS else "imap")
    if smtp is not None:
        offered.add("submissions" if smtp.security is Security.TLS else "submission")
    return offered


def parse(parent: Reader, imap: Server | None, smtp: Server | None) -> DnsPolicy | None:
    """The optional ``[dns]`` table; ``DnsPolicy()`` when absent, ``None`` when invalid."""
    table = parent.table("dns", required=False)
    if table is None:
        return None if parent.has("dns") else DnsPolicy()
    problems_before = len(table.problems)
    ttl = table.raw("ttl", False)
    if ttl is MISSING:
        ttl = DEFAULT_TTL
    elif isinstance(ttl, bool) or not isinstance(ttl, int) or not MIN_TTL <= ttl <= MAX_TTL:
        table.problem("ttl", f"{ttl!r} is not a TTL (expected seconds, {MIN_TTL}-{MAX_TTL})")
    cname = table.hostname("cname") if table.has("cname") else None
    addresses: tuple[str, ...] = ()
    if table.has("addresses"):
        addresses = (
            table.strings(
                "addresses", _ip_address, "an IP address (expected e.g. 192.0.2.10 or 2001:db8::10)"
            )
            or ()
        )
        if cname is not None and addresses:
            table.problem(
                "addresses",
                "is set together with dns.cname (expected one of them: a name with a CNAME "
                "cannot have other records)",
            )
    absent: tuple[str, ...] = ()
    if table.has("absent"):
        expected = f"a mail service label (expected one of {', '.join(MAIL_SERVICES)})"
        absent = table.strings("absent", _service, expected) or ()
        for label in sorted(set(absent) & offered_services(imap, smtp)):
            table.problem(
                "absent", f"{label!r} is offered by this profile's servers (expected it not listed)"
            )
        if len(set(absent)) != len(absent):
            table.problem("absent", f"{list(absent)!r} lists a service twice")
    table.finish()
    if len(table.problems) > problems_before:
        return None
    return DnsPolicy(ttl, cname, addresses, absent)


def with_hosts(provider: Provider, cname: str | None, addresses: tuple[str, ...]) -> Provider:
    """``provider`` with the host records given on the command line instead of its ``[dns]``
    ones, checked as the profile's are; a :class:`ConfigError` naming each bad option."""
    if not cname and not addresses:
        return provider
    problems: list[Problem] = []
    if cname and addresses:
        problems.append(
            Problem("--cname and --address", "", "exclude each other (a CNAME stands alone)")
        )
    name = host_name(cname) if cname else None
    if cname and name is None:
        problems.append(Problem("--cname", "", f"{cname!r} is not a host name"))
    for address in addresses:
        if _ip_address(address) is None:
            problems.append(Problem("--address", "", f"{address!r} is not an IP address"))
    if problems:
        raise ConfigError(problems)
    return replace(provider, dns=replace(provider.dns, cname=name, addresses=addresses))
