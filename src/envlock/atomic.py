# ruff: noqa: PTH108, PTH118
# (os functions on str paths: callers pass str and Path alike; the temporary file sits beside the target)
"""The one atomic file writer: readers see the old file or the new one, never a torn one."""

from __future__ import annotations

import os
from typing import TypeAlias

StrPath: TypeAlias = "str | os.PathLike[str]"


def fsync_dir(directory: StrPath) -> None:
    """Make a rename or unlink in ``directory`` durable (a no-op on Windows)."""
    if os.name == "nt":  # directories cannot be opened for fsync on Windows; NTFS journals renames
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: StrPath, data: bytes, *, durable: bool = True, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it, renamed over it. ``durable`` (the
    default) fsyncs the file and then its folder, so the new file also survives a power cut; a cache
    entry, cheap to fetch again, passes False. ``mode``: permission bits of the new file."""
    directory, name = os.path.split(os.fspath(path))
    tmp = os.path.join(directory, f".{name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)  # noqa: PTH101
        os.replace(tmp, path)
    except BaseException:
        remove_if_present(tmp)
        raise
    if durable:
        fsync_dir(directory or ".")


def remove_if_present(path: StrPath) -> bool:
    """Unlink ``path``; True if it was there."""
    try:
        os.unlink(path)
    except OSError:
        return False
    return True
