"""``autoconfig render mobileconfig`` and the signing options of ``serve``: same bytes as HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

import autoconfig.server
from autoconfig.service import Service
from autoconfig.settings import Settings
from autoconfig.web import create_app
from tests import pki
from tests.conftest import DEMO, PIERRE, PROFILES, Invoke
from tests.servers import serve


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> pki.Pki:
    return pki.make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def signing(ca: pki.Pki) -> tuple[Path, Path, Path]:
    cert, key, _ = ca.signer("autoconfig.ac-aix-marseille.fr", "rsa")
    return cert, key, ca.chain_file


RunCli = Callable[..., tuple[int, bytes, str]]


@pytest.fixture
def run_cli(runner: Invoke) -> RunCli:
    """``run_cli(*args)``: the exit status, stdout (bytes) and stderr of ``autoconfig ARGS``."""

    def call(*args: str, env: dict[str, str] | None = None) -> tuple[int, bytes, str]:
        result = runner(*args, env=env)
        return result.exit_code, result.stdout_bytes, result.stderr

    return call


def signing_args(files: tuple[Path, Path, Path]) -> list[str]:
    cert, key, chain = files
    return ["--signing-cert", str(cert), "--signing-key", str(key), "--signing-chain", str(chain)]


@pytest.mark.parametrize("address", [PIERRE, "inconnu@ac-aix-marseille.fr", "x@example.org"])
def test_render_prints_the_bytes_the_endpoint_serves(
    client: TestClient, run_cli: RunCli, address: str
) -> None:
    code, out, err = run_cli("render", "mobileconfig", "--directory", str(DEMO), address)
    assert code == 0, err
    assert out == client.get("/mobileconfig", params={"email": address}).content


def test_signed_render_is_byte_for_byte_the_signed_endpoint(
    run_cli: RunCli, signing: tuple[Path, Path, Path], ca: pki.Pki
) -> None:
    """RSA signatures are deterministic; only the signing time (one-second resolution) may differ,
    so the comparison is repeated when a second boundary fell between the two."""
    for _ in range(5):
        service = Service.load(Settings(PROFILES, str(DEMO), *signing))
        with TestClient(create_app(service)) as signed_client:
            served = signed_client.get("/mobileconfig", params={"email": PIERRE}).content
        service.close()
        code, out, err = run_cli(
            "render", "mobileconfig", "--signed", *signing_args(signing),
            "--directory", str(DEMO), PIERRE,
        )  # fmt: skip
        assert code == 0, err
        if pki.signing_time(out) == pki.signing_time(served):
            break
    assert out == served
    assert pki.verify(out, ca.root_file).startswith(b"<?xml")


def test_signing_options_read_the_environment(
    run_cli: RunCli,
    signing: tuple[Path, Path, Path],
    ca: pki.Pki,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cert, key, chain = signing
    env = {
        "AUTOCONFIG_SIGNING_CERT": str(cert),
        "AUTOCONFIG_SIGNING_KEY": str(key),
        "AUTOCONFIG_SIGNING_CHAIN": str(chain),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = run_cli("render", "mobileconfig", "--signed", PIERRE, env=env)
    assert code == 0, err
    assert len(pki.certificates_in(out)) == 2
    assert Settings.from_env().signing_cert == cert
    assert Settings.from_env(Settings(PROFILES, None, cert, key, chain).to_env()) == Settings(
        PROFILES, None, cert, key, chain
    )


def test_signed_without_certificate_is_an_error(run_cli: RunCli) -> None:
    code, out, err = run_cli("render", "mobileconfig", "--signed", PIERRE)
    assert code == 2
    assert out == b""
    assert "--signed: needs a certificate (expected --signing-cert)" in err


@pytest.mark.parametrize(
    ("address", "code", "message"),
    [
        ("", 1, "an e-mail address is required"),
        ("ac-aix-marseille.fr", 4, "address has 0 '@' signs"),
        ("a@@b.fr", 4, "'@' signs"),
        ("a@example.com", 5, "no profile serves the domain"),
    ],
)
def test_render_refuses_what_the_endpoint_refuses(
    run_cli: RunCli, address: str, code: int, message: str
) -> None:
    status, out, err = run_cli("render", "mobileconfig", address)
    assert (status, out) == (code, b"")
    assert message in err


def test_serve_says_once_that_profiles_are_unsigned(
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    restore_logging: None,
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(autoconfig.server, "run", lambda *args, **_: calls.append(args))
    code, _, err = run_cli("serve", "--profiles", str(PROFILES))
    assert code == 0, err
    assert err.count("Apple profiles are served unsigned") == 1
    assert calls[0][0].signing_cert is None


def test_serve_passes_signing_files_on(
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    signing: tuple[Path, Path, Path],
    restore_logging: None,
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(autoconfig.server, "run", lambda *args, **_: calls.append(args))
    code, _, err = run_cli("serve", *signing_args(signing))
    assert code == 0, err
    assert "Apple profiles are signed by CN=autoconfig.ac-aix-marseille.fr" in err
    settings: Settings = calls[0][0]
    assert (settings.signing_cert, settings.signing_key, settings.signing_chain) == signing


@pytest.mark.parametrize("command", ["check", "serve"])
def test_check_refuses_an_expired_certificate_as_serve_does(
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    ca: pki.Pki,
    restore_logging: None,
    command: str,
) -> None:
    """``check`` is the unit's ``ExecStartPre`` and ``ExecReload``: it must refuse what ``serve``
    refuses, or systemd would start a service that stops at once, again and again."""
    from datetime import UTC, datetime, timedelta

    cert, key, _ = ca.signer("old.example.org", start=datetime.now(UTC) - timedelta(days=90))
    monkeypatch.setattr(autoconfig.server, "run", lambda *args, **_: pytest.fail("must not start"))
    code, out, err = run_cli(command, "--signing-cert", str(cert), "--signing-key", str(key))
    assert code == 2
    assert (
        f"error: {cert}: the certificate 'CN=old.example.org,O=Autoconfig test PKI' expired on"
        in err
    )
    assert b"ok: signing" not in out


def test_check_names_the_signing_certificate(
    run_cli: RunCli, signing: tuple[Path, Path, Path]
) -> None:
    code, out, err = run_cli("check", "--directory", str(DEMO), *signing_args(signing))
    assert code == 0, err
    assert b"ok: signing: CN=autoconfig.ac-aix-marseille.fr,O=Autoconfig test PKI, expires " in out


@pytest.fixture(scope="module")
def server(
    signing: tuple[Path, Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """A real ``autoconfig serve`` on loopback, signing with the test certificate."""
    tmp = tmp_path_factory.mktemp("serve")
    with serve(tmp, "--directory", str(DEMO), *signing_args(signing)) as app:
        yield app.url, app.log


def test_real_server_serves_signed_profiles(
    server: tuple[str, Path], ca: pki.Pki, client: TestClient
) -> None:
    base, log = server
    response = httpx.get(base + "/mobileconfig", params={"email": PIERRE}, timeout=10.0)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-apple-aspen-config"
    assert (
        pki.verify(response.content, ca.root_file)
        == client.get("/mobileconfig", params={"email": PIERRE}).content
    )
    text = log.read_text()
    assert "Apple profiles are signed by" in text
    assert (
        "endpoint=mobileconfig domain=ac-aix-marseille.fr login=directory directory=directory status=200"
        in text
    )
    assert "pierre.dupont" not in text  # the access log never holds the address


# MDM outputs: a template per provider, never personal, never signed here.


@pytest.mark.parametrize("target", ["ac-aix-marseille.fr", PIERRE])
def test_mdm_template_is_the_formats_bytes(runner: Invoke, service: Service, target: str) -> None:
    from autoconfig.formats import mdm, mobileconfig

    result = runner("render", "mobileconfig", "--mdm", target)
    assert result.exit_code == 0, result.stderr
    provider = service.catalog.lookup("ac-aix-marseille.fr")
    assert result.stdout_bytes == mobileconfig.mdm_template(provider, mdm.Vendor.JAMF).body
    assert b"pdupont" not in result.stdout_bytes  # a template: no one's login


@pytest.mark.parametrize(
    ("render", "vendor"),
    [
        (["ddm"], "jamf"),
        (["ddm"], "workspaceone"),
        (["mobileconfig", "--mdm"], "jamf"),
        (["mobileconfig", "--mdm"], "intune"),
        (["mobileconfig", "--mdm"], "workspaceone"),
    ],
)
def test_mdm_vendor_option_and_environment(runner: Invoke, render: list[str], vendor: str) -> None:
    from autoconfig.formats import mdm

    by_option = runner("render", *render, "--mdm-vendor", vendor, "example.org")
    by_env = runner("render", *render, "example.org", env={"AUTOCONFIG_MDM_VENDOR": vendor})
    assert by_option.exit_code == by_env.exit_code == 0, by_option.stderr
    assert by_option.stdout == by_env.stdout
    assert mdm.VARIABLES[mdm.Vendor(vendor)].address in by_option.stdout


def test_the_environment_vendor_leaves_a_personal_profile_alone(runner: Invoke) -> None:
    """AUTOCONFIG_MDM_VENDOR is a setting of the MDM outputs: the personal profile ignores it."""
    plain = runner("render", "mobileconfig", PIERRE)
    with_env = runner("render", "mobileconfig", PIERRE, env={"AUTOCONFIG_MDM_VENDOR": "intune"})
    assert plain.exit_code == with_env.exit_code == 0, with_env.stderr
    assert plain.stdout_bytes == with_env.stdout_bytes


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["mobileconfig", "--mdm", "--signed", "example.org"], 2, "--signed: is not for --mdm"),
        (
            ["mobileconfig", "--mdm-vendor", "intune", PIERRE],
            2,
            "error: --mdm-vendor: is only for --mdm templates (expected --mdm with it)",
        ),
        (
            ["ddm", "--mdm-vendor", "intune", "example.org"],
            2,
            "error: --mdm-vendor: intune: takes no custom declarations (expected `render "
            "mobileconfig --mdm` for it)",
        ),
        (["ddm", "--mdm-vendor", "acme", "example.org"], 2, "'acme' is not one of"),
        (["ddm", "unknown.example"], 5, "error: no profile serves the domain 'unknown.example'"),
        (["mobileconfig", "--mdm", "not an address@x"], 4, "error:"),
    ],
)
def test_mdm_errors_are_clear(runner: Invoke, args: list[str], status: int, message: str) -> None:
    result = runner("render", *args)
    assert result.exit_code == status, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_check_and_serve_read_the_signing_files_from_systemd_credentials(
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    signing: tuple[Path, Path, Path],
    tmp_path: Path,
    restore_logging: None,
) -> None:
    """The unit's ``LoadCredential=signing-cert:…`` (and -key, -chain): the files systemd copied,
    readable by the service's user only, used when no --signing-* option is given."""
    import shutil

    for name, source in zip(("signing-cert", "signing-key", "signing-chain"), signing, strict=True):
        shutil.copy(source, tmp_path / name)
    env = {"CREDENTIALS_DIRECTORY": str(tmp_path)}
    code, out, err = run_cli("check", "--directory", str(DEMO), env=env)
    assert code == 0, err
    assert b"ok: signing: CN=autoconfig.ac-aix-marseille.fr" in out
    calls: list[Any] = []
    monkeypatch.setattr(autoconfig.server, "run", lambda *args, **_: calls.append(args))
    code, _, err = run_cli("serve", env=env)
    assert code == 0, err
    settings: Settings = calls[0][0]
    assert (settings.signing_cert, settings.signing_key, settings.signing_chain) == (
        tmp_path / "signing-cert",
        tmp_path / "signing-key",
        tmp_path / "signing-chain",
    )
