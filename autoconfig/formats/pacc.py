"""PACC (draft-ietf-mailmaint-pacc-03): one JSON document per provider, served at
``https://ua-auto-config.<domain>/.well-known/user-agent-configuration.json`` and vouched for by
the DNS record ``_ua-auto-config.<domain> TXT "v=UAAC1; a=sha256; d=<base64 SHA-256 of the body>"``.
Read by Evolution (upstream) and himalaya; served by Stalwart and automx 3.

The document names the servers (``imap``, ``submit`` and, when offered, ``caldav``/``carddav``),
says that passwords are accepted, and gives the provider's names and help URL. It has no username
and no port: clients log in with the address, with implicit TLS on the protocols' own ports. So a
profile offers it only when its servers accept the address as login and use those ports
(``[pacc]`` in :mod:`autoconfig.profiles.provider`).

Byte-stable: the digest in DNS covers these exact bytes, so keys are sorted, separators fixed and
the body carries nothing that changes between requests (no address, no login, no date).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from autoconfig.formats import Rendered
from autoconfig.model import Provider
from autoconfig.profiles.catalog import PACC_HOST

MEDIA_TYPE = "application/json"
PATH = "/.well-known/user-agent-configuration.json"
TXT_LABEL = "_ua-auto-config"


def host(domain: str) -> str:
    """The host PACC clients fetch the document from, for a mail domain."""
    return f"{PACC_HOST}{domain}"


def document(provider: Provider) -> dict[str, Any]:
    """The PACC document as data."""
    protocols: dict[str, dict[str, str]] = {
        "imap": {"host": provider.imap.host},
        "submit": {"host": provider.smtp.host},
    }
    if provider.caldav is not None:
        protocols["caldav"] = {"url": provider.caldav.url}
    if provider.carddav is not None:
        protocols["carddav"] = {"url": provider.carddav.url}
    return {
        "protocols": protocols,
        "authentication": {"password": True},
        "info": {
            "provider": {
                "name": provider.name.default,
                "shortName": provider.short_name.default,
            },
            "help": {"documentation": provider.help.url},
        },
    }


def render(provider: Provider) -> Rendered:
    """The exact bytes served (and digested into DNS) for ``provider``."""
    body = json.dumps(
        document(provider), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")
    return Rendered(body, MEDIA_TYPE)


def digest(body: bytes) -> str:
    """The base64 SHA-256 of ``body``, as the TXT record carries it."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def txt_value(body: bytes) -> str:
    """The text of the ``_ua-auto-config`` TXT record for ``body``."""
    return f"v=UAAC1; a=sha256; d={digest(body)}"


def digests_of(texts: list[str]) -> list[str]:
    """The SHA-256 digests (base64) named by ``v=UAAC1`` TXT texts; other records and tags are
    ignored, tags in any order and letter case, as PACC clients read them."""
    found = []
    for text in texts:
        tags: dict[str, str] = {}
        for part in text.split(";"):
            name, sep, value = part.partition("=")
            if sep:
                tags[name.strip().lower()] = value.strip()
        version, algorithm = tags.get("v", "").upper(), tags.get("a", "").lower()
        if version == "UAAC1" and algorithm == "sha256" and "d" in tags:
            found.append(tags["d"])
    return found
