"""Open the files an administrator names (profiles, a directory table, signing files) without
ever blocking on one that is not a file.

Opening a named pipe (FIFO) for reading waits for a writer, forever if none comes: ``check`` would
hang, and a ``SIGHUP`` reload would hold the reload lock until the process is restarted. Here the
file is opened without waiting (``O_NONBLOCK``), and whatever is not a regular file (a FIFO, a
device, a socket, a folder) is refused with an :class:`OSError` that says so, before one byte is
read. The check is made on the opened descriptor, so a file swapped in between cannot slip past.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import IO, Literal, overload

NOT_REGULAR = "is not a regular file (a named pipe, a device, a socket or a folder)"


@overload
def open_regular(
    path: Path, mode: Literal["rb"] = "rb", *, encoding: None = None, newline: None = None
) -> IO[bytes]: ...
@overload
def open_regular(
    path: Path, mode: Literal["r"], *, encoding: str, newline: str | None = None
) -> IO[str]: ...
def open_regular(
    path: Path, mode: str = "rb", *, encoding: str | None = None, newline: str | None = None
) -> IO[bytes] | IO[str]:
    """``path`` opened for reading (``mode`` ``"rb"`` or ``"r"``), or :class:`OSError` (its
    ``strerror`` says why: :data:`NOT_REGULAR` for anything but a regular file)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, NOT_REGULAR, str(path))
        return os.fdopen(descriptor, mode, encoding=encoding, newline=newline)
    except BaseException:
        os.close(descriptor)
        raise


def read_regular(path: Path) -> bytes:
    """The bytes of the regular file ``path``, or :class:`OSError` (see :func:`open_regular`)."""
    with open_regular(path) as handle:
        return handle.read()
