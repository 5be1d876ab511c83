"""The last lines of ``envlock sync`` (standard library only: the no-op answer prints it before click)."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from envlock.sync.syncer import SyncOptions

ZERO_COUNTS = {"installed": 0, "replaced": 0, "removed": 0, "kept": 0}
"""The counts of a sync that changed nothing."""


def summary(counts: dict[str, int], elapsed: float, *, dry_run: bool, up_to_date: bool) -> str:
    """The last line of ``envlock sync``."""
    prefix = "would: " if dry_run else ""
    line = (
        f"{prefix}+{counts['installed']} installed, ~{counts['replaced']} replaced, "
        f"-{counts['removed']} removed in {elapsed:.2f}s"
    )
    return line + " (already in sync)" if up_to_date else line


def stale_note(lock: os.PathLike[str], venv: os.PathLike[str], stale: str) -> str:
    """What sync says of a lock older than its inputs, with the fix naming the lock and the venv when they
    are not the defaults (``envlock compile -o LOCK && envlock sync LOCK``)."""
    from envlock.runtime import drift  # lazy: only such a note

    named, where = os.fspath(lock), os.fspath(venv)
    fix = f"{drift.compile_fix(named)} && {drift.sync_fix(where, named)}"
    name = os.path.basename(named)  # noqa: PTH119 - no pathlib on the no-op path that loads this module
    return f"{name} is older than its inputs ({stale}): run: {fix}"


def extras_note(options: SyncOptions, offered: Iterable[str], *, changed: bool) -> list[str]:
    """What a sync that ``changed`` the venv says of extras the lock offers that it did not install
    (``compile --extra cli`` puts ``cli`` in the lock; only ``sync --extra cli`` installs it, as uv's sync):
    a line, or none. A venv already in sync is answered without it, as the no-op answer (which reads no
    extras) answers it."""
    # lazy: the no-op answer loads this module for ``summary`` only
    from envlock.runtime import canonical_name, drift

    asked = {canonical_name(extra) for extra in options.extras}
    missing = sorted({canonical_name(extra) for extra in offered} - asked)
    if not missing or not changed:
        return []
    named, where = os.fspath(options.lock_path), os.fspath(options.venv)
    fix = drift.sync_fix(where, named) + "".join(f" --extra {extra}" for extra in [*sorted(asked), *missing])
    name = os.path.basename(named)  # noqa: PTH119 - no pathlib on the no-op path that loads this module
    listed = ", ".join(missing)
    return [f"{name} offers extras this sync did not install: {listed} (to install them: {fix})"]
