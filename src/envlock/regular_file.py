"""Reading a file that came from outside (a lock, a requirements file, a cached artifact): only a regular
file, opened without ever blocking on a FIFO or device, and at most a given size; and ``UnsafeInput``, the
error of every check of the validation boundary (``validate``, which re-exports all three). Standard library
only and no ``re``: the no-op sync reads its lock with it before anything else loads."""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO


MAX_LOCK_BYTES = 64 << 20
"""A lock (or hashed requirements file) to sync from is at most this big: a lock of every wheel of a
large project for many platforms is a few MiB."""


class UnsafeInput(ValueError):
    """Outside input that must not be used: a path that escapes, a malformed hash or name."""


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened for reading when it is a regular file, else UnsafeInput (a directory, FIFO or
    device). Opened non-blocking and judged by ``fstat`` of the opened file, so a FIFO or device never
    blocks and is never read. OSError (not found, no permission) passes through."""
    flags = (
        os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    )
    try:
        descriptor = os.open(path, flags)
    except IsADirectoryError:
        raise UnsafeInput("is a directory, not a file") from None
    handle = os.fdopen(descriptor, "rb")
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise UnsafeInput("is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device or special file"
            raise UnsafeInput(f"is {kind}, not a regular file")
    except BaseException:
        handle.close()
        raise
    return handle


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of ``path`` when it is a regular file (``open_regular``) of at most ``limit`` bytes, else
    UnsafeInput (too big, or grew past ``limit`` while read); at most ``limit + 1`` bytes are read."""
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise UnsafeInput(f"is {size} bytes, more than the {limit} bytes allowed")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UnsafeInput(f"grew past the {limit} bytes allowed while being read")
    return data
