"""Microsoft Autodiscover: the POX request ([MS-OXDSCLI]) and its answers, and the v2 JSON pointer.

Specification: [MS-OXDSCLI] (POX), [MS-ASCMD] (ActiveSync errors). One protocol, one module:
what a request asks, which error code each failure gets, and every answer.

Requests.

A request (``POST /autodiscover/autodiscover.xml``, [MS-OXDSCLI])::

    <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
      <Request>
        <EMailAddress>prenom.nom@example.org</EMailAddress>
        <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
      </Request>
    </Autodiscover>

Parsing is lenient where clients differ and strict where it matters: elements are matched by local
name in any namespace (default namespace, a prefix, or none) and any letter case, the XML
declaration is optional, and the body goes through :mod:`autoconfig.formats.xmlsafe` (size cap, no DTD, no
entities). An empty body (``GET`` from Delta Chat and several mobile apps) asks for the generic
settings; so does a request without ``EMailAddress``. Only the Outlook response schema is served:
an ActiveSync (mobilesync) request or any other schema gets error 601.

Answers. Settings, as Outlook, Thunderbird, exchangelib and Delta Chat read them: ``Autodiscover`` in
``…/responseschema/2006`` holding ``Response`` in ``…/outlook/responseschema/2006a``, both as
default namespaces (no prefixes: Thunderbird reads tag names as written). One ``IMAP`` and one
``SMTP`` ``Protocol``, children in the documented order, every value explicit (``SPA`` and ``SSL``
default to ``on`` when absent, and an empty ``SSL`` breaks Outlook), never an empty element.
``Encryption`` (``SSL`` implicit TLS, ``TLS`` STARTTLS) follows ``SSL``.

``LoginName``: the login the directory gave, or the login the profile's rule gives, expanded for
the address — Autodiscover clients do not replace ``%EMAILLOCALPART%``-style placeholders. When
the login is not known (:attr:`~autoconfig.model.Certainty.ASK`), it is left out rather than
guessed, and so it is without an address (a ``GET`` with no body) when the template has
placeholders: clients then use the address typed (Thunderbird, exchangelib and Delta Chat all
do) and ask for the login when it is refused.
``User/DisplayName`` carries the person's name when the directory knows it.

Errors: ``Response/Error`` in the namespace of the outer element (exchangelib reads them there),
or in the mobilesync namespace for an ActiveSync request ([MS-ASCMD]). They have no ``Time`` or
``Id`` attributes: both are optional, no client reads them, and they would put a clock in the body.
Pure functions: the same input gives the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from lxml import etree

from autoconfig.errors import AddressError, UnknownDomainError, XMLError, for_class
from autoconfig.formats import Rendered, xmlsafe
from autoconfig.model import PLACEHOLDERS, Account, Certainty, Provider, Security, Server

RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK_REQUEST_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
OUTLOOK_RESPONSE_NS = (
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)
MOBILESYNC_REQUEST_NS = (
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"
)
MOBILESYNC_RESPONSE_NS = (
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
)
V2_PROTOCOL = "AutodiscoverV1"
"""The one Autodiscover v2 protocol served: a pointer back to the POX endpoint."""


class ErrorCode(IntEnum):
    """[MS-OXDSCLI] ErrorCode values the service answers with (always with HTTP 200)."""

    NOT_FOUND = 500
    """The address cannot be found: its domain is not served here."""
    INVALID_REQUEST = 600
    """The request is not well-formed XML, not an Autodiscover request, or names a malformed address."""
    UNAVAILABLE = 601
    """No configuration of the requested type (any response schema but Outlook's)."""


ERROR_CODES: dict[type[Exception], ErrorCode] = {
    XMLError: ErrorCode.INVALID_REQUEST,
    AddressError: ErrorCode.INVALID_REQUEST,
    UnknownDomainError: ErrorCode.NOT_FOUND,
}
"""Errors answered with an Autodiscover error document. Any other error (a body over the size
limit, for one) is not a protocol answer and goes to the HTTP error mapping."""

ANSWERED = tuple(ERROR_CODES)


def error_code(exc: BaseException) -> ErrorCode | None:
    """The code an error is answered with (its class or a parent of it in :data:`ERROR_CODES`);
    ``None`` for an error that is not a protocol answer."""
    return for_class(ERROR_CODES, exc, None)


@dataclass(frozen=True, slots=True)
class Request:
    """What an Autodiscover request asks: an address as typed (``None``: the generic settings)
    and the response schema it accepts."""

    address: str | None = None
    schema: str = OUTLOOK_RESPONSE_NS

    @property
    def mobilesync(self) -> bool:
        return self.schema == MOBILESYNC_RESPONSE_NS

    @property
    def error_namespace(self) -> str:
        """The namespace of an error ``Response`` to this request ([MS-ASCMD] for ActiveSync)."""
        return MOBILESYNC_RESPONSE_NS if self.mobilesync else RESPONSE_NS

    @property
    def served(self) -> bool:
        """True when the service has settings in the requested schema."""
        return self.schema == OUTLOOK_RESPONSE_NS


KNOWN_SCHEMAS = {ns.casefold(): ns for ns in (OUTLOOK_RESPONSE_NS, MOBILESYNC_RESPONSE_NS)}


def parse_request(body: bytes) -> Request:
    """The request in ``body``; raises :class:`XMLError` (code 600) when there is none to read."""
    if not body.strip():
        return Request()
    root = xmlsafe.parse(body)
    if _local(root) != "autodiscover":
        raise XMLError("the root element is not Autodiscover")
    request = _child(root, "request")
    if request is None:
        raise XMLError("Autodiscover has no Request element")
    address = _content(_child(request, "emailaddress"))
    schema = _content(_child(request, "acceptableresponseschema"))
    if schema is None:
        mobile = etree.QName(root).namespace == MOBILESYNC_REQUEST_NS
        schema = MOBILESYNC_RESPONSE_NS if mobile else OUTLOOK_RESPONSE_NS
    return Request(address, KNOWN_SCHEMAS.get(schema.casefold(), schema))


def is_v2_protocol(value: str | None) -> bool:
    """True for ``AutodiscoverV1`` in any letter case (Outlook 2019 sends ``Autodiscoverv1``)."""
    return value is not None and value.strip().casefold() == V2_PROTOCOL.casefold()


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname.casefold()


def _child(parent: etree._Element, name: str) -> etree._Element | None:
    return next((c for c in parent if isinstance(c.tag, str) and _local(c) == name), None)


def _content(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


# Answers
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
    if account.certainty is Certainty.ASK:
        return None
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


V2_INVALID_PROTOCOL = "InvalidProtocol"
"""The error code of the v2 answer to a protocol other than ``AutodiscoverV1``."""


def v2_invalid_protocol() -> Rendered:
    """The Autodiscover v2 answer (with HTTP 400) for any protocol but ``AutodiscoverV1``."""
    message = f"Only the {V2_PROTOCOL} protocol is served here."
    return Rendered(
        _json({"ErrorCode": V2_INVALID_PROTOCOL, "ErrorMessage": message}), JSON_MEDIA_TYPE
    )
