"""The venv lock (``<venv>/.envlock/lock``): an OS file lock, so two syncs of one venv never interleave.

POSIX: ``flock`` on the file, through the standard library (filelock does the same, but its import is
a visible part of a patch sync). Windows: filelock, imported there only.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from envlock.errors import InputError, LockBusyError, TargetEnvironmentError
from envlock.runtime import LOCK_NAME, STATE_DIR

if sys.platform != "win32":
    import fcntl

LOCK_TIMEOUT_ENV = "ENVLOCK_LOCK_TIMEOUT"
"""Seconds a sync waits for another sync's venv lock before it gives up (docs/cli.md)."""
DEFAULT_LOCK_TIMEOUT = 600.0
LOCK_WAIT_NOTICE = 1.0
"""Seconds of silent waiting before the user is told what the sync waits for."""
POLL_INTERVAL = 0.05
"""Seconds between two tries of a lock another sync holds (filelock's default)."""

Release = Callable[[], None]


def lock_timeout(environ: Mapping[str, str]) -> float:
    """``ENVLOCK_LOCK_TIMEOUT`` in seconds (``inf``: wait forever), else 600; other text: InputError."""
    text = environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if math.isnan(seconds) or seconds < 0:
        raise InputError(f"{LOCK_TIMEOUT_ENV}={text!r}: expected a number of seconds, 0 or more (or inf)")
    return seconds


@contextlib.contextmanager
def venv_lock(
    root: Path, *, timeout: float | None = None, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold ``<root>/.envlock/lock`` (creating the folder); another sync of the same venv waits.

    ``timeout``: seconds to wait (None: ``lock_timeout(os.environ)``), then LockBusyError naming the
    lock. ``on_wait`` is told, once, when the lock is still taken after a second: a sync that sits
    silently behind another one looks hung. The lock is an OS file lock, released when its holder
    dies, so a wait ends when the other sync ends, however it ends.
    """
    if timeout is None:
        timeout = lock_timeout(os.environ)
    state = root / STATE_DIR
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise TargetEnvironmentError(f"cannot write to {root}: {error.strerror or error}") from None
    path = state / LOCK_NAME
    acquire = _windows_lock if sys.platform == "win32" else _posix_lock
    release = acquire(path, min(timeout, LOCK_WAIT_NOTICE))
    if release is None and timeout > LOCK_WAIT_NOTICE:
        if on_wait is not None:
            on_wait(f"waiting for another envlock sync of {root} (lock {path})...")
        release = acquire(path, timeout - LOCK_WAIT_NOTICE)
    if release is None:
        raise LockBusyError(
            f"gave up after {timeout:g} s waiting for another envlock sync of {root} (lock {path})",
            hint=f"let the other sync finish, then run it again; {LOCK_TIMEOUT_ENV}=SECONDS waits longer",
        )
    try:
        yield
    finally:
        release()


def _posix_lock(path: Path, timeout: float) -> Release | None:
    """Hold an exclusive ``flock`` on the file at ``path`` (made if missing): what releases it, or None
    after ``timeout`` seconds of another holder. A file replaced or deleted while this one waited for it
    is opened again: the lock is on the file the path names."""
    deadline = time.monotonic() + timeout
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if _try_flock(fd, path) and _names(path, fd):
                return functools.partial(os.close, fd)  # closing the descriptor releases the lock
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(POLL_INTERVAL, left))


def _try_flock(fd: int, path: Path) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as error:  # ENOLCK, EOPNOTSUPP: a filesystem without locks
        if error.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise TargetEnvironmentError(f"cannot lock {path}: {error.strerror or error}") from None
    return True


def _names(path: Path, fd: int) -> bool:
    """``path`` still names the file ``fd`` has open."""
    try:
        named = path.stat()
    except OSError:
        return False
    held = os.fstat(fd)
    return (named.st_ino, named.st_dev) == (held.st_ino, held.st_dev)


def _windows_lock(path: Path, timeout: float) -> Release | None:  # pragma: no cover - POSIX test machines
    # lazy: Windows only; POSIX locks through fcntl without filelock's import cost
    from filelock import FileLock, Timeout

    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        return None
    return functools.partial(lock.release)
