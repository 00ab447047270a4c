"""Thunderbird's "Export for Mobile" QR code, format version 1, which Thunderbird for Android
imports from its setup screen: one person's account, their login included, never a password.

Thunderbird for Android sends no address when it looks its settings up, so autoconfig can only
give it the fallback; this code carries the login itself. The payload is JSON made of nested
arrays (the specification "Thunderbird Export for Mobile QR code format", version 1)::

    [1, [1, 1],
     [0, imap_host, imap_port, security, authentication, login],
     [[[0, smtp_host, smtp_port, security, authentication, login], [address, display_name]]]]

Every value is one the version defines (a reader must reject the whole account otherwise), no
element is added, the optional account name and password are left out, host names and the
address are ASCII (the code is not offered for an address that is not), and the JSON is written
in ASCII so that no reader has to guess the encoding of the code's bytes.
"""

from __future__ import annotations

import json

from autoconfig.model import Account, Auth, Certainty, Provider, Security, Server

FORMAT_VERSION = 1
SINGLE_CODE = [1, 1]
"""``[SequenceNumber, SequenceEnd]``: the only code of this export."""
IMAP = 0
SMTP = 0
SECURITY = {Security.STARTTLS: 2, Security.TLS: 3}
"""``ConnectionSecurity``: 2 STARTTLS always, 3 TLS (0 plain is never offered, 1 is reserved)."""
AUTHENTICATION = {Auth.PASSWORD: 1, Auth.PASSWORD_ENCRYPTED: 2}
"""``AuthenticationType``: 1 password in clear (inside TLS), 2 password encrypted."""


def _server(protocol: int, server: Server, login: str) -> list[object]:
    return [
        protocol,
        server.host,
        server.port,
        SECURITY[server.security],
        AUTHENTICATION[server.auth],
        login,
    ]


def payload(provider: Provider, account: Account) -> str | None:
    """The code's text for ``account``, or ``None`` when there is none to give: no address, a
    login that is not known or certain, or an address that is not ASCII."""
    if account.address is None or account.certainty is Certainty.ASK:
        return None
    address = str(account.address)
    if not address.isascii():
        return None
    incoming = _server(IMAP, provider.imap, account.login)
    outgoing = _server(SMTP, provider.smtp, account.login)
    identity = [address, account.name or ""]
    document = [FORMAT_VERSION, SINGLE_CODE, incoming, [[outgoing, identity]]]
    return json.dumps(document, ensure_ascii=True, separators=(",", ":"))
