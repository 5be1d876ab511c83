"""Writing a command's output file (a lock, an export, an edited input): an unwritable folder is an error
naming the file, not a traceback."""

from __future__ import annotations

from collections.abc import Callable

from envlock.errors import EnvlockError


def write_output(shown: str, write: Callable[[], None]) -> None:
    """Run ``write``; an OSError becomes an EnvlockError naming ``shown`` (exit 1)."""
    try:
        write()
    except OSError as error:
        raise EnvlockError(
            f"cannot write {shown}: {error.strerror or error}",
            hint="check that its folder is writable",
        ) from None
