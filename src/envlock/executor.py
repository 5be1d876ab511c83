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
from typing import TYPE_CHECKING, BinaryIO

from envlock.errors import EnvlockError, LockBusyError, TargetEnvironmentError
from envlock.interpreter import InterpreterInfo
from envlock.models import SelectedPackage, SyncPlan
from envlock.site_packages import ENVLOCK_MARKER, INSTALLER_NAME, record_entries

if TYPE_CHECKING:
    from installer.destinations import WheelDestination
    from installer.records import RecordEntry

STATE_DIR = ".envlock"
KEPT_STATE = frozenset({"lock", "stamp.json", "sync-in-progress"})
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


# ---------------------------------------------------------------------------------------------------
# The venv lock


@contextlib.contextmanager
def venv_lock(root: Path, *, timeout: float = -1) -> Iterator[None]:
    """Hold ``<root>/.envlock/lock`` (creating the folder); another sync of the same venv waits."""
    from filelock import FileLock, Timeout

    state = root / STATE_DIR
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise TargetEnvironmentError(f"cannot write to {root}: {error.strerror or error}") from None
    lock = FileLock(str(state / "lock"), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise LockBusyError(f"another envlock sync holds {state / 'lock'}") from None
    try:
        yield
    finally:
        lock.release()


# ---------------------------------------------------------------------------------------------------
# Recovery after a killed sync


def needs_recovery(root: Path) -> bool:
    """True when a previous sync left its journal, stash, staging folders or temp files (it was killed)."""
    state = root / STATE_DIR
    if any((state / name).exists() for name in ("journal", "stash", "tmp")):
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
    journal = state / "journal"
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
    for name in ("stash", "tmp"):
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
    for line in journal.read_text(encoding="utf-8", errors="replace").splitlines():
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
    _written: list[Path] = field(default_factory=list)
    _written_set: set[Path] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _journal: BinaryIO | None = None
    _counter: int = 0
    checkpoint: Checkpoint = no_checkpoint

    @property
    def stash_dir(self) -> Path:
        return self.layout.state_dir / "stash" / self.txid

    @property
    def tmp_dir(self) -> Path:
        return self.layout.state_dir / "tmp" / self.txid

    # -- uninstall --------------------------------------------------------------------------------

    def stash_path(self, path: Path) -> None:
        """Move one file (or folder) out of the way until commit (journaled first)."""
        self._journal_line(f"stash {path}")
        with self._lock:
            self._counter += 1
            target = self.stash_dir / f"{self._counter:06d}"
            target.parent.mkdir(parents=True, exist_ok=True)
            path.rename(target)
            self._stashed.append(_Stashed(path, target))

    def uninstall(self, dist_info: Path) -> None:
        """Stash every file RECORD lists (and their bytecode), then the dist-info folder itself."""
        root = self.layout.root
        self._journal_line(f"remove {dist_info}")
        seen: set[Path] = set()
        for entry in record_entries(dist_info):
            path = entry.path
            if path in seen or dist_info in path.parents or not _inside(path, root):
                continue
            seen.add(path)
            candidates = [path]
            if path.suffix == ".py":
                cache = path.parent / "__pycache__"
                if cache.is_dir():
                    candidates += sorted(cache.glob(f"{path.stem}.*.pyc"))
            for candidate in candidates:
                if candidate.is_file() or candidate.is_symlink():
                    self.stash_path(candidate)
                    self.checkpoint("file-stashed")
        if dist_info.exists():
            self.stash_path(dist_info)
        self.checkpoint("uninstalled")

    # -- install ----------------------------------------------------------------------------------

    def begin_dist(self, final_dist_info: Path) -> None:
        self._journal_line(f"dist {final_dist_info}")

    def note_written(self, path: Path) -> None:
        with self._lock:
            self._written.append(path)
            self._written_set.add(path)

    def _journal_line(self, line: str) -> None:
        """Append one line and flush it to the OS before the step it announces (a SIGKILL loses
        nothing flushed; a power cut may: see docs/safety.md)."""
        with self._lock:
            if self._journal is None:
                self.layout.state_dir.mkdir(parents=True, exist_ok=True)
                self._journal = (self.layout.state_dir / "journal").open("ab")
            self._journal.write(line.encode("utf-8") + b"\n")
            self._journal.flush()

    def prepare_target(self, path: Path) -> None:
        """Before writing ``path``: journal it; stash a file already there that this sync did not write."""
        self._journal_line(f"file {path}")
        if path.is_file() or path.is_symlink():
            with self._lock:
                ours = path in self._written_set
            if ours:
                path.unlink()
            else:
                self.stash_path(path)
        path.parent.mkdir(parents=True, exist_ok=True)

    def install(self, package: SelectedPackage, wheel: Path) -> None:
        _install_wheel(self, package, wheel)

    def written_python_files(self) -> list[Path]:
        with self._lock:
            return sorted(p for p in self._written if p.suffix == ".py")

    # -- end --------------------------------------------------------------------------------------

    def commit(self) -> None:
        """Drop the stash and the journal; prune folders left empty by uninstalls."""
        self._close_journal()
        parents = {item.original.parent for item in self._stashed}
        shutil.rmtree(self.stash_dir, ignore_errors=True)
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
            _prune_empty_dirs(parent, self.layout.root)
        (self.layout.state_dir / "journal").unlink(missing_ok=True)
        self._cleanup_state_folders()

    def rollback(self) -> None:
        """Delete what this transaction wrote, put the stash back: the venv is as it was."""
        self._close_journal()
        for path in reversed(self._written):
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
        (self.layout.state_dir / "journal").unlink(missing_ok=True)
        self._cleanup_state_folders()

    def _close_journal(self) -> None:
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None

    def _cleanup_state_folders(self) -> None:
        for name in ("stash", "tmp"):
            with contextlib.suppress(OSError):
                (self.layout.state_dir / name).rmdir()


def apply(
    plan: SyncPlan,
    artifacts: Mapping[str, Path],
    layout: InstallLayout,
    options: ExecuteOptions = ExecuteOptions(),
) -> None:
    """Carry out ``plan`` with the verified wheels in ``artifacts`` (sha256 -> path). All or nothing:
    on any failure (including KeyboardInterrupt) the venv is rolled back and the error re-raised."""
    if plan.is_empty:
        return
    transaction = Transaction(layout, checkpoint=options.checkpoint)
    try:
        for dist in plan.to_uninstall():
            transaction.uninstall(dist.dist_info)
        packages = plan.to_install()
        workers = max(1, min(options.max_workers, len(packages)))
        if workers == 1:
            for package in packages:
                transaction.install(package, artifacts[package.artifact.sha256])
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [
                    pool.submit(transaction.install, package, artifacts[package.artifact.sha256])
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
# Installing one wheel


def _install_wheel(transaction: Transaction, package: SelectedPackage, wheel: Path) -> None:
    from installer import install
    from installer.exceptions import InstallerError
    from installer.sources import WheelFile

    layout = transaction.layout
    try:
        with WheelFile.open(wheel) as source:
            source.validate_record(validate_contents=False)
            scheme = dict(layout.scheme)
            scheme["headers"] = str(Path(layout.scheme["headers"], _header_name(wheel.name)))
            root_scheme = "purelib" if _root_is_purelib(source) else "platlib"
            final_dist_info = Path(scheme[root_scheme]) / source.dist_info_dir
            staging = transaction.tmp_dir / uuid.uuid4().hex[:8]
            destination = _staged_destination(
                scheme_dict=scheme,
                interpreter=layout.interpreter,
                script_kind=layout.script_kind,
                transaction=transaction,
                dist_info_dir=source.dist_info_dir,
                staging=staging,
            )
            transaction.begin_dist(final_dist_info)
            install(source, destination, _additional_metadata(package))
            if final_dist_info.exists():
                transaction.stash_path(final_dist_info)
            transaction.checkpoint("dist-info-staged")
            (staging / source.dist_info_dir).rename(final_dist_info)
            transaction.note_written(final_dist_info)
            transaction.checkpoint("dist-info-in")
    except (InstallerError, ValueError, KeyError, OSError, zipfile.BadZipFile) as error:
        detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise InstallError(
            f"cannot install {package.name} {package.version} from {wheel.name}: {detail}"
        ) from None


def _root_is_purelib(source: object) -> bool:
    text: str = source.read_dist_info("WHEEL")  # type: ignore[attr-defined]
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "root-is-purelib":
            return value.strip().lower() == "true"
    return True


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
        from envlock.http import strip_credentials

        url = (
            strip_credentials(artifact.url) if artifact.url else (artifact.path or Path()).absolute().as_uri()
        )
        direct = {
            "url": url,
            "archive_info": {"hash": f"sha256={artifact.sha256}", "hashes": {"sha256": artifact.sha256}},
        }
        files["direct_url.json"] = (json.dumps(direct, sort_keys=True) + "\n").encode()
    return files


def _make_destination_class() -> type:
    from installer.destinations import SchemeDictionaryDestination
    from installer.records import Hash
    from installer.records import RecordEntry as _RecordEntry
    from installer.utils import copyfileobj_with_hashing, make_file_executable

    class StagedDestination(SchemeDictionaryDestination):
        """Writes through the transaction: journal, stash what is in the way, dist-info to staging."""

        def __init__(
            self,
            *,
            transaction: Transaction,
            dist_info_dir: str,
            staging: Path,
            **kwargs: object,
        ) -> None:
            super().__init__(**kwargs)  # type: ignore[arg-type]
            self.transaction = transaction
            self.dist_info_dir = dist_info_dir
            self.staging = staging

        def write_to_fs(self, scheme: str, path: str, stream: BinaryIO, is_executable: bool) -> RecordEntry:
            if path.split("/", 1)[0] == self.dist_info_dir and scheme in ("purelib", "platlib"):
                target = self.staging / path
                target.parent.mkdir(parents=True, exist_ok=True)
            else:
                target = self._path_with_destdir(scheme, path)  # type: ignore[arg-type]
                self.transaction.prepare_target(target)
                self.transaction.note_written(target)
            with target.open("wb") as handle:
                digest, size = copyfileobj_with_hashing(stream, handle, self.hash_algorithm)
            if is_executable:
                make_file_executable(target)
            self.transaction.checkpoint("file-written")
            return _RecordEntry(path, Hash(self.hash_algorithm, digest), size)

    return StagedDestination


_DESTINATION_CLASS: list[type] = []


def _staged_destination(**kwargs: object) -> WheelDestination:
    """A StagedDestination; the class is made on first use so ``installer`` is imported lazily."""
    if not _DESTINATION_CLASS:
        _DESTINATION_CLASS.append(_make_destination_class())
    destination: WheelDestination = _DESTINATION_CLASS[0](**kwargs)
    return destination


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
