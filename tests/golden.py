"""Golden files: expected bytes of each answer, kept under ``tests/golden/<profile>/``.

``UPDATE_GOLDEN=1`` rewrites them from the current output (review the diff before committing);
otherwise a difference fails the test with a unified diff.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def assert_golden(name: str, actual: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
    assert path.is_file(), f"no golden file {path}; run with UPDATE_GOLDEN=1 to create it"
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
