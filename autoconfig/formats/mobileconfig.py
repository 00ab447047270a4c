"""Apple configuration profiles (``.mobileconfig``) for iPhone, iPad and Mac.

One ``com.apple.mail.managed`` payload (IMAP and SMTP), plus ``com.apple.caldav.account`` and
``com.apple.carddav.account`` payloads when the provider offers a calendar and an address book.
Never a password: the device asks for it once, at install.

Identity: ``PayloadIdentifier`` is the provider's reverse-DNS name and a hash of the normalised
address, so a re-download replaces the installed profile instead of adding a second one. Every
``PayloadUUID`` is a ``uuid5`` of the identifier and of the payload's content: the same request gives
the same bytes, and a changed setting gives new UUIDs.

Login IDs: given when they are known or certain (looked up in the directory, or given by the
profile's rule); otherwise the username keys are left out and the device asks for the login at
install.

For devices managed by an MDM, :func:`mdm_template` writes the same profile with the MDM's
variables for the address, the login and the name (:mod:`.mdm`).
"""

from __future__ import annotations

import hashlib
import json
import plistlib
import re
import uuid
from typing import Any

from autoconfig.formats import Rendered, mdm
from autoconfig.model import Account, Auth, Certainty, DavServer, Provider, Security, Server

MEDIA_TYPE = "application/x-apple-aspen-config"

AUTHENTICATION = {Auth.PASSWORD: "EmailAuthPassword", Auth.PASSWORD_ENCRYPTED: "EmailAuthCRAMMD5"}
USE_SSL = {Security.TLS: True, Security.STARTTLS: False}
"""Apple's ``UseSSL`` means TLS from the first byte; without it, Mail upgrades with STARTTLS."""

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "mail": "Compte de messagerie",
        "caldav": "Agenda",
        "carddav": "Contacts",
        "for": "Ajoute le compte {address} à {apps}.",
        "generic": "Ajoute votre compte de messagerie à {apps}.",
        "apps": "Mail",
        "apps_dav": "Mail, Calendrier et Contacts",
    },
    "en": {
        "mail": "Mail account",
        "caldav": "Calendar",
        "carddav": "Contacts",
        "for": "Adds the account {address} to {apps}.",
        "generic": "Adds your mail account to {apps}.",
        "apps": "Mail",
        "apps_dav": "Mail, Calendar and Contacts",
    },
}
"""Texts shown on the install screens, in the provider's default language (English otherwise)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def texts(provider: Provider) -> dict[str, str]:
    return TEXTS.get(provider.languages[0], TEXTS["en"])


def identifier(provider: Provider, account: Account) -> str:
    """The profile's ``PayloadIdentifier``: stable for one provider and one address."""
    prefix = ".".join(reversed(provider.id.split(".")))
    if account.address is None:
        return f"{prefix}.autoconfig.generic"
    digest = hashlib.sha256(account.address.key.encode()).hexdigest()[:16]
    return f"{prefix}.autoconfig.{digest}"


def filename(provider: Provider) -> str:
    """A safe ASCII file name for the download."""
    return f"{_UNSAFE.sub('-', provider.id)}.mobileconfig"


def _uuid(provider: Provider, payload: dict[str, Any]) -> str:
    """A ``uuid5`` of the payload's identifier and content (it must not hold its UUID yet)."""
    content = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return str(uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_DNS, provider.id), content)).upper()


def _payload(
    provider: Provider, kind: str, ident: str, name: str, keys: dict[str, Any]
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "PayloadType": kind,
        "PayloadVersion": 1,
        "PayloadIdentifier": ident,
        "PayloadDisplayName": name,
        "PayloadOrganization": provider.organization.default,
        **keys,
    }
    payload["PayloadUUID"] = _uuid(provider, payload)
    return payload


def _server(prefix: str, server: Server, login: str | None) -> dict[str, Any]:
    keys: dict[str, Any] = {
        f"{prefix}MailServerHostName": server.host,
        f"{prefix}MailServerPortNumber": server.port,
        f"{prefix}MailServerUseSSL": USE_SSL[server.security],
        f"{prefix}MailServerAuthentication": AUTHENTICATION[server.auth],
    }
    if login is not None:
        keys[f"{prefix}MailServerUsername"] = login
    return keys


def _mail(
    provider: Provider, address: str | None, login: str | None, name: str | None
) -> dict[str, Any]:
    keys: dict[str, Any] = {
        "EmailAccountType": "EmailTypeIMAP",
        "EmailAccountDescription": provider.short_name.default,
        **_server("Incoming", provider.imap, login),
        **_server("Outgoing", provider.smtp, login),
        "OutgoingPasswordSameAsIncomingPassword": True,
    }
    if address is not None:
        keys["EmailAddress"] = address
    if name:
        keys["EmailAccountName"] = name
    return keys


def _dav(provider: Provider, prefix: str, server: DavServer, login: str | None) -> dict[str, Any]:
    keys: dict[str, Any] = {
        f"{prefix}AccountDescription": provider.short_name.default,
        f"{prefix}HostName": server.host,
        f"{prefix}Port": server.port,
        f"{prefix}UseSSL": True,
        f"{prefix}PrincipalURL": server.url,
    }
    if login is not None:
        keys[f"{prefix}Username"] = login
    return keys


def known_login(account: Account) -> str | None:
    """The login to write into the profile, or ``None`` so that the device asks for it."""
    if account.address is None or account.certainty is Certainty.ASK:
        return None
    return account.login


def profile(provider: Provider, account: Account) -> dict[str, Any]:
    """The profile as a dictionary, ready for :mod:`plistlib`."""
    address = str(account.address) if account.address is not None else None
    ident = identifier(provider, account)
    return _profile(provider, ident, address, known_login(account), account.name, address)


def _profile(
    provider: Provider,
    ident: str,
    address: str | None,
    login: str | None,
    name: str | None,
    described: str | None,
) -> dict[str, Any]:
    """The profile; ``described`` is the address its description names (``None``: generic)."""
    text = texts(provider)
    payloads = [
        _payload(
            provider,
            "com.apple.mail.managed",
            f"{ident}.mail",
            text["mail"],
            _mail(provider, address, login, name),
        )
    ]
    for kind, server in (("caldav", provider.caldav), ("carddav", provider.carddav)):
        if server is not None:
            keys = _dav(provider, "CalDAV" if kind == "caldav" else "CardDAV", server, login)
            payloads.append(
                _payload(provider, f"com.apple.{kind}.account", f"{ident}.{kind}", text[kind], keys)
            )
    apps = text["apps_dav"] if len(payloads) > 1 else text["apps"]
    if described is None:
        description = text["generic"].format(apps=apps)
    else:
        description = text["for"].format(address=described, apps=apps)
    top: dict[str, Any] = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": ident,
        "PayloadDisplayName": provider.name.default,
        "PayloadDescription": description,
        "PayloadOrganization": provider.organization.default,
        "PayloadRemovalDisallowed": False,
        "PayloadContent": payloads,
    }
    top["PayloadUUID"] = _uuid(provider, top)
    return top


def mdm_template(provider: Provider, vendor: mdm.Vendor) -> Rendered:
    """A profile template for an MDM that pushes classic profiles: the address, login and name
    are ``vendor``'s variables (:mod:`.mdm`), which the MDM replaces for each device's user.
    Unsigned (the MDM delivers it); one identifier per provider, so a push replaces it."""
    person = mdm.person(provider, vendor)
    prefix = ".".join(reversed(provider.id.split(".")))
    ident = f"{prefix}.autoconfig.mdm"
    keys = _profile(provider, ident, person.address, person.login, person.name, None)
    body = plistlib.dumps(keys, fmt=plistlib.FMT_XML, sort_keys=True)
    return Rendered(body, MEDIA_TYPE, filename(provider))


def render(provider: Provider, account: Account) -> Rendered:
    """The unsigned profile (an XML property list) for ``account``."""
    body = plistlib.dumps(profile(provider, account), fmt=plistlib.FMT_XML, sort_keys=True)
    return Rendered(body, MEDIA_TYPE, filename(provider))
