"""Directory sync: a CSV or SQLite directory file replaced on disk is served without ``SIGHUP``.

Each worker looks at the file every ``--directory-watch-interval`` seconds; when it differs from
the one loaded and has stayed the same since the previous look (:class:`~autoconfig.usernames.
watch.Watch`), the worker loads it aside, in a thread, checking all of it as at start (every row
of a CSV, SQLite's ``quick_check``), then swaps it in (:meth:`.Reloader.replace_directory`): a
request sees the old directory or the new one, never a mix.

A file being written in place can look finished to two looks (a writer pausing longer than the
interval); so that such a file never hands anyone a login cut short, a watched CSV file must end
with a line break (a row cut in the middle of a login does not), and a replacement listing fewer
than half the people of the loaded one (a file cut short, an empty export) is refused too: a
``SIGHUP`` loads it if it is meant. Files replaced in one step (written aside, then renamed, as
``directory import`` does) never meet these rules.

A file that fails is logged once, by its problems (line and column, never a value), and the
loaded directory keeps serving until a valid one replaces it. The profiles and the signing files
are left as they are: they change with ``SIGHUP`` only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from starlette.applications import Starlette

from autoconfig.errors import AutoconfigError, DirectoryError
from autoconfig.files import open_regular
from autoconfig.server.reload import Reloader, reload_on_hangup
from autoconfig.settings import Settings
from autoconfig.usernames import Directory, open_directory
from autoconfig.usernames.table import SqliteDirectory, TableDirectory
from autoconfig.usernames.watch import Action, FileState, FromFile, Source, Watch

log = logging.getLogger("autoconfig.sync")

KEPT_AT_LEAST = 0.5
"""The share of the loaded directory's people a replacement must list to be swapped in."""


def source_of(directory: Directory | None) -> tuple[Path, FileState] | None:
    """The file a directory was read from and its state then; ``None`` when it is not a file."""
    source = directory.source if isinstance(directory, FromFile) else None
    return (source.path, source.state) if source is not None else None


def load(settings: Settings) -> Directory:
    """The directory file of ``settings`` read again and checked in full, or our error."""
    assert settings.directory is not None
    directory = open_directory(settings.directory, settings.lookup)
    try:
        if isinstance(directory, SqliteDirectory):
            directory.verify()
        elif isinstance(directory, TableDirectory) and directory.source is not None:
            _ends_with_a_line_break(directory.source)
    except BaseException:
        directory.close()
        raise
    return directory


def _ends_with_a_line_break(source: Source) -> None:
    """:class:`DirectoryError` unless the CSV file just read (``source``) ends with a line break:
    one whose last row stops short may be caught while being written, its last login cut."""
    path = source.path
    try:
        with open_regular(path) as handle:
            if FileState.of_descriptor(handle.fileno()) != source.state:
                return  # replaced since it was read: the swap sees it and waits for the next look
            if handle.seek(0, os.SEEK_END) == 0:
                return
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) in (b"\n", b"\r"):
                return
    except OSError as exc:
        raise DirectoryError(f"{path}: cannot be opened: {exc.strerror}") from exc
    raise DirectoryError(
        f"{path}: does not end with a line break: caught while being written? (expected a file "
        "replaced in one step, ending with a line break; SIGHUP loads it as it is)"
    )


def size_of(directory: Directory) -> int | None:
    """How many people a directory file lists (``None`` for other directories)."""
    return directory.size if isinstance(directory, (TableDirectory, SqliteDirectory)) else None


def _kept_enough(current: Directory | None, fresh: Directory) -> str | None:
    """Why ``fresh`` lists too few people to replace ``current``, or ``None``."""
    before = size_of(current) if current is not None else None
    after = size_of(fresh)
    if before is None or after is None or before == 0:
        return None
    if after > 0 and after >= before * KEPT_AT_LEAST:
        return None
    return (
        f"it lists {after} people, the loaded one {before} (a file cut short, or an empty "
        "export? SIGHUP loads it if it is meant)"
    )


async def watch_directory(reloader: Reloader, interval: float) -> None:
    """Poll the served directory file every ``interval`` seconds and swap in its replacements,
    until cancelled."""
    watch = Watch()
    while True:
        await asyncio.sleep(interval)
        source = source_of(reloader.app.state.service.directory)
        if source is None:
            continue
        path, loaded = source
        now = FileState.of(path)
        action = watch.poll(loaded, now)
        if action is Action.MISSING:
            log.warning("directory file %s is gone: the loaded directory keeps serving", path)
        elif action is Action.LOAD:
            assert now is not None
            try:
                await swap(reloader, path, now, watch)
            except Exception as exc:  # the watch must outlive any one file
                watch.refused(now)
                log.error(  # the kind of error only: its text might quote the file
                    "directory file changed but could not be loaded (%s), the loaded one keeps "
                    "serving",
                    type(exc).__name__,
                )


async def swap(reloader: Reloader, path: Path, state: FileState, watch: Watch) -> bool:
    """Load the directory file, seen in ``state``, and swap it in; ``False`` (logged, or left
    for the next poll if the file changed again meanwhile) when it is not."""
    try:
        fresh = await anyio.to_thread.run_sync(load, reloader.app.state.service.settings)
    except AutoconfigError as exc:
        watch.refused(state)
        lines = tuple(str(exc).splitlines())
        for line in lines:
            log.error(
                "worker %d: directory file changed but refused, the loaded one keeps serving: %s",
                os.getpid(),
                line,
            )
        reloader.refused(lines)
        return False
    read = source_of(fresh)
    if read is None or read[1] != state or FileState.of(path) != state:
        fresh.close()  # replaced again while it was read: wait for it to settle once more
        return False
    if shrunk := _kept_enough(reloader.app.state.service.directory, fresh):
        fresh.close()
        watch.refused(state)
        log.error(
            "worker %d: directory file changed but refused, the loaded one keeps serving: %s",
            os.getpid(),
            shrunk,
        )
        reloader.refused((shrunk,))
        return False
    await reloader.replace_directory(fresh)
    log.info("worker %d: directory file changed: now serving %s", os.getpid(), fresh.description)
    return True


@asynccontextmanager
async def reload_and_watch(app: Starlette) -> AsyncIterator[None]:
    """Lifespan of a served app: ``SIGHUP`` reloads (:func:`.reload_on_hangup`), and a directory
    file is watched (unless ``--directory-watch-interval`` is 0)."""
    async with reload_on_hangup(app):
        interval = app.state.service.settings.lookup.watch_interval
        task: asyncio.Task[None] | None = None
        if interval > 0 and source_of(app.state.service.directory) is not None:
            task = asyncio.get_running_loop().create_task(
                watch_directory(app.state.reloader, interval), name="autoconfig-directory-watch"
            )
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
