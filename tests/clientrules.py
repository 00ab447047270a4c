"""How real clients read an autoconfig answer, written as checks (facts from their source code).

Each function raises ``AssertionError`` with the reason the client would reject the document and
returns what the client would take from it.
"""

from __future__ import annotations

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


def substitute(username: str, address: str) -> str:
    """What every client does with the placeholders of a username."""
    local, _, domain = address.partition("@")
    return (
        username.replace("%EMAILADDRESS%", address)
        .replace("%EMAILLOCALPART%", local)
        .replace("%EMAILDOMAIN%", domain)
    )
