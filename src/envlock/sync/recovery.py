"""Recovery after a killed sync: reads the journal a ``Transaction`` left in ``<venv>/.envlock/`` and undoes
what was half done, so the next sync starts from a venv whose every touched distribution it verifies."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from envlock.runtime import JOURNAL_NAME, STASH_NAME, STATE_DIR, SYNC_LEFTOVERS, TMP_NAME
from envlock.sync.transaction import inside, prune_empty_dirs


def needs_recovery(root: Path) -> bool:
    """True when a previous sync left its journal, stash, staging folders or temp files (it was killed)."""
    state = root / STATE_DIR
    if any((state / name).exists() for name in SYNC_LEFTOVERS):
        return True
    return bool(_state_leftovers(state))


def _state_leftovers(state: Path) -> list[Path]:
    """Temp files of atomic writes (``.stamp.json.<pid>.tmp`` ...) a killed sync left in ``state``."""
    try:
        return sorted(p for p in state.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))
    except OSError:
        return []


@dataclass(frozen=True)
class Recovery:
    """What ``recover()`` found and did."""

    notes: tuple[str, ...]
    touched: frozenset[Path]
    """dist-info folders the killed sync was installing or removing (verify them before trusting)."""


def recover(root: Path) -> list[str]:
    """Undo what a killed sync left half-done (see ``recover_journal``); returns notes for the user."""
    return list(recover_journal(root).notes)


def recover_journal(root: Path) -> Recovery:
    """Undo what a killed sync left half-done: files of wheels whose dist-info never arrived are
    deleted, folders emptied by its stashing are pruned, stash, staging folders and temp files are
    dropped. Distributions the killed sync was removing keep a dist-info whose RECORD lists missing
    files, which ``scan(verify=True)`` reports. Idempotent (a recovery killed half-way is redone); call
    with the venv lock held and the in-progress marker written."""
    state = root / STATE_DIR
    notes: list[str] = []
    touched: set[Path] = set()
    journal = state / JOURNAL_NAME
    if journal.exists():
        orphans, touched = _undo_journal(_read_journal(journal), root)
        notes.append(f"repaired an interrupted sync ({orphans} orphan files removed)")
    for name in (STASH_NAME, TMP_NAME):
        folder = state / name
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
            if not notes:
                notes.append("repaired an interrupted sync")
    for leftover in _state_leftovers(state):
        leftover.unlink(missing_ok=True)
    journal.unlink(missing_ok=True)  # last: a recovery killed before this point is done again
    return Recovery(tuple(notes), frozenset(touched))


def _undo_journal(entries: _Journal, root: Path) -> tuple[int, set[Path]]:
    """Delete the files of wheels whose dist-info never arrived and prune the folders they and the
    stashing emptied: (files deleted, dist-info folders the killed sync touched)."""
    orphans = 0
    touched: set[Path] = set()
    parents: set[Path] = set()
    for dist_info, paths in entries.installs.items():
        touched.add(dist_info)
        if dist_info.exists():
            continue
        for path in paths:
            if inside(path, root) and (path.is_file() or path.is_symlink()):
                path.unlink()
                orphans += 1
            parents.add(path.parent)
    touched.update(entries.removals)
    parents.update(path.parent for path in entries.stashed if not path.exists())
    for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        if inside(parent, root):
            prune_empty_dirs(parent, root)
    return orphans, touched


@dataclass
class _Journal:
    installs: dict[Path, list[Path]] = field(default_factory=dict)
    removals: list[Path] = field(default_factory=list)
    stashed: list[Path] = field(default_factory=list)


def _read_journal(journal: Path) -> _Journal:
    read = _Journal()
    current: list[Path] | None = None
    text = journal.read_text(encoding="utf-8", errors="replace")
    if not text.endswith("\n"):
        # The kill cut the last write: its steps had not begun (each write is flushed before them).
        text = text.rpartition("\n")[0]
    for line in text.splitlines():
        kind, _, value = line.partition(" ")
        if not value:
            continue  # a line cut by the kill names nothing reliable
        if kind == "dist":
            current = read.installs.setdefault(Path(value), [])
        elif kind == "file" and current is not None:
            current.append(Path(value))
        elif kind == "remove":
            read.removals.append(Path(value))
        elif kind == "stash":
            read.stashed.append(Path(value))
    return read
