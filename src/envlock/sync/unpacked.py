"""Unpacks one verified wheel into plain files, checked while it streams: ``installer``'s own rules
(schemes, ``.data``, skipped ``__pycache__``), every file against the wheel's RECORD (hash and size), the
size caps, and never a file that belongs to the venv itself. What it produces (each file's RECORD row, the
entry points) is kept by the store, ``wheel_store``; what is specific to a venv (script launchers,
``#!python`` shebangs, INSTALLER, RECORD) is made per venv by ``materialize``.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from installer import install
from installer.destinations import WheelDestination
from installer.records import Hash, RecordEntry
from installer.sources import WheelContentElement, WheelFile
from installer.utils import Scheme

from envlock import validate
from envlock.index.limits import max_compression_ratio, max_unpacked_bytes
from envlock.sync.link import CHUNK, write_all
from envlock.sync.unpacked_model import (
    SCHEMES,
    EntryPointScript,
    UnpackedContents,
    UnpackedFile,
    UnpackError,
    record_digest,
    refuse_venv_owned,
)

RATIO_FLOOR = 64 << 20
"""Unpacked sizes below this are never refused for their compression ratio (``max_compression_ratio``)."""
_NO_HASH_NEEDED = ("RECORD", "RECORD.jws", "RECORD.p7s")


def unpack(wheel: Path, files_root: Path) -> UnpackedContents:
    """Unpack ``wheel`` into ``files_root/<scheme>/<path>`` with ``installer``'s own rules, checking every
    file against the wheel's RECORD (hash and size) and the size caps while it streams, and recording
    each file's RECORD row."""
    try:
        _check_sizes(wheel)
        with _CheckedWheelFile.open(wheel) as source:
            source.validate_record(validate_contents=False)
            destination = _UnpackDestination(files_root, max_unpacked_bytes())
            install(source, destination, {})
            dist_info_dir = source.dist_info_dir
    except (UnpackError, OSError):
        raise
    except Exception as error:
        # installer parses hostile input with asserts and configparser; none of it may escape as a
        # traceback (and with -O, a failed assert surfaces as some other exception).
        raise UnpackError(f"invalid wheel: {_describe(error)}") from None
    return UnpackedContents(
        dist_info_dir=dist_info_dir,
        root_scheme=destination.root_scheme,
        files=tuple(sorted(destination.files, key=lambda f: (f.scheme, f.path))),
        scripts=tuple(destination.scripts),
    )


def _describe(error: BaseException) -> str:
    # installer's errors carry (source object, message): show the message only.
    text = error.args[-1] if error.args and isinstance(error.args[-1], str) else str(error)
    text = text.strip()
    if isinstance(error, AssertionError) or not text:
        return "malformed entry_points.txt, RECORD or WHEEL" + (f" ({text})" if text else "")
    return text


# ---------------------------------------------------------------------------------------------------
# Size caps


def _check_sizes(wheel: Path) -> None:
    """Refuse a wheel whose members add up to more than the caps, before anything is written
    (``zipfile`` never reads a member past its declared size, so the declared sizes bound the work)."""
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
    ratio_limit = max_compression_ratio()
    packed = max(1, wheel.stat().st_size)
    if total > RATIO_FLOOR and ratio_limit and total > packed * ratio_limit:
        raise UnpackError(
            f"unpacks to {total:,} bytes from {packed:,} ({total // packed}x, over the limit of "
            f"{ratio_limit}x: ENVLOCK_MAX_COMPRESSION_RATIO); it looks like a zip bomb"
        )


# ---------------------------------------------------------------------------------------------------
# The wheel read against its own RECORD


class _CheckedWheelFile(WheelFile):
    """``installer``'s WheelFile whose file streams check each file's hash and size against the wheel's
    own RECORD as they are read (one pass: nothing is read twice)."""

    def get_contents(self) -> Iterator[WheelContentElement]:
        for record, stream, executable in super().get_contents():
            path, hash_, size = record
            if not hash_ and path.rsplit("/", 1)[-1] not in _NO_HASH_NEEDED:
                raise UnpackError(f"RECORD lists no hash for {path}")
            checked = _RecordCheckedStream(stream, path, hash_, size)
            yield record, cast("BinaryIO", checked), executable


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
        if self._digest is not None and record_digest(self._digest.digest()) != self._expected.rstrip("="):
            raise UnpackError(f"{self._path} does not match its hash in RECORD")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


# ---------------------------------------------------------------------------------------------------
# Where the files go


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
    refuse_venv_owned(scheme, path)
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
        write_all(fd, chunk)


class _UnpackDestination(WheelDestination):
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
        refuse_venv_owned("scripts", name)
        if name.lower() in self._script_names:
            raise UnpackError(f"entry_points.txt: script {name!r} is defined twice")
        self._script_names.add(name.lower())
        self.scripts.append(EntryPointScript(name, module, attr, section))
        return RecordEntry(name, None, None)

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
        encoded = record_digest(digest.digest())
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
        return RecordEntry(path_, Hash("sha256", encoded), size)

    def finalize_installation(
        self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
    ) -> None:
        self.root_scheme = str(scheme)
