"""The table of load scenarios: what is asked, of which server, and what a right answer contains.

A new endpoint is one row. ``{i}`` in a path or a body stands for a row number of the generated
directory (:mod:`staff`): wrk's Lua script rotates through them, so every request names a different
person and no single answer sits in a cache. ``bench/run http`` probes each scenario of ours once
before it is timed: a 404 reports it as "not available in this build" (the endpoint comes with
another branch), anything else that is not a right answer is reported as a failed probe. The other
subcommands time some of these rows too (``faults`` and ``directory``: ``thunderbird-hit``).

A scenario that asks for a person has a :class:`LoginCheck`: wrk's Lua script reads the login of
every answer and counts the wrong ones (the fallback, someone else's login, no login of the
directory). :data:`SETUP` is what one Thunderbird account setup asks (``bench/run limits``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from staff import ADDRESS, ADDRESS_ROW, DOMAIN, NAME_ROW

OURS = "ours"
PROXIED = "ours via caddy"
STATIC = "static"
PEER = "automx2"

AUTODISCOVER_BODY = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">'
    "<Request><EMailAddress>prenom{i}.nom{i}@" + DOMAIN + "</EMailAddress>"
    "<AcceptableResponseSchema>"
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
    "</AcceptableResponseSchema></Request></Autodiscover>\n"
)
XML_POST = (("Content-Type", "text/xml; charset=utf-8"),)


@dataclass(frozen=True)
class LoginCheck:
    """Where an answer carries the login, and what tells whose it should be (``wrk.py`` judges)."""

    pattern: str
    """Lua pattern capturing each login the answer carries (IMAP and SMTP: they must agree)."""
    fallback: str = ""
    """The fallback as the answer carries it; empty: the fallback answer has no login at all."""
    person: str = ""
    """Lua pattern capturing the row of the person the answer names, if it names one."""
    named_by: str = "body"
    """What that proves, shown next to the figure: ``address`` (the address asked, in the answer:
    exact), ``name`` (the display name of the same entry), ``body`` (nothing names the person: the
    fallback and logins that are no row of the run are caught, someone else's login is not)."""


THUNDERBIRD_LOGIN = LoginCheck(r"<username>([^<]*)</username>", fallback="%EMAILLOCALPART%")
AUTODISCOVER_LOGIN = LoginCheck(
    r"<LoginName>([^<]*)</LoginName>",
    person=r"<DisplayName>[^<]*" + NAME_ROW + "</DisplayName>",
    named_by="name",
)
MOBILECONFIG_LOGIN = LoginCheck(
    r"MailServerUsername</key>%s*<string>([^<]*)</string>",
    person=r"<key>EmailAddress</key>%s*<string>" + ADDRESS_ROW,
    named_by="address",
)


@dataclass(frozen=True)
class Scenario:
    name: str
    target: str
    """Which server answers: ours, the static file (Caddy) or the peer (automx2)."""
    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    expect: str = ""
    """Text the probe's answer must contain (``{i}`` formatted as for the path: ``{i:06d}`` …)."""
    content_type: str = ""
    """The start of the probe's Content-Type."""
    login: LoginCheck | None = None
    """How wrk checks the login of every answer (the scenarios that ask for a known person)."""

    def for_row(self, i: int) -> tuple[str, str, str]:
        """Path, body and expected text for directory row ``i``."""
        return (
            self.path.replace("{i}", str(i)),
            self.body.replace("{i}", str(i)),
            self.expect.format(i=i),
        )


THUNDERBIRD_HIT = Scenario(
    "thunderbird-hit",
    OURS,
    "GET",
    "/mail/config-v1.1.xml?emailaddress=" + ADDRESS,
    expect="<username>pn{i:06d}</username>",
    content_type="text/xml",
    login=THUNDERBIRD_LOGIN,
)

SCENARIOS = (
    # --- ours, available on every build -------------------------------------------------------
    THUNDERBIRD_HIT,
    Scenario(
        "thunderbird-generic",
        OURS,
        "GET",
        "/.well-known/autoconfig/mail/config-v1.1.xml",
        headers=(("Host", "autoconfig." + DOMAIN),),
        expect="<username>%EMAILLOCALPART%</username>",
        content_type="text/xml",
    ),
    # --- ours, measured once the build answers them (404 = "not available in this build") -----
    Scenario(
        "autodiscover-post",
        OURS,
        "POST",
        "/autodiscover/autodiscover.xml",
        headers=XML_POST,
        body=AUTODISCOVER_BODY,
        expect="<LoginName>pn{i:06d}</LoginName>",
        content_type="application/xml",
        login=AUTODISCOVER_LOGIN,
    ),
    Scenario(
        "mobileconfig-signed",
        OURS,
        "GET",
        "/mobileconfig?email=" + ADDRESS,
        expect="pn{i:06d}",
        content_type="application/x-apple-aspen-config",
        login=MOBILECONFIG_LOGIN,
    ),
    Scenario(
        "help-home",
        OURS,
        "GET",
        "/aide/",
        headers=(("Host", "autoconfig." + DOMAIN),),
        content_type="text/html",
    ),
    # --- ours behind Caddy's reverse proxy, as deployed (issue 7's Caddyfile) ----------------
    dataclasses.replace(THUNDERBIRD_HIT, name="thunderbird-hit-via-caddy", target=PROXIED),
    # --- the ceiling: the thunderbird-hit answer's bytes as a static file, same requests ----------
    Scenario(
        "static-file",
        STATIC,
        "GET",
        "/mail/config-v1.1.xml?emailaddress=" + ADDRESS,
        expect="imap." + DOMAIN,
        content_type="text/xml",
    ),
    # --- the peer, seeded with the same profile -----------------------------------------------
    Scenario(
        "automx2-thunderbird",
        PEER,
        "GET",
        "/mail/config-v1.1.xml?emailaddress=" + ADDRESS,
        expect="<hostname>imap." + DOMAIN + "</hostname>",
    ),
    Scenario(
        "automx2-autodiscover",
        PEER,
        "POST",
        "/autodiscover/autodiscover.xml",
        headers=XML_POST,
        body=AUTODISCOVER_BODY,
        expect="imap." + DOMAIN,
    ),
)

STORM = ("thunderbird-hit", "thunderbird-hit-via-caddy", "static-file")
"""The scenarios also run at 1,000 connections: ours (alone, and behind Caddy as deployed), and the
static file to show what this machine and wrk themselves sustain at that many connections."""

RATIOS = (
    # (label, ours, baseline, what): what = "rps" (ours / baseline) or "p99" (ours / baseline)
    ("Thunderbird GET: ours / automx2", "thunderbird-hit", "automx2-thunderbird", "rps"),
    ("Autodiscover POST: ours / automx2", "autodiscover-post", "automx2-autodiscover", "rps"),
    ("Thunderbird GET: ours / static ceiling", "thunderbird-hit", "static-file", "rps"),
    ("Thunderbird generic: ours / static ceiling", "thunderbird-generic", "static-file", "rps"),
    ("p99 Thunderbird GET: ours / static", "thunderbird-hit", "static-file", "p99"),
    (
        "Thunderbird GET: behind Caddy / alone",
        "thunderbird-hit-via-caddy",
        "thunderbird-hit",
        "rps",
    ),
)


def _setup_step(n: int, host: str, path: str, autodiscover: bool) -> Scenario:
    return Scenario(
        f"setup-{n}",
        OURS,
        "POST" if autodiscover else "GET",
        path,
        headers=(("Host", host), *(XML_POST if autodiscover else ())),
        body=AUTODISCOVER_BODY if autodiscover else "",
        login=AUTODISCOVER_LOGIN if autodiscover else THUNDERBIRD_LOGIN,
    )


_AUTOCONFIG = "/mail/config-v1.1.xml?emailaddress=" + ADDRESS
_WELL_KNOWN = "/.well-known/autoconfig" + _AUTOCONFIG
_AUTODISCOVER = "/autodiscover/autodiscover.xml"
SETUP = tuple(
    _setup_step(n + 1, host, path, path == _AUTODISCOVER)
    for n, (host, path) in enumerate(
        [
            ("autoconfig." + DOMAIN, _AUTOCONFIG),
            (DOMAIN, _WELL_KNOWN),
            ("autoconfig." + DOMAIN, _AUTOCONFIG),
            (DOMAIN, _WELL_KNOWN),
            ("autodiscover." + DOMAIN, _AUTODISCOVER),
            (DOMAIN, _AUTODISCOVER),
            ("autodiscover." + DOMAIN, _AUTODISCOVER),
        ]
    )
)
"""One Thunderbird account setup for person ``{i}``, as it reaches the service: its 4 autoconfig
GETs (``autoconfig.<domain>`` and the domain's ``.well-known``, over https then http) and its 3
Autodiscover POSTs (``autodiscover.<domain>``, the domain, and again over http)."""


def by_name(name: str) -> Scenario:
    for scenario in SCENARIOS:
        if scenario.name == name:
            return scenario
    raise KeyError(name)
