"""The unpacked-wheel store: each verified wheel is unpacked once into the cache (``unpacked/<sha256>/``)
with its files' RECORD rows (sha256, size) worked out once, and the link modes that put those files into
a venv (copy, reflink clone or hardlink).

An entry is built in a temporary folder beside its final place and renamed into place in one step, so
processes sharing the cache see a whole entry or none. Its files are made read-only, and their sizes and
mtimes are recorded in the manifest: before each use the entry is checked against them (one ``stat`` per
file), so an entry edited in place (through a hardlink into a venv, or by hand) is thrown away and
unpacked again from the verified wheel rather than installed. Only the wheel's bytes are stored; what is
specific to a venv (script launchers, ``#!python`` shebangs, INSTALLER, RECORD) is made per venv.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from installer.records import RecordEntry
    from installer.utils import Scheme

MANIFEST = "manifest.json"
FORMAT = 1
"""Version of the manifest; an entry of another version is unpacked again."""
FILES = "files"
"""Sub-folder of an entry holding ``<scheme>/<path>`` for every file of the wheel."""
CHUNK = 1 << 20
FICLONE = 0x40049409
"""Linux ``ioctl`` request that makes one file share another's extents (btrfs, XFS, bcachefs ...)."""


class LinkMode(str, Enum):
    """How an entry's files get into a venv (``--link-mode`` / ``ENVLOCK_LINK_MODE``; docs/sync.md)."""

    AUTO = "auto"
    """``clone`` where the filesystem supports it, else ``copy``: venv files never share storage."""
    COPY = "copy"
    """An independent copy of each file (in-kernel ``copy_file_range``)."""
    CLONE = "clone"
    """A copy-on-write clone (reflink); a copy where the filesystem cannot clone."""
    HARDLINK = "hardlink"
    """The venv's file *is* the cache's file (read-only); fastest, a copy across filesystems."""


@dataclass(frozen=True)
class UnpackedFile:
    """One file of an unpacked wheel."""

    scheme: str
    """``purelib``, ``platlib``, ``scripts``, ``headers`` or ``data`` (where installer would put it)."""
    path: str
    """Path inside the scheme, ``/``-separated, checked to stay inside it."""
    hash: str
    """RECORD's hash column: ``sha256=<urlsafe base64, no padding>``."""
    size: int
    executable: bool
    shebang: bool
    """A ``scripts`` file starting with ``#!python``: its first line is rewritten for each venv."""
    mtime_ns: int
    """Of the stored file: a changed mtime (or size) means the entry was edited and is not used."""


@dataclass(frozen=True)
class EntryPointScript:
    """A ``console_scripts`` / ``gui_scripts`` entry point: its launcher is generated per venv."""

    name: str
    module: str
    attr: str
    section: str
    """``console`` or ``gui``."""


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
        return os.path.join(self.root, FILES, file.scheme, file.path)  # noqa: PTH118

    def is_intact(self) -> bool:
        """Every stored file still has the size and mtime it was stored with (one ``stat`` each)."""
        for file in self.files:
            try:
                stat = os.stat(self.source(file))  # noqa: PTH116
            except OSError:
                return False
            if stat.st_size != file.size or stat.st_mtime_ns != file.mtime_ns:
                return False
        return True


class UnpackError(ValueError):
    """A verified wheel that cannot be installed (invalid layout, unsafe path, bad WHEEL file)."""


# ---------------------------------------------------------------------------------------------------
# The store


def prepare(wheel: Path, sha256: str, store: Path) -> UnpackedWheel:
    """The entry for the verified ``wheel`` (its sha256 is ``sha256``), unpacked now when missing or no
    longer intact. Safe when several processes prepare the same wheel at once."""
    entry = store / sha256
    found = load(entry)
    if found is not None and found.is_intact():
        return found
    if found is not None or entry.exists():
        _discard(entry, store)  # of another format, or edited in place: never used again
    store.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=store))
    try:
        _unpack(wheel, sha256, tmp)
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


def load(entry: Path) -> UnpackedWheel | None:
    """The entry at ``entry``, or None when there is none (or it is of another format)."""
    try:
        data = json.loads((entry / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return UnpackedWheel(
        root=entry,
        sha256=data["sha256"],
        wheel=data["wheel"],
        dist_info_dir=data["dist_info_dir"],
        root_scheme=data["root_scheme"],
        files=tuple(UnpackedFile(*row) for row in data["files"]),
        scripts=tuple(EntryPointScript(*row) for row in data["scripts"]),
    )


def _discard(entry: Path, store: Path) -> None:
    """Move ``entry`` out of the way (one rename, so readers never see half of it), then delete it."""
    aside = Path(tempfile.mkdtemp(prefix=".old-", dir=store))
    with contextlib.suppress(OSError):  # another process discarded it first
        entry.rename(aside / "entry")
    _make_writable(aside)
    shutil.rmtree(aside, ignore_errors=True)


def _make_writable(folder: Path) -> None:
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(dirpath, name), 0o644)  # noqa: PTH101, PTH118


def _unpack(wheel: Path, sha256: str, target: Path) -> None:
    """Unpack ``wheel`` into ``target`` with ``installer``'s own rules (schemes, ``.data``, skipped
    ``__pycache__``), recording each file's RECORD row, and write the manifest last."""
    from installer import install
    from installer.exceptions import InstallerError
    from installer.sources import WheelFile

    try:
        with WheelFile.open(wheel) as source:
            source.validate_record(validate_contents=False)
            destination = _make_unpack_destination()(target / FILES)
            install(source, destination, {})  # type: ignore[arg-type]
            root_scheme = destination.root_scheme
            dist_info_dir = source.dist_info_dir
    except InstallerError as error:
        raise UnpackError(str(error)) from None
    manifest = {
        "format": FORMAT,
        "sha256": sha256,
        "wheel": wheel.name,
        "dist_info_dir": dist_info_dir,
        "root_scheme": root_scheme,
        "files": [
            [f.scheme, f.path, f.hash, f.size, f.executable, f.shebang, f.mtime_ns]
            for f in sorted(destination.files, key=lambda f: (f.scheme, f.path))
        ],
        "scripts": [[s.name, s.module, s.attr, s.section] for s in destination.scripts],
    }
    (target / MANIFEST).write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")


def _make_unpack_destination() -> type[_UnpackDestinationProtocol]:
    from installer.destinations import WheelDestination
    from installer.records import Hash
    from installer.records import RecordEntry as _RecordEntry

    class UnpackDestination(WheelDestination):
        """Stores each file under ``<files>/<scheme>/<path>`` (read-only), notes entry points instead of
        writing launchers, and writes no RECORD: all of that is per venv."""

        def __init__(self, files_root: Path) -> None:
            self.files_root = files_root
            self.files: list[UnpackedFile] = []
            self.scripts: list[EntryPointScript] = []
            self.root_scheme = "purelib"
            self._made: set[str] = set()

        def write_script(self, name: str, module: str, attr: str, section: str) -> RecordEntry:
            self.scripts.append(EntryPointScript(name, module, attr, section))
            return _RecordEntry(name, None, None)

        def write_file(
            self, scheme: Scheme, path: str | os.PathLike[str], stream: BinaryIO, is_executable: bool
        ) -> RecordEntry:
            path_ = os.fspath(path).replace("\\", "/")
            base = os.path.join(self.files_root, scheme)  # noqa: PTH118
            target = os.path.abspath(os.path.join(base, path_))  # noqa: PTH100, PTH118
            if not target.startswith(os.path.abspath(base) + os.sep):  # noqa: PTH100
                raise UnpackError(f"{path_} would be written outside of the {scheme} folder")
            parent = os.path.dirname(target)  # noqa: PTH120
            if parent not in self._made:
                os.makedirs(parent, exist_ok=True)  # noqa: PTH103
                self._made.add(parent)
            head = b""
            digest = hashlib.sha256()
            size = 0
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o555 if is_executable else 0o444)
            try:
                while True:
                    chunk = stream.read(CHUNK)
                    if not chunk:
                        break
                    if size == 0:
                        head = chunk[:8]
                    digest.update(chunk)
                    size += len(chunk)
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view) :]
                mtime_ns = os.fstat(fd).st_mtime_ns
            finally:
                os.close(fd)
            encoded = base64.urlsafe_b64encode(digest.digest()).decode("ascii").rstrip("=")
            self.files.append(
                UnpackedFile(
                    scheme=str(scheme),
                    path=path_,
                    hash=f"sha256={encoded}",
                    size=size,
                    executable=is_executable,
                    shebang=scheme == "scripts" and head == b"#!python",
                    mtime_ns=mtime_ns,
                )
            )
            return _RecordEntry(path_, Hash("sha256", encoded), size)

        def finalize_installation(
            self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
        ) -> None:
            self.root_scheme = str(scheme)

    return UnpackDestination  # type: ignore[return-value]


class _UnpackDestinationProtocol:
    """The shape of the class ``_make_unpack_destination`` makes (installer is imported lazily)."""

    files: list[UnpackedFile]
    scripts: list[EntryPointScript]
    root_scheme: str

    def __init__(self, files_root: Path) -> None: ...


# ---------------------------------------------------------------------------------------------------
# Link modes


def link_mode_from_env(value: str | None = None) -> LinkMode:
    """``value``, else ``ENVLOCK_LINK_MODE``, else ``auto``; an unknown name is an InputError."""
    from envlock.errors import InputError

    raw = value if value is not None else os.environ.get("ENVLOCK_LINK_MODE") or LinkMode.AUTO.value
    try:
        return LinkMode(raw.strip().lower())
    except ValueError:
        choices = ", ".join(m.value for m in LinkMode)
        raise InputError(
            f"unknown link mode {raw!r} (ENVLOCK_LINK_MODE / --link-mode)", hint=f"use one of: {choices}"
        ) from None


class Materializer:
    """Puts stored files into a venv with one link mode, falling back to copying where the mode is not
    possible (another filesystem, no reflink support); the fallback is remembered. Thread-safe."""

    def __init__(self, mode: LinkMode) -> None:
        self.requested = mode
        self._link = mode is LinkMode.HARDLINK
        self._clone = mode in (LinkMode.CLONE, LinkMode.AUTO) and sys.platform.startswith("linux")
        umask = os.umask(0)
        os.umask(umask)
        self.file_mode = 0o666 & ~umask
        self.exec_mode = (0o777 & ~umask) | 0o111
        self._exec_chmod = self.exec_mode & ~umask != self.exec_mode
        """The umask takes execute bits off files created executable: chmod them after creation."""

    @property
    def effective(self) -> LinkMode:
        """What is actually used now (after any fallback)."""
        if self._link:
            return LinkMode.HARDLINK
        return LinkMode.CLONE if self._clone else LinkMode.COPY

    def place(self, source: str, target: str, executable: bool) -> None:
        """Create ``target`` (which must not exist: FileExistsError) with the bytes of ``source``."""
        if self._link:
            try:
                os.link(source, target)
                return
            except FileExistsError:
                raise
            except OSError as error:
                if error.errno not in (errno.EXDEV, errno.EMLINK, errno.EPERM, errno.EACCES, errno.ENOTSUP):
                    raise
                self._link = False  # e.g. the cache is on another filesystem: copy from now on
        mode = self.exec_mode if executable else self.file_mode
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
        try:
            if executable and self._exec_chmod:
                os.chmod(target, mode)  # noqa: PTH101
            with open(source, "rb") as handle:
                self._copy(handle.fileno(), fd)
        except BaseException:
            os.close(fd)
            os.unlink(target)  # noqa: PTH108 - never leave a partial file behind
            raise
        os.close(fd)

    def _copy(self, src: int, dst: int) -> None:
        if self._clone:
            import fcntl

            try:
                fcntl.ioctl(dst, FICLONE, src)
                return
            except OSError:
                self._clone = False  # no reflinks here: copy from now on
        size = os.fstat(src).st_size
        copy_range = getattr(os, "copy_file_range", None)
        offset = 0
        if copy_range is not None:
            try:
                while offset < size:
                    done = copy_range(src, dst, size - offset)
                    if done == 0:
                        break
                    offset += done
                if offset >= size:
                    return
            except OSError:
                pass
        os.lseek(src, offset, os.SEEK_SET)
        os.lseek(dst, offset, os.SEEK_SET)
        while True:
            chunk = os.read(src, CHUNK)
            if not chunk:
                return
            view = memoryview(chunk)
            while view:
                view = view[os.write(dst, view) :]


def record_hash(data: bytes) -> str:
    """RECORD's hash column for ``data``."""
    encoded = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode("ascii").rstrip("=")
    return f"sha256={encoded}"
