"""What the deployment offers people directly: the help site answers on the profile's URL, and
the Apple profile link gives a profile whose signature verifies (with the signing certificate's
days left), as an iPhone checks it before showing "Verified"."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from autoconfig.doctor import Check, Options, Status
from autoconfig.doctor.cms import Unverified, chain_to_root, trusted_roots, verify_signature
from autoconfig.doctor.dnschecks import Resolver
from autoconfig.doctor.httpschecks import FetchFailed, fetch
from autoconfig.model import Provider

MOBILECONFIG = "/mobileconfig"
PROBE_LOCAL = "autoconfig-doctor"
"""The local part of the address the profile is asked for when no --login is given."""
SIGNING_HINT = "give the service its signing certificate (--signing-cert, --signing-key)"


def help_check(provider: Provider, resolver: Resolver, options: Options) -> Check:
    url = provider.help.url
    parts = urlsplit(url)
    assert parts.hostname is not None
    path = parts.path or "/"
    try:
        fetched = fetch(parts.hostname, path, resolver, options, port=parts.port or options.port)
    except FetchFailed as exc:
        return Check("help site", url, Status.FAIL, exc.detail, exc.hint)
    if fetched.status == 200:
        return Check("help site", url, Status.PASS, "answers 200")
    hint = "the profile's help.url must be the help site's address (the service serves it)"
    return Check("help site", url, Status.FAIL, f"HTTP {fetched.status}", hint)


def signature_check(
    domain: str, resolver: Resolver, options: Options, address: str | None = None
) -> Check:
    host = f"autoconfig.{domain}"
    target = f"{host}{MOBILECONFIG}"
    query = quote(address or f"{PROBE_LOCAL}@{domain}")
    try:
        fetched = fetch(host, f"{MOBILECONFIG}?email={query}", resolver, options)
    except FetchFailed as exc:
        return Check("Apple profile", target, Status.FAIL, exc.detail, exc.hint)
    if fetched.status != 200:
        return Check("Apple profile", target, Status.FAIL, f"HTTP {fetched.status}", SIGNING_HINT)
    if fetched.body.lstrip().startswith(b"<?xml"):
        detail = "not signed: devices show the profile as unverified"
        return Check("Apple profile", target, Status.WARN, detail, SIGNING_HINT)
    try:
        signed = verify_signature(fetched.body)
        chain = chain_to_root(signed, trusted_roots(options.ca_file))
    except Unverified as exc:
        hint = "sign with a certificate from a trusted CA and send its intermediates"
        return Check("Apple profile", target, Status.FAIL, f"signature refused: {exc}", hint)
    days = (signed.signer.not_valid_after_utc - datetime.now(UTC)).total_seconds() / 86400
    who = signed.signer.subject.rfc4514_string()
    if days < options.min_days:
        detail = f"signed by {who}, which expires in {days:.1f} days (< {options.min_days})"
        hint = "renew the signing certificate and reload the service (systemctl reload autoconfig)"
        return Check("Apple profile", target, Status.FAIL, detail, hint)
    detail = f"signature verifies: {who}, {len(chain)} certificates to a trusted root, {days:.1f} days left"
    return Check("Apple profile", target, Status.PASS, detail)


def site_checks(
    provider: Provider, domain: str, resolver: Resolver, options: Options, address: str | None
) -> list[Check]:
    return [
        help_check(provider, resolver, options),
        signature_check(domain, resolver, options, address),
    ]
