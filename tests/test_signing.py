from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from autoconfig.errors import ConfigError
from autoconfig.server.reload import Reloader
from autoconfig.service import Service
from autoconfig.settings import Settings
from autoconfig.signing import Signer, open_signer, read_material
from autoconfig.web import create_app
from tests import pki
from tests.conftest import PROFILES

CONTENT = b'<?xml version="1.0"?>\n<plist version="1.0"><dict/></plist>\r\n'
"""Line endings of both kinds: the signature must embed the bytes exactly (no MIME canonicalisation)."""


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> pki.Pki:
    return pki.make_pki(tmp_path_factory.mktemp("pki"))


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_signed_profile_verifies_and_embeds_the_exact_content(ca: pki.Pki, kind: str) -> None:
    cert, key, _ = ca.signer(f"{kind}.example.org", kind)
    signed = Signer(cert, key, ca.chain_file).sign(CONTENT)
    assert pki.verify(signed, ca.root_file) == CONTENT
    assert pki.certificates_in(signed) == [
        "O = Autoconfig test PKI, CN = Autoconfig Test Intermediate CA",
        f"O = Autoconfig test PKI, CN = {kind}.example.org",
    ]
    printed = pki.openssl("cms", "-cmsout", "-print", "-inform", "DER", stdin=signed)
    assert printed.returncode == 0
    assert b"contentType: pkcs7-signedData" in printed.stdout
    assert b"algorithm: sha256" in printed.stdout


def test_without_intermediates_the_root_cannot_verify(ca: pki.Pki) -> None:
    cert, key, _ = ca.signer("nochain.example.org")
    signed = Signer(cert, key).sign(CONTENT)
    result = pki.openssl(
        "cms", "-verify", "-inform", "DER", "-CAfile", str(ca.root_file), "-purpose", "any",
        stdin=signed,
    )  # fmt: skip
    assert result.returncode != 0
    assert b"unable to get local issuer certificate" in result.stderr


def test_full_chain_file_and_combined_key(ca: pki.Pki, tmp_path: Path) -> None:
    cert, key, _ = ca.signer("combined.example.org")
    both = tmp_path / "fullchain-and-key.pem"
    both.write_bytes(cert.read_bytes() + ca.chain_file.read_bytes() + key.read_bytes())
    signed = Signer(both).sign(CONTENT)
    assert pki.verify(signed, ca.root_file) == CONTENT
    assert (
        len(pki.certificates_in(signed)) == 2
    )  # the intermediate once, even if also given as chain
    assert len(pki.certificates_in(Signer(both, None, ca.chain_file).sign(CONTENT))) == 2


def test_signatures_are_cached_per_content_and_bounded(ca: pki.Pki) -> None:
    cert, key, _ = ca.signer("cache.example.org")
    size = len(Signer(cert, key, ca.chain_file).sign(CONTENT))
    signer = Signer(cert, key, ca.chain_file, cache_bytes=2 * size + 50)  # room for two
    a = signer.sign(CONTENT)
    assert signer.sign(CONTENT) is a
    assert signer.cache_info() == (1, len(a))
    b = signer.sign(CONTENT + b"b")
    assert signer.sign(CONTENT) is a  # a is now the most recently used
    c = signer.sign(CONTENT + b"c")  # evicts b, the least recently used
    count, total = signer.cache_info()
    assert (count, total) == (2, len(a) + len(c))
    assert signer.sign(CONTENT) is a
    assert signer.sign(CONTENT + b"b") is not b
    assert pki.verify(signer.sign(CONTENT + b"b"), ca.root_file) == CONTENT + b"b"


def replace_file(path: Path, data: bytes) -> None:
    """Write as certificate tools do: a new file renamed over the old one."""
    partial = path.with_suffix(".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def test_renewed_certificate_is_used_after_a_reload(
    ca: pki.Pki, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A renewal is read by a reload (SIGHUP), all or nothing: caught half-written, the reload is
    refused and the previous certificate goes on signing; once whole, the new one signs."""
    old_cert, old_key, _ = ca.signer("old.example.org")
    new_cert, new_key, _ = ca.signer("new.example.org")
    cert, key = tmp_path / "site.pem", tmp_path / "site.key"
    replace_file(cert, old_cert.read_bytes())
    replace_file(key, old_key.read_bytes())
    app = create_app(Service.load(Settings(PROFILES, None, cert, key, ca.chain_file)))
    reloader = Reloader(app)

    def signed() -> bytes:
        service: Service = app.state.service
        assert service.signer is not None
        return service.signer.sign(CONTENT)

    try:
        assert "CN = old.example.org" in pki.certificates_in(signed())[-1]
        # renewal half done: the new certificate is there, its key not yet -> keep the old pair
        replace_file(cert, new_cert.read_bytes())
        with caplog.at_level(logging.WARNING, logger="autoconfig"):
            assert anyio.run(reloader.reload) is False
        assert "reload refused, the previous profiles keep serving" in caplog.text
        assert "does not match the certificate" in caplog.text
        assert "CN = old.example.org" in pki.certificates_in(signed())[-1]
        # the key arrives: the next reload takes both
        replace_file(key, new_key.read_bytes())
        assert anyio.run(reloader.reload) is True
        renewed = signed()
        assert "CN = new.example.org" in pki.certificates_in(renewed)[-1]
        assert pki.verify(renewed, ca.root_file) == CONTENT
    finally:
        reloader.close()
        app.state.service.close()


@pytest.fixture
def expired(ca: pki.Pki) -> tuple[Path, Path]:
    cert, key, _ = ca.signer("expired.example.org", start=datetime.now(UTC) - timedelta(days=40))
    return cert, key


def test_expired_certificate_is_a_start_up_error(expired: tuple[Path, Path]) -> None:
    cert, key = expired
    with pytest.raises(ConfigError) as error:
        Signer(cert, key)
    (problem,) = error.value.problems
    assert problem.source == str(cert)
    assert "'CN=expired.example.org,O=Autoconfig test PKI' expired on" in problem.message


def test_certificate_not_yet_valid_is_a_start_up_error(ca: pki.Pki) -> None:
    cert, key, _ = ca.signer("future.example.org", start=datetime.now(UTC) + timedelta(days=2))
    with pytest.raises(ConfigError, match="is not valid before"):
        Signer(cert, key)


def test_expired_intermediate_is_only_a_warning(
    ca: pki.Pki, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cert, key, _ = ca.signer("warn.example.org")
    old_root_key = pki.new_key()
    old = pki.issue(
        "Old Cross-sign", old_root_key, None, ca=True, days=1,
        start=datetime.now(UTC) - timedelta(days=10),
    )  # fmt: skip
    chain = tmp_path / "chain.pem"
    chain.write_bytes(ca.chain_file.read_bytes() + pki.pem(old))
    with caplog.at_level(logging.WARNING, logger="autoconfig.signing"):
        material = read_material(cert, key, chain)
    assert len(material.chain) == 2
    assert "'CN=Old Cross-sign,O=Autoconfig test PKI' expired" in caplog.text


def test_problems_name_each_file(ca: pki.Pki, tmp_path: Path) -> None:
    cert, _, _ = ca.signer("mismatch.example.org")
    _, other_key, _ = ca.signer("other.example.org")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ConfigError) as error:
        Signer(cert, other_key, junk)
    assert [(p.source, p.message.split(" (")[0]) for p in error.value.problems] == [
        (str(junk), "holds no PEM or DER certificate"),
        (
            str(other_key),
            f"the private key does not match the certificate 'CN=mismatch.example.org,O=Autoconfig test PKI' of {cert}",
        ),
    ]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (("missing.pem", "key"), "cannot be read (--signing-cert): No such file or directory"),
        (("cert", "missing.key"), "cannot be read (--signing-key): No such file or directory"),
        (("cert", "junk"), "holds no private key"),
        (("cert", "encrypted"), "holds an encrypted key"),
        (("junk", "key"), "holds no PEM or DER certificate"),
        (("cert", "ed25519"), "key (expected an RSA or EC key"),
    ],
)
def test_unusable_files_are_start_up_errors(
    ca: pki.Pki, tmp_path: Path, files: tuple[str, str], message: str
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    cert, key, _ = ca.signer("files.example.org")
    paths = {"cert": cert, "key": key, "junk": tmp_path / "junk"}
    paths["junk"].write_bytes(b"\x00\x01 nothing")
    paths["encrypted"] = tmp_path / "encrypted.key"
    paths["encrypted"].write_bytes(
        pki.new_key().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    paths["ed25519"] = tmp_path / "ed25519.key"
    paths["ed25519"].write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path = paths.get(files[0], tmp_path / files[0])
    key_path = paths.get(files[1], tmp_path / files[1])
    with pytest.raises(ConfigError) as error:
        Signer(cert_path, key_path)
    assert any(message in p.message for p in error.value.problems), error.value
    assert any(p.source in {str(cert_path), str(key_path)} for p in error.value.problems)


def test_no_certificate_means_unsigned(ca: pki.Pki) -> None:
    assert open_signer(None) is None
    with pytest.raises(ConfigError, match=r"^--signing-key: is given without --signing-cert"):
        open_signer(None, ca.chain_file)
    with pytest.raises(ConfigError, match=r"^--signing-key and --signing-chain: are given without"):
        open_signer(None, ca.chain_file, ca.chain_file)
    cert, key, _ = ca.signer("open.example.org")
    signer = open_signer(cert, key, ca.chain_file)
    assert signer is not None
    assert "CN=open.example.org" in signer.material.describe()


def test_certificate_that_cannot_sign_profiles(ca: pki.Pki, tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(ca.intermediate.subject)
        .issuer_name(ca.intermediate.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.now(UTC) - timedelta(hours=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .sign(ca.intermediate_key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "ed.pem", tmp_path / "ed.key"
    cert_file.write_bytes(pki.pem(certificate))
    key_file.write_bytes(pki.key_pem(key))
    with pytest.raises(ConfigError) as error:
        Signer(cert_file, key_file)
    found = {p.source: p.message for p in error.value.problems}
    assert (
        "Ed25519PrivateKey key (expected an RSA or EC key, --signing-key)" in found[str(key_file)]
    )
    assert "Ed25519PublicKey public key (expected an RSA or EC key" in found[str(cert_file)]
