"""The project's Caddyfile for several mail domains (``autoconfig caddyfile``).

The shipped Caddyfile names its sites from ``{$AUTOCONFIG_DOMAIN}``, one domain; Caddy cannot
repeat a site address for each item of a list. This renderer writes the same file with each such
site address repeated for every domain given (``autoconfig.a.fr, autodiscover.a.fr,
autoconfig.b.fr, …``): the rest of the file, and so every other setting and environment
variable, stays exactly as shipped. Pure: text in, text out.
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


def render(template: str, domains: Sequence[str]) -> Rendered:
    """``template`` (the shipped Caddyfile) serving each of ``domains`` (A-labels, lower case)."""
    if not domains:
        raise ValueError("at least one domain is needed")
    lines = [
        "# Written by `autoconfig caddyfile` for " + ", ".join(domains) + ": the project's",
        "# Caddyfile with its sites repeated for each domain (AUTOCONFIG_DOMAIN is not read).",
        "",
    ]
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
    return Rendered(("\n".join(lines) + "\n").encode(), MEDIA_TYPE, "Caddyfile")
