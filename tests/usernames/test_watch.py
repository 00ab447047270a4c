"""When a watched directory file is read again: once it differs from the loaded one and stayed
the same for one poll; never again after a refusal until it changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autoconfig.usernames.watch import Action, FileState, Watch

LOADED = FileState(1, 10, 100, 1_000)
WRITING = FileState(1, 10, 150, 2_000)  # the same file growing: written in place
WRITTEN = FileState(1, 10, 200, 3_000)
RENAMED = FileState(1, 11, 200, 3_000)  # a new file renamed over the old one
GONE = None

K, S, L, M = Action.KEEP, Action.SETTLING, Action.LOAD, Action.MISSING


@pytest.mark.parametrize(
    ("states", "actions"),
    [
        ([LOADED, LOADED], [K, K]),
        ([RENAMED, RENAMED], [S, L]),
        ([WRITING, WRITTEN, WRITTEN], [S, S, L]),
        ([WRITING, WRITING, WRITTEN, WRITTEN], [S, L, S, L]),  # paused, then written on
        ([RENAMED, LOADED, RENAMED], [S, K, S]),  # put back: the settling starts again
        ([GONE, GONE, RENAMED, RENAMED], [M, K, S, L]),  # gone is said once
        ([GONE, LOADED, GONE], [M, K, M]),  # said again when gone again
        ([RENAMED, RENAMED, RENAMED], [S, L, S]),  # loaded but not swapped in: tried again
    ],
)
def test_a_file_is_loaded_once_it_settles(
    states: list[FileState | None], actions: list[Action]
) -> None:
    watch = Watch()
    assert [watch.poll(LOADED, state) for state in states] == actions


def test_a_refused_file_is_not_tried_again_until_it_changes() -> None:
    watch = Watch()
    assert [watch.poll(LOADED, RENAMED) for _ in range(2)] == [S, L]
    watch.refused(RENAMED)
    assert [watch.poll(LOADED, RENAMED) for _ in range(3)] == [K, K, K]
    assert [watch.poll(LOADED, WRITTEN) for _ in range(2)] == [S, L]


def test_a_file_state_tells_versions_apart(tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text("one\n")
    first = FileState.of(path)
    assert first is not None
    with path.open("rb") as handle:
        assert FileState.of_descriptor(handle.fileno()) == first
    os.utime(path, ns=(first.mtime_ns + 1, first.mtime_ns + 1))
    touched = FileState.of(path)
    assert touched is not None
    assert touched != first
    aside = tmp_path / "staff.csv.new"
    aside.write_text("one\n")
    os.utime(aside, ns=(touched.mtime_ns, touched.mtime_ns))
    aside.replace(path)
    renamed = FileState.of(path)
    assert renamed is not None
    assert (renamed.size, renamed.mtime_ns) == (touched.size, touched.mtime_ns)
    assert renamed != touched  # another inode
    path.unlink()
    assert FileState.of(path) is None
