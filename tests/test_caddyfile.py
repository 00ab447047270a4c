"""End to end: the real Caddy with the project's Caddyfile in front of two ``autoconfig serve``
instances, every client request over HTTPS with Caddy's internal CA, then one instance lost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from tests.caddy import FRONT_DOMAIN, Fetched, Front, curl
from tests.conftest import PIERRE, PIERRE_LOGIN
from tests.tools import wait_until

D = FRONT_DOMAIN
ADDRESS = PIERRE.replace("@", "%40")


def login_in(fetched: Fetched) -> str:
    document = etree.fromstring(fetched.body)
    return str(document.findtext("emailProvider/incomingServer/username"))


def is_personal_autoconfig(fetched: Fetched) -> None:
    assert fetched.content_type.startswith("text/xml")
    assert login_in(fetched) == PIERRE_LOGIN


def is_generic_autoconfig(fetched: Fetched) -> None:
    assert fetched.content_type.startswith("text/xml")
    assert login_in(fetched) == "%EMAILLOCALPART%"


AUTODISCOVER_NS = (
    "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"
)
OUTLOOK_REQUEST = (
    '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/'
    'exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>'
    f"{PIERRE}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/"
    "autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
).encode()
OUTLOOK_HEADERS = (
    "Content-Type: text/xml; charset=utf-8",
    "Authorization: Basic cGllcnJlLmR1cG9udEBleGFtcGxlOnNlY3JldA==",
)


def autodiscover_logins(fetched: Fetched) -> list[str | None]:
    assert fetched.content_type.startswith("application/xml")
    document = etree.fromstring(fetched.body)
    protocols = document.findall(
        f"{AUTODISCOVER_NS}Response/{AUTODISCOVER_NS}Account/{AUTODISCOVER_NS}Protocol"
    )
    assert [p.findtext(f"{AUTODISCOVER_NS}Port") for p in protocols] == ["993", "465"]
    return [p.findtext(f"{AUTODISCOVER_NS}LoginName") for p in protocols]


def is_personal_autodiscover(fetched: Fetched) -> None:
    assert autodiscover_logins(fetched) == [PIERRE_LOGIN, PIERRE_LOGIN]


def is_generic_autodiscover(fetched: Fetched) -> None:
    assert autodiscover_logins(fetched) == [None, None]  # no address: LoginName left out


def points_at_autodiscover(fetched: Fetched) -> None:
    import json

    assert json.loads(fetched.body) == {
        "Protocol": "AutodiscoverV1",
        "Url": f"https://autodiscover.{D}/autodiscover/autodiscover.xml",
    }


def is_apple_profile(fetched: Fetched) -> None:
    import plistlib

    assert fetched.content_type == "application/x-apple-aspen-config"
    profile = plistlib.loads(fetched.body)
    (mail,) = profile["PayloadContent"]
    assert mail["IncomingMailServerUsername"] == PIERRE_LOGIN


def is_help_home(fetched: Fetched) -> None:
    assert fetched.content_type.startswith("text/html")
    assert b"<h1" in fetched.body
    assert b'lang="fr"' in fetched.body


def says_ok(fetched: Fetched) -> None:
    assert fetched.body == b"ok\n"


def is_main_website(fetched: Fetched) -> None:
    assert fetched.body == b"the main website"


def nothing_to_check(fetched: Fetched) -> None:
    del fetched


@dataclass(frozen=True)
class Case:
    """One request a client sends, and what it must get back through Caddy."""

    url: str
    status: int
    check: Callable[[Fetched], None]
    method: str = "GET"
    headers: tuple[str, ...] = ()
    body: bytes | None = None
    location: str = ""


# Every client request, one row each; the same table also runs with one instance lost.
CASES = {
    "thunderbird-autoconfig-host": Case(
        f"https://autoconfig.{D}/mail/config-v1.1.xml?emailaddress={ADDRESS}",
        200,
        is_personal_autoconfig,
    ),
    "thunderbird-well-known-main-site": Case(
        f"https://{D}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress={ADDRESS}",
        200,
        is_personal_autoconfig,
    ),
    "autoconfig-without-address": Case(
        f"https://autoconfig.{D}/mail/config-v1.1.xml", 200, is_generic_autoconfig
    ),
    "autoconfig-on-autodiscover-host": Case(
        f"https://autodiscover.{D}/.well-known/autoconfig/mail/config-v1.1.xml",
        200,
        is_generic_autoconfig,
    ),
    "outlook-post-autodiscover-host": Case(
        f"https://autodiscover.{D}/autodiscover/autodiscover.xml",
        200,
        is_personal_autodiscover,
        method="POST",
        headers=OUTLOOK_HEADERS,
        body=OUTLOOK_REQUEST,
    ),
    "thunderbird-post-main-site-any-casing": Case(
        f"https://{D}/Autodiscover/Autodiscover.xml",
        200,
        is_personal_autodiscover,
        method="POST",
        headers=OUTLOOK_HEADERS,
        body=OUTLOOK_REQUEST,
    ),
    "delta-chat-get-main-site": Case(
        f"https://{D}/autodiscover/autodiscover.xml", 200, is_generic_autodiscover
    ),
    "autodiscover-v2-json": Case(
        f"https://autodiscover.{D}/autodiscover/autodiscover.json?Email={ADDRESS}&Protocol=AutodiscoverV1",
        200,
        points_at_autodiscover,
    ),
    "apple-profile-download": Case(
        f"https://autoconfig.{D}/mobileconfig?email={ADDRESS}", 200, is_apple_profile
    ),
    "help-site-home": Case(f"https://autoconfig.{D}/aide/", 200, is_help_home),
    "healthz": Case(f"https://autoconfig.{D}/healthz", 200, says_ok),
    "main-site-keeps-its-pages": Case(f"https://{D}/", 200, is_main_website),
    "metrics-not-public": Case(f"https://autoconfig.{D}/metrics", 404, nothing_to_check),
    "metrics-not-public-on-autodiscover": Case(
        f"https://autodiscover.{D}/metrics", 404, nothing_to_check
    ),
    "http-autoconfig-redirects": Case(
        f"http://autoconfig.{D}/mail/config-v1.1.xml?emailaddress={ADDRESS}",
        301,
        nothing_to_check,
        location=f"https://autoconfig.{D}/mail/config-v1.1.xml?emailaddress={ADDRESS}",
    ),
    "http-autodiscover-redirects": Case(
        f"http://autodiscover.{D}/autodiscover/autodiscover.xml",
        302,
        nothing_to_check,
        location=f"https://autodiscover.{D}/autodiscover/autodiscover.xml",
    ),
    "http-autodiscover-redirects-any-casing": Case(
        f"http://autodiscover.{D}/Autodiscover/Autodiscover.xml",
        302,
        nothing_to_check,
        location=f"https://autodiscover.{D}/Autodiscover/Autodiscover.xml",
    ),
}


def send(front: Front, case: Case) -> Fetched:
    return curl(front.caddy, case.url, method=case.method, headers=case.headers, body=case.body)


def expect(case: Case, fetched: Fetched) -> None:
    assert fetched.status == case.status, fetched.body[:300]
    assert fetched.location == case.location
    case.check(fetched)


@pytest.mark.parametrize("name", CASES)
def test_client_request_through_caddy(front: Front, name: str) -> None:
    case = CASES[name]
    expect(case, send(front, case))


def test_requests_are_spread_over_both_instances(front: Front) -> None:
    path = "path=/mail/config-v1.1.xml"
    before = [app.log_text().count(path) for app in front.apps]
    # least_conn: one request at a time finds both idle and goes to either (all 20 to one: 2e-6).
    for _ in range(20):
        send(front, CASES["autoconfig-without-address"])

    def counts() -> list[int]:
        return [app.log_text().count(path) for app in front.apps]

    # Each instance logs a request just after its answer is out.
    wait_until(lambda: sum(counts()) - sum(before) == 20, "twenty logged requests")
    after = counts()
    assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)


def test_certificate_is_valid_for_both_names(front: Front) -> None:
    import socket
    import ssl

    context = ssl.create_default_context(cafile=str(front.caddy.root_certificate))
    for name in (f"autoconfig.{D}", f"autodiscover.{D}", D):
        with (
            socket.create_connection(("127.0.0.1", front.caddy.https_port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=name) as tls,
        ):
            certificate = tls.getpeercert()
        assert certificate is not None
        alt_names = certificate["subjectAltName"]
        assert isinstance(alt_names, tuple)
        assert ("DNS", name) in alt_names


def test_access_logs_hold_no_address_and_no_query(front: Front) -> None:
    def logged() -> tuple[int, int]:
        caddy = front.caddy.log_text().count('"uri":"/mail/config-v1.1.xml"')
        apps = sum(app.log_text().count("path=/mail/config-v1.1.xml") for app in front.apps)
        return caddy, apps

    before = logged()
    send(front, CASES["thunderbird-autoconfig-host"])
    wait_until(lambda: logged() == (before[0] + 1, before[1] + 1), "the request in both logs")
    caddy_log = front.caddy.log_text()
    logs = caddy_log + "".join(app.log_text() for app in front.apps)
    assert "emailaddress" not in logs
    assert "pierre" not in logs.lower()


def test_losing_an_instance_loses_no_request(front: Front) -> None:
    assert front.apps[0].stop() is not None
    try:
        for _ in range(3):
            for name, case in CASES.items():
                fetched = send(front, case)
                assert fetched.status == case.status, name
                case.check(fetched)
        assert front.apps[1].process.poll() is None
    finally:
        front.restart(0)


def adapt(env: dict[str, str], config: Path | None = None) -> dict[str, object]:
    import json
    import subprocess

    from tests.caddy import CADDYFILE
    from tests.tools import require

    done = subprocess.run(
        [require("caddy"), "adapt", "--adapter", "caddyfile", "--config", str(config or CADDYFILE)],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **env},
    )
    assert done.returncode == 0, done.stderr
    adapted: dict[str, object] = json.loads(done.stdout)
    return adapted


def test_production_mode_gets_publicly_trusted_certificates() -> None:
    adapted = adapt({"AUTOCONFIG_DOMAIN": D, "AUTOCONFIG_TLS": f"postmaster@{D}"})
    text = str(adapted)
    assert "'module': 'acme'" in text
    assert f"'email': 'postmaster@{D}'" in text
    assert "internal" not in text
    assert "'[::]:443'" in text  # every address, IPv4 and IPv6


def certificate_names(adapted: dict[str, object]) -> set[str]:
    """Every name Caddy would get a certificate for: the host matchers of its https routes."""
    servers = adapted["apps"]["http"]["servers"]  # type: ignore[index]
    return {
        host
        for server in servers.values()
        if ":80" not in str(server["listen"])
        for route in server.get("routes", [])
        for match in route.get("match", [])
        for host in match.get("host", [])
    }


def test_pacc_is_served_only_where_its_site_is_imported(tmp_path: Path) -> None:
    """With ACME, the shipped Caddyfile asks certificates for autoconfig. and autodiscover. only:
    ua-auto-config.<domain> has DNS records only with PACC (the académie has none), and Caddy would
    keep failing on it. Importing deploy/pacc.caddy after it adds that name."""
    from tests.caddy import CADDYFILE, PACC_SITE

    env = {"AUTOCONFIG_DOMAIN": D, "AUTOCONFIG_TLS": f"postmaster@{D}"}
    assert certificate_names(adapt(env)) == {f"autoconfig.{D}", f"autodiscover.{D}"}
    both = tmp_path / "Caddyfile"
    both.write_text(f"import {CADDYFILE}\nimport {PACC_SITE}\n", encoding="utf-8")
    assert certificate_names(adapt(env, both)) == {
        f"autoconfig.{D}",
        f"autodiscover.{D}",
        f"ua-auto-config.{D}",
    }


@pytest.mark.parametrize("name", ["Caddyfile", "deploy/main-site.caddy", "deploy/pacc.caddy"])
def test_caddy_files_are_formatted(name: str) -> None:
    import subprocess

    from tests.caddy import ROOT
    from tests.tools import require

    path = ROOT / name
    done = subprocess.run(
        [require("caddy"), "fmt", str(path)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == path.read_text(encoding="utf-8")


def test_the_written_caddyfile_is_formatted(tmp_path: Path) -> None:
    import subprocess

    from autoconfig.formats.caddyfile import render
    from tests.caddy import CADDYFILE, PACC_SITE
    from tests.tools import require

    written = tmp_path / "Caddyfile"
    template = CADDYFILE.read_text(encoding="utf-8")
    pacc = PACC_SITE.read_text(encoding="utf-8")
    written.write_bytes(render(template, [D, "example.org"], pacc, ["example.org"]).body)
    done = subprocess.run(
        [require("caddy"), "fmt", str(written)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == written.read_text(encoding="utf-8")


def test_client_address_comes_from_caddy_never_from_the_client(tmp_path: Path) -> None:
    """Behind the Caddyfile, an upstream sees the address Caddy saw and the scheme it served,
    whatever X-Forwarded-* headers the client sent."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.caddy import run_caddy

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = "".join(f"{k.lower()}: {v}\n" for k, v in self.headers.items()).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    try:
        with run_caddy(tmp_path, D, [upstream.server_address[1]]) as caddy:
            fetched = curl(
                caddy,
                f"https://autoconfig.{D}/echo",
                headers=("X-Forwarded-For: 203.0.113.66", "X-Forwarded-Proto: http"),
            )
    finally:
        upstream.shutdown()
        upstream.server_close()
    seen = fetched.body.decode()
    assert "x-forwarded-for: 127.0.0.1\n" in seen
    assert "x-forwarded-proto: https\n" in seen
    assert "203.0.113.66" not in seen


def test_one_limit_for_the_whole_deployment(tmp_path: Path) -> None:
    """The production layout holds the documented figure: two instances of two workers behind
    the Caddyfile (which spreads one client's requests over both), naming one
    --directory-rate-limit-dir, give one client two people's logins in all with a limit of 2 —
    not two per instance, not two per worker."""
    from contextlib import ExitStack

    from tests.caddy import run_caddy
    from tests.conftest import DEMO, logins_learnt
    from tests.servers import serve

    folder = tmp_path / "limit"
    folder.mkdir()
    args = (
        *("--directory", str(DEMO), "--trusted-proxy", "127.0.0.1", "--workers", "2"),
        *("--directory-rate-limit", "2", "--directory-rate-limit-dir", str(folder)),
    )
    with ExitStack() as stack:
        apps = [stack.enter_context(serve(tmp_path, *args)) for _ in range(2)]
        caddy = stack.enter_context(run_caddy(tmp_path, D, [app.port for app in apps]))

        def username_of(address: str, _turn: int) -> str:
            query = address.replace("@", "%40")
            return login_in(
                curl(caddy, f"https://autoconfig.{D}/mail/config-v1.1.xml?emailaddress={query}")
            )

        got = logins_learnt(username_of)
        served = [app.log_text().count("endpoint=thunderbird") for app in apps]
    assert all(served), served  # both instances answered
    assert len(got) == 2


def test_the_caddyfile_for_two_domains_serves_both(tmp_path: Path) -> None:
    """``autoconfig caddyfile`` for the profiles' domains, through the real Caddy: each domain's
    two names get a certificate and their own provider's answer, and plain http is redirected;
    the PACC name only for the domain whose profile offers PACC (example.org, not the académie)."""
    import json
    import socket
    import ssl

    from autoconfig.formats import pacc
    from autoconfig.profiles import load
    from tests.caddy import run_caddy
    from tests.servers import PROFILES, run_command, serve

    (example,) = [p for p in load(PROFILES) if p.id == "example.org"]
    written = run_command("caddyfile", "--profiles", str(PROFILES), D, "example.org")
    assert written.returncode == 0, written.stderr.decode()
    caddyfile = tmp_path / "Caddyfile.sites"
    caddyfile.write_bytes(written.stdout)
    with (
        serve(tmp_path, "--profiles", str(PROFILES), "--trusted-proxy", "127.0.0.1") as app,
        run_caddy(tmp_path, D, [app.port], caddyfile=caddyfile) as caddy,
    ):
        for domain in (D, "example.org"):
            fetched = curl(caddy, f"https://autoconfig.{domain}/mail/config-v1.1.xml")
            assert fetched.status == 200, fetched.body
            provider = etree.fromstring(fetched.body).find("emailProvider")
            assert provider is not None
            assert provider.get("id") == domain
            pointer = curl(
                caddy,
                f"https://autodiscover.{domain}/autodiscover/autodiscover.json/v1.0/"
                f"x@{domain}?Protocol=AutodiscoverV1",
            )
            assert json.loads(pointer.body)["Url"] == (
                f"https://autodiscover.{domain}/autodiscover/autodiscover.xml"
            )
            plain = curl(caddy, f"http://autoconfig.{domain}/mail/config-v1.1.xml")
            assert (plain.status, plain.location) == (
                301,
                f"https://autoconfig.{domain}/mail/config-v1.1.xml",
            )
        # PACC: the document on the name of the domain that offers it, untouched.
        document = curl(caddy, f"https://ua-auto-config.example.org{pacc.PATH}")
        assert document.status == 200, document.body
        assert document.body == pacc.render(example).body
        # A domain the file was not written for has no site: no certificate for its names; nor
        # has the PACC name of a domain whose profile does not offer PACC.
        context = ssl.create_default_context(cafile=str(caddy.root_certificate))
        for name in ("autoconfig.example.net", f"ua-auto-config.{D}"):
            with (
                socket.create_connection(("127.0.0.1", caddy.https_port), timeout=5) as raw,
                pytest.raises(ssl.SSLError),
            ):
                context.wrap_socket(raw, server_hostname=name)
