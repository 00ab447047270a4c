"""What is degraded: ``/status`` and the gauges, in process (fakes for a failing directory), and
against a real slapd stopped under a real ``autoconfig serve`` with two workers."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from autoconfig import __version__, profiles
from autoconfig.errors import DirectoryError
from autoconfig.service import Service
from autoconfig.settings import LookupSettings, Settings
from autoconfig.signing import Signer
from autoconfig.usernames.entry import Entry
from autoconfig.web import create_app
from autoconfig.web.health import probe_once
from tests.conftest import ACADEMIE, DEMO, PIERRE, PROFILES
from tests.fakes import FakeDirectory
from tests.pki import make_pki
from tests.servers import App, serve
from tests.slapd import BIND_DN, BIND_PASSWORD, Slapd
from tests.tools import free_port, wait_until
from tests.web.test_operations import samples

UP: tuple[str, frozenset[tuple[str, str]]] = ("autoconfig_directory_up", frozenset())


class ProbedDirectory(FakeDirectory):
    """A fake LDAP-like directory: it can be probed, and the probe fails while ``failing``."""

    description = "fake probed directory"

    def probe(self) -> None:
        if self.failing:
            raise DirectoryError("LDAP bind failed: invalidCredentials")


def service_with(directory: FakeDirectory) -> Service:
    catalog = profiles.Catalog(profiles.load(PROFILES))
    return Service(catalog, directory, Settings(PROFILES, lookup=LookupSettings(rate_limit=0)))


def gauge(client: TestClient, key: tuple[str, frozenset[tuple[str, str]]] = UP) -> float:
    return samples(client.get("/metrics").text)[key]


def test_status_says_ok_and_what_is_loaded(client: TestClient) -> None:
    response = client.get("/status")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    report = response.json()
    assert report["status"] == "ok"
    assert report["problems"] == []
    assert report["version"] == __version__
    assert ACADEMIE in report["profiles"]["ids"]
    assert report["directory"]["kind"].startswith("CSV table staff.csv")
    assert report["directory"]["up"] is True
    assert report["signing"] is None
    assert report["reload"]["failed"] is False
    assert gauge(client) == 1


def test_a_failing_directory_is_degraded_while_healthz_stays_ok() -> None:
    directory = ProbedDirectory({})
    directory.failing = True
    app = create_app(service_with(directory))
    with TestClient(app, base_url=f"http://autoconfig.{ACADEMIE}") as client:
        assert (
            client.get("/mail/config-v1.1.xml", params={"emailaddress": PIERRE}).status_code == 200
        )
        assert gauge(client) == 0
        assert client.get("/healthz").status_code == 200
        response = client.get("/status")
        assert response.status_code == 503
        assert response.json()["status"] == "degraded"
        assert response.json()["problems"] == ["directory: lookups failed"]
        # Back: the probe sees it answer (no request needed), and so does the next lookup.
        directory.failing = False
        asyncio.run(probe_once(app))
        assert gauge(client) == 1
        assert client.get("/status").status_code == 200


def test_the_probe_finds_a_directory_that_refuses_the_bind() -> None:
    directory = ProbedDirectory({})
    app = create_app(service_with(directory))
    with TestClient(app) as client:
        assert gauge(client) == 1
        directory.failing = True
        asyncio.run(probe_once(app))
        assert gauge(client) == 0
        report = client.get("/status").json()
        assert report["problems"] == ["directory: LDAP bind failed: invalidCredentials"]
        assert report["directory"]["reason"] == "LDAP bind failed: invalidCredentials"


def test_lookups_that_found_someone_say_the_directory_is_up() -> None:
    directory = FakeDirectory({PIERRE: Entry("pdupont")})
    app = create_app(service_with(directory))
    with TestClient(app, base_url=f"http://autoconfig.{ACADEMIE}") as client:
        app.state.health.directory("lookups failed")
        assert gauge(client) == 0
        client.get("/mail/config-v1.1.xml", params={"emailaddress": PIERRE})
        assert gauge(client) == 1


@pytest.mark.parametrize(
    ("days", "status", "problem"),
    [
        (90, 200, None),
        (5, 503, "signing: the certificate expires in 5 day(s)"),
    ],
)
def test_status_warns_before_the_signing_certificate_expires(
    tmp_path: Path, days: int, status: int, problem: str | None
) -> None:
    from datetime import UTC, datetime, timedelta

    cert, key, certificate = make_pki(tmp_path).signer(
        "signer.example", days=days, start=datetime.now(UTC) - timedelta(minutes=1)
    )
    service = Service.load(Settings(PROFILES, str(DEMO), signing_cert=cert, signing_key=key))
    with TestClient(create_app(service)) as client:
        response = client.get("/status")
        expiry = samples(client.get("/metrics").text)[
            ("autoconfig_signing_certificate_expiry_timestamp_seconds", frozenset())
        ]
    assert response.status_code == status
    assert response.json()["problems"] == ([problem] if problem else [])
    assert expiry == certificate.not_valid_after_utc.timestamp()
    assert isinstance(service.signer, Signer)


def test_status_refuses_other_methods(client: TestClient) -> None:
    assert client.post("/status").status_code == 405


# The real thing: slapd stopped under a served app.


def get_json(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def directory_up(url: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        return samples(response.read().decode())[UP]


def healthz(url: str) -> int:
    with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
        status: int = response.status
        return status


def every_worker_degraded(app: App, workers: int, timeout: float) -> None:
    """Wait until each of ``workers`` has answered ``/status`` with 503 (new connections spread
    over them, so every one is asked in the end)."""
    degraded: set[object] = set()

    def all_said() -> bool:
        code, seen = get_json(f"{app.url}/status")
        if code == 503:
            degraded.add(seen["worker"])
        return len(degraded) == workers

    wait_until(all_said, f"{workers} workers to say degraded", timeout=timeout)


@pytest.fixture
def own_slapd(tmp_path: Path) -> Iterator[Slapd]:
    """A slapd of this test's own, which it may stop."""
    server = Slapd(tmp_path / "slapd")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_a_stopped_slapd_shows_in_the_gauge_within_a_minute(
    tmp_path: Path, own_slapd: Slapd
) -> None:
    """No request needed: each worker probes the directory. ``/healthz`` stays 200 all along,
    so Caddy keeps the instance."""
    url = f"{own_slapd.url}?uid,displayName?sub?(mail={{email}})"
    env = {"AUTOCONFIG_LDAP_PASSWORD": BIND_PASSWORD}
    args = ("--directory", url, "--ldap-bind-dn", BIND_DN, "--workers", "2")
    with serve(tmp_path, *args, env=env) as app:
        wait_until(lambda: directory_up(app.url) == 1, "the directory up")
        own_slapd.stop()
        wait_until(lambda: directory_up(app.url) == 0, "the gauge to say down", timeout=60)
        assert healthz(app.url) == 200
        # /status is the answering worker's view: each says so once its own probe has run.
        every_worker_degraded(app, 2, timeout=60)
        status, report = get_json(f"{app.url}/status")
        assert status == 503
        assert report["status"] == "degraded"
        problems = report["problems"]
        assert isinstance(problems, list)
        assert problems[0].startswith("directory: LDAP")
        own_slapd.start()
        wait_until(lambda: directory_up(app.url) == 1, "the gauge to say up again", timeout=60)
        assert "Traceback" not in app.log_text()


def test_a_directory_down_at_start_shows_before_the_first_interval(tmp_path: Path) -> None:
    """Each worker probes once as it starts: a directory that does not answer then (here, nothing
    listens on its port) makes ``/status`` and the gauge say so at once, where they said "up" for
    the first 15 s (``PROBE_INTERVAL``). The wait below is shorter than that interval."""
    url = f"ldap://127.0.0.1:{free_port()}/dc=example?uid?sub?(mail={{email}})"
    with serve(tmp_path, "--directory", url, "--workers", "2") as app:
        assert healthz(app.url) == 200  # liveness is not the directory's
        wait_until(lambda: directory_up(app.url) == 0, "the gauge to say down", timeout=8)
        every_worker_degraded(app, 2, timeout=8)
        assert "Traceback" not in app.log_text()
