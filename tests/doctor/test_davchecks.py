"""Calendar and contacts against Radicale and the journey's front: the ``.well-known`` redirects of
the main website and the ``PROPFIND`` of the DAV URLs, correct and with each mistake."""

from __future__ import annotations

from autoconfig.doctor import Options, Status
from autoconfig.service import Service
from tests.caddy import Front
from tests.doctor.conftest import (
    D,
    Journey,
    Lab,
    doctor_json,
    profile_text,
    profiles_folder,
)


def test_calendar_and_contacts_are_found_and_answer(journey: Journey, lab: Lab) -> None:
    _status, rows, output = doctor_json(journey)
    dav = {(row["check"], row["target"]): row for row in rows}
    url = f"https://dav.{D}:{lab.dav.port}/"
    for kind in ("caldav", "carddav"):
        redirect = dav[("DAV well-known", f"{D}/.well-known/{kind}")]
        assert redirect["status"] == "pass", output
        assert redirect["detail"] == f"redirects to {url}"
        alive = dav[(f"{kind.upper()} PROPFIND", url)]
        assert alive["status"] == "pass"
        assert alive["detail"] == "answers PROPFIND: 401, asks for a login"
        srv = dav[("DNS SRV", f"_{kind}s._tcp.{D}.")]
        assert srv["status"] == "pass"


def test_calendar_mistakes_fail_with_a_fix(journey: Journey, lab: Lab) -> None:
    # caldav: another host than the one the main website redirects to (and it does not
    # resolve); carddav: a URL of the service itself, which is no DAV server.
    dav = f"https://dav.{D}:{lab.dav.port}/"
    other = f"https://autoconfig.{D}:{journey.caddy.https_port}/dav/"
    text = profile_text(lab).replace(dav, f"https://agenda.{D}/", 1).replace(dav, other, 1)
    profiles = profiles_folder(journey.tmp, "dav-mistakes", text)
    status, rows, output = doctor_json(journey, profiles=profiles)
    assert status == 1, output
    found = {(row["check"], row["target"]): row for row in rows}
    redirect = found[("DAV well-known", f"{D}/.well-known/caldav")]
    assert redirect["status"] == "fail"
    assert redirect["detail"] == f"redirects to {dav}"
    assert f"redir /.well-known/caldav https://agenda.{D}/ 301" in redirect["fix"]
    missing = found[("CALDAV PROPFIND", f"https://agenda.{D}/")]
    assert missing["status"] == "fail"
    assert missing["detail"] == f"agenda.{D} does not resolve"
    wrong = found[("CARDDAV PROPFIND", other)]
    assert wrong["status"] == "fail"
    assert wrong["detail"].startswith("answers PROPFIND with HTTP 4")
    assert "Correct [carddav] url in the profile" in wrong["fix"]


def test_a_main_website_without_the_redirect_fails(
    front: Front, lab: Lab, service: Service
) -> None:
    from dataclasses import replace

    from autoconfig.doctor.davchecks import dav_checks
    from autoconfig.doctor.dnschecks import Resolver
    from autoconfig.model import DavServer

    provider = service.catalog.lookup(D)
    url = f"https://dav.{D}:{lab.dav.port}/"
    server = DavServer(url, f"dav.{D}", lab.dav.port, "/")
    provider = replace(provider, caldav=server)
    chosen = Options(
        nameserver=lab.named.address,
        port=front.caddy.https_port,
        ca_file=front.caddy.root_certificate,
    )
    [redirect, _alive] = dav_checks(provider, D, Resolver.from_options(chosen), chosen)
    assert redirect.status is Status.FAIL
    assert redirect.detail == "HTTP 200, no redirect"
    assert f"redir /.well-known/caldav {url} 301" in redirect.hint
