"""How real clients read an autoconfig answer, written as checks (facts from their source code).

Each function raises ``AssertionError`` with the reason the client would reject the document and
returns what the client would take from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from lxml import etree

from autoconfig.address import is_hostname


@dataclass(frozen=True)
class ClientServer:
    host: str
    port: int
    socket: str
    username: str
    auth: str


def _strict(body: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(body, parser)


def thunderbird(content_type: str, body: bytes) -> tuple[ClientServer, ClientServer]:
    """Thunderbird desktop: content-type gate, then the first valid server of each kind."""
    assert content_type.startswith(("text/xml", "application/xml")), content_type
    root = _strict(body)
    provider = root.find("emailProvider")
    assert provider is not None, "no emailProvider"
    assert provider.findall("domain"), "no domain"
    servers = []
    for tag, kinds in (("incomingServer", {"imap", "pop3"}), ("outgoingServer", {"smtp"})):
        found = None
        for element in provider.findall(tag):
            if element.get("type") not in kinds:
                continue
            username = element.findtext("username")
            assert username, f"{tag}: missing username would become 'undefined'"
            sockets = [s.text for s in element.findall("socketType")]
            socket = next((s for s in sockets if s in {"SSL", "STARTTLS", "plain"}), None)
            auths = [a.text for a in element.findall("authentication")]
            auth = next((a for a in auths if a != "OAuth2"), None)
            assert socket, f"{tag}: no usable socketType"
            assert auth, f"{tag}: no usable authentication"
            found = ClientServer(
                element.findtext("hostname") or "",
                int(element.findtext("port") or "0"),
                socket,
                username,
                auth,
            )
            break
        assert found is not None, f"no valid {tag}"
        servers.append(found)
    return servers[0], servers[1]


def thunderbird_android(body: bytes) -> tuple[ClientServer, ClientServer]:
    """Thunderbird for Android / K-9: id a host name, >= 1 domain, username present, socketType
    only SSL or STARTTLS (plain rejects the whole document), first IMAP server."""
    root = _strict(body)
    provider = root.find("emailProvider")
    assert provider is not None
    assert is_hostname(provider.get("id") or ""), "emailProvider id is not a host name"
    assert [d for d in provider.findall("domain") if is_hostname(d.text or "")], "no valid domain"
    result = []
    for tag, kind in (("incomingServer", "imap"), ("outgoingServer", "smtp")):
        element = next(e for e in provider.findall(tag) if e.get("type") == kind)
        username = element.find("username")
        assert username is not None, "Missing 'username' element"
        socket = element.findtext("socketType")
        assert socket in {"SSL", "STARTTLS"}, f"socketType {socket!r} is rejected"
        auth = element.findtext("authentication")
        assert auth in {"OAuth2", "password-cleartext", "password-encrypted"}
        result.append(
            ClientServer(
                element.findtext("hostname") or "",
                int(element.findtext("port") or "0"),
                socket,
                username.text or "",
                auth,
            )
        )
    return result[0], result[1]


def evolution(body: bytes) -> tuple[ClientServer, ClientServer]:
    """Evolution 3.46 (e-mail-autoconfig): malformed XML is "not found"; with several servers of
    one type, the last wins field by field; placeholders are replaced from the real address."""
    root = _strict(body)
    provider = root.find("emailProvider")
    assert provider is not None, "no emailProvider: Evolution goes on to the next URL"
    result = []
    for tag, kind in (("incomingServer", "imap"), ("outgoingServer", "smtp")):
        found = [e for e in provider.findall(tag) if e.get("type") == kind]
        assert len(found) == 1, f"{len(found)} {kind} servers (send exactly one)"
        (element,) = found
        result.append(
            ClientServer(
                element.findtext("hostname") or "",
                int(element.findtext("port") or "0"),
                element.findtext("socketType") or "",
                element.findtext("username") or "",
                element.findtext("authentication") or "",
            )
        )
    return result[0], result[1]


def substitute(username: str, address: str) -> str:
    """What every client does with the placeholders of a username."""
    local, _, domain = address.partition("@")
    return (
        username.replace("%EMAILADDRESS%", address)
        .replace("%EMAILLOCALPART%", local)
        .replace("%EMAILDOMAIN%", domain)
    )


# Autodiscover (POX) answers, as three clients read them.

AUTODISCOVER_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
STARTTLS_PORTS = {143, 110, 25, 587}


def autodiscover_thunderbird(
    content_type: str, body: bytes, username: str | None = None
) -> tuple[ClientServer, ClientServer]:
    """Thunderbird's ``readAutoDiscoverXML``: content-type gate, tag names as written (so a prefix
    would hide every element), first IMAP/POP3 and first SMTP ``Protocol``; ``SSL off`` or
    ``Encryption None`` is plain, otherwise the port decides between TLS and STARTTLS; ``SPA on`` is
    NTLM/Kerberos; ``LoginName`` must be non-empty when present, else the typed username or the
    address placeholder."""
    assert content_type.startswith(("text/xml", "application/xml")), content_type
    root = _strict(body)
    for element in root.iter():
        assert element.prefix is None, f"prefixed element {element.tag} is invisible to Thunderbird"
    assert etree.QName(root).localname == "Autodiscover", "no Autodiscover"
    response = next((e for e in root if etree.QName(e).localname == "Response"), None)
    assert response is not None, "no Response"
    account = next((e for e in response if etree.QName(e).localname == "Account"), None)
    assert account is not None, "no Account (an error answer)"

    def text(parent: etree._Element, name: str) -> str | None:
        return next((e.text for e in parent if etree.QName(e).localname == name), None)

    incoming = outgoing = None
    for protocol in (e for e in account if etree.QName(e).localname == "Protocol"):
        kind = text(protocol, "Type")
        if kind not in {"IMAP", "POP3", "SMTP"}:
            continue
        port = int(text(protocol, "Port") or "0")
        if (text(protocol, "SSL") or "").lower() == "off" or (
            text(protocol, "Encryption") or ""
        ).lower() == "none":
            socket = "plain"
        else:
            socket = "STARTTLS" if port in STARTTLS_PORTS else "SSL"
        auth = "secure" if (text(protocol, "SPA") or "").lower() == "on" else "password-cleartext"
        login = text(protocol, "LoginName")
        if any(etree.QName(e).localname == "LoginName" for e in protocol):
            assert login, "an empty LoginName makes Thunderbird drop the server"
        server = ClientServer(
            text(protocol, "Server") or "",
            port,
            socket,
            login or username or "%EMAILADDRESS%",
            auth,
        )
        if kind == "SMTP":
            outgoing = outgoing or server
        else:
            incoming = incoming or server
    assert incoming is not None, "no incoming server"
    assert outgoing is not None, "no outgoing server"
    return incoming, outgoing


@dataclass(frozen=True)
class ExchangelibProtocol:
    type: str | None
    server: str | None
    port: int | None
    login_name: str | None
    ssl: bool
    spa: bool
    auth_required: bool


def _on_off(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    assert value in {"on", "off"}, f"{value!r} is not on/off"
    return value == "on"


def autodiscover_exchangelib(body: bytes) -> tuple[str | None, list[ExchangelibProtocol]]:
    """exchangelib's typed parser: exact namespaces, or it finds nothing. Returns the display name
    and the protocols (``SPA``/``SSL``/``AuthRequired`` default to on when absent)."""
    root = _strict(body)
    assert root.tag == f"{{{AUTODISCOVER_NS}}}Autodiscover", f"unknown root element {root.tag}"
    response = root.find(f"{{{OUTLOOK_NS}}}Response")
    assert response is not None, "no settings Response in the Outlook namespace"
    account = response.find(f"{{{OUTLOOK_NS}}}Account")
    assert account is not None
    assert account.findtext(f"{{{OUTLOOK_NS}}}AccountType") == "email"
    assert account.findtext(f"{{{OUTLOOK_NS}}}Action") == "settings"
    protocols = []
    for protocol in account.findall(f"{{{OUTLOOK_NS}}}Protocol"):

        def get(name: str, element: etree._Element = protocol) -> str | None:
            return element.findtext(f"{{{OUTLOOK_NS}}}{name}")

        port = get("Port")
        protocols.append(
            ExchangelibProtocol(
                get("Type"),
                get("Server"),
                int(port) if port is not None else None,
                get("LoginName"),
                _on_off(get("SSL"), True),
                _on_off(get("SPA"), True),
                _on_off(get("AuthRequired"), True),
            )
        )
    return response.findtext(f"{{{OUTLOOK_NS}}}User/{{{OUTLOOK_NS}}}DisplayName"), protocols


def autodiscover_exchangelib_error(body: bytes) -> tuple[str | None, str | None]:
    """exchangelib's error reading: ``Response/Error`` in the outer namespace; (code, message)."""
    root = _strict(body)
    assert root.tag == f"{{{AUTODISCOVER_NS}}}Autodiscover", f"unknown root element {root.tag}"
    error = root.find(f"{{{AUTODISCOVER_NS}}}Response/{{{AUTODISCOVER_NS}}}Error")
    assert error is not None, "no Error where exchangelib looks for it"
    return (
        error.findtext(f"{{{AUTODISCOVER_NS}}}ErrorCode"),
        error.findtext(f"{{{AUTODISCOVER_NS}}}Message"),
    )


def autodiscover_deltachat(body: bytes) -> tuple[tuple[str, int, bool], tuple[str, int, bool]]:
    """Delta Chat: tag names in any case, one IMAP and one SMTP ``Protocol`` each with ``Server``
    and ``Port`` (else the answer is useless to it); ``SSL`` on/off. It ignores ``LoginName``."""
    root = _strict(body)
    found: dict[str, tuple[str, int, bool]] = {}
    for protocol in root.iter():
        if etree.QName(protocol).localname.lower() != "protocol":
            continue
        fields = {etree.QName(e).localname.lower(): (e.text or "") for e in protocol}
        kind = fields.get("type", "").upper()
        if kind in {"IMAP", "SMTP"} and kind not in found:
            assert fields.get("server"), f"{kind}: no Server"
            assert fields.get("port", "").isdigit(), f"{kind}: no Port"
            found[kind] = (fields["server"], int(fields["port"]), fields.get("ssl") != "off")
    assert set(found) == {"IMAP", "SMTP"}, f"only {sorted(found)}"
    return found["IMAP"], found["SMTP"]


@dataclass(frozen=True)
class ImportedServer:
    protocol: int
    host: str
    port: int
    security: int
    auth: int
    username: str


@dataclass(frozen=True)
class ImportedAccount:
    """What Thunderbird for Android takes from one account of an "Export for Mobile" code."""

    incoming: ImportedServer
    outgoing: ImportedServer
    address: str
    display_name: str


def _ascii_host(value: object) -> str:
    assert isinstance(value, str), value
    assert value.isascii(), value
    assert is_hostname(value), value
    return value


def _number(value: object, allowed: range | set[int]) -> int:
    assert type(value) is int, value  # not a bool, not a float
    assert value in allowed, value
    return value


def _server(element: object, protocols: set[int], size: int) -> ImportedServer:
    assert isinstance(element, list), element
    # the password (and for incoming, the account name) may follow; this writer sends neither
    assert len(element) == size, f"{element}: expected exactly {size} elements"
    protocol, host, port, security, auth, username = element[:6]
    assert isinstance(username, str), username
    assert username, "empty username"
    return ImportedServer(
        _number(protocol, protocols),
        _ascii_host(host),
        _number(port, range(1, 65536)),
        _number(security, {0, 2, 3}),  # 1 is reserved
        _number(auth, range(7)),
        username,
    )


def _array(value: object, size: int) -> list[object]:
    assert isinstance(value, list), value
    assert len(value) == size, f"{value}: expected {size} elements"
    return value


def thunderbird_android_code(payload: str) -> ImportedAccount:
    """Read an "Export for Mobile" code (format version 1) as Thunderbird for Android must: the
    whole account is rejected when any element has a value the version does not define."""
    version, misc, incoming, groups = _array(json.loads(payload), 4)  # one code, one account
    assert _number(version, {1}) == 1
    assert misc == [1, 1], misc
    imap = _server(incoming, {0}, 6)
    (group,) = _array(groups, 1)
    outgoing, identity = _array(group, 2)
    smtp = _server(outgoing, {0}, 6)
    address, name = _array(identity, 2)
    assert isinstance(address, str), address
    assert address.isascii(), address
    assert "@" in address, address
    assert isinstance(name, str), name
    return ImportedAccount(imap, smtp, address, name)
