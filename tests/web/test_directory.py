"""The HTTP answers with the LDAP directory: a real slapd, end to end."""

from __future__ import annotations

import base64
import ipaddress
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from autoconfig.service import Service
from autoconfig.settings import LookupSettings, Settings
from autoconfig.web import create_app
from autoconfig.web.metrics import Metrics
from tests import clientrules
from tests.conftest import PROFILES
from tests.slapd import BIND_DN, BIND_PASSWORD, SLOW_MACHINE_MS, Slapd

CONFIG = "/mail/config-v1.1.xml"
BASE_URL = "http://autoconfig.ac-aix-marseille.fr"
PROXY = "10.0.0.2"


def ldap_settings(url: str, trusted: str | None = None, **options: object) -> Settings:
    lookup = LookupSettings(ldap_bind_dn=BIND_DN, ldap_password=BIND_PASSWORD, **options)  # type: ignore[arg-type]
    proxies = (ipaddress.ip_network(trusted),) if trusted else ()
    return Settings(PROFILES, url + "?uid,displayName", lookup=lookup, trusted_proxies=proxies)


def counted(metrics: Metrics, outcome: str) -> float:
    """How many directory lookups the metrics counted with ``outcome``."""
    value = metrics.registry.get_sample_value(
        "autoconfig_directory_lookups_total", {"outcome": outcome}
    )
    return value or 0.0


def login_of(client: TestClient, address: str, **headers: str) -> str:
    response = client.get(CONFIG, params={"emailaddress": address}, headers=headers)
    assert response.status_code == 200
    incoming, outgoing = clientrules.thunderbird(response.headers["content-type"], response.content)
    assert incoming.username == outgoing.username
    private = response.headers["cache-control"] == "private, no-store"
    assert private == (incoming.username != "%EMAILLOCALPART%")
    return incoming.username


@pytest.fixture
def ldap_client(slapd: Slapd) -> Iterator[TestClient]:
    # A budget no first connection misses on a loaded machine (the outage test keeps 300 ms).
    service = Service.load(ldap_settings(slapd.url, rate_limit=0, timeout_ms=SLOW_MACHINE_MS))
    try:
        with TestClient(create_app(service), base_url=BASE_URL) as client:
            yield client
    finally:
        service.close()


@pytest.mark.parametrize(
    ("address", "login"),
    [
        ("pierre.dupont@ac-aix-marseille.fr", "pdupont"),
        ("Jean-Luc.Nguyen@ac-aix-marseille.fr", "jnguyen1"),
        ("gaelle.lheritier@ac-aix-marseille.fr", "glhéritier"),
        ("nobody@ac-aix-marseille.fr", "%EMAILLOCALPART%"),
        ("secretariat@ac-aix-marseille.fr", "%EMAILLOCALPART%"),
        ("*@ac-aix-marseille.fr", "%EMAILLOCALPART%"),
        ("*ierre.dupont@ac-aix-marseille.fr", "%EMAILLOCALPART%"),
    ],
)
def test_thunderbird_carries_the_academic_id(
    ldap_client: TestClient, address: str, login: str
) -> None:
    assert login_of(ldap_client, address) == login
    assert login_of(ldap_client, address) == login  # and again, from the cache


@pytest.mark.parametrize("address", ["a)(uid=*@ac-aix-marseille.fr", "a\\2a@ac-aix-marseille.fr"])
def test_filter_characters_the_address_parser_refuses(
    ldap_client: TestClient, address: str
) -> None:
    assert ldap_client.get(CONFIG, params={"emailaddress": address}).status_code == 400


def test_looked_up_logins_are_limited_per_client_behind_a_trusted_proxy(slapd: Slapd) -> None:
    settings = ldap_settings(slapd.url, PROXY, rate_limit=2)
    service = Service.load(settings)
    metrics = Metrics()
    people = [
        f"{p}@ac-aix-marseille.fr" for p in ("pierre.dupont", "marie.martin", "gaelle.lheritier")
    ]
    pierre, marie, gaelle = people
    try:
        app = create_app(service, metrics=metrics)
        with TestClient(app, base_url=BASE_URL, client=(PROXY, 1234)) as proxied:
            first = {"X-Forwarded-For": "198.51.100.1"}
            # the same person again costs nothing; a third distinct person is over the limit
            assert [login_of(proxied, a, **first) for a in (pierre, pierre, marie, gaelle)] == [
                "pdupont",
                "pdupont",
                "mmartin3",
                "%EMAILLOCALPART%",
            ]
            assert login_of(proxied, gaelle, **{"X-Forwarded-For": "198.51.100.2"}) == "glhéritier"
        with TestClient(app, base_url=BASE_URL, client=("10.0.0.3", 1)) as direct:
            # Not a trusted proxy: its X-Forwarded-For is ignored, the peer itself is limited.
            logins = [
                login_of(direct, address, **{"X-Forwarded-For": f"198.51.100.{n}"})
                for n, address in zip(range(10, 13), people, strict=True)
            ]
            assert logins == ["pdupont", "mmartin3", "%EMAILLOCALPART%"]
        assert counted(metrics, "limited") == 2
    finally:
        service.close()


def wait_for(client: TestClient, address: str, login: str) -> None:
    """Ask until the answer carries ``login`` (the directory is back), for at most 20 s."""
    deadline = time.monotonic() + 20
    while login_of(client, address) != login:
        assert time.monotonic() < deadline, f"lookups did not recover: still no {login}"
        time.sleep(0.1)


def test_directory_outage_gives_the_fallback_then_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = Slapd(tmp_path / "slapd")
    server.start()
    settings = ldap_settings(server.url, rate_limit=0, hit_ttl=0, miss_ttl=0, ldap_timeout=1.0)
    service = Service.load(settings)
    metrics = Metrics()
    pierre, marie = "pierre.dupont@ac-aix-marseille.fr", "marie.martin@ac-aix-marseille.fr"
    try:
        with (
            caplog.at_level(logging.INFO, logger="autoconfig"),
            TestClient(create_app(service, metrics=metrics), base_url=BASE_URL) as client,
        ):
            assert login_of(client, pierre) == "pdupont"
            server.pause()  # hung: connections accepted, nothing answered
            addresses = [f"person{n}@ac-aix-marseille.fr" for n in range(6)] + [pierre, marie]
            assert {login_of(client, a) for a in addresses} == {"%EMAILLOCALPART%"}
            assert counted(metrics, "timeout") >= 1
            server.resume()
            wait_for(client, pierre, "pdupont")
            server.stop()  # down: connections refused
            assert login_of(client, marie) == "%EMAILLOCALPART%"
            assert login_of(client, pierre) == "%EMAILLOCALPART%"
            assert counted(metrics, "failed") >= 1
            assert counted(metrics, "failed") + counted(metrics, "resting") >= 2
            server.start()
            wait_for(client, marie, "mmartin3")
    finally:
        service.close()
        server.stop()
    warnings = [r for r in caplog.records if r.name.startswith("autoconfig.usernames")]
    assert 1 <= len(warnings) <= 4  # once per interval, plus one line each time it is over
    assert any("over, after" in r.getMessage() for r in warnings)


def test_no_personal_data_in_any_log_line(
    slapd: Slapd, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Every logger, every level, while answering found, cached, unknown, limited, failing and
    refused requests: no address, login ID, name, password or Authorization header."""
    authorization = "Basic " + base64.b64encode(b"pierre.dupont:Hunter2-secret").decode()
    good = Service.load(ldap_settings(slapd.url, rate_limit=3))
    wrong = Settings(
        PROFILES,
        slapd.url,
        lookup=LookupSettings(ldap_bind_dn=BIND_DN, ldap_password="Wrong-pw-42", rate_limit=0),
    )
    bad = Service.load(wrong)
    addresses = [
        "pierre.dupont@ac-aix-marseille.fr",
        "gaelle.lheritier@ac-aix-marseille.fr",
        "nobody.known@ac-aix-marseille.fr",
        "pierre.dupont@ac-aix-marseille.fr",
        "*ierre.dupont@ac-aix-marseille.fr",
        "secretariat@ac-aix-marseille.fr",
        "Pierre.Dupont@ac-aix-marseille.fr",
        "Pierre.Dupont@ac-aix-marseille.fr",
        "bad address@ac-aix-marseille.fr",
        "pierre.dupont@unknown-domain.example",
    ]
    try:
        with caplog.at_level(logging.DEBUG):
            for service in (good, bad):
                with TestClient(create_app(service), base_url=BASE_URL) as client:
                    for address in addresses:
                        client.get(
                            CONFIG,
                            params={"emailaddress": address},
                            headers={"Authorization": authorization},
                        )
    finally:
        good.close()
        bad.close()
    # The test's own HTTP client logs the URLs it requests; the service's loggers are the rest.
    records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    text = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in records
    ).casefold()
    access = [r.getMessage() for r in records if r.name == "autoconfig.access"]
    assert len(access) == 2 * len(addresses)
    for source in ("login=directory", "login=cache", "login=fallback"):
        assert any(source in line for line in access), source
    assert all("endpoint=thunderbird" in line and "duration_ms=" in line for line in access)
    secrets = [
        "pierre", "dupont", "gaelle", "lheritier", "nobody.known", "secretariat", "ierre",
        "pdupont", "glhéritier", "gaëlle", "héritier",
        "hunter2", "wrong-pw-42", BIND_PASSWORD.casefold(), authorization.casefold(),
        authorization.split()[1].casefold(), "basic ",
    ]  # fmt: skip
    assert [s for s in secrets if s in text] == []
    assert "directory lookups failing" in text  # the failures were logged, without the addresses


def test_served_app_connects_ahead_of_the_first_request(
    slapd: Slapd, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autoconfig.server.worker import app as app_from_env

    env = Settings(
        PROFILES,
        slapd.url + "?uid,displayName",
        lookup=LookupSettings(ldap_bind_dn=BIND_DN, ldap_password=BIND_PASSWORD),
    ).to_env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    before = slapd.binds()
    app = app_from_env()
    service: Service = app.state.service
    try:
        deadline = time.monotonic() + 10
        while slapd.binds() == before:
            assert time.monotonic() < deadline, "the service did not connect at start"
            time.sleep(0.05)
        # Not entered: its lifespan would probe the directory at once (a bind of its own).
        client = TestClient(app, base_url=BASE_URL)
        assert login_of(client, "pierre.dupont@ac-aix-marseille.fr") == "pdupont"
        assert slapd.binds() == before + 1
    finally:
        service.close()
