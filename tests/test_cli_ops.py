"""The operations side of the CLI: ``serve`` options that reach uvicorn."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from autoconfig import cli
from autoconfig.settings import Settings
from tests.conftest import DEMO


def test_serve_passes_proxy_trust_and_shutdown_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(cli, "run", lambda *args, **kwargs: seen.update(args=args, **kwargs))
    result = CliRunner().invoke(
        cli.cli,
        ["serve", "--directory", str(DEMO), "--port", "8001"],
        env={"AUTOCONFIG_FORWARDED_ALLOW_IPS": "127.0.0.1", "AUTOCONFIG_SHUTDOWN_TIMEOUT": "7"},
    )
    assert result.exit_code == 0, result.output
    assert seen["forwarded_allow_ips"] == "127.0.0.1"
    assert seen["shutdown_timeout"] == 7


@pytest.mark.parametrize(
    ("allow", "proxy_headers"), [(None, False), ("127.0.0.1", True), ("127.0.0.1,::1", True)]
)
def test_run_believes_forwarded_headers_only_from_the_proxy(
    monkeypatch: pytest.MonkeyPatch, allow: str | None, proxy_headers: bool
) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda **kwargs: seen.update(kwargs))
    monkeypatch.setattr("os.environ", {})
    cli.run(Settings(DEMO.parent), "127.0.0.1", 8000, 1, "info", forwarded_allow_ips=allow)
    assert seen["proxy_headers"] is proxy_headers
    assert seen["forwarded_allow_ips"] == allow
    assert seen["timeout_graceful_shutdown"] == 20
