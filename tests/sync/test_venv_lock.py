"""venv_lock: a second holder of one venv's lock waits, then gives up with LockBusyError."""

from __future__ import annotations

import threading
from pathlib import Path

from envlock.errors import LockBusyError
from envlock.sync.venv_lock import venv_lock


def _busy(root: Path) -> bool:
    """Whether another holder has ``root``'s venv lock (tried from a thread of its own for 0.1 s)."""
    errors: list[BaseException] = []

    def try_lock() -> None:
        try:
            with venv_lock(root, timeout=0.1):
                pass
        except BaseException as error:
            errors.append(error)

    other = threading.Thread(target=try_lock)
    other.start()
    other.join()
    return bool(errors) and isinstance(errors[0], LockBusyError)


def test_venv_lock_excludes_a_second_holder(tmp_path: Path) -> None:
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with venv_lock(tmp_path):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        assert _busy(tmp_path)
    finally:
        release.set()
        thread.join()


def test_a_lock_file_replaced_while_waiting_is_locked_again(tmp_path: Path) -> None:
    """The lock is on the file the path names: when the holder deletes its file (a rebuild discards the
    old venv with its lock file), the waiter ends up holding the file the path names now, so the next
    sync waits for it rather than locking a file of its own."""
    lock_file = tmp_path / ".envlock" / "lock"
    first_holds, release_first, second_holds, release_second = (threading.Event() for _ in range(4))

    def first() -> None:
        with venv_lock(tmp_path):
            first_holds.set()
            release_first.wait(10)
            lock_file.unlink()  # the holder deletes the file it locked, then lets go

    def second() -> None:
        with venv_lock(tmp_path, timeout=10):
            second_holds.set()
            release_second.wait(10)

    holder = threading.Thread(target=first)
    holder.start()
    assert first_holds.wait(10)
    waiter = threading.Thread(target=second)
    waiter.start()
    try:
        assert not second_holds.wait(0.3)  # it waits
        release_first.set()
        holder.join()
        assert second_holds.wait(10)
        assert lock_file.is_file() and _busy(tmp_path)  # a new file, and the waiter holds it
    finally:
        release_first.set()
        release_second.set()
        holder.join()
        waiter.join()
    assert not _busy(tmp_path)
