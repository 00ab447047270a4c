"""Microsoft Autodiscover (POX): what a request asks, and which error code each failure gets.

A request (``POST /autodiscover/autodiscover.xml``, [MS-OXDSCLI])::

    <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
      <Request>
        <EMailAddress>prenom.nom@example.org</EMailAddress>
        <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
      </Request>
    </Autodiscover>

Parsing is lenient where clients differ and strict where it matters: elements are matched by local
name in any namespace (default namespace, a prefix, or none) and any letter case, the XML
declaration is optional, and the body goes through :mod:`autoconfig.xmlsafe` (size cap, no DTD, no
entities). An empty body (``GET`` from Delta Chat and several mobile apps) asks for the generic
settings; so does a request without ``EMailAddress``. Only the Outlook response schema is served:
an ActiveSync (mobilesync) request or any other schema gets error 601.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from lxml import etree

from autoconfig import xmlsafe
from autoconfig.errors import AddressError, AutoconfigError, UnknownDomainError, XMLError

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


ERROR_CODES: dict[type[AutoconfigError], ErrorCode] = {
    XMLError: ErrorCode.INVALID_REQUEST,
    AddressError: ErrorCode.INVALID_REQUEST,
    UnknownDomainError: ErrorCode.NOT_FOUND,
}
"""Errors answered with an Autodiscover error document. Any other error (a body over the size
limit, for one) is not a protocol answer and goes to the HTTP error mapping."""

ANSWERED = tuple(ERROR_CODES)


def error_code(exc: AutoconfigError) -> ErrorCode:
    """The code of an error from :data:`ANSWERED` (its class or a parent of it)."""
    for cls in type(exc).__mro__:
        if cls in ERROR_CODES:
            return ERROR_CODES[cls]
    raise LookupError(f"{type(exc).__name__} has no Autodiscover error code")


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
    address = _text(_child(request, "emailaddress"))
    schema = _text(_child(request, "acceptableresponseschema"))
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


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None
