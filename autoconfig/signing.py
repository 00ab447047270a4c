"""CMS signatures of Apple profiles, so that iOS and macOS show them as verified.

A signed profile is a CMS SignedData structure in DER, with the profile embedded (not detached),
a SHA-256 signature, and the signer's certificate followed by its intermediates. The certificate may
be the web site's TLS certificate or a dedicated one; PEM (or DER) files, the key unencrypted.

Signatures are cached per content digest in a bounded LRU, so a profile
asked for again costs a hash and a dictionary look-up. A renewed certificate is read by a reload
(``SIGHUP``, like the profiles and the directory): the files are checked like at start, and a
renewal caught half-written is refused, the previous certificate staying in use.

Everything wrong with the files at start (unreadable, no certificate, key not matching, expired) is
one :class:`~autoconfig.errors.ConfigError` naming each file and what is wrong with it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from autoconfig.errors import ConfigError, Problem
from autoconfig.files import read_regular

log = logging.getLogger(__name__)

CACHE_BYTES = 2 * 1024 * 1024
"""Upper bound of the signatures kept in memory."""

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Material:
    """A certificate, its private key and the intermediates sent along with it."""

    certificate: x509.Certificate
    key: SigningKey
    chain: tuple[x509.Certificate, ...]

    @property
    def expires(self) -> datetime:
        return self.certificate.not_valid_after_utc

    def describe(self) -> str:
        return (
            f"{self.certificate.subject.rfc4514_string()}, "
            f"expires {self.expires:%Y-%m-%d %H:%M} UTC, {len(self.chain)} intermediate(s)"
        )

    def sign(self, content: bytes) -> bytes:
        """The CMS SignedData (DER) of ``content``, embedded, SHA-256, with the intermediates."""
        builder = (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(content)
            .add_signer(self.certificate, self.key, hashes.SHA256())
        )
        for certificate in self.chain:
            builder = builder.add_certificate(certificate)
        return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


def _read(path: Path, option: str, problems: list[Problem]) -> bytes | None:
    try:
        return read_regular(path)
    except OSError as exc:
        problems.append(Problem(str(path), "", f"cannot be read ({option}): {exc.strerror}"))
        return None


def _certificates(data: bytes) -> list[x509.Certificate]:
    if b"-----BEGIN" in data:
        try:
            return x509.load_pem_x509_certificates(data)
        except ValueError:
            return []
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        return []


def _key(data: bytes, path: Path, problems: list[Problem]) -> SigningKey | None:
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_der_private_key(data, password=None)
    except TypeError:
        problems.append(
            Problem(
                str(path), "", "holds an encrypted key (expected an unencrypted key, --signing-key)"
            )
        )
        return None
    except (ValueError, UnsupportedAlgorithm):
        problems.append(Problem(str(path), "", "holds no private key (--signing-key)"))
        return None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        problems.append(
            Problem(
                str(path),
                "",
                f"holds a {type(key).__name__} key (expected an RSA or EC key, --signing-key)",
            )
        )
        return None
    return key


def _public(owner: x509.Certificate | SigningKey) -> bytes:
    return owner.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def read_material(
    cert: Path, key: Path | None, chain: Path | None, now: datetime | None = None
) -> Material:
    """Read and check the signing files; raise :class:`ConfigError` listing every problem.

    ``key`` defaults to ``cert`` (one PEM file holding both). Certificates after the first one of
    ``cert`` (a "full chain" file) and those of ``chain`` are sent as intermediates.
    """
    now = now or datetime.now(UTC)
    key = key or cert
    problems: list[Problem] = []
    cert_data = _read(cert, "--signing-cert", problems)
    key_data = cert_data if key == cert else _read(key, "--signing-key", problems)
    chain_data = _read(chain, "--signing-chain", problems) if chain else b""
    certificates = _certificates(cert_data) if cert_data is not None else []
    if cert_data is not None and not certificates:
        problems.append(Problem(str(cert), "", "holds no PEM or DER certificate (--signing-cert)"))
    private = _key(key_data, key, problems) if key_data is not None else None
    extra = _certificates(chain_data) if chain_data else []
    if chain and chain_data is not None and not extra:
        problems.append(
            Problem(str(chain), "", "holds no PEM or DER certificate (--signing-chain)")
        )
    if certificates:
        signer = certificates[0]
        subject = signer.subject.rfc4514_string()
        if signer.not_valid_after_utc <= now:
            problems.append(
                Problem(
                    str(cert),
                    "",
                    f"the certificate {subject!r} expired on "
                    f"{signer.not_valid_after_utc:%Y-%m-%d %H:%M} UTC (expected a valid "
                    "certificate: renew it, or start without --signing-cert)",
                )
            )
        elif signer.not_valid_before_utc > now:
            problems.append(
                Problem(
                    str(cert),
                    "",
                    f"the certificate {subject!r} is not valid before "
                    f"{signer.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
                )
            )
        try:
            public_key = signer.public_key()
        except (ValueError, UnsupportedAlgorithm):
            public_key = None
        if not isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            problems.append(
                Problem(
                    str(cert),
                    "",
                    f"the certificate {subject!r} has a {type(public_key).__name__} public key "
                    "(expected an RSA or EC key, --signing-cert)",
                )
            )
        public = _public(signer) if public_key is not None else None
        if private is not None and public is not None and _public(private) != public:
            problems.append(
                Problem(
                    str(key),
                    "",
                    f"the private key does not match the certificate {subject!r} of {cert} "
                    "(expected the key the certificate was issued for, --signing-key)",
                )
            )
    if problems:
        raise ConfigError(problems)
    assert private is not None
    signer, *rest = certificates
    intermediates: list[x509.Certificate] = []
    for certificate in (*rest, *extra):
        if certificate != signer and certificate not in intermediates:
            intermediates.append(certificate)
    for certificate in intermediates:
        if certificate.not_valid_after_utc <= now:
            log.warning(
                "intermediate certificate %r expired on %s; devices may show the profile as unverified",
                certificate.subject.rfc4514_string(),
                certificate.not_valid_after_utc.date(),
            )
    return Material(signer, private, tuple(intermediates))


class Signer:
    """Signs profiles with one certificate; thread-safe; cheap for content seen before."""

    def __init__(
        self,
        cert: Path,
        key: Path | None = None,
        chain: Path | None = None,
        *,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        self.material = read_material(cert, key, chain)
        self._cache_bytes = cache_bytes
        self._lock = threading.Lock()
        self._cache: OrderedDict[bytes, bytes] = OrderedDict()
        self._cached_bytes = 0
        self._expiry_warned = False

    def sign(self, content: bytes) -> bytes:
        """The signed profile for ``content``: from the cache, or signed now and cached."""
        if not self._expiry_warned and self.material.expires <= datetime.now(UTC):
            self._expiry_warned = True
            log.warning(
                "the signing certificate has expired: devices will show profiles as unverified "
                "(renew it and reload with SIGHUP)"
            )
        key = hashlib.sha256(content).digest()
        with self._lock:
            signed = self._cache.get(key)
            if signed is not None:
                self._cache.move_to_end(key)
                return signed
        signed = self.material.sign(content)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = signed
                self._cached_bytes += len(signed)
                while self._cached_bytes > self._cache_bytes and self._cache:
                    _, dropped = self._cache.popitem(last=False)
                    self._cached_bytes -= len(dropped)
        return signed

    def cache_info(self) -> tuple[int, int]:
        """How many signatures are cached, and their total size in bytes."""
        with self._lock:
            return len(self._cache), self._cached_bytes


def open_signer(
    cert: Path | None, key: Path | None = None, chain: Path | None = None
) -> Signer | None:
    """The signer the settings ask for, ``None`` when no certificate is given (profiles unsigned)."""
    if cert is None:
        given = [
            name for name, path in (("--signing-key", key), ("--signing-chain", chain)) if path
        ]
        if given:
            raise ConfigError(
                [
                    Problem(
                        " and ".join(given),
                        "",
                        f"{'is' if len(given) == 1 else 'are'} given without --signing-cert "
                        "(expected the certificate too)",
                    )
                ]
            )
        return None
    return Signer(cert, key, chain)
