"""Mozilla autoconfig (``config-v1.1.xml``), as read by Thunderbird, Thunderbird for Android,
Evolution, KMail, Nextcloud Mail, Delta Chat, FairEmail and others.

Requests: ``emailaddress`` (absent from Thunderbird for Android and KDE, which get the generic
document), and from Evolution ``EVOLUTIONUSER@domain`` with ``emailmd5`` (:func:`digest_of`).

One IMAP and one SMTP server, each with a non-empty ``<username>``: the looked-up login ID, or the
provider's template with its placeholders, which the clients replace themselves. When the provider
offers them, the address book and the calendar follow as ``<addressbook type="carddav">`` and
``<calendar type="caldav">`` children of ``<clientConfig>``, with the draft's
``<authentication system="http">Basic</authentication>``; clients that do not know them ignore them.

The document is draft-ietf-mailmaint-autoconfig-06 (``version="1.2"``) and valid against its RELAX NG
schema (kept in ``tests/data/autoconfig_draft/``). The draft says clients must not reject a file for
its version, and none of the clients the suite checks reads it: Thunderbird 153's
``readFromXML.sys.mjs`` and Thunderbird for Android's ``AutoconfigParser`` never look at the
attribute, so the 1.1 readers take the 1.2 file unchanged.
"""

from __future__ import annotations

import re

from lxml import etree

from autoconfig.errors import RequestError
from autoconfig.formats import Rendered
from autoconfig.model import Account, Auth, Certainty, DavServer, Provider, Security, Server

MEDIA_TYPE = "text/xml; charset=utf-8"
VERSION = "1.2"
"""The ``clientConfig`` version: draft-ietf-mailmaint-autoconfig-06."""

EVOLUTION_USER = "evolutionuser"
"""The word Evolution puts in place of the local part of ``emailaddress`` (any letter case), with
the MD5 of the lower-cased address in ``emailmd5``: the person is then found by that digest."""
_MD5 = re.compile(r"[0-9a-fA-F]{32}")

SOCKET_TYPE = {Security.TLS: "SSL", Security.STARTTLS: "STARTTLS"}
AUTHENTICATION = {
    Auth.PASSWORD: "password-cleartext",
    Auth.PASSWORD_ENCRYPTED: "password-encrypted",
}


def digest_of(local: str, emailmd5: str | None) -> bytes | None:
    """The address digest an Evolution request asks about (``None`` for any other request);
    :class:`RequestError` when ``emailmd5`` is not an MD5 in hexadecimal."""
    if emailmd5 is None or local.casefold() != EVOLUTION_USER:
        return None
    if not _MD5.fullmatch(emailmd5):
        raise RequestError("emailmd5 is not an MD5 (expected 32 hexadecimal digits)")
    return bytes.fromhex(emailmd5)


def _text(parent: etree._Element, tag: str, text: str, **attrib: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attrib)
    element.text = text
    return element


def _server(parent: etree._Element, tag: str, kind: str, server: Server, login: str) -> None:
    element = etree.SubElement(parent, tag, type=kind)
    _text(element, "hostname", server.host)
    _text(element, "port", str(server.port))
    _text(element, "socketType", SOCKET_TYPE[server.security])
    _text(element, "username", login)
    _text(element, "authentication", AUTHENTICATION[server.auth])


def _dav(parent: etree._Element, tag: str, kind: str, server: DavServer, login: str) -> None:
    element = etree.SubElement(parent, tag, type=kind)
    _text(element, "url", server.url)
    _text(element, "authentication", "Basic", system="http")
    _text(element, "username", login)


def login_for(provider: Provider, account: Account) -> str:
    """The ``<username>`` of ``account``'s document: a login looked up for the person, else the
    template with its placeholders, which clients expand themselves (the same document for every
    address the directory does not list: the rule's login when it is certain, the value they fill
    in when it is not; the element cannot be left out)."""
    return account.login if account.certainty is Certainty.KNOWN else provider.login.template


def render(provider: Provider, account: Account) -> Rendered:
    """The autoconfig document for ``account`` (personal when its login was looked up)."""
    return document(provider, login_for(provider, account))


def document(provider: Provider, login: str) -> Rendered:
    """The autoconfig document of ``provider`` with ``login`` as every ``<username>``: all the
    account is used for, so that answers can be reused by login."""
    root = etree.Element("clientConfig", version=VERSION)
    email = etree.SubElement(root, "emailProvider", id=provider.id)
    for domain in provider.domains:
        _text(email, "domain", domain)
    _text(email, "displayName", provider.name.default)
    _text(email, "displayShortName", provider.short_name.default)
    _server(email, "incomingServer", "imap", provider.imap, login)
    _server(email, "outgoingServer", "smtp", provider.smtp, login)
    docs = etree.SubElement(email, "documentation", url=provider.help.url)
    for lang, title in provider.help.title.texts:
        _text(docs, "descr", title, lang=lang)
    webmail = etree.SubElement(root, "webMail")
    etree.SubElement(webmail, "loginPage", url=provider.webmail.urls[0])
    if provider.carddav is not None:
        _dav(root, "addressbook", "carddav", provider.carddav, login)
    if provider.caldav is not None:
        _dav(root, "calendar", "caldav", provider.caldav, login)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return Rendered(body, MEDIA_TYPE)
