"""Calendar and contacts: how clients find the profile's CalDAV and CardDAV servers, and whether
those answer.

Clients derive ``https://DOMAIN/.well-known/caldav`` (and ``carddav``) from the address (RFC
6764; Thunderbird from the login's domain, else the address's): it must redirect to the DAV
server. The SRV and TXT records are among the DNS checks; here the DAV URL itself must answer a
``PROPFIND`` without credentials with ``207`` (open) or ``401`` (asks for a login): alive.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from autoconfig.doctor import Check, Options, Status
from autoconfig.doctor.dnschecks import Resolver
from autoconfig.doctor.httpschecks import FetchFailed, fetch
from autoconfig.model import DavServer, Provider

REDIRECTS = (301, 302, 303, 307, 308)
ALIVE = (207, 401)
PROPFIND = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>'
)


def well_known(
    kind: str, dav: DavServer, domain: str, resolver: Resolver, options: Options
) -> Check:
    path = f"/.well-known/{kind}"
    target = f"{domain}{path}"
    fix = f"redirect it to {dav.url} (Caddy, in the site of {domain}: redir {path} {dav.url} 301)"
    try:
        fetched = fetch(domain, path, resolver, options)
    except FetchFailed as exc:
        return Check("DAV well-known", target, Status.FAIL, exc.detail, exc.hint)
    if fetched.status not in REDIRECTS:
        return Check(
            "DAV well-known", target, Status.FAIL, f"HTTP {fetched.status}, no redirect", fix
        )
    location = urljoin(f"https://{domain}{path}", fetched.location)
    if location.rstrip("/") == dav.url.rstrip("/") or urlsplit(location).hostname == dav.host:
        return Check("DAV well-known", target, Status.PASS, f"redirects to {location}")
    return Check("DAV well-known", target, Status.FAIL, f"redirects to {location}", fix)


def propfind(kind: str, dav: DavServer, resolver: Resolver, options: Options) -> Check:
    label = f"{kind.upper()} PROPFIND"
    headers = {"Depth": "0"}
    try:
        fetched = fetch(
            dav.host,
            dav.path,
            resolver,
            options,
            PROPFIND,
            "application/xml; charset=utf-8",
            method="PROPFIND",
            port=dav.port,
            headers=headers,
        )
    except FetchFailed as exc:
        hint = f"is the {kind} server up, and is {dav.url} its address? ({exc.hint})"
        return Check(label, dav.url, Status.FAIL, exc.detail, hint)
    if fetched.status in ALIVE:
        said = "207, open" if fetched.status == 207 else "401, asks for a login"
        return Check(label, dav.url, Status.PASS, f"answers PROPFIND: {said}")
    hint = f"is {dav.url} the {kind} server's address? Correct [{kind}] url in the profile"
    return Check(label, dav.url, Status.FAIL, f"answers PROPFIND with HTTP {fetched.status}", hint)


def dav_checks(
    provider: Provider, domain: str, resolver: Resolver, options: Options
) -> list[Check]:
    """For each DAV server of the profile: the ``.well-known`` redirect, then the PROPFIND."""
    checks = []
    for kind, dav in (("caldav", provider.caldav), ("carddav", provider.carddav)):
        if dav is not None:
            checks += [well_known(kind, dav, domain, resolver, options)]
            checks += [propfind(kind, dav, resolver, options)]
    return checks
