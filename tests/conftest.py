"""Shared fixtures: the project's own profiles, the demo directory, and an app built from them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from autoconfig.service import Service
from autoconfig.settings import LookupSettings, Settings, default_profiles, demo_directory
from autoconfig.web import create_app
from tests.caddy import front  # noqa: F401  (session fixture: Caddy in front of two instances)
from tests.slapd import Slapd

TESTS = Path(__file__).resolve().parent
PROFILES = default_profiles()
DEMO = demo_directory()
ACADEMIE = "ac-aix-marseille.fr"
PIERRE = "pierre.dupont@ac-aix-marseille.fr"
PIERRE_LOGIN = "pdupont"
LOGGERS = ("autoconfig", "uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture(scope="session")
def settings() -> Settings:
    # No per-client limit here: every test request comes from the same client address.
    return Settings(PROFILES, str(DEMO), lookup=LookupSettings(rate_limit=0))


@pytest.fixture(scope="session")
def service(settings: Settings) -> Iterator[Service]:
    loaded = Service.load(settings)
    yield loaded
    loaded.close()


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service), base_url="http://autoconfig.ac-aix-marseille.fr") as c:
        yield c


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """``serve`` configures logging for the process; put it back as it was after every test, so
    that no test changes what a later one captures."""
    saved = {}
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = (list(logger.handlers), logger.level, logger.propagate, logger.disabled)
    yield
    for name, (handlers, level, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
        logger.disabled = disabled


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """A real OpenLDAP server on loopback with the fictional staff, plain, StartTLS and ldaps."""
    server = Slapd(tmp_path_factory.mktemp("slapd"), tls=True)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's synchronous API keeps an event loop running in the main
    thread for as long as its session fixture lives, and tests that run their own loop
    (``anyio.run`` in the CLI) must not come after it starts."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid.replace("\\", "/"))
