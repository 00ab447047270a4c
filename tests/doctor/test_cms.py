"""The doctor's CMS verification against what the service really signs (the test PKI, EC and
RSA), with ``openssl cms -verify`` as the reference; then the ways a signature goes wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from autoconfig.doctor.cms import Unverified, chain_to_root, verify_signature
from autoconfig.signing import open_signer
from tests.pki import Pki, make_pki, verify

CONTENT = b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict/></plist>\n'


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("cms"))


def signed_by(pki: Pki, name: str, kind: str = "ec", **when: object) -> bytes:
    cert, key, _ = pki.signer(name, kind, **when)  # type: ignore[arg-type]
    signer = open_signer(cert, key, pki.chain_file)
    assert signer is not None
    return signer.sign(CONTENT)


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_a_signature_of_the_service_verifies_as_openssl_says(pki: Pki, kind: str) -> None:
    der = signed_by(pki, f"autoconfig.{kind}.test", kind)
    assert verify(der, pki.root_file) == CONTENT  # the reference agrees
    signed = verify_signature(der)
    assert signed.content == CONTENT
    chain = chain_to_root(signed, [pki.root])
    assert [c.subject for c in chain] == [
        signed.signer.subject,
        pki.intermediate.subject,
        pki.root.subject,
    ]


def test_a_changed_profile_is_refused(pki: Pki) -> None:
    der = signed_by(pki, "autoconfig.changed.test")
    with pytest.raises(Unverified, match="changed after signing"):
        verify_signature(der.replace(b"<dict/>", b"<dicT/>"))


def test_a_changed_signature_is_refused(pki: Pki) -> None:
    der = bytearray(signed_by(pki, "autoconfig.sig.test", "rsa"))
    der[-5] ^= 0xFF  # inside the signature value, the last field
    with pytest.raises(Unverified, match="does not verify with any certificate"):
        verify_signature(bytes(der))


def test_an_unknown_root_is_refused(pki: Pki, tmp_path: Path) -> None:
    other = make_pki(tmp_path / "other")
    signed = verify_signature(signed_by(pki, "autoconfig.root.test"))
    with pytest.raises(Unverified, match="no trusted root"):
        chain_to_root(signed, [other.root])


def test_an_expired_signer_is_refused(pki: Pki) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    start = datetime.now(UTC) - timedelta(days=10)
    _cert, key_file, certificate = pki.signer("autoconfig.expired.test", start=start, days=5)
    key = serialization.load_pem_private_key(key_file.read_bytes(), None)
    # Signed as the service signs; the service itself refuses to start with an expired one.
    der = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(CONTENT)
        .add_signer(certificate, key, hashes.SHA256())  # type: ignore[arg-type]
        .add_certificate(pki.intermediate)
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    signed = verify_signature(der)
    with pytest.raises(Unverified, match="is not valid today"):
        chain_to_root(signed, [pki.root])


@pytest.mark.parametrize("der", [b"", b"\x30\x05abc", b"\x30\x84\xff\xff\xff\xff", CONTENT])
def test_bytes_that_are_no_signature_are_refused(der: bytes) -> None:
    with pytest.raises(Unverified):
        verify_signature(der)
