"""``autoconfig directory …`` and the directory options of the other commands."""

from __future__ import annotations

import ipaddress
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import autoconfig.server
from autoconfig.settings import LookupSettings, Settings, specs
from tests.conftest import DEMO, PROFILES, Invoke
from tests.slapd import BIND_DN, BIND_PASSWORD, Slapd

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(runner: Invoke) -> Run:
    """``run(*args, env=…)``: the exit status, stdout and stderr of ``autoconfig ARGS``."""

    def call(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        result = runner(*args, env=env)
        return result.exit_code, result.stdout, result.stderr

    return call


@pytest.fixture
def ldap_env(slapd: Slapd) -> dict[str, str]:
    return {
        "AUTOCONFIG_PROFILES": str(PROFILES),
        "AUTOCONFIG_DIRECTORY": slapd.url + "?uid,displayName",
        "AUTOCONFIG_LDAP_BIND_DN": BIND_DN,
        "AUTOCONFIG_LDAP_PASSWORD": BIND_PASSWORD,
    }


def test_lookup_in_ldap_shows_backend_answer_and_time(run: Run, ldap_env: dict[str, str]) -> None:
    code, out, _ = run("directory", "lookup", "gaelle.lheritier@ac-aix-marseille.fr", env=ldap_env)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "provider: ac-aix-marseille.fr (login source: directory)"
    assert lines[1].startswith("backend: LDAP ldap://127.0.0.1:")
    assert lines[1].endswith("(bound as a service account)")
    assert BIND_PASSWORD not in out
    assert lines[2:5] == [
        "result: found",
        "login: glhéritier (directory)",
        "name: Gaëlle L'Héritier",
    ]
    assert lines[5].startswith("time: ")
    assert lines[5].endswith(" ms (budget 300 ms)")


@pytest.mark.parametrize(
    ("address", "result"),
    [
        ("nobody@ac-aix-marseille.fr", "result: not in the directory"),
        ("secretariat@ac-aix-marseille.fr", "result: not in the directory"),
    ],
)
def test_lookup_of_unknown_addresses(
    run: Run, ldap_env: dict[str, str], address: str, result: str
) -> None:
    code, out, _ = run("directory", "lookup", address, env=ldap_env)
    assert code == 0
    assert result in out.splitlines()
    assert f"login: {address.split('@')[0]} (fallback)" in out.splitlines()


def test_lookup_with_the_password_in_a_file(
    run: Run, ldap_env: dict[str, str], tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text(BIND_PASSWORD + "\n")
    env = {**ldap_env, "AUTOCONFIG_LDAP_PASSWORD": ""}
    code, out, _ = run(
        "directory",
        "lookup",
        "--ldap-password-file",
        str(secret),
        "marie.martin@ac-aix-marseille.fr",
        env=env,
    )
    assert (code, "login: mmartin3 (directory)" in out) == (0, True)


def test_lookup_when_the_directory_is_down(run: Run, tmp_path: Path) -> None:
    from tests.tools import free_port

    url = f"ldap://127.0.0.1:{free_port()}/dc=fr"
    code, out, err = run(
        "directory", "lookup", "--profiles", str(PROFILES), "--directory", url,
        "pierre.dupont@ac-aix-marseille.fr",
    )  # fmt: skip
    assert code == 3  # DirectoryError: a script or a monitor sees the failure
    assert "result: failed: LDAP connection failed" in out
    assert "login: pierre.dupont (fallback)" in out
    assert err == "error: the lookup failed: the directory gave no answer (see result)\n"


def test_lookup_in_csv_and_template_providers(run: Run) -> None:
    args = ["directory", "lookup", "--profiles", str(PROFILES), "--directory", str(DEMO)]
    code, out, _ = run(*args, "pierre.dupont@ac-aix-marseille.fr")
    assert code == 0
    assert "backend: CSV table staff.csv" in out
    assert "login: pdupont (directory)" in out
    code, out, _ = run(*args, "someone@example.org")
    assert code == 0
    assert "login source: template" in out


@pytest.mark.parametrize(
    ("address", "status"), [("not an address", 4), ("pierre.dupont@elsewhere.example", 5)]
)
def test_lookup_of_bad_addresses(run: Run, address: str, status: int) -> None:
    code, _, err = run("directory", "lookup", "--profiles", str(PROFILES), address)
    assert code == status
    assert err.startswith("error: ")


def test_bad_ldap_url_is_a_settings_error(run: Run) -> None:
    code, _, err = run(
        "check", "--profiles", str(PROFILES), "--directory", "ldap://h/dc=fr?uid?deep"
    )
    assert code == 2
    assert "--directory: ldap://h/dc=fr?uid?deep: scope 'deep' (expected base, one or sub)" in err


def test_check_accepts_an_ldap_url_without_contacting_it(run: Run) -> None:
    code, out, _ = run(
        "check", "--profiles", str(PROFILES), "--directory", "ldap://192.0.2.1/dc=fr"
    )
    assert code == 0
    assert (
        "ok: directory: LDAP ldap://192.0.2.1:389/dc=fr?uid?sub?(mail={email}) (anonymous)" in out
    )


def test_import_builds_a_sqlite_directory_the_service_reads(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "staff.sqlite"
    target.write_bytes(b"old content")
    code, out, _ = run("directory", "import", str(DEMO), "--into", str(target))
    assert (code, out) == (0, f"wrote 5 entries to {target}\n")
    rows = sqlite3.connect(target).execute("SELECT email, login, name FROM directory").fetchall()
    assert ("pierre.dupont@ac-aix-marseille.fr", "pdupont", "Pierre Dupont") in rows
    code, out, _ = run(
        "directory", "lookup", "--profiles", str(PROFILES), "--directory", str(target),
        "Marie.Martin@AC-Aix-Marseille.fr",
    )  # fmt: skip
    assert "backend: SQLite table staff.sqlite (5 entries)" in out
    assert "login: mmartin3 (directory)" in out


def test_import_of_a_bad_csv_lists_the_bad_rows(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("email,login\nnot-an-address,x\nok@ac-aix-marseille.fr,\n")
    code, _, err = run("directory", "import", str(bad), "--into", str(tmp_path / "out.sqlite"))
    assert code == 3
    assert "2 bad row(s)" in err
    assert "line 2, column 1 (email): address has 0 '@' signs" in err
    assert "line 3, column 2 (login): login is empty" in err
    assert not (tmp_path / "out.sqlite").exists()


def test_import_reads_a_french_excel_export(run: Run, tmp_path: Path) -> None:
    """Excel's "CSV (separator: semicolon)": ; between cells, Windows-1252, Windows line ends."""
    export = tmp_path / "annuaire.csv"
    export.write_bytes(
        "email;login;name\r\ngaelle.lheritier@ac-aix-marseille.fr;glheritier;Gaëlle L'Héritier\r\n"
        ";;\r\n".encode("cp1252")
    )
    target = tmp_path / "staff.sqlite"
    code, out, err = run("directory", "import", str(export), "--into", str(target))
    assert (code, out, err) == (0, f"wrote 1 entries to {target}\n", "")
    code, out, _ = run(
        "directory", "lookup", "--profiles", str(PROFILES), "--directory", str(target),
        "gaelle.lheritier@ac-aix-marseille.fr",
    )  # fmt: skip
    assert "login: glheritier (directory)" in out
    assert "name: Gaëlle L'Héritier" in out


@pytest.mark.parametrize(
    ("into", "message"),
    [
        ("staff.csv", "staff.csv is the CSV file being imported: it would be overwritten"),
        ("other.csv", "other.csv would not be read as a SQLite directory"),
    ],
)
def test_import_refuses_to_overwrite_its_input(
    run: Run, tmp_path: Path, into: str, message: str
) -> None:
    source = tmp_path / "staff.csv"
    source.write_bytes(DEMO.read_bytes())
    code, out, err = run("directory", "import", str(source), "--into", str(tmp_path / into))
    assert (code, out) == (2, "")
    assert f"error: --into: {tmp_path / message}" in err
    assert source.read_bytes() == DEMO.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["staff.csv"]


def test_import_refuses_a_header_naming_a_column_twice(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "staff.csv"
    source.write_text("email,login,email\na@ac-aix-marseille.fr,a,b@ac-aix-marseille.fr\n")
    code, _, err = run("directory", "import", str(source), "--into", str(tmp_path / "s.sqlite"))
    assert code == 3
    assert "the header row names email (columns 1, 3) more than once" in err
    assert not (tmp_path / "s.sqlite").exists()


def test_serve_passes_every_directory_option(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(autoconfig.server, "run", lambda *args, **_: calls.append(args))
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    code, _, _ = run(
        "serve", "--profiles", str(PROFILES), "--directory", str(DEMO),
        "--directory-timeout", "150", "--directory-cache-ttl", "30", "--directory-miss-ttl", "5",
        "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "::1", "--ldap-timeout", "1.5",
        "--directory-rate-limit-exempt", "192.0.2.0/24",
        "--ldap-ca-file", str(ca), "--ldap-bind-dn", BIND_DN,
        env={"AUTOCONFIG_DIRECTORY_RATE_LIMIT": "7", "AUTOCONFIG_LDAP_PASSWORD": "pw"},
    )  # fmt: skip
    assert code == 0
    ((settings, *_),) = calls
    assert settings == Settings(
        PROFILES.resolve(),
        str(DEMO),
        lookup=LookupSettings(
            timeout_ms=150,
            hit_ttl=30,
            miss_ttl=5,
            rate_limit=7,
            rate_limit_exempt=(ipaddress.ip_network("192.0.2.0/24"),),
            ldap_timeout=1.5,
            ldap_ca_file=ca,
            ldap_bind_dn=BIND_DN,
            ldap_password="pw",
        ),
        trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1")),
    )
    assert Settings.from_env(settings.to_env()) == settings
    assert "pw" not in repr(settings)


def test_trusted_proxies_from_the_environment(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(autoconfig.server, "run", lambda *args, **_: calls.append(args))
    env = {"AUTOCONFIG_TRUSTED_PROXIES": "10.0.0.1 192.168.0.0/16"}
    assert run("serve", "--profiles", str(PROFILES), env=env)[0] == 0
    assert [str(n) for n in calls[0][0].trusted_proxies] == ["10.0.0.1/32", "192.168.0.0/16"]


def test_exempt_networks_from_the_environment(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(autoconfig.server, "run", lambda *args, **_: calls.append(args))
    env = {"AUTOCONFIG_DIRECTORY_RATE_LIMIT_EXEMPT": "10.1.0.0/16, 2001:db8:5::/48"}
    assert run("serve", "--profiles", str(PROFILES), env=env)[0] == 0
    exempt = calls[0][0].lookup.rate_limit_exempt
    assert [str(n) for n in exempt] == ["10.1.0.0/16", "2001:db8:5::/48"]


def test_bad_trusted_proxy_is_refused(run: Run) -> None:
    code, _, err = run("serve", "--profiles", str(PROFILES), "--trusted-proxy", "proxy.example")
    assert code == 2
    assert "'proxy.example' is not an IP address or network" in err


@pytest.mark.parametrize(
    "spec",
    [spec for cls in (Settings, LookupSettings) for _, spec in specs(cls)],
    ids=lambda spec: spec.env,
)
def test_every_directory_option_is_documented(spec: Any) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    if spec.option is not None:
        assert f"`{spec.option} " in readme or f"`{spec.option}`" in readme, spec.option
    assert f"`{spec.env}`" in readme, spec.env


@pytest.mark.parametrize(
    ("password", "code", "said"),
    [
        (BIND_PASSWORD, 0, "(bound as a service account): bound and searched"),
        ("wrong-password", 3, "error: LDAP bind failed: invalidCredentials"),
    ],
)
def test_check_connect_binds_and_searches(
    run: Run, ldap_env: dict[str, str], password: str, code: int, said: str
) -> None:
    status, out, err = run(
        "check", "--connect", env={**ldap_env, "AUTOCONFIG_LDAP_PASSWORD": password}
    )
    assert status == code, err
    assert said in out + err
    assert password not in out + err


@pytest.mark.parametrize(("password", "code"), [(BIND_PASSWORD, 0), ("wrong-password", 3)])
def test_check_connect_with_the_password_from_systemd_credentials(
    run: Run, ldap_env: dict[str, str], tmp_path: Path, password: str, code: int
) -> None:
    """``LoadCredential=ldap-password:…``: the password file systemd copied is the bind password
    when AUTOCONFIG_LDAP_PASSWORD(_FILE) is not set."""
    (tmp_path / "ldap-password").write_text(password + "\n")
    env = {k: v for k, v in ldap_env.items() if k != "AUTOCONFIG_LDAP_PASSWORD"}
    status, out, err = run(
        "check", "--connect", env={**env, "CREDENTIALS_DIRECTORY": str(tmp_path)}
    )
    assert status == code, out + err
    assert ("bound and searched" in out) == (code == 0)


def test_check_without_connect_does_not_bind(run: Run, ldap_env: dict[str, str]) -> None:
    code, out, _ = run("check", env={**ldap_env, "AUTOCONFIG_LDAP_PASSWORD": "wrong-password"})
    assert code == 0
    assert "bound and searched" not in out
