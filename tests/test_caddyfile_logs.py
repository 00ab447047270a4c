"""What the shipped Caddyfile makes Caddy log, through the real Caddy: no address anywhere (the
query strings, Outlook's v2 path ``/autodiscover/autodiscover.json/v1.0/<address>``, headers,
the error log while no instance answers), and the request id the app logs too."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

from tests.caddy import FRONT_DOMAIN, Caddy, Front, access_lines, curl, lines_of, run_caddy
from tests.conftest import DEMO, PIERRE
from tests.servers import serve
from tests.tools import require, wait_until

D = FRONT_DOMAIN
ENCODED = PIERRE.replace("@", "%40")
LOCAL = PIERRE.split("@")[0]
REQUESTS = [
    f"https://autodiscover.{D}/autodiscover/autodiscover.json/v1.0/{PIERRE}?Protocol=AutodiscoverV1",
    f"https://autodiscover.{D}/autodiscover/autodiscover.json/v1.0/{ENCODED}?Protocol=AutodiscoverV1",
    f"https://autodiscover.{D}/AutoDiscover/AutoDiscover.json/v1.0/{PIERRE}/extra",
    f"https://autodiscover.{D}/autodiscover/autodiscover.json?Email={ENCODED}&Protocol=Ews",
    f"https://autoconfig.{D}/mail/config-v1.1.xml?emailaddress={ENCODED}",
    f"https://autoconfig.{D}/mobileconfig?email={ENCODED}",
    f"http://autodiscover.{D}/autodiscover/autodiscover.json/v1.0/{PIERRE}",
]
HEADERS = (
    f"X-AnchorMailbox: {PIERRE}",
    "Authorization: Basic cGllcnJlLmR1cG9udEBleGFtcGxlOnNlY3JldA==",
    f"Referer: https://autoconfig.{D}/?email={ENCODED}",
)


def assert_no_address(caddy: Caddy) -> None:
    text = caddy.log_text()
    for secret in ("@", "%40", LOCAL, "emailaddress", "cGllcnJl"):
        assert secret not in text, f"{secret!r} in Caddy's log"


def test_no_address_in_caddys_access_log(front: Front) -> None:
    before = len(access_lines(front.caddy))
    for url in REQUESTS:
        curl(front.caddy, url, headers=HEADERS)
    wait_until(lambda: len(access_lines(front.caddy)) >= before + len(REQUESTS), "the access lines")
    assert_no_address(front.caddy)
    uris = {line["request"]["uri"] for line in access_lines(front.caddy)}
    # The path segment holding the address is emptied, not the rest of the path.
    assert "/autodiscover/autodiscover.json/v1.0/" in uris
    assert "/AutoDiscover/AutoDiscover.json/v1.0//extra" in uris


def test_no_address_in_the_logs_of_a_websocket_attempt(front: Front) -> None:
    """An upgrade request (HTTP/1.1: curl's usual HTTP/2 has none) goes through Caddy to an
    instance, which serves no WebSocket: a 404, and neither log holds the query."""
    caddy = front.caddy
    host = f"autoconfig.{D}"
    done = subprocess.run(
        [
            require("curl"),
            "--silent",
            "--http1.1",
            "--max-time",
            "10",
            "--resolve",
            f"{host}:{caddy.https_port}:127.0.0.1",
            "--cacert",
            str(caddy.root_certificate),
            "--header",
            "Connection: Upgrade",
            "--header",
            "Upgrade: websocket",
            "--header",
            "Sec-WebSocket-Version: 13",
            "--header",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "--output",
            "/dev/null",
            "--write-out",
            "%{http_code}",
            f"https://{host}:{caddy.https_port}/ws?email={ENCODED}",
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.stdout == "404", done.stderr
    wait_until(
        lambda: any(line["request"]["uri"] == "/ws" for line in access_lines(caddy)), "the line"
    )
    assert_no_address(caddy)
    for app in front.apps:
        assert ENCODED not in app.log_text()
        assert PIERRE not in app.log_text()


def test_caddy_and_the_app_log_the_same_request_id(front: Front) -> None:
    marker = f"/no-such-page-{uuid.uuid4().hex}"
    assert curl(front.caddy, f"https://autoconfig.{D}{marker}").status == 404

    def caddy_line() -> dict[str, Any] | None:
        found = [line for line in access_lines(front.caddy) if line["request"]["uri"] == marker]
        return found[0] if found else None

    wait_until(caddy_line, "Caddy's access line")
    line = caddy_line()
    assert line is not None
    request_id = line["user_id"]
    assert uuid.UUID(request_id)

    def app_line() -> str | None:
        for app in front.apps:
            for text in app.log_text().splitlines():
                if f"path={marker} " in text:
                    return text
        return None

    wait_until(app_line, "the app's access line")
    assert f"request_id={request_id}" in str(app_line())


def test_status_and_metrics_are_not_public(front: Front) -> None:
    for path in ("/status", "/metrics", "/status?x=1"):
        assert curl(front.caddy, f"https://autoconfig.{D}{path}").status == 404


def test_no_address_in_caddys_error_log_while_no_instance_answers(tmp_path: Path) -> None:
    with (
        serve(tmp_path, "--directory", str(DEMO)) as app,
        run_caddy(tmp_path, D, [app.port]) as caddy,
    ):
        app.stop()
        for url in REQUESTS[:2] + REQUESTS[4:5]:
            assert curl(caddy, url, headers=HEADERS).status in {502, 503}
        errors = [
            line for line in lines_of(caddy) if line.get("logger", "").startswith("http.log.error")
        ]
        assert errors, caddy.log_text()
        assert {line["request"]["uri"] for line in errors} == {
            "/autodiscover/autodiscover.json/v1.0/",
            "/mail/config-v1.1.xml",
        }
        assert_no_address(caddy)
