"""Golden files: expected bytes of each answer, kept under ``tests/golden/<profile>/``.

``pytest --update-golden`` rewrites them from the current output (review the diff before
committing); otherwise a difference fails the test with a unified diff. Tests take the
``golden`` fixture (``tests/conftest.py``) and call it with a file name and the bytes.
"""

from __future__ import annotations

import difflib
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"
OPTION = "--update-golden"


class Golden:
    """Compares answers with their golden files, or rewrites the files when ``update``."""

    def __init__(self, update: bool) -> None:
        self.update = update

    def __call__(self, name: str, actual: bytes) -> None:
        path = GOLDEN / name
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(actual)
        assert path.is_file(), f"no golden file {path}; run pytest {OPTION} to create it"
        expected = path.read_bytes()
        if expected != actual:
            diff = difflib.unified_diff(
                expected.decode(errors="replace").splitlines(),
                actual.decode(errors="replace").splitlines(),
                str(path),
                "actual",
                lineterm="",
            )
            raise AssertionError("output differs from golden file:\n" + "\n".join(diff))
