"""HTTPS checks: certificates of the hosts clients reach, and what those hosts serve.

Host names are resolved through the doctor's resolver (the DNS under test), then each host is
reached on ``Options.port`` with its name as SNI, the certificate verified (names, chain) against
the system's roots or ``Options.ca_file``, and its days left counted. The served settings are
parsed and compared with what the profile says, value by value.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autoconfig.doctor import Check, Options, Status
from autoconfig.doctor.dnschecks import LookupFailed, Resolver
from autoconfig.formats import autodiscover, pacc, thunderbird, xmlsafe
from autoconfig.model import Account, Provider

MAX_BODY = 256 * 1024
USER_AGENT = "autoconfig-doctor"
XML_TYPES = ("text/xml", "application/xml")


@dataclass(frozen=True)
class Fetched:
    status: int
    content_type: str
    body: bytes
    certificate: dict[str, Any]
    content_encoding: str = ""
    location: str = ""


class FetchFailed(Exception):
    def __init__(self, detail: str, hint: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint


def context(options: Options) -> ssl.SSLContext:
    if options.ca_file is not None:
        return ssl.create_default_context(cafile=str(options.ca_file))
    return ssl.create_default_context()


def _certificate_hint(error: ssl.SSLCertVerificationError, host: str) -> str:
    message = error.verify_message or str(error)
    if "mismatch" in message.lower():
        return f"the certificate does not name {host}: list {host} in the Caddyfile site address"
    if "expired" in message.lower():
        return "renew the certificate (Caddy renews by itself: look at its log for ACME errors)"
    return (
        "serve the full chain from a publicly trusted CA (Caddy's automatic HTTPS does); "
        "for a test CA pass --ca-file"
    )


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to ``host`` (SNI, certificate name, Host header) at an address resolved beforehand
    through the doctor's own resolver, not the system's."""

    def __init__(self, host: str, address: str, port: int, options: Options) -> None:
        self.tls = context(options)
        super().__init__(host, port, timeout=options.timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), timeout=self.timeout)
        try:
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def fetch(
    host: str,
    path: str,
    resolver: Resolver,
    options: Options,
    body: bytes | None = None,
    content_type: str = "text/xml; charset=utf-8",
    method: str | None = None,
    port: int | None = None,
    headers: dict[str, str] | None = None,
) -> Fetched:
    """GET ``https://host<path>`` (POST ``body`` when given, or ``method``) on the address DNS
    gives for ``host``, on ``port`` (default: ``Options.port``); FetchFailed with a hint."""
    port = options.port if port is None else port
    try:
        addresses = resolver.addresses(host)
    except LookupFailed as exc:
        raise FetchFailed(f"cannot resolve {host}: {exc}", "check --nameserver") from exc
    if not addresses:
        raise FetchFailed(f"{host} does not resolve", "publish its A/AAAA or CNAME record")
    connection = PinnedHTTPSConnection(host, addresses[0], port, options)
    try:
        connection.connect()
        assert isinstance(connection.sock, ssl.SSLSocket)
        certificate = connection.sock.getpeercert() or {}
        sent = {"User-Agent": USER_AGENT, **(headers or {})}
        if body is not None:
            sent["Content-Type"] = content_type
        verb = method or ("GET" if body is None else "POST")
        connection.request(verb, path, body, sent)
        response = connection.getresponse()
        answer = response.read(MAX_BODY)
        kind, location = response.getheader("Content-Type", ""), response.getheader("Location", "")
        return Fetched(
            response.status,
            kind,
            answer,
            certificate,
            content_encoding=response.getheader("Content-Encoding", ""),
            location=location or "",
        )
    except ssl.SSLCertVerificationError as exc:
        raise FetchFailed(
            f"certificate refused: {exc.verify_message or exc}", _certificate_hint(exc, host)
        ) from exc
    except (OSError, http.client.HTTPException) as exc:
        where = f"{addresses[0]} port {port}"
        raise FetchFailed(
            f"cannot fetch from {where}: {exc or type(exc).__name__}",
            f"is the HTTPS front (Caddy) running and reachable on {where}?",
        ) from exc
    finally:
        connection.close()


def certificate_check(host: str, fetched: Fetched, options: Options, now: float) -> Check:
    label = ("TLS", host)
    expires = ssl.cert_time_to_seconds(str(fetched.certificate["notAfter"]))
    days = (expires - now) / 86400
    detail = f"valid for {host}, trusted chain, {days:.1f} days left"
    if days < options.min_days:
        hint = "renew it (Caddy renews by itself: look at its log for ACME errors)"
        return Check(
            *label, Status.FAIL, f"expires in {days:.1f} days (< {options.min_days})", hint
        )
    return Check(*label, Status.PASS, detail)


def settings_of(body: bytes) -> dict[str, str]:
    """What a client takes from an autoconfig document, flattened for comparison."""
    root = xmlsafe.parse(body, MAX_BODY)
    provider = root.find("emailProvider")
    if provider is None:
        raise ValueError("no emailProvider element")
    found = {
        "id": provider.get("id", ""),
        "domains": " ".join(sorted(d.text or "" for d in provider.findall("domain"))),
    }
    for tag, kind in (("incomingServer", "imap"), ("outgoingServer", "smtp")):
        server = provider.find(f"{tag}[@type='{kind}']")
        for field in ("hostname", "port", "socketType", "authentication"):
            found[f"{kind} {field}"] = server.findtext(field, "") if server is not None else ""
        has_login = server is not None and bool(server.findtext("username", "").strip())
        found[f"{kind} username"] = "present" if has_login else "missing"
    return found


def autodiscover_settings_of(body: bytes) -> dict[str, str]:
    """What a client takes from an Autodiscover answer, flattened for comparison (namespaces
    ignored, as lenient clients do)."""
    root = xmlsafe.parse(body, MAX_BODY)
    found: dict[str, str] = {}
    for protocol in root.iter("{*}Protocol"):
        kind = protocol.findtext("{*}Type", "").lower()
        for field in ("Server", "Port", "SSL", "Encryption", "SPA", "AuthRequired"):
            found[f"{kind} {field}"] = protocol.findtext(f"{{*}}{field}", "")
    if not found:
        raise ValueError("no Protocol element")
    return found


def _differences(
    fetched: Fetched,
    expected_body: bytes,
    read: Callable[[bytes], dict[str, str]],
    what: str,
    wrong_type: str,
) -> list[str]:
    """Differences between the settings a client reads in ``fetched`` and in ``expected_body``."""
    if fetched.status != 200:
        return [f"HTTP status {fetched.status}"]
    if not fetched.content_type.startswith(XML_TYPES):
        return [f"Content-Type {fetched.content_type!r} ({wrong_type})"]
    expected = read(expected_body)
    try:
        served = read(fetched.body)
    except ValueError as exc:  # XMLError included
        return [f"not {what}: {exc}"]
    return [
        f"{key} is {served.get(key)!r}, the profile says {value!r}"
        for key, value in expected.items()
        if served.get(key) != value
    ]


def _generic(provider: Provider) -> Account:
    return provider.login.decide(None)


def autoconfig_content(provider: Provider, fetched: Fetched) -> list[str]:
    """Differences between the autoconfig document served and the one the profile gives."""
    expected = thunderbird.render(provider, _generic(provider)).body
    return _differences(
        fetched, expected, settings_of, "an autoconfig document", "Thunderbird needs text/xml"
    )


def autodiscover_content(provider: Provider, fetched: Fetched) -> list[str]:
    """Differences between the Autodiscover answer to a GET (as Delta Chat sends it) and the
    one the profile gives."""
    expected = autodiscover.settings(provider, _generic(provider)).body
    return _differences(
        fetched,
        expected,
        autodiscover_settings_of,
        "an Autodiscover answer",
        "expected application/xml",
    )


@dataclass(frozen=True)
class Target:
    """One URL the doctor fetches, and how its answer is judged."""

    host: str
    path: str
    content: Callable[[Provider, Fetched], list[str]]
    required: bool = True
    """When false (the main website), a missing forward is a warning, not a failure."""
    passed: str = "serves what the profile says"


def targets(domain: str) -> list[Target]:
    return [
        Target(f"autoconfig.{domain}", "/mail/config-v1.1.xml", autoconfig_content),
        Target(f"autodiscover.{domain}", "/autodiscover/autodiscover.xml", autodiscover_content),
        Target(domain, "/.well-known/autoconfig/mail/config-v1.1.xml", autoconfig_content, False),
        Target(domain, "/autodiscover/autodiscover.xml", autodiscover_content, False),
    ]


CONTENT_HINT = (
    "the service answers with other settings than this profile: deploy the profile and reload "
    "it (systemctl reload autoconfig, i.e. SIGHUP)"
)


PACC_ENCODINGS = "gzip, br, zstd"
"""What the doctor offers when it fetches the PACC document: a front that compresses would then
compress it, and its digest could never match."""


def pacc_check(
    provider: Provider, domain: str, fetched: Fetched, resolver: Resolver
) -> tuple[Status, str, str]:
    """The PACC document served, judged byte for byte: against the profile's, and its SHA-256
    against the ``_ua-auto-config`` TXT records (any of them, as clients accept during a change)."""
    expected = pacc.render(provider).body
    if fetched.status != 200:
        return Status.FAIL, f"HTTP status {fetched.status}", CONTENT_HINT
    if fetched.content_encoding not in ("", "identity"):
        hint = "serve the document as it is: no encode directive on the ua-auto-config site (Caddyfile)"
        return Status.FAIL, f"Content-Encoding {fetched.content_encoding!r}: bytes re-encoded", hint
    if not fetched.content_type.startswith(pacc.MEDIA_TYPE):
        return (
            Status.FAIL,
            f"Content-Type {fetched.content_type!r} (expected {pacc.MEDIA_TYPE})",
            "is the ua-auto-config site forwarding the document to the service (Caddyfile)?",
        )
    if fetched.body != expected:
        return Status.FAIL, "the served bytes differ from the profile's document", CONTENT_HINT
    name = f"{pacc.TXT_LABEL}.{domain}."
    served = pacc.digest(fetched.body)
    record = f'{name} {provider.dns.ttl} IN TXT "{pacc.txt_value(fetched.body)}"'
    try:
        texts = [
            b"".join(r.strings).decode(errors="replace")  # type: ignore[attr-defined]
            for r in resolver.lookup(name, "TXT")
        ]
    except LookupFailed as exc:
        return Status.FAIL, f"no answer for {name} TXT: {exc}", "check --nameserver"
    published = pacc.digests_of(texts)
    if served in published:
        return Status.PASS, f"SHA-256 of the served bytes is in {name} TXT ({served})", ""
    found = ", ".join(published) or "no UAAC1 record"
    return (
        Status.FAIL,
        f"SHA-256 of the served bytes is {served}; {name} TXT has {found}",
        f"publish: {record} (autoconfig dns prints it)",
    )


def forward_hint(path: str) -> str:
    prefix = "/.well-known/autoconfig/" if path.startswith("/.well-known/") else "/autodiscover/"
    return f"forward {prefix} on the main website (deploy/main-site.caddy)"


def https_checks(
    provider: Provider, domain: str, resolver: Resolver, options: Options
) -> list[Check]:
    checks: list[Check] = []
    certified: set[str] = set()
    now = time.time()
    if provider.pacc:
        host = pacc.host(domain)
        label = ("PACC", f"{host}{pacc.PATH}")
        try:
            fetched = fetch(
                host, pacc.PATH, resolver, options, headers={"Accept-Encoding": PACC_ENCODINGS}
            )
        except FetchFailed as exc:
            checks.append(Check(*label, Status.FAIL, exc.detail, exc.hint))
        else:
            certified.add(host)
            checks.append(certificate_check(host, fetched, options, now))
            status, detail, hint = pacc_check(provider, domain, fetched, resolver)
            checks.append(Check(*label, status, detail, hint))
    for target in targets(domain):
        label = ("HTTPS", f"{target.host}{target.path}")
        try:
            fetched = fetch(target.host, target.path, resolver, options)
        except FetchFailed as exc:
            if target.required:
                checks.append(Check(*label, Status.FAIL, exc.detail, exc.hint))
            else:
                checks.append(Check(*label, Status.WARN, exc.detail, forward_hint(target.path)))
            continue
        if target.host not in certified:
            certified.add(target.host)
            checks.append(certificate_check(target.host, fetched, options, now))
        if not target.required and fetched.status == 404:
            hint = forward_hint(target.path)
            checks.append(Check(*label, Status.WARN, "404: not forwarded to the service", hint))
            continue
        problems = target.content(provider, fetched)
        if problems:
            checks.append(Check(*label, Status.FAIL, "; ".join(problems), CONTENT_HINT))
        else:
            checks.append(Check(*label, Status.PASS, target.passed))
    return checks
