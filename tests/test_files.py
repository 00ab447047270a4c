from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from autoconfig.files import NOT_REGULAR, open_regular, read_regular


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


OTHERS: dict[str, Callable[[Path], Path]] = {
    "fifo": fifo,
    "folder": lambda p: p.parent,
    "device": lambda _: Path("/dev/zero"),
    "null": lambda _: Path("/dev/null"),
}


@pytest.mark.parametrize("make", OTHERS.values(), ids=OTHERS.keys())
def test_what_is_not_a_regular_file_is_refused_without_waiting(
    tmp_path: Path, make: Callable[[Path], Path]
) -> None:
    path = make(tmp_path / "thing")
    with pytest.raises(OSError, match="not a regular file") as caught:
        read_regular(path)  # a FIFO without a writer would block here forever
    assert caught.value.strerror == NOT_REGULAR


def test_a_regular_file_reads_in_both_modes(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("é\n".encode())
    assert read_regular(path) == "é\n".encode()
    with open_regular(path, "r", encoding="utf-8") as handle:
        assert handle.read() == "é\n"


def test_a_missing_file_is_the_usual_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "missing")
