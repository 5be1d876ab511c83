"""Link modes: how a stored file gets into a venv (copy, reflink clone or hardlink), and the one loop that
writes a buffer to a file descriptor."""

from __future__ import annotations

import errno
import os
import sys
from enum import Enum

from envlock.errors import InputError

if sys.platform.startswith("linux"):  # reflinks (FICLONE) are a Linux ioctl; Windows has no fcntl at all
    import fcntl

CHUNK = 1 << 20
FICLONE = 0x40049409
"""Linux ``ioctl`` request that makes one file share another's extents (btrfs, XFS, bcachefs ...)."""


class LinkMode(str, Enum):
    """How an entry's files get into a venv (``--link-mode`` / ``ENVLOCK_LINK_MODE``; docs/sync.md)."""

    AUTO = "auto"
    """A reflink clone where the filesystem supports it, else a hardlink to the store's read-only file,
    else (another filesystem) a copy. An in-place edit of a hardlinked file is caught by the store's
    stat check, ``check --deep`` and ``sync --verify``, which repair from the verified wheel."""
    COPY = "copy"
    """An independent copy of each file (in-kernel ``copy_file_range``)."""
    CLONE = "clone"
    """A copy-on-write clone (reflink); a copy where the filesystem cannot clone."""
    HARDLINK = "hardlink"
    """The venv's file *is* the cache's file (read-only); fastest, a copy across filesystems."""


def link_mode_from_env(value: str | None = None) -> LinkMode:
    """``value``, else ``ENVLOCK_LINK_MODE``, else ``auto``; an unknown name is an InputError."""
    raw = value if value is not None else os.environ.get("ENVLOCK_LINK_MODE") or LinkMode.AUTO.value
    try:
        return LinkMode(raw.strip().lower())
    except ValueError:
        choices = ", ".join(m.value for m in LinkMode)
        raise InputError(
            f"unknown link mode {raw!r} (ENVLOCK_LINK_MODE / --link-mode)", hint=f"use one of: {choices}"
        ) from None


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write less than it was given)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Materializer:
    """Puts stored files into a venv with one link mode, falling back to copying where the mode is not
    possible (another filesystem, no reflink support); the fallback is remembered. Thread-safe."""

    def __init__(self, mode: LinkMode) -> None:
        self.requested = mode
        self._link = mode is LinkMode.HARDLINK
        self._clone = mode in (LinkMode.CLONE, LinkMode.AUTO) and sys.platform.startswith("linux")
        self._link_after_clone = mode is LinkMode.AUTO
        """``auto``: when the first clone fails (no reflinks here), hardlink from then on."""
        umask = os.umask(0)
        os.umask(umask)
        self.file_mode = 0o666 & ~umask
        self.exec_mode = (0o777 & ~umask) | 0o111
        self._exec_chmod = self.exec_mode & ~umask != self.exec_mode
        """The umask takes execute bits off files created executable: chmod them after creation."""

    @property
    def effective(self) -> LinkMode:
        """What is actually used now (after any fallback)."""
        if self._link:
            return LinkMode.HARDLINK
        return LinkMode.CLONE if self._clone else LinkMode.COPY

    def place(self, source: str, target: str, executable: bool) -> None:
        """Create ``target`` (which must not exist: FileExistsError) with the bytes of ``source``."""
        if self._link_after_clone and not self._clone:
            self._link_after_clone = False
            self._link = True  # auto without reflinks (not Linux, or cloning failed): hardlink
        if self._link:
            try:
                os.link(source, target)
                return
            except FileExistsError:
                raise
            except OSError as error:
                if error.errno not in (errno.EXDEV, errno.EMLINK, errno.EPERM, errno.EACCES, errno.ENOTSUP):
                    raise
                self._link = False  # e.g. the cache is on another filesystem: copy from now on
        mode = self.exec_mode if executable else self.file_mode
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
        try:
            if executable and self._exec_chmod:
                os.chmod(target, mode)  # noqa: PTH101
            with open(source, "rb") as handle:
                self._copy(handle.fileno(), fd)
        except BaseException:
            os.close(fd)
            os.unlink(target)  # noqa: PTH108 - never leave a partial file behind
            raise
        os.close(fd)

    def _copy(self, src: int, dst: int) -> None:
        if self._clone:
            try:
                fcntl.ioctl(dst, FICLONE, src)
                return
            except OSError as error:
                self._clone = False  # no reflinks here: copy (auto: hardlink) from now on
                if error.errno == errno.EXDEV:
                    self._link_after_clone = False  # another filesystem: a hardlink cannot work either
        size = os.fstat(src).st_size
        copy_range = getattr(os, "copy_file_range", None)
        offset = 0
        if copy_range is not None:
            try:
                while offset < size:
                    done = copy_range(src, dst, size - offset)
                    if done == 0:
                        break
                    offset += done
                if offset >= size:
                    return
            except OSError:
                pass
        os.lseek(src, offset, os.SEEK_SET)
        os.lseek(dst, offset, os.SEEK_SET)
        while True:
            chunk = os.read(src, CHUNK)
            if not chunk:
                return
            write_all(dst, chunk)
