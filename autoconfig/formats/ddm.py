"""Apple declarative device management: the ``com.apple.configuration.account.mail`` declaration
that sets up Mail on an iPad, iPhone or Mac enrolled in an MDM (``autoconfig render ddm``).

The mail declaration names the servers; the person comes in through two assets it references,
as Apple's schema has it: a ``com.apple.asset.useridentity`` (address, full name) and a
``com.apple.asset.credential.userpassword`` whose ``Reference.DataURL`` is where the MDM serves
the ``com.apple.credential.usernameandpassword`` document (the login, never a password here: Mail
asks for it). Each value the MDM knows per person is its variable (:mod:`.mdm`). A document served
as is would carry the variable itself to every device, so the asset asks it with
``Authentication: {"Type": "MDM"}`` (iOS 17, macOS 14): the device fetches it with its MDM identity,
and the MDM, which hosts it, answers each device with its user's login. When the profile
declares them, ``com.apple.configuration.account.caldav`` and ``.carddav`` declarations follow,
with the same credential. The output is one JSON object: the declarations, and the credential
document for the MDM to host.

Neither format supports OAuth; the declaration has no TLS key (Mail negotiates it), so the port
says which: 993/465 implicit TLS, 143/587 STARTTLS. Identifiers are the provider's reverse-DNS
name; each ``ServerToken`` is a digest of its payload, so it changes exactly when the payload does.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from autoconfig.formats import Rendered, mdm
from autoconfig.model import Auth, DavServer, Provider, Server

MEDIA_TYPE = "application/json"
MAIL = "com.apple.configuration.account.mail"
CALDAV = "com.apple.configuration.account.caldav"
CARDDAV = "com.apple.configuration.account.carddav"
IDENTITY = "com.apple.asset.useridentity"
CREDENTIAL = "com.apple.asset.credential.userpassword"
CREDENTIAL_DATA = "com.apple.credential.usernameandpassword"
DATA_URL = "https://mdm.invalid/autoconfig/{identifier}.json"
"""Where the credential document is served: a placeholder (``.invalid`` never resolves), to be
replaced by the MDM's own URL for it."""
ASSET_AUTHENTICATION = {"Type": "MDM"}
"""How the device asks the credential document: as an MDM request (its device identity, and the
user's when enrolled with one), so that the MDM serves each device its own user's document."""

AUTHENTICATION = {Auth.PASSWORD: "Password", Auth.PASSWORD_ENCRYPTED: "CRAMMD5"}


def _declaration(kind: str, identifier: str, payload: dict[str, Any]) -> dict[str, Any]:
    content = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    token = hashlib.sha256(f"{kind}\n".encode() + content).hexdigest()[:32]
    return {"Type": kind, "Identifier": identifier, "ServerToken": token, "Payload": payload}


def _server(server: Server, credential: str) -> dict[str, Any]:
    return {
        "HostName": server.host,
        "Port": server.port,
        "AuthenticationMethod": AUTHENTICATION[server.auth],
        "AuthenticationCredentialsAssetReference": credential,
    }


def _dav(provider: Provider, server: DavServer, credential: str) -> dict[str, Any]:
    return {
        "VisibleName": provider.short_name.default,
        "HostName": server.host,
        "Port": server.port,
        "Path": server.path,
        "AuthenticationCredentialsAssetReference": credential,
    }


def declarations(provider: Provider, vendor: mdm.Vendor) -> dict[str, Any]:
    """The declarations of ``provider``'s mail account, with ``vendor``'s variables."""
    person = mdm.person(provider, vendor)
    prefix = ".".join(reversed(provider.id.split(".")))
    ids = {kind: f"{prefix}.autoconfig.{kind}" for kind in ("mail", "identity", "credential")}
    identity: dict[str, Any] = {"EmailAddress": person.address}
    if person.name is not None:
        identity["FullName"] = person.name
    credential = {
        "Reference": {
            "DataURL": DATA_URL.format(identifier=ids["credential"]),
            "ContentType": "application/json",
        },
        "Authentication": dict(ASSET_AUTHENTICATION),
    }
    mail = {
        "VisibleName": provider.short_name.default,
        "UserIdentityAssetReference": ids["identity"],
        "IncomingServer": {"ServerType": "IMAP", **_server(provider.imap, ids["credential"])},
        "OutgoingServer": _server(provider.smtp, ids["credential"]),
    }
    found = [
        _declaration(IDENTITY, ids["identity"], identity),
        _declaration(CREDENTIAL, ids["credential"], credential),
        _declaration(MAIL, ids["mail"], mail),
    ]
    for kind, server in ((CALDAV, provider.caldav), (CARDDAV, provider.carddav)):
        if server is not None:
            ident = f"{prefix}.autoconfig.{kind.rsplit('.', 1)[1]}"
            found.append(_declaration(kind, ident, _dav(provider, server, ids["credential"])))
    return {
        "declarations": found,
        "credential": {"type": CREDENTIAL_DATA, "document": {"UserName": person.login}},
    }


def render(provider: Provider, vendor: mdm.Vendor) -> Rendered:
    """The declarations as JSON (sorted keys, so the same profile gives the same bytes)."""
    text = json.dumps(declarations(provider, vendor), ensure_ascii=False, sort_keys=True, indent=2)
    return Rendered(f"{text}\n".encode(), MEDIA_TYPE)
