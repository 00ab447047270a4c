"""Shared fixtures: the project's own profiles, the demo directory, an app built from them, the
``autoconfig`` command run in-process, golden files and the real components (slapd, Caddy)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePath

import pytest
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from autoconfig import cli, profiles
from autoconfig.model import Provider
from autoconfig.service import Service
from autoconfig.settings import LookupSettings, Settings, demo_directory
from autoconfig.web import create_app
from tests.caddy import front  # noqa: F401  (session fixture: Caddy in front of two instances)
from tests.golden import OPTION, Golden
from tests.servers import PROFILES as PROFILES  # re-exported: tests import it from here
from tests.slapd import Slapd

TESTS = Path(__file__).resolve().parent
DEMO = demo_directory()
ACADEMIE = "ac-aix-marseille.fr"
PIERRE = "pierre.dupont@ac-aix-marseille.fr"
PIERRE_LOGIN = "pdupont"
DEMO_STAFF = {
    "pierre.dupont": "pdupont",
    "marie.martin": "mmartin3",
    "gaelle.lheritier": "glheritier",
    "jean-luc.nguyen": "jnguyen1",
    "sophie.bernard": "sbernard12",
}
"""The people of the demo directory (local part -> login)."""


def logins_learnt(username_of: Callable[[str, int], str], rounds: int = 4) -> set[str]:
    """What an enumerator learns: asks for each person of the demo directory ``rounds`` times
    (``username_of(address, turn)`` gives the ``<username>`` of the autoconfig answer for the
    ``turn``-th request); the people whose own login came back. Every other answer must carry the
    generic placeholder, never someone else's login."""
    got: set[str] = set()
    turn = 0
    for _ in range(rounds):
        for local, login in DEMO_STAFF.items():
            username = username_of(f"{local}@{ACADEMIE}", turn)
            turn += 1
            if username == login:
                got.add(local)
            else:
                assert username == "%EMAILLOCALPART%", (local, username)
    return got


FALLBACK = TESTS / "data" / "fallback"
"""A fictional académie whose login rule is ``unknown = "fallback"`` (``ac-lyon.example``), and
its directory listing one person."""
FALLBACK_PROFILES = FALLBACK / "profiles"
FALLBACK_DIRECTORY = FALLBACK / "staff.csv"
LYON = "ac-lyon.example"
LOGGERS = ("autoconfig", "uvicorn", "uvicorn.error", "uvicorn.access")
PROVIDERS = profiles.load(PROFILES)
"""The project's profiles, loaded at collection so that tests can be parametrised by them."""


def profile_id(provider: Provider) -> str:
    """A provider's test id: the stem of its profile file (``ac-aix-marseille``)."""
    return PurePath(provider.source).stem


each_profile = pytest.mark.parametrize("provider", PROVIDERS, ids=profile_id)
"""Run a test once per profile of the project, named by the profile."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        OPTION,
        action="store_true",
        default=False,
        help="Rewrite tests/golden/ from the current output (review the diff before committing).",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(bool(request.config.getoption(OPTION)))


Invoke = Callable[..., Result]


@pytest.fixture
def runner() -> Invoke:
    """``runner(*args, env=…)`` runs ``autoconfig ARGS`` in-process, as the shell would (exit
    status, stdout and stderr apart), without the developer's own ``AUTOCONFIG_*`` variables,
    serving the test profiles (``PROFILES``) unless told otherwise."""
    inherited: dict[str, str | None] = {k: None for k in os.environ if k.startswith("AUTOCONFIG_")}
    inherited["AUTOCONFIG_PROFILES"] = str(PROFILES)

    def invoke(*args: str, env: Mapping[str, str] | None = None) -> Result:
        return CliRunner().invoke(
            cli.cli, list(args), env={**inherited, **(env or {})}, prog_name="autoconfig"
        )

    return invoke


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
