"""The venv lock (``<venv>/.envlock/lock``): an OS file lock, so two syncs of one venv never interleave."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from filelock import FileLock, Timeout

from envlock.errors import InputError, LockBusyError, TargetEnvironmentError
from envlock.guard.stamp import LOCK_NAME, STATE_DIR

LOCK_TIMEOUT_ENV = "ENVLOCK_LOCK_TIMEOUT"
"""Seconds a sync waits for another sync's venv lock before it gives up (docs/cli.md)."""
DEFAULT_LOCK_TIMEOUT = 600.0
LOCK_WAIT_NOTICE = 1.0
"""Seconds of silent waiting before the user is told what the sync waits for."""


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
    lock = FileLock(str(path))
    try:
        try:
            lock.acquire(timeout=min(timeout, LOCK_WAIT_NOTICE))
        except Timeout:
            if timeout <= LOCK_WAIT_NOTICE:
                raise
            if on_wait is not None:
                on_wait(f"waiting for another envlock sync of {root} (lock {path})...")
            lock.acquire(timeout=timeout - LOCK_WAIT_NOTICE)
    except Timeout:
        raise LockBusyError(
            f"gave up after {timeout:g} s waiting for another envlock sync of {root} (lock {path})",
            hint=f"let the other sync finish, then run it again; {LOCK_TIMEOUT_ENV}=SECONDS waits longer",
        ) from None
    try:
        yield
    finally:
        lock.release()
