"""DNS checks: each group of records ``autoconfig dns`` prints, looked up live and compared."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
from dns.rdata import Rdata

from autoconfig.doctor import Check, Options, Status
from autoconfig.errors import ConfigError, Problem
from autoconfig.formats.dns import Record, records
from autoconfig.model import Provider


class LookupFailed(Exception):
    """The name server gave no usable answer (timeout, refusal)."""


@dataclass
class Resolver:
    """A dnspython resolver bound by ``Options`` (name server, timeouts). Once the name server
    has failed to answer, later lookups fail at once instead of waiting for it again."""

    resolver: dns.resolver.Resolver
    failure: str | None = None

    @classmethod
    def from_options(cls, options: Options) -> Resolver:
        if options.nameserver is None:
            resolver = dns.resolver.Resolver()
        else:
            resolver = dns.resolver.Resolver(configure=False)
            host, port = split_nameserver(options.nameserver)
            resolver.nameservers = [host]
            resolver.port = port
        resolver.timeout = options.timeout
        resolver.lifetime = options.timeout
        return cls(resolver)

    def lookup(self, name: str, rtype: str) -> list[Rdata]:
        """The records of ``name``/``rtype`` (empty when there are none); LookupFailed otherwise."""
        if self.failure is not None:
            raise LookupFailed(f"skipped, the name server failed before: {self.failure}")
        try:
            answer = self.resolver.resolve(name, rtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return []
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            self.failure = str(exc) or type(exc).__name__
            raise LookupFailed(self.failure) from exc
        return list(answer.rrset) if answer.rrset is not None else []

    def addresses(self, name: str) -> list[str]:
        """IPv4 then IPv6 addresses of ``name`` (following CNAMEs)."""
        found: list[str] = []
        for rtype in ("A", "AAAA"):
            found += [rdata.to_text() for rdata in self.lookup(name, rtype)]
        return found


def split_nameserver(text: str) -> tuple[str, int]:
    """``IP``, ``IP:PORT``, ``[IPv6]:PORT`` or a bare IPv6 address → (address, port);
    :class:`ConfigError` for anything else (a host name, a port that is not one)."""
    if text.startswith("["):
        host, closed, port = text[1:].partition("]")
        if not closed or (port and not port.startswith(":")):
            host = ""  # no ']', or text after it that is not a port
        port = port.removeprefix(":") or "53"
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, "53"
    try:
        address = ipaddress.ip_address(host)
        number = int(port) if port.isdigit() else 0
    except ValueError:
        address, number = None, 0
    if address is None or not 1 <= number <= 65535:
        raise ConfigError(
            [
                Problem(
                    "--nameserver",
                    "",
                    f"{text!r} is not a name server address "
                    "(expected IP, IP:PORT or [IPv6]:PORT, e.g. 192.0.2.53 or [::1]:5353)",
                )
            ]
        )
    return str(address), number


def _parse(record: Record) -> Rdata:
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(record.type), record.data)


def _describe(rdatas: Iterable[Rdata]) -> str:
    return ", ".join(sorted(rdata.to_text() for rdata in rdatas)) or "nothing"


def _srv_difference(found: Rdata, expected: Rdata) -> str:
    parts = []
    if found.target != expected.target:  # type: ignore[attr-defined]
        parts.append(f"points at {found.target} instead of {expected.target}")  # type: ignore[attr-defined]
    for field in ("port", "priority", "weight"):
        if getattr(found, field) != getattr(expected, field):
            parts.append(
                f"wrong {field}: {getattr(found, field)} instead of {getattr(expected, field)}"
            )
    return "; ".join(parts)


def compare(name: str, rtype: str, expected: Sequence[Record], found: list[Rdata]) -> Check:
    """One check row for one (name, type): the records found against those expected."""
    label = f"DNS {rtype} {name}"
    wanted = [_parse(r) for r in expected]
    lines = "; ".join(r.line() for r in expected)
    if not found:
        return Check(label, Status.FAIL, "missing", f"publish: {lines}")
    if set(found) == set(wanted):
        return Check(label, Status.PASS, _describe(found))
    if rtype == "SRV" and len(found) == 1 and len(wanted) == 1:
        return Check(
            label, Status.FAIL, _srv_difference(found[0], wanted[0]), f"replace it with: {lines}"
        )
    extra = [r for r in found if r not in wanted]
    missing = [r for r in wanted if r not in found]
    detail = f"found {_describe(found)}"
    hint = []
    if missing:
        hint.append(f"publish: {lines}")
    if extra:
        hint.append(f"remove: {_describe(extra)}")
    return Check(label, Status.FAIL, f"{detail}; expected {_describe(wanted)}", "; ".join(hint))


def _groups(expected: Sequence[Record]) -> dict[tuple[str, str], list[Record]]:
    groups: dict[tuple[str, str], list[Record]] = {}
    for record in expected:
        groups.setdefault((record.name, record.type), []).append(record)
    return groups


def host_checks(provider: Provider, domain: str, resolver: Resolver) -> list[Check]:
    """When the profile does not say where the hosts point: they must at least resolve."""
    if provider.dns.cname or provider.dns.addresses:
        return []
    checks = []
    for host in (f"autoconfig.{domain}", f"autodiscover.{domain}"):
        label = f"DNS A/AAAA {host}."
        try:
            found = resolver.addresses(host)
        except LookupFailed as exc:
            checks.append(Check(label, Status.FAIL, f"no answer: {exc}", "check --nameserver"))
            continue
        if found:
            checks.append(Check(label, Status.PASS, ", ".join(found)))
        else:
            hint = "point it at the HTTPS front (A/AAAA or CNAME), or set dns.addresses/dns.cname"
            checks.append(Check(label, Status.FAIL, "does not resolve", hint))
    return checks


def dns_checks(provider: Provider, domain: str, resolver: Resolver) -> list[Check]:
    """Every record of ``autoconfig dns`` for ``domain``, looked up and compared."""
    checks = host_checks(provider, domain, resolver)
    for (name, rtype), expected in _groups(records(provider, domain)).items():
        try:
            found = resolver.lookup(name, rtype)
        except LookupFailed as exc:
            hint = "is the name server right (--nameserver) and does it answer for this zone?"
            checks.append(Check(f"DNS {rtype} {name}", Status.FAIL, f"no answer: {exc}", hint))
            continue
        if rtype != "CNAME":
            # resolve() follows CNAMEs; a record of another type at the name is what counts here.
            found = [r for r in found if r.rdtype == dns.rdatatype.from_text(rtype)]
        checks.append(compare(name, rtype, expected, found))
    return checks
