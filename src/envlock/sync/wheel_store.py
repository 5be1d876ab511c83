"""The unpacked-wheel store: each verified wheel is unpacked once into the cache (``unpacked/<sha256>/``)
with its files' RECORD rows (sha256, size) worked out once, ready to be materialized into any venv.

An entry is built in a temporary folder beside its final place and renamed into place in one step, so
processes sharing the cache see a whole entry or none. Its files are made read-only, and their sizes and
mtimes are recorded in the manifest: before each use the entry is checked against them (one ``stat`` per
file), so an entry edited in place (through a hardlink into a venv, or by hand) is thrown away and
unpacked again from the verified wheel rather than installed. Only the wheel's bytes are stored; what is
specific to a venv (script launchers, ``#!python`` shebangs, INSTALLER, RECORD) is made per venv.
Temporary folders carry their process id (``.tmp-<pid>-*``, ``.old-<pid>-*``); what a killed process
left is swept away by the next sync that unpacks (``sweep``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import operator
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from envlock import validate
from envlock.sync.unpacked_model import (
    SCHEMES,
    EntryPointScript,
    UnpackedContents,
    UnpackedFile,
    UnpackError,
    refuse_venv_owned,
)

MANIFEST = "manifest.json"
FORMAT = 1
"""Version of the manifest; an entry of another version is unpacked again."""
FILES = "files"
"""Sub-folder of an entry holding ``<scheme>/<path>`` for every file of the wheel."""
UNPACKING = ".tmp-"
"""Name prefix of an entry being unpacked (``.tmp-<pid>-<random>``), renamed into place when whole."""
DISCARDING = ".old-"
"""Name prefix of an entry moved aside to be deleted (``.old-<pid>-<random>``)."""
STALE_AFTER = 24 * 3600
"""Seconds after which a temporary folder is swept even if a process of its id is alive: the id was
reused, or the cache is shared with another machine."""


@dataclass(frozen=True)
class UnpackedWheel:
    """A wheel unpacked in the store, ready to be materialized into any venv."""

    root: Path
    """The entry folder (``<store>/<sha256>``)."""
    sha256: str
    wheel: str
    """The wheel's file name (pip derives the headers folder name from it)."""
    dist_info_dir: str
    root_scheme: str
    """``purelib`` or ``platlib`` (the wheel's ``Root-Is-Purelib``)."""
    files: tuple[UnpackedFile, ...]
    scripts: tuple[EntryPointScript, ...]

    def source(self, file: UnpackedFile) -> str:
        """The stored copy of ``file``."""
        return self.source_prefixes()[file.scheme] + file.path

    def source_prefixes(self) -> dict[str, str]:
        """Scheme -> the folder its stored files are in, with a trailing separator: a file's stored copy
        is its prefix plus its ``/``-separated path (one concatenation per file)."""
        files = os.path.join(self.root, FILES)  # noqa: PTH118
        return {scheme: os.path.join(files, scheme) + "/" for scheme in SCHEMES}  # noqa: PTH118

    def is_intact(self) -> bool:
        """Every stored file still has the size and mtime it was stored with (one ``stat`` each)."""
        prefixes = self.source_prefixes()
        stat = os.stat
        for file in self.files:
            try:
                found = stat(prefixes[file.scheme] + file.path)
            except OSError:
                return False
            if found.st_size != file.size or found.st_mtime_ns != file.mtime_ns:
                return False
        return True


def ready(store: Path, sha256: str) -> UnpackedWheel | None:
    """The intact entry of the wheel whose sha256 is ``sha256``, if the store has one."""
    try:
        found = load(store / validate.sha256(sha256, "the wheel's sha256"))
    except validate.UnsafeInput:
        return None
    return found if found is not None and found.is_intact() else None


def prepare(
    wheel: Path,
    sha256: str,
    store: Path,
    *,
    fresh: bool = False,
    checkpoint: Callable[[str], None] = lambda _point: None,
) -> UnpackedWheel:
    """The entry for the verified ``wheel`` (its sha256 is ``sha256``), unpacked now when missing or no
    longer intact, or always with ``fresh`` (a repair: a venv's copy was found edited, and an edit through
    a hardlink that kept size and mtime would pass the stat check). Safe when several processes prepare
    the same wheel at once. ``checkpoint``: the crash-test hook, told ``store-unpacked`` when the files
    are out but the entry is not yet in place."""
    try:
        entry = store / validate.sha256(sha256, "the wheel's sha256")
    except validate.UnsafeInput as error:
        raise UnpackError(str(error)) from None
    found = load(entry)
    if found is None and entry.exists():
        # Another process may have renamed its entry into place since our first look: look again
        # before treating the folder as foreign (discarding it would pull it from under that process).
        found = load(entry)
    if found is not None and not fresh and found.is_intact():
        return found
    if found is not None or entry.exists():
        _discard(entry, store)  # of another format, edited in place or suspect: never used again
    store.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{UNPACKING}{os.getpid()}-", dir=store))
    try:
        from envlock.sync.unpacked import unpack  # lazy: installer is loaded only when a wheel is unpacked

        contents = unpack(wheel, tmp / FILES)
        checkpoint("store-unpacked")
        _write_manifest(tmp, sha256, wheel.name, contents)  # last: an entry without it is not one
        try:
            tmp.rename(entry)
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            other = load(entry)  # another process won the race: use its (whole) entry
            if other is None:
                raise
            return other
        tmp = entry
    finally:
        if tmp != entry:
            shutil.rmtree(tmp, ignore_errors=True)
    made = load(entry)
    if made is None:  # pragma: no cover - we just wrote it
        raise UnpackError(f"cannot read back the unpacked {wheel.name}")
    return made


def _write_manifest(entry: Path, sha256: str, wheel: str, contents: UnpackedContents) -> None:
    manifest = {
        "format": FORMAT,
        "sha256": sha256,
        "wheel": wheel,
        "dist_info_dir": contents.dist_info_dir,
        "root_scheme": contents.root_scheme,
        "files": [
            [f.scheme, f.path, f.hash, f.size, f.executable, f.shebang, f.mtime_ns] for f in contents.files
        ],
        "scripts": [[s.name, s.module, s.attr, s.section] for s in contents.scripts],
    }
    (entry / MANIFEST).write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")


def load(entry: Path) -> UnpackedWheel | None:
    """The entry at ``entry``, or None when there is none (or it is of another format)."""
    try:
        data = json.loads((entry / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    try:
        wheel = UnpackedWheel(
            root=entry,
            sha256=data["sha256"],
            wheel=data["wheel"],
            dist_info_dir=data["dist_info_dir"],
            root_scheme=data["root_scheme"],
            files=tuple(map(UnpackedFile._make, data["files"])),
            scripts=tuple(EntryPointScript(*row) for row in data["scripts"]),
        )
        _check_manifest(wheel)
    except (KeyError, TypeError, ValueError):  # UnsafeInput, UnpackError
        return None  # not an entry this code wrote: unpacked again from the verified wheel
    return wheel


def _check_manifest(wheel: UnpackedWheel) -> None:
    """The manifest names only safe paths (the cache is shared with other processes and tools)."""
    validate.sha256(wheel.sha256)
    validate.file_name(wheel.dist_info_dir)
    if wheel.root_scheme not in ("purelib", "platlib"):
        raise validate.UnsafeInput(f"root scheme {wheel.root_scheme!r}")
    keys = [(file.scheme, file.path) for file in wheel.files]
    if any(map(operator.ge, keys, keys[1:])):  # sorted as unpack writes them, each once (one pass)
        raise validate.UnsafeInput("a file is listed twice or out of order")
    unknown = {file.scheme for file in wheel.files} - SCHEMES
    if unknown:
        raise validate.UnsafeInput(f"scheme {sorted(unknown)[0]!r}")
    validate.relative_paths([file.path for file in wheel.files])
    for file in wheel.files:
        if file.scheme in ("data", "scripts"):  # the only schemes that can reach the venv's own files
            refuse_venv_owned(file.scheme, file.path)
    for script in wheel.scripts:
        validate.file_name(script.name)
        validate.entry_point(script.module, script.attr)
        refuse_venv_owned("scripts", script.name)


def _discard(entry: Path, store: Path) -> None:
    """Move ``entry`` out of the way (one rename, so readers never see half of it), then delete it."""
    aside = Path(tempfile.mkdtemp(prefix=f"{DISCARDING}{os.getpid()}-", dir=store))
    with contextlib.suppress(OSError):  # another process discarded it first
        entry.rename(aside / "entry")
    if os.name == "nt":
        _make_writable(aside)
    shutil.rmtree(aside, ignore_errors=True)


def sweep(store: Path, *, now: float | None = None) -> list[str]:
    """Delete the temporary folders killed processes left in ``store``: those whose process is gone, and
    any older than ``STALE_AFTER`` (by mtime). A live process's folder is left alone, so concurrent syncs
    sharing the cache may both sweep. Returns the names deleted."""
    try:
        names = sorted(path.name for path in store.iterdir())
    except OSError:
        return []
    now = time.time() if now is None else now
    swept = []
    for name in names:
        if not name.startswith((UNPACKING, DISCARDING)):
            continue
        folder = store / name
        try:
            age = now - folder.lstat().st_mtime
        except OSError:
            continue  # swept or renamed into place by another process meanwhile
        pid = name[len(UNPACKING) :].partition("-")[0]
        if age > STALE_AFTER or (pid.isdigit() and not _process_alive(int(pid))):
            if os.name == "nt":
                _make_writable(folder)
            shutil.rmtree(folder, ignore_errors=True)
            swept.append(name)
    return swept


def _process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (assumed where it cannot be told: Windows)."""
    if os.name == "nt" or pid == os.getpid():
        return True  # on Windows os.kill(pid, 0) would end the process; the age rule applies there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process
    return True


def _make_writable(folder: Path) -> None:
    """Windows deletes no read-only file. Only there: elsewhere a file's mode is its inode's, shared with
    every venv that hardlinks it, and unlinking needs no write permission on the file."""
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(dirpath, name), 0o644)  # noqa: PTH101, PTH118
