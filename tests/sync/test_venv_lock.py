"""venv_lock: a second holder of one venv's lock waits, then gives up with LockBusyError."""

from __future__ import annotations

import threading
from pathlib import Path

from envlock.errors import LockBusyError
from envlock.sync.venv_lock import venv_lock


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
        errors: list[BaseException] = []

        def try_lock() -> None:
            try:
                with venv_lock(tmp_path, timeout=0.1):
                    pass
            except BaseException as error:
                errors.append(error)

        other = threading.Thread(target=try_lock)
        other.start()
        other.join()
        assert errors and isinstance(errors[0], LockBusyError)
    finally:
        release.set()
        thread.join()
