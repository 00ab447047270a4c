"""The Caddyfile for several domains: the shipped file, its site addresses repeated per domain."""

from __future__ import annotations

import pytest

from autoconfig.formats.caddyfile import PACC_SITE, render
from tests.caddy import CADDYFILE, ROOT

SHIPPED = CADDYFILE.read_text(encoding="utf-8")
PACC = (ROOT / PACC_SITE).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("line", "domains", "expected"),
    [
        (
            "autoconfig.{$AUTOCONFIG_DOMAIN}, autodiscover.{$AUTOCONFIG_DOMAIN} {",
            ["a.fr"],
            ["autoconfig.a.fr, autodiscover.a.fr {"],
        ),
        (
            "autoconfig.{$AUTOCONFIG_DOMAIN}, autodiscover.{$AUTOCONFIG_DOMAIN} {",
            ["a.fr", "xn--bcher-kva.example"],
            [
                "autoconfig.a.fr, autodiscover.a.fr,",
                "autoconfig.xn--bcher-kva.example, autodiscover.xn--bcher-kva.example {",
            ],
        ),
        (
            "http://autoconfig.{$AUTOCONFIG_DOMAIN}, other.example {",
            ["a.fr", "b.fr"],
            ["http://autoconfig.a.fr,", "http://autoconfig.b.fr,", "other.example {"],
        ),
        # Not a site address line: inside a block, or a comment.
        ("\ttls {$AUTOCONFIG_DOMAIN}", ["a.fr", "b.fr"], ["\ttls {$AUTOCONFIG_DOMAIN}"]),
        ("# autoconfig.{$AUTOCONFIG_DOMAIN}", ["a.fr"], ["# autoconfig.{$AUTOCONFIG_DOMAIN}"]),
    ],
)
def test_site_addresses_are_repeated_per_domain(
    line: str, domains: list[str], expected: list[str]
) -> None:
    lines = render(line + "\n", domains).body.decode().splitlines()
    assert lines[3:] == expected
    assert lines[0].startswith(f"# Written by `autoconfig caddyfile` for {', '.join(domains)}")


def test_the_rest_of_the_shipped_file_is_kept() -> None:
    written = render(SHIPPED, ["a.fr", "b.fr"]).body.decode().splitlines()[3:]
    shipped = SHIPPED.splitlines()
    changed = [line for line in shipped if line not in written]
    assert changed == [
        "autoconfig.{$AUTOCONFIG_DOMAIN}, autodiscover.{$AUTOCONFIG_DOMAIN} {",
        "http://autoconfig.{$AUTOCONFIG_DOMAIN}, http://autodiscover.{$AUTOCONFIG_DOMAIN} {",
    ]
    assert len(written) == len(shipped) + len(changed)  # one more line per site block
    assert "{$AUTOCONFIG_DOMAIN}" not in "".join(x for x in written if not x.startswith("#"))


def sites(text: str) -> list[str]:
    """The site address lines of a Caddyfile."""
    return [x for x in text.splitlines() if x and not x[0].isspace() and x[0] not in "#(}{"]


def test_the_shipped_caddyfile_has_no_pacc_site() -> None:
    """ua-auto-config.<domain> has DNS records only with PACC: Caddy would keep failing to get a
    certificate for it. Its site is a file of its own, imported for such a domain."""
    assert all("ua-auto-config" not in line for line in sites(SHIPPED))
    assert sites(PACC) == ["ua-auto-config.{$AUTOCONFIG_DOMAIN} {"]


@pytest.mark.parametrize(
    ("pacc_domains", "expected"),
    [
        ([], []),
        (["b.fr"], ["ua-auto-config.b.fr {"]),
        (["a.fr", "b.fr"], ["ua-auto-config.a.fr,", "ua-auto-config.b.fr {"]),
    ],
)
def test_the_pacc_site_only_for_the_domains_offering_it(
    pacc_domains: list[str], expected: list[str]
) -> None:
    written = render(SHIPPED, ["a.fr", "b.fr"], PACC, pacc_domains).body.decode()
    assert [x for x in sites(written) if "ua-auto-config" in x] == expected
    if pacc_domains:
        # the PACC site as shipped, after the Caddyfile (it uses its snippets)
        marker = f"# {PACC_SITE}, for the domains whose profile has [pacc] enabled = true: "
        lines = written.splitlines()
        (start,) = [i for i, line in enumerate(lines) if line.startswith(marker)]
        assert lines[start] == marker + ", ".join(pacc_domains)
        shipped = PACC.splitlines()
        header = shipped.index("ua-auto-config.{$AUTOCONFIG_DOMAIN} {")
        assert lines[start + 1 :] == [*shipped[:header], *expected, *shipped[header + 1 :]]
        without = render(SHIPPED, ["a.fr", "b.fr"]).body.decode().splitlines()
        assert lines[:start] == [*without, ""]


@pytest.mark.parametrize(
    ("template", "domains", "message"),
    [
        (SHIPPED, [], "at least one domain"),
        ("autoconfig.{$AUTOCONFIG_DOMAIN} { respond 1 }\n", ["a.fr"], "does not open a block"),
    ],
)
def test_refused(template: str, domains: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render(template, domains)


@pytest.mark.parametrize(
    ("pacc", "pacc_domains", "message"),
    [
        (PACC, ["c.fr"], "PACC domains not among the domains: c.fr"),
        ("", ["a.fr"], "PACC domains without the PACC site"),
    ],
)
def test_pacc_refused(pacc: str, pacc_domains: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render(SHIPPED, ["a.fr"], pacc, pacc_domains)
