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
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from envlock import validate
from envlock.guard.stamp import STATE_DIR

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
MAX_UNPACKED_BYTES = 16 << 30
"""Default cap on what one wheel unpacks to (``ENVLOCK_MAX_UNPACKED_BYTES``): the largest real wheels
(CUDA libraries) unpack to a few GiB."""
MAX_COMPRESSION_RATIO = 100
"""Default cap on unpacked size / wheel size (``ENVLOCK_MAX_COMPRESSION_RATIO``), applied above
``RATIO_FLOOR``: real wheels compress 2-10x; a zip bomb 1000x."""
RATIO_FLOOR = 64 << 20
SCHEMES = frozenset({"purelib", "platlib", "scripts", "headers", "data"})
_NO_HASH_NEEDED = ("RECORD", "RECORD.jws", "RECORD.p7s")


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
    try:
        entry = store / validate.sha256(sha256, "the wheel's sha256")
    except validate.UnsafeInput as error:
        raise UnpackError(str(error)) from None
    found = load(entry)
    if found is None and entry.exists():
        # Another process may have renamed its entry into place since our first look: look again
        # before treating the folder as foreign (discarding it would pull it from under that process).
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
    try:
        wheel = UnpackedWheel(
            root=entry,
            sha256=data["sha256"],
            wheel=data["wheel"],
            dist_info_dir=data["dist_info_dir"],
            root_scheme=data["root_scheme"],
            files=tuple(UnpackedFile(*row) for row in data["files"]),
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
    for file in wheel.files:
        if file.scheme not in SCHEMES:
            raise validate.UnsafeInput(f"scheme {file.scheme!r}")
        validate.relative_path(file.path)
        _refuse_venv_owned(file.scheme, file.path)
    for script in wheel.scripts:
        validate.file_name(script.name)
        validate.entry_point(script.module, script.attr)
        _refuse_venv_owned("scripts", script.name)


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
    ``__pycache__``), checking every file against the wheel's RECORD (hash and size) and the size caps
    while it streams, recording each file's RECORD row, and write the manifest last."""
    from installer import install

    try:
        _check_sizes(wheel)
        with _make_checked_source().open(wheel) as source:
            source.validate_record(validate_contents=False)
            destination = _make_unpack_destination()(target / FILES, max_unpacked_bytes())
            install(source, destination, {})  # type: ignore[arg-type]
            root_scheme = destination.root_scheme
            dist_info_dir = source.dist_info_dir
    except (UnpackError, OSError):
        raise
    except Exception as error:
        # installer parses hostile input with asserts and configparser; none of it may escape as a
        # traceback (and with -O, a failed assert surfaces as some other exception).
        raise UnpackError(f"invalid wheel: {_describe(error)}") from None
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


def _describe(error: BaseException) -> str:
    # installer's errors carry (source object, message): show the message only.
    text = error.args[-1] if error.args and isinstance(error.args[-1], str) else str(error)
    text = text.strip()
    if isinstance(error, AssertionError) or not text:
        return "malformed entry_points.txt, RECORD or WHEEL" + (f" ({text})" if text else "")
    return text


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return max(0, int(raw))
    except ValueError:
        from envlock.errors import InputError

        raise InputError(f"{name}={raw!r} is not a whole number") from None


def max_unpacked_bytes() -> int:
    return _env_int("ENVLOCK_MAX_UNPACKED_BYTES", MAX_UNPACKED_BYTES)


def _check_sizes(wheel: Path) -> None:
    """Refuse a wheel whose members add up to more than the caps, before anything is written
    (``zipfile`` never reads a member past its declared size, so the declared sizes bound the work)."""
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        members = archive.infolist()
    for info in members:
        try:  # every name, before installer sees any (its own checks fail with vaguer words)
            validate.relative_path(info.filename.rstrip("/") or ".", "wheel member")
        except validate.UnsafeInput as error:
            raise UnpackError(str(error)) from None
    total = sum(info.file_size for info in members)
    limit = max_unpacked_bytes()
    if total > limit:
        raise UnpackError(
            f"unpacks to {total:,} bytes, over the limit of {limit:,} (ENVLOCK_MAX_UNPACKED_BYTES)"
        )
    ratio_limit = _env_int("ENVLOCK_MAX_COMPRESSION_RATIO", MAX_COMPRESSION_RATIO)
    packed = max(1, wheel.stat().st_size)
    if total > RATIO_FLOOR and ratio_limit and total > packed * ratio_limit:
        raise UnpackError(
            f"unpacks to {total:,} bytes from {packed:,} ({total // packed}x, over the limit of "
            f"{ratio_limit}x: ENVLOCK_MAX_COMPRESSION_RATIO); it looks like a zip bomb"
        )


def _make_checked_source() -> Any:
    """``installer``'s WheelFile whose file streams check each file's hash and size against the
    wheel's own RECORD as they are read (one pass: nothing is read twice)."""
    from installer.sources import WheelFile

    class CheckedWheelFile(WheelFile):
        def get_contents(self) -> Iterator[tuple[tuple[str, str, str], BinaryIO, bool]]:
            for record, stream, executable in super().get_contents():
                path, hash_, size = record
                if not hash_ and path.rsplit("/", 1)[-1] not in _NO_HASH_NEEDED:
                    raise UnpackError(f"RECORD lists no hash for {path}")
                checked = _RecordCheckedStream(stream, path, hash_, size)
                yield record, cast("BinaryIO", checked), executable

    return CheckedWheelFile


class _RecordCheckedStream:
    """Reads a wheel member, and at its end compares what was read with RECORD's hash and size."""

    def __init__(self, stream: BinaryIO, path: str, record_hash: str, record_size: str) -> None:
        self._stream = stream
        self._path = path
        self._algorithm, _, self._expected = record_hash.partition("=")
        self._size = record_size
        # sha256 (nearly every RECORD) is compared by the destination, which hashes each file anyway.
        self.record_sha256 = self._expected.rstrip("=") if self._algorithm == "sha256" else None
        self._digest = hashlib.new(self._algorithm) if self._expected and not self.record_sha256 else None
        if self._algorithm and self._expected and self._algorithm not in ("sha256", "sha384", "sha512"):
            raise UnpackError(f"RECORD hashes {path} with {self._algorithm!r}, not a sha2 algorithm")
        self._read = 0
        self._done = False

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        if self._digest is not None:
            self._digest.update(chunk)
        self._read += len(chunk)
        if not chunk and not self._done:
            self._done = True
            self._check()
        return chunk

    def _check(self) -> None:
        if self._size and self._size != str(self._read):
            raise UnpackError(f"{self._path} is {self._read} bytes, RECORD says {self._size}")
        if self._digest is not None:
            got = base64.urlsafe_b64encode(self._digest.digest()).decode("ascii").rstrip("=")
            if got != self._expected.rstrip("="):
                raise UnpackError(f"{self._path} does not match its hash in RECORD")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


VENV_OWNED_SCRIPT = re.compile(
    r"(?i)(python[0-9.]*w?(\.exe)?|pypy[0-9.]*(\.exe)?|activate(\.(bat|csh|fish|nu|ps1))?|deactivate\.bat)"
)
"""Names in a venv's scripts folder that belong to the venv itself (its interpreter, activation)."""


def _refuse_venv_owned(scheme: str, path: str) -> None:
    """A wheel may not write the venv's own files: its interpreter and activation scripts (from the
    ``scripts`` scheme, or ``bin/``/``Scripts/`` of ``data``, the venv's root), ``pyvenv.cfg`` or envlock's
    state folder. Checked while unpacking (and again on each manifest read), so before any venv is
    touched; the one owner of this rule."""
    parts = path.split("/")
    if scheme == "data" and parts[0] in ("bin", "Scripts") and len(parts) == 2:
        scheme, parts = "scripts", parts[1:]
    owned = (scheme == "data" and (parts[0] == STATE_DIR or path == "pyvenv.cfg")) or (
        scheme == "scripts" and len(parts) == 1 and VENV_OWNED_SCRIPT.fullmatch(parts[0])
    )
    if owned:
        raise UnpackError(f"{scheme} file {path!r} belongs to the environment itself, not to a package")


def _open_store_file(files_root: Path, scheme: str, path: str, executable: bool, made: set[str]) -> int:
    """A new read-only file for ``path`` of ``scheme`` in the entry being built: the path checked to
    stay inside its scheme folder and not to be the venv's own, its folder made once."""
    if scheme not in SCHEMES:
        raise UnpackError(f"{path}: unknown install scheme {scheme!r}")
    base = os.path.join(files_root, scheme)  # noqa: PTH118
    try:
        target = validate.join(base, path, f"{scheme} file")
    except validate.UnsafeInput as error:
        raise UnpackError(str(error).replace(base, f"the {scheme} folder")) from None
    _refuse_venv_owned(scheme, path)
    parent = os.path.dirname(target)  # noqa: PTH120
    try:
        if parent not in made:
            os.makedirs(parent, exist_ok=True)  # noqa: PTH103
            made.add(parent)
        return os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o555 if executable else 0o444)
    except (FileExistsError, NotADirectoryError):
        raise UnpackError(
            f"{scheme} file {path!r} collides with another file of the wheel (listed twice, a "
            f"file where a folder is needed, or names differing only in case)"
        ) from None


def _copy_hashing(stream: BinaryIO, fd: int, budget: int) -> tuple[Any, int, bytes, int]:
    """Copy ``stream`` to ``fd``: (sha256, size, first bytes, budget left); past the unpacked-size
    budget, an UnpackError."""
    head = b""
    digest = hashlib.sha256()
    size = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return digest, size, head, budget
        if size == 0:
            head = chunk[:8]
        digest.update(chunk)
        size += len(chunk)
        budget -= len(chunk)
        if budget < 0:
            raise UnpackError(
                f"unpacks to more than ENVLOCK_MAX_UNPACKED_BYTES ({max_unpacked_bytes():,} bytes)"
            )
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]


def _make_unpack_destination() -> type[_UnpackDestinationProtocol]:
    from installer.destinations import WheelDestination
    from installer.records import Hash
    from installer.records import RecordEntry as _RecordEntry

    class UnpackDestination(WheelDestination):
        """Stores each file under ``<files>/<scheme>/<path>`` (read-only), notes entry points instead of
        writing launchers, and writes no RECORD: all of that is per venv."""

        def __init__(self, files_root: Path, max_bytes: int) -> None:
            self.files_root = files_root
            self.files: list[UnpackedFile] = []
            self.scripts: list[EntryPointScript] = []
            self.root_scheme = "purelib"
            self._made: set[str] = set()
            self._left = max_bytes
            self._script_names: set[str] = set()

        def write_script(self, name: str, module: str, attr: str, section: str) -> RecordEntry:
            # The name becomes a file in the venv's scripts folder: one plain file name, nothing else.
            try:
                validate.file_name(name, "entry-point script name")
                validate.entry_point(module, attr, f"entry point {name!r}")
            except validate.UnsafeInput as error:
                raise UnpackError(f"entry_points.txt: {error}") from None
            if section not in ("console", "gui"):
                raise UnpackError(f"entry_points.txt: unknown script kind {section!r}")
            _refuse_venv_owned("scripts", name)
            if name.lower() in self._script_names:
                raise UnpackError(f"entry_points.txt: script {name!r} is defined twice")
            self._script_names.add(name.lower())
            self.scripts.append(EntryPointScript(name, module, attr, section))
            return _RecordEntry(name, None, None)

        def write_file(
            self, scheme: Scheme, path: str | os.PathLike[str], stream: BinaryIO, is_executable: bool
        ) -> RecordEntry:
            path_ = os.fspath(path)
            fd = _open_store_file(self.files_root, str(scheme), path_, is_executable, self._made)
            try:
                digest, size, head, self._left = _copy_hashing(stream, fd, self._left)
                mtime_ns = os.fstat(fd).st_mtime_ns
            finally:
                os.close(fd)
            encoded = base64.urlsafe_b64encode(digest.digest()).decode("ascii").rstrip("=")
            expected = getattr(stream, "record_sha256", None)
            if expected is not None and expected != encoded:
                raise UnpackError(f"{path_} does not match its hash in RECORD")
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

    def __init__(self, files_root: Path, max_bytes: int) -> None: ...


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
