"""Microsoft Autodiscover answers: POX settings and errors ([MS-OXDSCLI]), and the v2 JSON pointer.

Settings, as Outlook, Thunderbird, exchangelib and Delta Chat read them: ``Autodiscover`` in
``…/responseschema/2006`` holding ``Response`` in ``…/outlook/responseschema/2006a``, both as
default namespaces (no prefixes: Thunderbird reads tag names as written). One ``IMAP`` and one
``SMTP`` ``Protocol``, children in the documented order, every value explicit (``SPA`` and ``SSL``
default to ``on`` when absent, and an empty ``SSL`` breaks Outlook), never an empty element.
``Encryption`` (``SSL`` implicit TLS, ``TLS`` STARTTLS) follows ``SSL``.

``LoginName``: the login the directory gave, or the profile's fallback expanded for the address —
Autodiscover clients do not replace ``%EMAILLOCALPART%``-style placeholders. Without an address
(a ``GET`` with no body) there is nothing to expand: a fallback with placeholders leaves
``LoginName`` out, and clients then log in with the address typed (Thunderbird, exchangelib and
Delta Chat all do); a fallback without placeholders is given as it is.
``User/DisplayName`` carries the person's name when the directory knows it.

Errors: ``Response/Error`` in the namespace of the outer element (exchangelib reads them there),
or in the mobilesync namespace for an ActiveSync request ([MS-ASCMD]). They have no ``Time`` or
``Id`` attributes: both are optional, no client reads them, and they would put a clock in the body.
Pure functions: the same input gives the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from autoconfig.autodiscover import (
    OUTLOOK_RESPONSE_NS,
    RESPONSE_NS,
    V2_PROTOCOL,
    ErrorCode,
)
from autoconfig.model import PLACEHOLDERS, Account, Provider, Security, Server
from autoconfig.render import Rendered

MEDIA_TYPE = "application/xml; charset=utf-8"
JSON_MEDIA_TYPE = "application/json"

ENCRYPTION = {Security.TLS: "SSL", Security.STARTTLS: "TLS"}

MESSAGES = {
    ErrorCode.NOT_FOUND: "The email address can't be found.",
    ErrorCode.INVALID_REQUEST: "Invalid Request",
    ErrorCode.UNAVAILABLE: "No configuration of the requested type is available.",
}
"""The 500 message is the one Exchange sends; exchangelib recognises it."""


def _default(namespace: str) -> Any:
    """A namespace map making ``namespace`` the default one (no prefixes in the output)."""
    return {None: namespace}


def _text(parent: etree._Element, tag: str, text: str) -> None:
    assert text, f"{tag} would be empty"
    etree.SubElement(parent, f"{{{parent.nsmap[None]}}}{tag}").text = text


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def login_name(account: Account) -> str | None:
    """The ``LoginName`` to give, or ``None`` to leave it out (see the module docstring)."""
    if account.address is None and any(p in account.login for p in PLACEHOLDERS):
        return None
    return account.login


def _protocol(
    account_element: etree._Element, kind: str, server: Server, login: str | None
) -> None:
    protocol = etree.SubElement(account_element, f"{{{OUTLOOK_RESPONSE_NS}}}Protocol")
    _text(protocol, "Type", kind)
    _text(protocol, "Server", server.host)
    _text(protocol, "Port", str(server.port))
    if login is not None:
        _text(protocol, "LoginName", login)
    _text(protocol, "DomainRequired", "off")
    # SPA means NTLM or Kerberos to Outlook and Thunderbird alike: never what a profile offers.
    _text(protocol, "SPA", "off")
    _text(protocol, "SSL", "on")
    _text(protocol, "Encryption", ENCRYPTION[server.security])
    _text(protocol, "AuthRequired", "on")
    if kind == "SMTP":
        _text(protocol, "UsePOPAuth", "on")
        _text(protocol, "SMTPLast", "off")


def settings(provider: Provider, account: Account) -> Rendered:
    """The settings answer for ``account``: one IMAP and one SMTP ``Protocol``."""
    return settings_document(provider, login_name(account), account.name)


def settings_document(provider: Provider, login: str | None, name: str | None) -> Rendered:
    """The settings answer with ``login`` as ``LoginName`` (left out when ``None``) and ``name`` as
    ``DisplayName``: all of the account it uses, so that answers can be reused."""
    root = etree.Element(f"{{{RESPONSE_NS}}}Autodiscover", nsmap=_default(RESPONSE_NS))
    response = etree.SubElement(
        root, f"{{{OUTLOOK_RESPONSE_NS}}}Response", nsmap=_default(OUTLOOK_RESPONSE_NS)
    )
    if name:
        user = etree.SubElement(response, f"{{{OUTLOOK_RESPONSE_NS}}}User")
        _text(user, "DisplayName", name)
    account_element = etree.SubElement(response, f"{{{OUTLOOK_RESPONSE_NS}}}Account")
    _text(account_element, "AccountType", "email")
    _text(account_element, "Action", "settings")
    _protocol(account_element, "IMAP", provider.imap, login)
    _protocol(account_element, "SMTP", provider.smtp, login)
    return Rendered(_serialise(root), MEDIA_TYPE)


def error(code: ErrorCode, namespace: str = RESPONSE_NS) -> Rendered:
    """An error answer; ``namespace`` is the ``Response`` element's (mobilesync for ActiveSync)."""
    root = etree.Element(f"{{{RESPONSE_NS}}}Autodiscover", nsmap=_default(RESPONSE_NS))
    response = etree.SubElement(root, f"{{{namespace}}}Response", nsmap=_default(namespace))
    element = etree.SubElement(response, f"{{{namespace}}}Error")
    _text(element, "ErrorCode", str(int(code)))
    _text(element, "Message", MESSAGES[code])
    return Rendered(_serialise(root), MEDIA_TYPE)


def _json(value: dict[str, str]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def v2_url(provider: Provider) -> str:
    """Where the provider's POX endpoint is: ``autodiscover.<first domain>``."""
    return f"https://autodiscover.{provider.domains[0]}/autodiscover/autodiscover.xml"


def v2_pointer(provider: Provider) -> Rendered:
    """The Autodiscover v2 answer for ``AutodiscoverV1``: the URL of the POX endpoint."""
    return Rendered(_json({"Protocol": V2_PROTOCOL, "Url": v2_url(provider)}), JSON_MEDIA_TYPE)


def v2_invalid_protocol() -> Rendered:
    """The Autodiscover v2 answer (with HTTP 400) for any protocol but ``AutodiscoverV1``."""
    message = f"Only the {V2_PROTOCOL} protocol is served here."
    return Rendered(
        _json({"ErrorCode": "InvalidProtocol", "ErrorMessage": message}), JSON_MEDIA_TYPE
    )
