"""The last line of ``envlock sync`` (standard library only: the no-op answer prints it before click)."""

from __future__ import annotations

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
