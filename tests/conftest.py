"""Shared fixtures: the project's own profiles, the demo directory, and an app built from them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from autoconfig.service import Service
from autoconfig.settings import Settings, default_profiles, demo_directory
from autoconfig.web import create_app
from tests.caddy import front  # noqa: F401  (session fixture: Caddy in front of two instances)

TESTS = Path(__file__).resolve().parent
PROFILES = default_profiles()
DEMO = demo_directory()
ACADEMIE = "ac-aix-marseille.fr"
PIERRE = "pierre.dupont@ac-aix-marseille.fr"
PIERRE_LOGIN = "pdupont"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(PROFILES, str(DEMO))


@pytest.fixture(scope="session")
def service(settings: Settings) -> Iterator[Service]:
    loaded = Service.load(settings)
    yield loaded
    loaded.close()


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service), base_url="http://autoconfig.ac-aix-marseille.fr") as c:
        yield c
