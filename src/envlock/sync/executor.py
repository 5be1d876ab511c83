"""Applies a SyncPlan to a venv as one transaction: uninstall by RECORD into a stash, install wheels with
``installer``, commit (drop the stash) or roll back (delete what was written, restore the stash).

Crash-safety layout (everything lives in ``<venv>/.envlock/``, which sync owns):

- ``stash/<id>/``   files of uninstalled distributions, moved (renamed) there until commit. A dist's
  files go first and its dist-info last, so a killed uninstall leaves a dist-info whose RECORD lists
  missing files, which ``site_packages.scan(verify=True)`` reports.
- ``tmp/<id>/``     each wheel's dist-info is written here and renamed into site-packages only after all
  of the wheel's files landed: a dist-info in site-packages means a complete install.
- ``journal``       append-only, one line per step, written (flushed) *before* the step: ``remove
  <dist-info>`` before a distribution is uninstalled, ``stash <path>`` before a file is moved into the
  stash, ``dist <dist-info>`` before a wheel is installed and ``file <path>`` before each of its files is
  written. ``recover()`` deletes the files of wheels whose dist-info never arrived, prunes the folders
  emptied by stashing, and reports every distribution the killed sync touched, so the next sync verifies
  them against RECORD before trusting them.
- ``lock``          the venv lock (``venv_lock``), so two syncs never interleave.

A ``Checkpoint`` callable (``ExecuteOptions.checkpoint``) is called at named points of the transaction;
the crash-campaign tests pass one that SIGKILLs the process there (docs/safety.md).

The running sync never invokes pip; wheels are installed with the ``installer`` library.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from envlock import validate
from envlock.env.interpreter import InterpreterInfo
from envlock.env.site_packages import ENVLOCK_MARKER, INSTALLER_NAME, record_entries
from envlock.errors import EnvlockError, LockBusyError, TargetEnvironmentError
from envlock.guard.stamp import (
    JOURNAL_NAME,
    LOCK_NAME,
    MARKER_NAME,
    STAMP_NAME,
    STASH_NAME,
    STATE_DIR,
    SYNC_LEFTOVERS,
    TMP_NAME,
)
from envlock.sync.link import LinkMode, Materializer, write_all
from envlock.sync.models import SelectedPackage, SyncPlan
from envlock.sync.unpacked import UnpackedFile, record_hash
from envlock.sync.wheel_store import UnpackedWheel

KEPT_STATE = frozenset({LOCK_NAME, STAMP_NAME, MARKER_NAME})
"""What may stay in ``<venv>/.envlock`` between syncs (the marker only while a sync runs or was killed)."""

Checkpoint = Callable[[str], None]
"""Called with a point's name (``file-written``, ``dist-info-in`` ...) as a sync passes it; a no-op
except in crash tests."""


def no_checkpoint(_point: str) -> None:
    """The default Checkpoint: does nothing."""


class InstallError(EnvlockError):
    """A wheel could not be installed (invalid wheel, file conflict, disk error); the venv was rolled back."""


@dataclass(frozen=True)
class InstallLayout:
    """Where wheels land in one target, taken from the target interpreter's scheme."""

    root: Path
    """The venv (or prefix with --system): nothing outside it is ever removed."""
    scheme: Mapping[str, str]
    """purelib, platlib, scripts, data; ``headers`` is the folder under which ``<dist name>/`` goes."""
    interpreter: str
    """The interpreter written into script shebangs / launchers (the venv's final python path)."""
    script_kind: str
    """``posix`` or a Windows launcher kind (``win-amd64`` ...)."""
    python_version: str
    """``X.Y`` of the target."""

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def site_dirs(self) -> tuple[Path, ...]:
        purelib, platlib = Path(self.scheme["purelib"]), Path(self.scheme["platlib"])
        return (purelib,) if purelib == platlib else (purelib, platlib)

    @classmethod
    def for_interpreter(
        cls, info: InterpreterInfo, *, root: Path, interpreter: str | None = None
    ) -> InstallLayout:
        """The layout of ``info``'s environment. ``interpreter`` overrides the shebang path (a venv
        being rebuilt in a temporary folder gets the path it will have after the swap)."""
        scheme = info.scheme.as_dict()
        if info.is_venv:
            # pip's historical header location inside virtual environments.
            scheme["headers"] = str(Path(info.prefix, "include", "site", f"python{info.python_version}"))
        return cls(
            root=root,
            scheme=scheme,
            interpreter=interpreter or info.executable,
            script_kind=_script_kind(info.platform),
            python_version=info.python_version,
        )


def _script_kind(platform: str) -> str:
    if not platform.startswith("win"):
        return "posix"
    return {"win32": "win-ia32", "win-amd64": "win-amd64", "win-arm64": "win-arm64"}.get(
        platform, "win-amd64"
    )


@dataclass(frozen=True)
class ExecuteOptions:
    """How to apply a plan."""

    compile_bytecode: bool = False
    """Compile ``.pyc`` for installed modules with the target interpreter (off: Python does it lazily)."""
    max_workers: int = 8
    """Wheels installed at once (different distributions write different files; file creation is
    I/O-bound and releases the GIL, so threads pay off even on few cores)."""
    checkpoint: Checkpoint = no_checkpoint
    """Crash-test hook, called at named points of the transaction."""
    store: Path | None = None
    """The unpacked-wheel store (the cache's ``unpacked`` area); None: a temporary one for this call."""
    link_mode: LinkMode = LinkMode.AUTO
    """How files get from the store into the venv (docs/sync.md, "Link modes")."""


# ---------------------------------------------------------------------------------------------------
# The venv lock


LOCK_TIMEOUT_ENV = "ENVLOCK_LOCK_TIMEOUT"
"""Seconds a sync waits for another sync's venv lock before it gives up (docs/cli.md)."""
DEFAULT_LOCK_TIMEOUT = 600.0
LOCK_WAIT_NOTICE = 1.0
"""Seconds of silent waiting before the user is told what the sync waits for."""


def lock_timeout(environ: Mapping[str, str]) -> float:
    """``ENVLOCK_LOCK_TIMEOUT`` in seconds (``inf``: wait forever), else 600; other text: InputError."""
    import math

    from envlock.errors import InputError

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
    from filelock import FileLock, Timeout

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


# ---------------------------------------------------------------------------------------------------
# Recovery after a killed sync


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
        orphans = 0
        parents: set[Path] = set()
        entries = _read_journal(journal)
        for dist_info, paths in entries.installs.items():
            touched.add(dist_info)
            if dist_info.exists():
                continue
            for path in paths:
                if _inside(path, root) and (path.is_file() or path.is_symlink()):
                    path.unlink()
                    orphans += 1
                parents.add(path.parent)
        touched.update(entries.removals)
        parents.update(path.parent for path in entries.stashed if not path.exists())
        for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
            if _inside(parent, root):
                _prune_empty_dirs(parent, root)
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


# ---------------------------------------------------------------------------------------------------
# The transaction


@dataclass
class _Stashed:
    original: Path
    stashed: Path


@dataclass
class Transaction:
    """Every change made to the venv, so it can be committed or rolled back. Thread-safe."""

    layout: InstallLayout
    txid: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _stashed: list[_Stashed] = field(default_factory=list)
    _written: list[str] = field(default_factory=list)
    _written_set: set[str] = field(default_factory=set)
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
            target.parent.mkdir(parents=True, exist_ok=True)
            path.rename(target)
            self._stashed.append(_Stashed(path, target))

    def uninstall(self, dist_info: Path) -> None:
        """Stash every file RECORD lists (and their bytecode), then the dist-info folder itself. The
        removal and every file to stash are journaled in one write before the first file moves."""
        root = self.layout.root
        seen: set[Path] = set()
        listed: set[Path] = set()
        files: list[Path] = []
        for entry in record_entries(dist_info):
            path = entry.path
            if path in seen or dist_info in path.parents or not _inside(path, root):
                continue
            try:  # a symlinked folder on the way must not lead the stash outside the venv
                validate.no_symlink_escape(str(path.parent), str(root), "RECORD entry")
            except validate.UnsafeInput:
                continue
            seen.add(path)
            candidates = [path]
            if path.suffix == ".py":
                cache = path.parent / "__pycache__"
                if cache.is_dir():
                    candidates += sorted(cache.glob(f"{path.stem}.*.pyc"))
            for candidate in candidates:
                if candidate not in listed and (candidate.is_file() or candidate.is_symlink()):
                    listed.add(candidate)
                    files.append(candidate)
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

    def journal_lines(self, lines: Sequence[str]) -> None:
        """Append lines in one write and flush them to the OS before the steps they announce (a
        SIGKILL loses nothing flushed; a power cut may: see docs/safety.md). The lines of one call stay
        together, so a wheel's ``file`` lines always follow its own ``dist`` line."""
        data = "".join(line + "\n" for line in lines).encode("utf-8")
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

    def install(self, package: SelectedPackage, wheel: UnpackedWheel, placer: Materializer) -> None:
        _install_unpacked(self, package, wheel, placer)

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
            _prune_empty_dirs(parent, self.layout.root)
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
            _prune_empty_dirs(path.parent, self.layout.root)
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


def apply(
    plan: SyncPlan,
    artifacts: Mapping[str, Path | UnpackedWheel],
    layout: InstallLayout,
    options: ExecuteOptions = ExecuteOptions(),
) -> None:
    """Carry out ``plan`` with the verified wheels in ``artifacts`` (sha256 -> wheel path, or its
    entry in the unpacked store from ``prepare_wheels``). All or nothing: wheels are unpacked before
    the venv is touched, and on any later failure (including KeyboardInterrupt) the venv is rolled
    back and the error re-raised."""
    if plan.is_empty:
        return
    packages = plan.to_install()
    with contextlib.ExitStack() as stack:
        store = options.store
        if store is None and any(
            not isinstance(artifacts[p.artifact.sha256], UnpackedWheel) for p in packages
        ):
            import tempfile

            store = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="envlock-unpacked-")))
        prepared = prepare_wheels(packages, artifacts, store or Path())
        _apply_prepared(plan, prepared, layout, options)


def _apply_prepared(
    plan: SyncPlan, prepared: Mapping[str, UnpackedWheel], layout: InstallLayout, options: ExecuteOptions
) -> None:
    transaction = Transaction(layout, checkpoint=options.checkpoint)
    placer = Materializer(options.link_mode)
    try:
        for dist in plan.to_uninstall():
            transaction.uninstall(dist.dist_info)
        packages = sorted(plan.to_install(), key=lambda p: -len(prepared[p.artifact.sha256].files))
        workers = max(1, min(options.max_workers, len(packages)))
        if workers == 1:
            for package in packages:
                transaction.install(package, prepared[package.artifact.sha256], placer)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [
                    pool.submit(transaction.install, package, prepared[package.artifact.sha256], placer)
                    for package in packages
                ]
                for future in futures:
                    future.result()
        options.checkpoint("installed")
        if options.compile_bytecode:
            compile_bytecode(layout, transaction.written_python_files())
    except BaseException:
        transaction.rollback()
        raise
    transaction.commit()
    options.checkpoint("committed")


def compile_bytecode(layout: InstallLayout, files: Sequence[Path]) -> None:
    """Compile ``files`` with the target interpreter (its own magic number), quietly, in parallel."""
    if not files:
        return
    python = layout.interpreter if Path(layout.interpreter).exists() else _python_in(layout)
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", "-i", "-"],
        input="\n".join(str(f) for f in files),
        text=True,
        capture_output=True,
        check=False,
    )


def _python_in(layout: InstallLayout) -> str:
    scripts = Path(layout.scheme["scripts"])
    for name in ("python", "python3", "python.exe"):
        if (scripts / name).exists():
            return str(scripts / name)
    return layout.interpreter


# ---------------------------------------------------------------------------------------------------
# Installing one wheel from the unpacked store


def prepare_wheels(
    packages: Sequence[SelectedPackage], artifacts: Mapping[str, Path | UnpackedWheel], store: Path
) -> dict[str, UnpackedWheel]:
    """Every wheel of ``packages`` unpacked in ``store`` (sha256 of the locked artifact -> entry),
    unpacking the missing ones in parallel. Touches no venv: an invalid wheel fails here, before any
    change. Entries already given in ``artifacts`` are used as they are."""
    from envlock.sync.models import ArtifactKind
    from envlock.sync.unpacked import UnpackError
    from envlock.sync.wheel_store import prepare

    def one(package: SelectedPackage) -> tuple[str, UnpackedWheel]:
        given = artifacts[package.artifact.sha256]
        if isinstance(given, UnpackedWheel):
            return package.artifact.sha256, given
        # A wheel built from an sdist is stored under its own hash (it depends on the Python too).
        key = package.artifact.sha256 if package.artifact.kind is ArtifactKind.WHEEL else _sha256_of(given)
        try:
            return package.artifact.sha256, prepare(given, key, store)
        except (UnpackError, ValueError, KeyError, OSError, zipfile.BadZipFile) as error:
            detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise InstallError(
                f"cannot install {package.name} {package.version} from {given.name}: {detail}"
            ) from None

    unique = list({p.artifact.sha256: p for p in packages}.values())
    if len(unique) <= 1:
        return dict(one(p) for p in unique)
    with ThreadPoolExecutor(max_workers=min(8, len(unique))) as pool:
        return dict(pool.map(one, unique))


def _sha256_of(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _install_unpacked(
    transaction: Transaction, package: SelectedPackage, wheel: UnpackedWheel, placer: Materializer
) -> None:
    try:
        _materialize(transaction, package, wheel, placer)
    except (ValueError, KeyError, OSError) as error:
        detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise InstallError(
            f"cannot install {package.name} {package.version} from {wheel.wheel}: {detail}"
        ) from None


def _materialize(
    transaction: Transaction, package: SelectedPackage, wheel: UnpackedWheel, placer: Materializer
) -> None:
    """Put one unpacked wheel into the venv: its whole file list is journaled in one write, files are
    linked or copied from the store (``#!python`` scripts rewritten, entry-point launchers generated for
    this venv), the dist-info is written to staging with INSTALLER, envlock.json, direct_url.json and a
    RECORD for the files as installed, and renamed into place last."""
    layout = transaction.layout
    join = os.path.join
    scheme = {name: os.path.abspath(folder) for name, folder in layout.scheme.items()}  # noqa: PTH100
    scheme["headers"] = join(scheme["headers"], _header_name(wheel.wheel))
    root_dir = scheme[wheel.root_scheme]
    final_dist_info = join(root_dir, wheel.dist_info_dir)
    staging = join(transaction.tmp_dir, uuid.uuid4().hex[:8])
    dist_prefix = wheel.dist_info_dir + "/"
    launchers = _launchers(wheel, layout)
    targets: list[tuple[UnpackedFile, str, bool]] = []
    lines = [f"dist {final_dist_info}"]
    for file in wheel.files:
        if file.scheme == wheel.root_scheme and file.path.startswith(dist_prefix):
            targets.append((file, _joined(staging, file.path, wheel), True))
        else:
            target = _joined(scheme[file.scheme], file.path, wheel)
            targets.append((file, target, False))
            lines.append(f"file {target}")
    lines += [f"file {_joined(scheme['scripts'], name, wheel)}" for name, _data in launchers]
    transaction.journal_lines(lines)  # one write + flush for the whole wheel, before any file lands
    transaction.checkpoint("wheel-announced")

    rows: list[tuple[str, str, str, int | None]] = []
    made: set[str] = set()
    for file, target, staged in targets:
        parent = os.path.dirname(target)  # noqa: PTH120
        if parent not in made:
            _make_parent(parent, layout.root, wheel, file.path)
            made.add(parent)
        if file.shebang:
            with open(wheel.source(file), "rb") as handle:
                handle.readline()
                data = f"#!{layout.interpreter}\n".encode() + handle.read()
            _write_new(transaction, placer, target, data, executable=file.executable, staged=staged)
            rows.append((file.scheme, file.path, record_hash(data), len(data)))
        else:
            _place(transaction, placer, wheel.source(file), target, file.executable, staged)
            rows.append((file.scheme, file.path, file.hash, file.size))
        transaction.checkpoint("file-written")
    if launchers:
        os.makedirs(scheme["scripts"], exist_ok=True)  # noqa: PTH103
    for name, data in launchers:
        target = join(scheme["scripts"], name)
        _write_new(transaction, placer, target, data, executable=True, staged=False)
        mode = os.stat(target).st_mode  # noqa: PTH116
        os.chmod(target, mode | (mode & 0o444) >> 2)  # noqa: PTH101 - as installer does
        rows.append(("scripts", name, record_hash(data), len(data)))
        transaction.checkpoint("file-written")
    staged_dist_info = join(staging, wheel.dist_info_dir)
    os.makedirs(staged_dist_info, exist_ok=True)  # noqa: PTH103
    for name, data in sorted(_additional_metadata(package).items()):
        with open(join(staged_dist_info, name), "wb") as handle:
            handle.write(data)
        rows.append((wheel.root_scheme, dist_prefix + name, record_hash(data), len(data)))
    rows.append((wheel.root_scheme, dist_prefix + "RECORD", "", None))
    with open(join(staged_dist_info, "RECORD"), "wb") as handle:
        handle.write(_record_bytes(rows, scheme, wheel.root_scheme))
    final = Path(final_dist_info)
    if final.exists():
        transaction.stash_path(final)
    transaction.checkpoint("dist-info-staged")
    os.rename(staged_dist_info, final_dist_info)  # noqa: PTH104
    transaction.note_written(final_dist_info)
    transaction.checkpoint("dist-info-in")


def _joined(root: str, relative: str, wheel: UnpackedWheel) -> str:
    """Where a file of ``wheel`` goes: inside ``root`` (the store's manifest was checked on reading,
    ``wheel_store.load``; this is the backstop for the path itself)."""
    try:
        return validate.join(root, relative, "file")
    except validate.UnsafeInput as error:
        raise InstallError(f"{wheel.wheel}: {error}") from None


def _make_parent(parent: str, root: Path, wheel: UnpackedWheel, path: str) -> None:
    """Create ``parent`` unless a symbolic link on the way leads out of the venv."""
    try:
        validate.no_symlink_escape(parent, os.fspath(root), "folder")
        os.makedirs(parent, exist_ok=True)  # noqa: PTH103
    except validate.UnsafeInput as error:
        raise InstallError(f"{wheel.wheel}: {path}: {error}") from None
    except (FileExistsError, NotADirectoryError):
        raise InstallError(
            f"{wheel.wheel}: cannot create the folder for {path}: a file of that name is in the way"
        ) from None


def _place(
    transaction: Transaction, placer: Materializer, source: str, target: str, executable: bool, staged: bool
) -> None:
    """Link or copy ``source`` to ``target``; a file already there is cleared out of the way first
    (stashed, or deleted when this sync wrote it)."""
    try:
        placer.place(source, target, executable)
    except FileExistsError:
        if staged:
            raise
        transaction.clear_target(Path(target))
        placer.place(source, target, executable)
    if not staged:
        transaction.note_written(target)


def _write_new(
    transaction: Transaction,
    placer: Materializer,
    target: str,
    data: bytes,
    *,
    executable: bool,
    staged: bool,
) -> None:
    """Write ``data`` as a new file at ``target`` (venv-specific content: launchers, fixed shebangs)."""
    mode = placer.exec_mode if executable else placer.file_mode
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(target, flags, mode)
    except FileExistsError:
        if staged:
            raise
        transaction.clear_target(Path(target))
        fd = os.open(target, flags, mode)
    if not staged:
        transaction.note_written(target)
    try:
        if executable:
            os.chmod(target, mode)  # noqa: PTH101 - the umask may have taken execute bits off
        write_all(fd, data)
    finally:
        os.close(fd)


def _launchers(wheel: UnpackedWheel, layout: InstallLayout) -> list[tuple[str, bytes]]:
    """Console and GUI script launchers for this venv's interpreter (as ``installer`` makes them)."""
    if not wheel.scripts:
        return []
    from installer.scripts import Script

    return [
        Script(s.name, s.module, s.attr, s.section).generate(  # type: ignore[arg-type]
            layout.interpreter,
            layout.script_kind,  # type: ignore[arg-type]
        )
        for s in wheel.scripts
    ]


def _record_bytes(
    rows: Sequence[tuple[str, str, str, int | None]], scheme: Mapping[str, str], root: str
) -> bytes:
    """RECORD as ``installer`` writes it: sorted by path within its scheme, paths relative to the
    root scheme's folder (absolute on Windows for other schemes)."""
    import csv
    import io

    def prefix(name: str) -> str:
        if name == root:
            return ""
        if os.name == "nt":  # pragma: no cover
            return os.path.abspath(scheme[name]) + "/"  # noqa: PTH100
        return os.path.relpath(scheme[name], start=scheme[root]) + "/"

    prefixes: dict[str, str] = {}
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=",", quotechar='"', lineterminator="\n")
    for name, path, digest, size in sorted(rows, key=lambda row: row[1]):
        if name not in prefixes:
            prefixes[name] = prefix(name)
        writer.writerow((prefixes[name] + path, digest, "" if size is None else str(size)))
    return out.getvalue().encode("utf-8")


def _header_name(wheel_filename: str) -> str:
    """The project name as pip derives it from a wheel file name (``foo_bar`` -> ``foo-bar``)."""
    return wheel_filename.split("-", 1)[0].replace("_", "-")


def _additional_metadata(package: SelectedPackage) -> dict[str, bytes]:
    artifact = package.artifact
    marker = {"filename": artifact.filename, "sha256": artifact.sha256, "version": 1}
    files = {
        "INSTALLER": f"{INSTALLER_NAME}\n".encode(),
        ENVLOCK_MARKER: (json.dumps(marker, sort_keys=True) + "\n").encode(),
    }
    if package.direct:
        from envlock.validate import strip_credentials

        url = (
            strip_credentials(artifact.url) if artifact.url else (artifact.path or Path()).absolute().as_uri()
        )
        direct = {
            "url": url,
            "archive_info": {"hash": f"sha256={artifact.sha256}", "hashes": {"sha256": artifact.sha256}},
        }
        files["direct_url.json"] = (json.dumps(direct, sort_keys=True) + "\n").encode()
    return files


# ---------------------------------------------------------------------------------------------------
# Small helpers


def _inside(path: Path, root: Path) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(root))  # noqa: PTH100
    except ValueError:
        return False
    return True


def _prune_empty_dirs(folder: Path, root: Path) -> None:
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
