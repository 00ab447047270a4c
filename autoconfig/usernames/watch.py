"""Noticing that a directory file (CSV or SQLite) was replaced, and when the new one may be read.

A table directory remembers the :class:`Source` it was read from: its path and the
:class:`FileState` (device, inode, size, modification time) the file had when it was opened. A
served directory file is polled (``--directory-watch-interval``); :class:`Watch` decides from
two states, the loaded one and the one on disk now, what to do. A file is read again only once it
has differed from the loaded one on two polls in a row with the same state, so that a file still
being written (its size or time still moving) is left alone until it settles. A file whose new
contents were refused is not read again until it changes once more, so a broken file is reported
once, not at every poll. Pure: the caller stats, sleeps, loads and logs (``autoconfig.server.sync``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class FileState:
    """What tells one version of a file from another without reading it."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def from_stat(cls, stat: os.stat_result) -> FileState:
        return cls(stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)

    @classmethod
    def of(cls, path: Path) -> FileState | None:
        """The state of the file at ``path`` now (symbolic links followed); ``None`` when there
        is no such file or it cannot be looked at."""
        try:
            return cls.from_stat(os.stat(path))
        except OSError:
            return None

    @classmethod
    def of_descriptor(cls, descriptor: int) -> FileState:
        """The state of an open file: the one actually being read, whatever its path names now."""
        return cls.from_stat(os.fstat(descriptor))


@dataclass(frozen=True, slots=True)
class Source:
    """The file a directory was read from, as it was when it was opened."""

    path: Path
    state: FileState


@runtime_checkable
class FromFile(Protocol):
    """A directory read from a file, which can therefore be watched for a replacement."""

    @property
    def source(self) -> Source | None:
        """The file it was read from, and its state then (``None``: not read from a file)."""
        ...


class Action(StrEnum):
    """What to do after one poll."""

    KEEP = "keep"
    """The file is the loaded one (or its replacement was refused): nothing to do."""
    SETTLING = "settling"
    """The file changed since the previous poll: wait for it to stay the same."""
    LOAD = "load"
    """The file differs from the loaded one and stayed the same since the previous poll."""
    MISSING = "missing"
    """The file has just disappeared (said once): the loaded directory keeps serving."""


class Watch:
    """The decisions about one watched file, poll after poll."""

    def __init__(self) -> None:
        self._candidate: FileState | None = None
        self._refused: FileState | None = None
        self._missing = False

    def poll(self, loaded: FileState, now: FileState | None) -> Action:
        """What to do, the loaded file being in state ``loaded`` and the one on disk in ``now``
        (``None``: there is no file)."""
        if now is None:
            self._candidate = None
            if self._missing:
                return Action.KEEP
            self._missing = True
            return Action.MISSING
        self._missing = False
        if now in (loaded, self._refused):
            self._candidate = None
            return Action.KEEP
        if now != self._candidate:
            self._candidate = now
            return Action.SETTLING
        self._candidate = None
        return Action.LOAD

    def refused(self, state: FileState) -> None:
        """The file in ``state`` could not be loaded: do not try it again until it changes."""
        self._refused = state
