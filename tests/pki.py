"""A throwaway public-key infrastructure for the tests: a root CA, an intermediate CA, and signing
certificates issued by the intermediate (shaped like a web site's TLS certificate, as deployments use).
Written as PEM files so the service reads them like real ones; ``openssl`` verifies against the root.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.tools import HarnessError

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
OPENSSL_TIMEOUT = 30


def new_key(kind: str = "ec") -> Key:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Autoconfig test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def issue(
    subject: str,
    key: Key,
    issuer: tuple[x509.Certificate, Key] | None,
    *,
    ca: bool,
    days: int = 30,
    start: datetime | None = None,
    also: tuple[str, ...] = (),
) -> x509.Certificate:
    """A certificate for ``key``, self-signed when ``issuer`` is ``None``; a server certificate
    names ``subject`` and the names ``also`` lists."""
    start = start or datetime.now(UTC) - timedelta(hours=1)
    issuer_name, issuer_key = (issuer[0].subject, issuer[1]) if issuer else (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        ).add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in (subject, *also)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def key_pem(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass
class Pki:
    """Files of a root, an intermediate and a signer under ``folder``."""

    folder: Path
    root: x509.Certificate
    intermediate: x509.Certificate
    intermediate_key: Key

    @property
    def root_file(self) -> Path:
        return self.folder / "root.pem"

    @property
    def chain_file(self) -> Path:
        return self.folder / "chain.pem"

    def signer(
        self, name: str, kind: str = "ec", days: int = 30, start: datetime | None = None
    ) -> tuple[Path, Path, x509.Certificate]:
        """A signing certificate and key issued by the intermediate, written as ``name``.pem/.key."""
        key = new_key(kind)
        certificate = issue(
            name, key, (self.intermediate, self.intermediate_key), ca=False, days=days, start=start
        )
        cert_file, key_file = self.folder / f"{name}.pem", self.folder / f"{name}.key"
        cert_file.write_bytes(pem(certificate))
        key_file.write_bytes(key_pem(key))
        return cert_file, key_file, certificate


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    root_key, intermediate_key = new_key(), new_key()
    root = issue("Autoconfig Test Root CA", root_key, None, ca=True, days=365)
    intermediate = issue(
        "Autoconfig Test Intermediate CA", intermediate_key, (root, root_key), ca=True, days=365
    )
    pki = Pki(folder, root, intermediate, intermediate_key)
    pki.root_file.write_bytes(pem(root))
    pki.chain_file.write_bytes(pem(intermediate))
    return pki


def openssl(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Run the ``openssl`` command (a failure of the test if it is not installed)."""
    binary = shutil.which("openssl")
    if binary is None:
        raise HarnessError(
            "openssl is not installed (Debian package openssl, see scripts/packages/test.txt)"
        )
    return subprocess.run(
        [binary, *args], input=stdin, capture_output=True, timeout=OPENSSL_TIMEOUT, check=False
    )


def verify(signed: bytes, root: Path) -> bytes:
    """The content of a CMS SignedData, after ``openssl cms -verify`` checked it against ``root``.

    ``-purpose any``: the signer is shaped like a TLS server certificate (extended key usage
    serverAuth), which Apple devices accept and openssl's default S/MIME purpose check does not.
    No ``-content`` and no ``-untrusted``: the content and the intermediates must be inside.
    """
    result = openssl(
        "cms", "-verify", "-inform", "DER", "-CAfile", str(root), "-purpose", "any", stdin=signed
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def certificates_in(signed: bytes) -> list[str]:
    """The subjects of the certificates carried by a PKCS#7/CMS structure, as openssl prints them."""
    result = openssl("pkcs7", "-inform", "DER", "-print_certs", "-noout", stdin=signed)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return [
        line.removeprefix("subject=").strip()
        for line in result.stdout.decode().splitlines()
        if line.startswith("subject=")
    ]


SIGNING_TIME = bytes.fromhex("06092a864886f70d010905")  # OID 1.2.840.113549.1.9.5 (signingTime)


def signing_time(signed: bytes) -> bytes:
    """The raw signingTime attribute value (UTCTime) of a signature made by the service."""
    at = signed.index(SIGNING_TIME) + len(SIGNING_TIME)
    assert (signed[at], signed[at + 2]) == (0x31, 0x17), "unexpected signingTime encoding"
    return signed[at + 4 : at + 4 + signed[at + 3]]
