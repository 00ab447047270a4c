"""The Caddyfile for several domains: the shipped file, its site addresses repeated per domain."""

from __future__ import annotations

import pytest

from autoconfig.formats.caddyfile import render
from tests.caddy import CADDYFILE

SHIPPED = CADDYFILE.read_text(encoding="utf-8")


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
        "ua-auto-config.{$AUTOCONFIG_DOMAIN} {",
        "http://autoconfig.{$AUTOCONFIG_DOMAIN}, http://autodiscover.{$AUTOCONFIG_DOMAIN} {",
    ]
    assert len(written) == len(shipped) + len(changed)  # one more line per site block
    assert "{$AUTOCONFIG_DOMAIN}" not in "".join(x for x in written if not x.startswith("#"))


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
