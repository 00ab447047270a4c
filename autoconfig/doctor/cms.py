"""Verifying the CMS signature of an Apple profile, as a device does (``openssl cms -verify``'s
job, with ``cryptography``): the content's digest is the signed ``messageDigest``, the signature
over the signed attributes verifies with a certificate carried inside, and that certificate
chains, through the others carried, to a trusted root, each one valid today.

Only what the service writes (RFC 5652 SignedData, embedded content, signed attributes) is
read; DER is walked with a small reader, never executed or trusted beyond its lengths.
"""

from __future__ import annotations

import hashlib
import ssl
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning

MESSAGE_DIGEST = bytes.fromhex("2a864886f70d010904")  # 1.2.840.113549.1.9.4
DIGESTS: dict[bytes, Callable[[], hashes.HashAlgorithm]] = {
    bytes.fromhex("608648016503040201"): hashes.SHA256,  # 2.16.840.1.101.3.4.2.1
    bytes.fromhex("608648016503040202"): hashes.SHA384,
    bytes.fromhex("608648016503040203"): hashes.SHA512,
}


class Unverified(Exception):
    """The signature does not verify; the message says why."""


@dataclass(frozen=True)
class Node:
    tag: int
    value: bytes
    raw: bytes
    """The whole encoding (tag, length, value)."""

    def children(self) -> list[Node]:
        return list(nodes(self.value))


def _node(data: bytes, at: int) -> tuple[Node, int]:
    if at + 2 > len(data):
        raise Unverified("truncated DER")
    tag, length, start = data[at], data[at + 1], at + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise Unverified("unsupported DER length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise Unverified("truncated DER")
    return Node(tag, data[start:end], data[at:end]), end


def nodes(data: bytes) -> Iterator[Node]:
    at = 0
    while at < len(data):
        node, at = _node(data, at)
        yield node


def parse(data: bytes) -> Node:
    node, end = _node(data, 0)
    if end != len(data):
        raise Unverified("bytes after the signature")
    return node


@dataclass(frozen=True)
class Signed:
    content: bytes
    certificates: list[x509.Certificate]
    signer: x509.Certificate
    """The certificate whose key made the signature."""


def _verify_with(
    certificate: x509.Certificate,
    signature: bytes,
    data: bytes,
    digest: Callable[[], hashes.HashAlgorithm],
) -> bool:
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), digest())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(digest()))
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        return False
    return True


def verify_signature(der: bytes) -> Signed:
    """The content of a CMS SignedData whose signature verifies; :class:`Unverified` otherwise."""
    try:
        info = parse(der).children()
        signed = parse(info[1].value).children()  # content [0] EXPLICIT SignedData
        encapsulated = signed[2].children()
        content = parse(encapsulated[1].value).value  # eContent [0] EXPLICIT OCTET STRING
        rest = signed[3:]
        certificates = []
        if rest and rest[0].tag == 0xA0:
            certificates = [x509.load_der_x509_certificate(c.raw) for c in rest[0].children()]
        signer_info = rest[-1].children()[0].children()
    except (IndexError, ValueError) as exc:
        raise Unverified(f"not a CMS SignedData: {exc}") from exc
    digest_oid = signer_info[2].children()[0].value
    digest = DIGESTS.get(digest_oid)
    if digest is None:
        raise Unverified("unsupported digest algorithm")
    attributes = next((n for n in signer_info if n.tag == 0xA0), None)
    if attributes is None:
        raise Unverified("no signed attributes")
    claimed = None
    for attribute in attributes.children():
        parts = attribute.children()
        if parts[0].value == MESSAGE_DIGEST:
            claimed = parts[1].children()[0].value
    hasher = hashlib.new(digest().name)
    hasher.update(content)
    if claimed != hasher.digest():
        raise Unverified(
            "the profile's digest does not match the signed one (changed after signing)"
        )
    signature = next(n for n in reversed(signer_info) if n.tag == 0x04).value
    signed_bytes = b"\x31" + attributes.raw[1:]  # signed over as a SET, not as [0]
    for certificate in certificates:
        if _verify_with(certificate, signature, signed_bytes, digest):
            return Signed(content, certificates, certificate)
    raise Unverified("the signature does not verify with any certificate it carries")


def trusted_roots(ca_file: Path | None) -> list[x509.Certificate]:
    """The system's roots (the default CA bundle), and those of ``ca_file``."""
    roots: list[x509.Certificate] = []
    paths = [ssl.get_default_verify_paths().cafile, str(ca_file) if ca_file else None]
    for path in paths:
        if path and Path(path).is_file():
            # Some system roots have a serial number RFC 5280 disallows: still roots.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                try:
                    roots += x509.load_pem_x509_certificates(Path(path).read_bytes())
                except ValueError:
                    continue
    return roots


def chain_to_root(
    signed: Signed, roots: list[x509.Certificate], now: datetime | None = None
) -> list[x509.Certificate]:
    """The chain from the signer to a trusted root (signer first); :class:`Unverified` when
    there is none, or a certificate on it is not valid today."""
    now = now or datetime.now(UTC)
    chain = [signed.signer]
    for _ in range(8):
        current = chain[-1]
        if not current.not_valid_before_utc <= now <= current.not_valid_after_utc:
            raise Unverified(f"{current.subject.rfc4514_string()} is not valid today")
        for root in roots:
            if root.subject == current.issuer and _issued(current, root):
                return [*chain, root]
        issuer = next(
            (c for c in signed.certificates if c.subject == current.issuer and c is not current),
            None,
        )
        if issuer is None or not _issued(current, issuer):
            raise Unverified(
                f"no trusted root for {current.issuer.rfc4514_string()} "
                "(is the intermediate inside? --signing-chain; for a test CA: --ca-file)"
            )
        chain.append(issuer)
    raise Unverified("chain too long")


def _issued(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True
