"""The transaction a sync changes a venv in: every change announced in the journal before it happens,
uninstalled files stashed until commit, and commit (drop the stash) or rollback (delete what was written,
restore the stash).

Crash-safety layout (everything lives in ``<venv>/.envlock/``, which sync owns):

- ``stash/<id>/``   files of uninstalled distributions, moved (renamed) there until commit. A dist's
  files go first and its dist-info last, so a killed uninstall leaves a dist-info whose RECORD lists
  missing files, which ``site_packages.scan(verify=True)`` reports.
- ``tmp/<id>/``     each wheel's dist-info is written here and renamed into site-packages only after all
  of the wheel's files landed: a dist-info in site-packages means a complete install (``materialize``).
- ``journal``       append-only, one line per step, written (flushed) *before* the step: ``remove
  <dist-info>`` before a distribution is uninstalled, ``stash <path>`` before a file is moved into the
  stash, ``dist <dist-info>`` before a wheel is installed and ``file <path>`` before each of its files is
  written. ``recovery.recover_journal`` reads it after a kill.
- ``lock``          the venv lock (``venv_lock``), so two syncs never interleave.

A ``Checkpoint`` callable is called at named points of the transaction; the crash-campaign tests pass
one that SIGKILLs the process there (docs/safety.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from envlock import validate
from envlock.env.site_packages import record_entries
from envlock.errors import TargetEnvironmentError
from envlock.runtime import JOURNAL_NAME, STASH_NAME, TMP_NAME
from envlock.sync.layout import InstallLayout

Checkpoint = Callable[[str], None]
"""Called with a point's name (``file-written``, ``dist-info-in`` ...) as a sync passes it; a no-op
except in crash tests."""


def no_checkpoint(_point: str) -> None:
    """The default Checkpoint: does nothing."""


@dataclass
class _Stashed:
    original: Path
    stashed: Path


@dataclass
class Transaction:
    """Every change made to the venv, so it can be committed or rolled back. Thread-safe."""

    layout: InstallLayout
    txid: str = field(default_factory=lambda: os.urandom(6).hex())
    _stashed: list[_Stashed] = field(default_factory=list)
    _written: list[str] = field(default_factory=list)
    _written_set: set[str] = field(default_factory=set)
    _folders: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _journal: BinaryIO | None = None
    _counter: int = 0
    checkpoint: Checkpoint = no_checkpoint

    @property
    def stash_dir(self) -> Path:
        return self.layout.state_dir / STASH_NAME / self.txid

    @property
    def tmp_dir(self) -> Path:
        return self.layout.state_dir / TMP_NAME / self.txid

    # -- uninstall --------------------------------------------------------------------------------

    def stash_path(self, path: Path) -> None:
        """Move one file (or folder) out of the way until commit (journaled first)."""
        self.journal_lines([f"stash {path}"])
        self._move_to_stash(path)

    def _move_to_stash(self, path: Path) -> None:
        with self._lock:
            self._counter += 1
            target = self.stash_dir / f"{self._counter:06d}"
            if self._counter == 1:  # once, not per file: a big distribution stashes thousands
                target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(path, target)  # noqa: PTH104
            self._stashed.append(_Stashed(path, target))

    def uninstall(self, dist_info: Path) -> None:
        """Stash every file RECORD lists (and their bytecode), then the dist-info folder itself. The
        removal and every file to stash are journaled in one write before the first file moves."""
        files = _files_to_stash(dist_info, self.layout.root)
        self.journal_lines([f"remove {dist_info}", *(f"stash {path}" for path in files)])
        for path in files:
            self._move_to_stash(path)
            self.checkpoint("file-stashed")
        if dist_info.exists():
            self.stash_path(dist_info)
        self.checkpoint("uninstalled")

    # -- install ----------------------------------------------------------------------------------

    def note_written(self, path: str | Path) -> None:
        """``path`` now exists because this transaction made it (rollback deletes it)."""
        with self._lock:
            self._written.append(str(path))
            self._written_set.add(str(path))

    def note_written_many(self, paths: Sequence[str]) -> None:
        """Every path of ``paths`` now exists because this transaction made it (one lock for a wheel)."""
        with self._lock:
            self._written.extend(paths)
            self._written_set.update(paths)

    def note_folders(self, folders: Sequence[str]) -> None:
        """These folders were made by this transaction (rollback removes them when left empty)."""
        with self._lock:
            self._folders.extend(folders)

    def journal_lines(self, lines: Sequence[str]) -> None:
        """Append lines in one write and flush them to the OS before the steps they announce (a
        SIGKILL loses nothing flushed; a power cut may: see docs/safety.md). The lines of one call stay
        together, so a wheel's ``file`` lines always follow its own ``dist`` line."""
        text = "".join(line + "\n" for line in lines)
        if text.count("\n") != len(lines) or "\r" in text:  # e.g. a RECORD row of another tool
            raise TargetEnvironmentError("a path with a line break in its name cannot be journaled safely")
        data = text.encode("utf-8")
        with self._lock:
            if self._journal is None:
                self.layout.state_dir.mkdir(parents=True, exist_ok=True)
                self._journal = (self.layout.state_dir / JOURNAL_NAME).open("ab")
            self._journal.write(data)
            self._journal.flush()

    def clear_target(self, path: Path) -> None:
        """A file is in the way of one this sync writes (already journaled): delete it when this sync
        wrote it (two wheels with one file), else stash it."""
        if path.is_file() or path.is_symlink():
            with self._lock:
                ours = str(path) in self._written_set
            if ours:
                path.unlink()
            else:
                self.stash_path(path)

    def written_python_files(self) -> list[Path]:
        with self._lock:
            return sorted(Path(p) for p in self._written if p.endswith(".py"))

    # -- end --------------------------------------------------------------------------------------

    def commit(self) -> None:
        """Drop the stash and the journal; prune folders left empty by uninstalls."""
        self._close_journal()
        parents = {item.original.parent for item in self._stashed}
        shutil.rmtree(self.stash_dir, ignore_errors=True)
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
            prune_empty_dirs(parent, self.layout.root)
        (self.layout.state_dir / JOURNAL_NAME).unlink(missing_ok=True)
        self._cleanup_state_folders()

    def rollback(self) -> None:
        """Delete what this transaction wrote, put the stash back: the venv is as it was."""
        self._close_journal()
        for written in reversed(self._written):
            path = Path(written)
            with contextlib.suppress(FileNotFoundError):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            prune_empty_dirs(path.parent, self.layout.root)
        for folder in sorted(self._folders, key=len, reverse=True):  # children before their parents
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # noqa: PTH106 - only when empty
        for item in reversed(self._stashed):
            item.original.parent.mkdir(parents=True, exist_ok=True)
            item.stashed.rename(item.original)
        shutil.rmtree(self.stash_dir, ignore_errors=True)
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        (self.layout.state_dir / JOURNAL_NAME).unlink(missing_ok=True)
        self._cleanup_state_folders()

    def _close_journal(self) -> None:
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None

    def _cleanup_state_folders(self) -> None:
        for name in (STASH_NAME, TMP_NAME):
            with contextlib.suppress(OSError):
                (self.layout.state_dir / name).rmdir()


def _files_to_stash(dist_info: Path, root: Path) -> list[Path]:
    """The files RECORD lists for ``dist_info`` (and their bytecode) that exist inside ``root``,
    reached without a symbolic link leading out of it; the dist-info's own files are left to it.
    Plain strings and one check and one listing per folder: a big distribution has thousands of files."""
    own = os.path.abspath(dist_info) + os.sep  # noqa: PTH100
    top = os.path.abspath(root)  # noqa: PTH100
    safe: dict[str, bool] = {}
    bytecode: dict[str, list[str]] = {}
    listed: set[str] = set()
    files: list[Path] = []
    for entry in record_entries(dist_info):
        path = os.path.abspath(entry.path)  # noqa: PTH100
        parent = os.path.dirname(path)  # noqa: PTH120
        if path in listed or path.startswith(own) or not (parent + os.sep).startswith(top + os.sep):
            continue
        if parent not in safe:  # a symlinked folder on the way must not lead the stash outside the venv
            safe[parent] = _no_escape(parent, top)
        if not safe[parent]:
            continue
        candidates = [path]
        if path.endswith(".py"):
            stem = os.path.basename(path)[:-3] + "."  # noqa: PTH119
            candidates += [c for c in _bytecode_in(parent, bytecode) if os.path.basename(c).startswith(stem)]  # noqa: PTH119
        for candidate in candidates:
            if candidate not in listed and _is_file_or_link(candidate):
                listed.add(candidate)
                files.append(Path(candidate))
    return files


def _no_escape(folder: str, root: str) -> bool:
    try:
        validate.no_symlink_escape(folder, root, "RECORD entry")
    except validate.UnsafeInput:
        return False
    return True


def _bytecode_in(folder: str, listings: dict[str, list[str]]) -> list[str]:
    """The ``.pyc`` files of ``folder/__pycache__``, sorted (listed once per folder)."""
    if folder not in listings:
        cache = os.path.join(folder, "__pycache__")  # noqa: PTH118
        try:
            names = sorted(n for n in os.listdir(cache) if n.endswith(".pyc"))  # noqa: PTH208
        except OSError:
            names = []
        listings[folder] = [os.path.join(cache, n) for n in names]  # noqa: PTH118
    return listings[folder]


def _is_file_or_link(path: str) -> bool:
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) or stat.S_ISLNK(mode)


def inside(path: Path, root: Path) -> bool:
    """``path`` is ``root`` or below it (lexically: no symbolic link is resolved)."""
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(root))  # noqa: PTH100
    except ValueError:
        return False
    return True


def prune_empty_dirs(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents while empty, never ``root`` or above, nor the scheme roots."""
    root_abs = Path(os.path.abspath(root))  # noqa: PTH100
    current = Path(os.path.abspath(folder))  # noqa: PTH100
    keep = {"site-packages", "bin", "Scripts", "Lib", "lib", "include"}
    while current != root_abs and root_abs in current.parents and current.name not in keep:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent
