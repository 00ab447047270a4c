"""DNS records a provider publishes, as zone-file lines (``autoconfig dns``) and as data that
``autoconfig doctor`` compares with the live DNS.

Per mail domain: the ``autoconfig.`` and ``autodiscover.`` hosts (CNAME or A/AAAA, from the
profile's ``[dns]`` table), the ``_autodiscover._tcp`` SRV record Outlook and Thunderbird read,
RFC 6186 / RFC 8314 SRV records for the IMAP and submission servers (implicit TLS labels
``_imaps``/``_submissions``, or ``_imap``/``_submission`` for STARTTLS), "not offered" markers
(target ``.``) for the services the profile lists in ``dns.absent``, RFC 6764 SRV + TXT
records for CalDAV and CardDAV when the profile has them, and with ``[pacc] enabled`` the
``ua-auto-config.`` host and the ``_ua-auto-config`` TXT digest of exactly the bytes served.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from autoconfig.formats import Rendered, pacc
from autoconfig.model import DavServer, Provider, Security, Server
from autoconfig.profiles.catalog import PACC_HOST

MEDIA_TYPE = "text/plain; charset=utf-8"
AUTODISCOVER_PORT = 443

SECTIONS = {
    "hosts": "Where mail clients fetch their settings: the HTTPS front (Caddy)",
    "autodiscover": "Outlook and Thunderbird look Autodiscover up through this record",
    "mail": "Mail servers (RFC 6186, RFC 8314: implicit TLS preferred)",
    "absent": 'Mail services not offered (RFC 6186: target ".")',
    "dav": "Calendar and contacts (RFC 6764)",
    "pacc": "PACC: the JSON document's host, and the SHA-256 of its exact bytes (republish after "
    "any change of the profile)",
}


@dataclass(frozen=True, slots=True)
class Record:
    """One resource record: absolute ``name`` (trailing dot), ``type``, data in zone syntax."""

    name: str
    type: str
    data: str
    ttl: int
    section: str

    def line(self, name_width: int = 0) -> str:
        return f"{self.name:<{name_width}} {self.ttl} IN {self.type:<5} {self.data}"


def absolute(name: str) -> str:
    return name if name.endswith(".") else f"{name}."


def srv(priority: int, weight: int, port: int, target: str) -> str:
    return f"{priority} {weight} {port} {absolute(target) if target != '.' else '.'}"


def txt(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _mail(server: Server, tls_label: str, starttls_label: str) -> tuple[str, str]:
    label = tls_label if server.security is Security.TLS else starttls_label
    return label, srv(0, 1, server.port, server.host)


def home_domain(provider: Provider, host: str) -> str:
    """The provider's domain a host name falls under (its first domain when none)."""
    for domain in provider.domains:
        if host == domain or host.endswith(f".{domain}"):
            return domain
    return provider.domains[0]


def _dav(provider: Provider, domain: str, label: str, dav: DavServer, ttl: int) -> list[Record]:
    name = f"_{label}._tcp.{domain}."
    records = [
        Record(name, "SRV", srv(0, 1, dav.port, dav.host), ttl, "dav"),
        Record(name, "TXT", txt(f"path={dav.path}"), ttl, "dav"),
    ]
    if label == "carddavs" and home_domain(provider, dav.host) == domain:
        # Thunderbird's CardDAV set-up reads the TXT record beside the SRV target (protocols
        # §5.1); published once, with the domain the target belongs to.
        records.append(
            Record(f"_{label}._tcp.{dav.host}.", "TXT", txt(f"path={dav.path}"), ttl, "dav")
        )
    return records


def hosts(provider: Provider, domain: str) -> tuple[str, ...]:
    """The absolute names clients fetch their settings from, which point at the front."""
    names = [f"autoconfig.{domain}.", f"autodiscover.{domain}."]
    if provider.pacc:
        names.append(f"{pacc.host(domain)}.")
    return tuple(names)


def records(provider: Provider, domain: str) -> tuple[Record, ...]:
    """Every record to publish for ``domain`` (one of ``provider.domains``)."""
    policy = provider.dns
    ttl = policy.ttl
    found: list[Record] = []
    for host in hosts(provider, domain):
        section = "pacc" if host.startswith(PACC_HOST) else "hosts"
        if policy.cname:
            found.append(Record(host, "CNAME", absolute(policy.cname), ttl, section))
        for address in policy.addresses:
            kind = "AAAA" if ":" in address else "A"
            found.append(Record(host, kind, address, ttl, section))
    if provider.pacc:
        value = pacc.txt_value(pacc.render(provider).body)
        found.append(Record(f"{pacc.TXT_LABEL}.{domain}.", "TXT", txt(value), ttl, "pacc"))
    found.append(
        Record(
            f"_autodiscover._tcp.{domain}.",
            "SRV",
            srv(0, 0, AUTODISCOVER_PORT, f"autodiscover.{domain}"),
            ttl,
            "autodiscover",
        )
    )
    for server, labels in (
        (provider.imap, ("imaps", "imap")),
        (provider.smtp, ("submissions", "submission")),
    ):
        label, data = _mail(server, *labels)
        found.append(Record(f"_{label}._tcp.{domain}.", "SRV", data, ttl, "mail"))
    for label in policy.absent:
        found.append(Record(f"_{label}._tcp.{domain}.", "SRV", srv(0, 0, 0, "."), ttl, "absent"))
    if provider.caldav is not None:
        found += _dav(provider, domain, "caldavs", provider.caldav, ttl)
    if provider.carddav is not None:
        found += _dav(provider, domain, "carddavs", provider.carddav, ttl)
    return tuple(found)


def _enumerate(names: list[str]) -> str:
    return f"{', '.join(names[:-1])} and {names[-1]}"


def zone_lines(provider: Provider, domain: str) -> list[str]:
    """The records of ``domain`` as commented zone-file lines."""
    found = records(provider, domain)
    width = max(len(r.name) for r in found)
    source = PurePath(provider.source).name or provider.id
    lines = [
        f"; {domain}: records from {source} (autoconfig dns)",
        f"; Names are absolute: paste the lines into the zone of {domain}.",
    ]
    if not (provider.dns.cname or provider.dns.addresses):
        lines += [
            "",
            f"; {SECTIONS['hosts']}",
            f"; {_enumerate([h.rstrip('.') for h in hosts(provider, domain)])}:",
            "; the profile has no dns.cname or dns.addresses. Point these names at the front",
            "; (CNAME or A/AAAA) yourself, or set one of those keys.",
        ]
    for section, title in SECTIONS.items():
        chosen = [r for r in found if r.section == section]
        if chosen:
            lines += ["", f"; {title}", *(r.line(width) for r in chosen)]
    return lines


def render(provider: Provider, domains: tuple[str, ...] | None = None) -> Rendered:
    """Zone-file lines for ``domains`` (default: every domain of the provider)."""
    blocks = ["\n".join(zone_lines(provider, d)) for d in (domains or provider.domains)]
    return Rendered(("\n\n".join(blocks) + "\n").encode(), MEDIA_TYPE)
