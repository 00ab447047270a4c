"""Parse XML that comes from outside (request bodies, documents the doctor fetches): small, and
without any of XML's reach.

The parser loads no DTD, resolves no entity (internal or external), never touches the network or
the disk, keeps libxml2's size and depth limits (``huge_tree`` off), and drops comments and
processing instructions. A document that carries a DOCTYPE at all is refused: no client of ours
sends one, and refusing it closes XXE and entity-expansion ("billion laughs") attacks at the door.
Bodies over :data:`MAX_BYTES` are refused before the parser sees them.

Errors never quote the input: request bodies may carry what their sender did not mean to share.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from autoconfig.errors import BodyTooLargeError, XMLError

MAX_BYTES = 16 * 1024
"""The largest body accepted. An Autodiscover request is about 400 bytes."""


class _NothingOutside(etree.Resolver):
    """Answers every external fetch (DTD, entity, XInclude) with an empty document.

    libxml2 still opens an external DTD named by a DOCTYPE even with ``load_dtd`` off; with this
    resolver in place it opens nothing (no file, no device, no socket) before the DOCTYPE is refused.
    """

    def resolve(  # type: ignore[override]  # the stubs miss the context argument
        self, system_url: str, public_id: str, context: object
    ) -> object:
        del system_url, public_id
        return self.resolve_string("", context, base_url=None)


def _parser() -> etree.XMLParser:
    # A fresh parser per document: lxml parsers keep state and are not meant to be shared.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    parser.resolvers.add(_NothingOutside())
    return parser


def parse(body: bytes, limit: int = MAX_BYTES) -> etree._Element:
    """The root element of ``body``.

    Raises :class:`BodyTooLargeError` over ``limit`` bytes, :class:`XMLError` when the body is not
    well-formed XML (in the encoding its declaration or byte-order mark names, UTF-8 otherwise) or
    has a DOCTYPE.
    """
    if len(body) > limit:
        raise BodyTooLargeError(f"body is {len(body)} bytes (expected at most {limit})")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise XMLError(f"body is not well-formed XML (line {line}, column {column})") from None
    except (etree.LxmlError, ValueError):
        raise XMLError("body is not well-formed XML") from None
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XMLError("body has a DOCTYPE (refused: DTDs and entities are not accepted)")
    return root
