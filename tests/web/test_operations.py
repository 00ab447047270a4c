from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from autoconfig.service import Service
from autoconfig.web import create_app
from autoconfig.web.operations import ready
from tests.conftest import ACADEMIE, DEMO, PIERRE

THUNDERBIRD_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for metric in text_string_to_metric_families(text):
        for sample in metric.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def test_healthz_ready_and_never_cached(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


def test_healthz_not_ready_without_a_service(service: Service) -> None:
    app = create_app(service)
    app.state.service = None
    with TestClient(app) as fresh:
        response = fresh.get("/healthz")
    assert response.status_code == 503
    assert response.headers["cache-control"] == "no-store"


def test_not_ready_when_the_configured_directory_is_not_open(service: Service) -> None:
    assert ready(service)
    assert not ready(replace(service, directory=None))


def test_metrics_count_requests_by_endpoint_status_and_family(service: Service) -> None:
    with TestClient(create_app(service), base_url=f"http://autoconfig.{ACADEMIE}") as fresh:
        for _ in range(2):
            fresh.get(
                "/mail/config-v1.1.xml",
                params={"emailaddress": PIERRE},
                headers={"User-Agent": THUNDERBIRD_UA},
            )
        fresh.get(
            "/mail/config-v1.1.xml",
            params={"emailaddress": f"nobody@{ACADEMIE}"},
            headers={"User-Agent": "curl/8"},
        )
        fresh.get("/mail/config-v1.1.xml", params={"emailaddress": "not an address"})
        fresh.get("/no/such/path")
        response = fresh.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["cache-control"] == "no-store"
    found = samples(response.text)
    requests = "autoconfig_requests_total"
    assert (
        found[
            (
                requests,
                frozenset(
                    {("endpoint", "thunderbird"), ("status", "200"), ("client", "thunderbird")}
                ),
            )
        ]
        == 2
    )
    assert (
        found[
            (
                requests,
                frozenset({("endpoint", "thunderbird"), ("status", "200"), ("client", "script")}),
            )
        ]
        == 1
    )
    assert (
        found[
            (
                requests,
                frozenset({("endpoint", "thunderbird"), ("status", "400"), ("client", "other")}),
            )
        ]
        == 1
    )
    assert (
        found[(requests, frozenset({("endpoint", "-"), ("status", "404"), ("client", "other")}))]
        == 1
    )
    assert found[("autoconfig_logins_total", frozenset({("source", "directory")}))] == 2
    assert found[("autoconfig_logins_total", frozenset({("source", "fallback")}))] == 1
    lookups = "autoconfig_directory_lookups_total"
    assert found[(lookups, frozenset({("outcome", "directory")}))] == 2
    assert found[(lookups, frozenset({("outcome", "unknown")}))] == 1
    assert (
        found[
            ("autoconfig_request_duration_seconds_count", frozenset({("endpoint", "thunderbird")}))
        ]
        == 4
    )


def test_metrics_hold_no_address_login_or_user_agent(service: Service) -> None:
    with TestClient(create_app(service), base_url=f"http://autoconfig.{ACADEMIE}") as fresh:
        fresh.get(
            "/mail/config-v1.1.xml",
            params={"emailaddress": PIERRE},
            headers={"User-Agent": THUNDERBIRD_UA},
        )
        text = fresh.get("/metrics").text
    for secret in ("pierre", "pdupont", "Thunderbird/128", "Gecko"):
        assert secret not in text


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_operations_refuse_other_methods(client: TestClient, path: str) -> None:
    assert client.post(path).status_code == 405


REQUESTS = 120


def test_metrics_add_up_every_worker(tmp_path: Path) -> None:
    import urllib.request

    from tests.servers import serve
    from tests.tools import wait_until

    def get(app_url: str, path: str) -> str:
        with urllib.request.urlopen(app_url + path, timeout=5) as response:
            return str(response.read().decode())

    from concurrent.futures import ThreadPoolExecutor

    with serve(tmp_path, "--directory", str(DEMO), "--workers", "2") as app:
        # Concurrent requests spread over both workers; each worker counts only its own.
        with ThreadPoolExecutor(20) as pool:
            list(
                pool.map(
                    lambda _: get(app.url, f"/mail/config-v1.1.xml?emailaddress={PIERRE}"),
                    range(REQUESTS),
                )
            )
        key = frozenset({("endpoint", "thunderbird"), ("status", "200"), ("client", "script")})

        def total() -> float:
            return samples(get(app.url, "/metrics"))[("autoconfig_requests_total", key)]

        # A request is counted just after its answer is out: wait for the last ones.
        wait_until(lambda: total() == REQUESTS, f"{REQUESTS} requests counted")
        totals = {total() for _ in range(8)}
    assert totals == {REQUESTS}


def test_autodiscover_errors_are_counted_by_code(service: Service) -> None:
    from tests.web.test_clients_autodiscover import request_body

    with TestClient(create_app(service), base_url=f"http://autodiscover.{ACADEMIE}") as fresh:
        fresh.post("/autodiscover/autodiscover.xml", content=b"<not xml")
        fresh.post("/autodiscover/autodiscover.xml", content=request_body("someone@gmail.com"))
        fresh.post(
            "/autodiscover/autodiscover.xml",
            content=request_body().replace(
                b"outlook/responseschema/2006a", b"mobilesync/responseschema/2006"
            ),
        )
        fresh.post("/autodiscover/autodiscover.xml", content=request_body())
        fresh.get("/autodiscover/autodiscover.json", params={"Email": PIERRE, "Protocol": "Ews"})
        found = samples(fresh.get("/metrics").text)
    errors = {
        dict(labels)["code"]: value
        for (name, labels), value in found.items()
        if name == "autoconfig_autodiscover_errors_total"
    }
    assert errors == {"600": 1, "500": 1, "601": 1, "InvalidProtocol": 1}
    # Still HTTP 200 for the POX errors, as Exchange answers.
    ok = frozenset({("endpoint", "autodiscover"), ("status", "200"), ("client", "other")})
    assert found[("autoconfig_requests_total", ok)] == 4


def test_the_loaded_files_are_gauges(client: TestClient) -> None:
    found = samples(client.get("/metrics").text)
    from autoconfig import __version__

    assert found[("autoconfig_build_info", frozenset({("version", __version__)}))] == 1
    assert found[("autoconfig_profiles_loaded", frozenset())] == 2
    assert found[("autoconfig_reload_failed", frozenset())] == 0
    assert found[("autoconfig_last_reload_success_timestamp_seconds", frozenset())] > 0
    assert found[("autoconfig_directory_up", frozenset())] == 1
    # Served unsigned: no expiry to report (a 0 would fire the expiry alert).
    assert not any(
        name == "autoconfig_signing_certificate_expiry_timestamp_seconds" for name, _ in found
    )


def test_a_metrics_file_being_created_does_not_fail_the_scrape(
    service: Service, tmp_path: Path
) -> None:
    """A starting worker creates its file, then sizes it: a scrape in between read an empty file
    and answered 500."""
    from autoconfig.web.metrics import Metrics

    metrics = Metrics(tmp_path)
    (tmp_path / "gauge_livemax_999999.db").write_bytes(b"")
    with TestClient(create_app(service, metrics=metrics)) as fresh:
        response = fresh.get("/metrics")
    assert response.status_code == 200
    assert "autoconfig_build_info" in response.text
