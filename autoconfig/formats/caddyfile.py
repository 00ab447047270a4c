"""The project's Caddyfile for several mail domains (``autoconfig caddyfile``).

The shipped Caddyfile names its sites from ``{$AUTOCONFIG_DOMAIN}``, one domain; Caddy cannot
repeat a site address for each item of a list. This renderer writes the same file with each such
site address repeated for every domain given (``autoconfig.a.fr, autodiscover.a.fr,
autoconfig.b.fr, …``): the rest of the file, and so every other setting and environment
variable, stays exactly as shipped. The PACC site (``deploy/pacc.caddy``) follows, the same way,
for the domains whose profile offers PACC only: Caddy asks a certificate for every name it serves,
and ``ua-auto-config.<domain>`` has DNS records only with PACC. Pure: text in, text out.
"""

from __future__ import annotations

from collections.abc import Sequence

from autoconfig.formats import Rendered

PLACEHOLDER = "{$AUTOCONFIG_DOMAIN}"
"""What the shipped Caddyfile writes where a site address names the mail domain."""

MEDIA_TYPE = "text/caddyfile"


def _is_site_header(line: str) -> bool:
    """A top-level line opening a site block whose addresses name the mail domain."""
    return not line[:1].isspace() and not line.startswith("#") and PLACEHOLDER in line


def _rows(header: str, domains: Sequence[str]) -> list[str]:
    """The site addresses of ``header`` for ``domains``: one line per domain, then the addresses
    that do not name it (if any)."""
    addresses = [a.strip() for a in header.split(",") if a.strip()]
    named = [a for a in addresses if PLACEHOLDER in a]
    others = [a for a in addresses if PLACEHOLDER not in a]
    rows = [", ".join(a.replace(PLACEHOLDER, domain) for a in named) for domain in domains]
    return rows + ([", ".join(others)] if others else [])


PACC_SITE = "deploy/pacc.caddy"
"""The PACC site's file, beside the Caddyfile (``data_dir``)."""


def _sites(template: str, domains: Sequence[str]) -> list[str]:
    """The lines of ``template`` with each site address line repeated for ``domains``."""
    lines: list[str] = []
    for line in template.splitlines():
        if not _is_site_header(line):
            lines.append(line)
            continue
        header, brace, rest = line.rpartition("{")
        if not brace or rest.strip():
            raise ValueError(f"a site address line that does not open a block: {line!r}")
        *first, last = _rows(header, domains)
        lines.extend(f"{row}," for row in first)
        lines.append(f"{last} {{")
    return lines


def render(
    template: str, domains: Sequence[str], pacc: str = "", pacc_domains: Sequence[str] = ()
) -> Rendered:
    """``template`` (the shipped Caddyfile) serving each of ``domains`` (A-labels, lower case),
    then ``pacc`` (the PACC site) for ``pacc_domains``, those of them whose profile offers PACC."""
    if not domains:
        raise ValueError("at least one domain is needed")
    others = [d for d in pacc_domains if d not in domains]
    if others:
        raise ValueError(f"PACC domains not among the domains: {', '.join(others)}")
    if pacc_domains and not pacc:
        raise ValueError(f"PACC domains without the PACC site ({PACC_SITE})")
    lines = [
        "# Written by `autoconfig caddyfile` for " + ", ".join(domains) + ": the project's",
        "# Caddyfile with its sites repeated for each domain (AUTOCONFIG_DOMAIN is not read).",
        "",
        *_sites(template, domains),
    ]
    if pacc_domains:
        lines += [
            "",
            f"# {PACC_SITE}, for the domains whose profile has [pacc] enabled = true: "
            + ", ".join(pacc_domains),
            *_sites(pacc, pacc_domains),
        ]
    return Rendered(("\n".join(lines) + "\n").encode(), MEDIA_TYPE, "Caddyfile")
