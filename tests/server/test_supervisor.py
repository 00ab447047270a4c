"""The supervisor relies on uvicorn internals; these tests say so loudly when uvicorn changes.

``pyproject.toml`` allows only the uvicorn release these were written against (0.54.x); the
multi-worker tests (``tests/server/test_serve.py``, ``test_reload.py``) run the supervisor for real.
"""

from __future__ import annotations

import inspect
from importlib import metadata

from uvicorn.supervisors.multiprocess import Multiprocess, Process

from autoconfig.server.supervisor import Supervisor


def test_installed_uvicorn_is_the_release_the_supervisor_was_written_for() -> None:
    major, minor, *_ = metadata.version("uvicorn").split(".")
    assert (int(major), int(minor)) == (0, 54)


def test_uvicorn_process_takes_what_the_supervisor_passes() -> None:
    assert list(inspect.signature(Process.__init__).parameters) == ["self", "config", "sockets"]


def test_what_the_supervisor_overrides_still_exists_in_uvicorn() -> None:
    for name in ("init_processes", "handle_hup", "keep_subprocess_alive"):
        assert callable(getattr(Multiprocess, name)), name
        assert getattr(Supervisor, name) is not getattr(Multiprocess, name), name
    assert "timeout" in inspect.signature(Process.is_alive).parameters
