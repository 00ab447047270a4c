"""PACC from the command line: ``check`` refuses it where its clients could not log in, ``render
pacc`` prints the served bytes, and ``dns`` prints the digest of exactly those bytes."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from tests.conftest import PROFILES, Invoke

ACADEMIE = (PROFILES / "ac-aix-marseille.toml").read_text(encoding="utf-8")
PACC_ON = "\n[pacc]\nenabled = true\n"


def profiles_with(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "academie.toml").write_text(text, encoding="utf-8")
    return folder


def test_check_refuses_pacc_when_the_login_is_not_the_address(
    runner: Invoke, tmp_path: Path
) -> None:
    result = runner("check", "--profiles", str(profiles_with(tmp_path, ACADEMIE + PACC_ON)))
    assert result.exit_code == 2
    assert "academie.toml: pacc.enabled: PACC has no username field" in result.stderr
    assert "login.address_accepted = true" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_accepts_pacc_once_the_servers_accept_the_address(
    runner: Invoke, tmp_path: Path
) -> None:
    text = ACADEMIE.replace(
        'fallback = "%EMAILLOCALPART%"', 'fallback = "%EMAILLOCALPART%"\naddress_accepted = true'
    )
    result = runner("check", "--profiles", str(profiles_with(tmp_path, text + PACC_ON)))
    assert result.exit_code == 0, result.stderr


def test_check_refuses_pacc_for_servers_without_plain_passwords(
    runner: Invoke, tmp_path: Path
) -> None:
    """PACC says ``"password": true`` (a password inside TLS): a server that takes CRAM-MD5 only
    would refuse what its clients send."""
    text = ACADEMIE.replace(
        'fallback = "%EMAILLOCALPART%"', 'fallback = "%EMAILLOCALPART%"\naddress_accepted = true'
    ).replace('auth = "password"', 'auth = "password-encrypted"')
    result = runner("check", "--profiles", str(profiles_with(tmp_path, text + PACC_ON)))
    assert result.exit_code == 2, result.stderr
    for kind in ("imap", "smtp"):
        assert (
            "academie.toml: pacc.enabled: PACC announces a password sent inside TLS, its clients "
            f"would not try password-encrypted (expected {kind}.auth = 'password')"
        ) in result.stderr
    assert result.stdout == ""


def test_dns_prints_the_digest_of_the_bytes_render_prints(runner: Invoke) -> None:
    body = runner("render", "pacc", "example.org").stdout_bytes
    assert body.startswith(b'{"authentication"')
    zone = runner("dns", "example.org").stdout
    (digest,) = re.findall(
        r'_ua-auto-config\.example\.org\. +3600 IN TXT +"v=UAAC1; a=sha256; d=([^"]+)"', zone
    )
    assert base64.b64decode(digest) == hashlib.sha256(body).digest()
    assert re.search(r"ua-auto-config\.example\.org\. +3600 IN A +192\.0\.2\.10", zone)


def test_no_pacc_records_for_a_profile_without_it(runner: Invoke) -> None:
    zone = runner("dns", "ac-aix-marseille.fr").stdout
    assert "ua-auto-config" not in zone


def test_render_pacc_for_a_domain_no_profile_serves(runner: Invoke) -> None:
    """Said as the command's argument, not as an HTTP host with a hint for clients."""
    result = runner("render", "pacc", "unknown.example")
    assert result.exit_code == 5
    assert result.stderr == "error: no profile serves the domain 'unknown.example'\n"
    assert result.stdout == ""


def test_render_pacc_for_a_profile_without_it_is_a_clear_error(runner: Invoke) -> None:
    result = runner("render", "pacc", "ac-aix-marseille.fr")
    assert result.exit_code == 5
    assert "does not offer PACC" in result.stderr
    assert result.stdout == ""


def test_dns_points_the_pacc_host_like_the_others(runner: Invoke) -> None:
    zone = runner("dns", "example.org", "--cname", "front.example.org").stdout
    for host in ("autoconfig", "autodiscover", "ua-auto-config"):
        assert re.search(rf"\n{host}\.example\.org\. +3600 IN CNAME front\.example\.org\.\n", zone)
