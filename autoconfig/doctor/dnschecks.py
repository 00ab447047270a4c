"""DNS checks: each group of records ``autoconfig dns`` prints, looked up live and compared."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.zone
from dns.rdata import Rdata

from autoconfig.doctor import Check, Options, Status
from autoconfig.errors import ConfigError, Problem
from autoconfig.formats.dns import Record, hosts, records
from autoconfig.model import Provider


class LookupFailed(Exception):
    """The name server gave no usable answer (timeout, refusal)."""


@dataclass
class Resolver:
    """A dnspython resolver bound by ``Options`` (name server, timeouts). Once the name server
    has failed to answer, later lookups fail at once instead of waiting for it again."""

    resolver: dns.resolver.Resolver
    failure: str | None = None
    zone: dns.zone.Zone | None = None
    """With ``--zone-file``: the records are read from it, no name server is asked."""
    authenticated: dict[tuple[str, str], bool] = dataclasses.field(default_factory=dict)
    """Per (name, type) looked up: whether the answer carried the AD flag (validated)."""

    @classmethod
    def from_options(cls, options: Options, origin: str | None = None) -> Resolver:
        """The resolver ``options`` describe; ``origin``: the zone file's origin when the file
        has no ``$ORIGIN`` (the domain checked)."""
        if options.zone_file is not None:
            return cls(dns.resolver.Resolver(configure=False), zone=read_zone(options, origin))
        if options.nameserver is None:
            resolver = dns.resolver.Resolver()
        else:
            resolver = dns.resolver.Resolver(configure=False)
            host, port = split_nameserver(options.nameserver)
            resolver.nameservers = [host]
            resolver.port = port
        resolver.timeout = options.timeout
        resolver.lifetime = options.timeout
        # AD in the query: a validating resolver says whether it validated (RFC 6840 §5.7).
        resolver.flags = dns.flags.RD | dns.flags.AD
        return cls(resolver)

    def lookup(self, name: str, rtype: str) -> list[Rdata]:
        """The records of ``name``/``rtype`` (empty when there are none); LookupFailed otherwise."""
        if self.zone is not None:
            return zone_lookup(self.zone, name, rtype)
        if self.failure is not None:
            raise LookupFailed(f"skipped, the name server failed before: {self.failure}")
        try:
            answer = self.resolver.resolve(name, rtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return []
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            self.failure = str(exc) or type(exc).__name__
            raise LookupFailed(self.failure) from exc
        self.authenticated[(name, rtype)] = bool(answer.response.flags & dns.flags.AD)
        return list(answer.rrset) if answer.rrset is not None else []

    def addresses(self, name: str) -> list[str]:
        """IPv4 then IPv6 addresses of ``name`` (following CNAMEs)."""
        found: list[str] = []
        for rtype in ("A", "AAAA"):
            found += [rdata.to_text() for rdata in self.lookup(name, rtype)]
        return found


def read_zone(options: Options, origin: str | None) -> dns.zone.Zone:
    """The zone file of ``--zone-file`` (SOA and NS not required: the lines ``autoconfig dns``
    prints are a zone file); a :class:`ConfigError` saying where it is wrong."""
    assert options.zone_file is not None
    try:
        return dns.zone.from_file(
            str(options.zone_file), origin=origin, relativize=False, check_origin=False
        )
    except (OSError, dns.exception.DNSException) as exc:
        raise ConfigError(
            [Problem("--zone-file", str(options.zone_file), str(exc) or type(exc).__name__)]
        ) from exc


MAX_CNAMES = 8


def zone_lookup(zone: dns.zone.Zone, name: str, rtype: str) -> list[Rdata]:
    """The records of ``name``/``rtype`` in ``zone``, following CNAMEs inside it as a resolver
    would; LookupFailed for a name the zone file cannot answer for."""
    wanted = dns.rdatatype.from_text(rtype)
    qname = dns.name.from_text(name)
    origin = zone.origin
    assert origin is not None, "a zone read from a file has an origin"
    for _ in range(MAX_CNAMES):
        if not qname.is_subdomain(origin):
            raise LookupFailed(f"{qname} is outside the zone file ({zone.origin})")
        node = zone.get_node(qname)
        if node is None:
            return []
        found = node.get_rdataset(dns.rdataclass.IN, wanted)
        if found is not None:
            return list(found)
        alias = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
        if alias is None:
            return []
        qname = alias[0].target
    raise LookupFailed(f"more than {MAX_CNAMES} CNAMEs from {name}")


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
    label = (f"DNS {rtype}", name)
    wanted = [_parse(r) for r in expected]
    lines = "; ".join(r.line() for r in expected)
    if not found:
        return Check(*label, Status.FAIL, "missing", f"publish: {lines}")
    if set(found) == set(wanted):
        return Check(*label, Status.PASS, _describe(found))
    if rtype == "SRV" and len(found) == 1 and len(wanted) == 1:
        return Check(
            *label, Status.FAIL, _srv_difference(found[0], wanted[0]), f"replace it with: {lines}"
        )
    extra = [r for r in found if r not in wanted]
    missing = [r for r in wanted if r not in found]
    detail = f"found {_describe(found)}"
    hint = []
    if missing:
        hint.append(f"publish: {lines}")
    if extra:
        hint.append(f"remove: {_describe(extra)}")
    return Check(*label, Status.FAIL, f"{detail}; expected {_describe(wanted)}", "; ".join(hint))


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
    for host in (name.rstrip(".") for name in hosts(provider, domain)):
        label = ("DNS A/AAAA", f"{host}.")
        try:
            found = resolver.addresses(host)
        except LookupFailed as exc:
            checks.append(Check(*label, Status.FAIL, f"no answer: {exc}", "check --nameserver"))
            continue
        if found:
            checks.append(Check(*label, Status.PASS, ", ".join(found)))
        else:
            hint = "point it at the HTTPS front (A/AAAA or CNAME), or set dns.addresses/dns.cname"
            checks.append(Check(*label, Status.FAIL, "does not resolve", hint))
    return checks


def dns_checks(provider: Provider, domain: str, resolver: Resolver) -> list[Check]:
    """Every record of ``autoconfig dns`` for ``domain``, looked up and compared."""
    checks = host_checks(provider, domain, resolver)
    # The PACC digest is judged against the bytes actually served (httpschecks.pacc_check), where
    # several TXT records are fine during a change.
    listed = [r for r in records(provider, domain) if (r.section, r.type) != ("pacc", "TXT")]
    for (name, rtype), expected in _groups(listed).items():
        try:
            found = resolver.lookup(name, rtype)
        except LookupFailed as exc:
            hint = "is the name server right (--nameserver) and does it answer for this zone?"
            checks.append(Check(f"DNS {rtype}", name, Status.FAIL, f"no answer: {exc}", hint))
            continue
        if rtype != "CNAME":
            # resolve() follows CNAMEs; a record of another type at the name is what counts here.
            found = [r for r in found if r.rdtype == dns.rdatatype.from_text(rtype)]
        checks.append(compare(name, rtype, expected, found))
    return checks + target_checks(records(provider, domain), checks, resolver)


def target_checks(expected: Sequence[Record], done: list[Check], resolver: Resolver) -> list[Check]:
    """Every SRV target must resolve (A/AAAA), as clients that follow the record need; the
    names already checked as hosts are not asked again."""
    seen = {check.target for check in done if check.check.startswith(("DNS A", "DNS CNAME"))}
    checks = []
    for record in expected:
        target = record.data.split()[-1]
        if record.type != "SRV" or target == "." or target in seen:
            continue
        seen.add(target)
        try:
            found = resolver.addresses(target)
        except LookupFailed as exc:
            checks.append(
                Check("DNS A/AAAA", target, Status.FAIL, f"no answer: {exc}", "check --nameserver")
            )
            continue
        if found:
            checks.append(Check("DNS A/AAAA", target, Status.PASS, ", ".join(found)))
        else:
            hint = f"publish the A/AAAA record of {target} (the target of {record.name} SRV)"
            checks.append(Check("DNS A/AAAA", target, Status.FAIL, "does not resolve", hint))
    return checks


DNSSEC_HINT = (
    "sign the zone (DNSSEC) and publish its DS record at the parent; --nameserver must be a "
    "validating resolver"
)


def dnssec_checks(provider: Provider, domain: str, resolver: Resolver) -> list[Check]:
    """``--dnssec``: each (name, type) of ``autoconfig dns`` looked up above must have come back
    validated (the AD flag of a validating resolver)."""
    checks = []
    for name, rtype in _groups(records(provider, domain)):
        validated = resolver.authenticated.get((name, rtype))
        if validated is None:
            continue  # no answer: already a failure of the DNS checks
        if validated:
            checks.append(Check(f"DNSSEC {rtype}", name, Status.PASS, "validated (AD flag)"))
        else:
            detail = "answered without the AD flag: not validated"
            checks.append(Check(f"DNSSEC {rtype}", name, Status.FAIL, detail, DNSSEC_HINT))
    return checks
