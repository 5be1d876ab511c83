"""The on-disk cache: a content-addressed store (by sha256) for artifacts plus named areas for
HTTP responses and parsed metadata.

Safe for concurrent processes: every entry is written to a temporary file in the same folder and
renamed into place, so a reader sees a whole entry or none. An artifact enters the verified area
only after its sha256 was checked. A cache others could have written to (the cache trust rule,
``memo.distrusted``) is used in a verify-everything mode: every artifact is hashed before use, no entry is
read and every memo misses.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

from envlock import memo, validate
from envlock.atomic import write_atomic
from envlock.cache_dir import default_cache_dir as default_cache_dir  # its home: light, for check
from envlock.memo import Memo

CACHE_LAYOUT_VERSION = memo.LAYOUT
_SCRATCH: dict[tuple[str, str], tempfile.TemporaryDirectory[str]] = {}
"""The temporary areas standing in for a cache that is not believed (``Cache.unchecked_area``)."""


@dataclass(frozen=True)
class Cache:
    """A cache rooted at ``root``; cheap to create, folders made on first use."""

    root: Path

    def area(self, name: str) -> Path:
        """A named sub-area (``http``, ``metadata``, ``builds`` ...); the cache folder, its layout folder
        and the area are made owner-only (``0700``) when they are made."""
        path = self.root / CACHE_LAYOUT_VERSION / name
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:  # the common case: one system call
            pass
        except FileNotFoundError:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.parent.mkdir(mode=0o700, exist_ok=True)
            path.mkdir(mode=0o700, exist_ok=True)
        return path

    @cached_property
    def distrusted(self) -> str | None:
        """Why this cache is not believed (``memo.distrusted``: another user's, or writable by others),
        said once on stderr; None when it is. Not believed: every memo misses, every stored artifact is
        hashed before use, no remembered page or build is reused (docs/safety.md, the cache trust rule)."""
        reason = memo.distrusted(self.root)
        if reason is not None:
            memo.say_distrusted(self.root, reason)
        return reason

    def unchecked_area(self, name: str) -> Path:
        """A named area whose entries are reused without a hash to check them by (built wheels, git
        checkouts): the cache's own when it is believed; else an owner-only temporary folder of this
        process (removed at exit), so nothing others planted is built from or installed."""
        if self.distrusted is None:
            return self.area(name)
        key = (str(self.root), name)
        if key not in _SCRATCH:
            _SCRATCH[key] = tempfile.TemporaryDirectory(prefix=f"envlock-{name}-")
        return Path(_SCRATCH[key].name)

    def memo(self, kind: str) -> Memo:
        """The remembered answers of ``kind`` in this cache (off when it is not believed)."""
        return Memo(kind, None if self.distrusted is not None else self.root)

    def artifact_path(self, sha256: str, filename: str) -> Path:
        """Where the artifact goes; a hash or file name that would leave the store is a ValueError
        (``validate.UnsafeInput``): callers validated both where they entered, this is the backstop."""
        store = self.root / CACHE_LAYOUT_VERSION / "artifacts"
        if self.distrusted is not None:  # downloads land where only this process writes
            store = self.unchecked_area("artifacts")
        return self._in_store(store, sha256, filename)

    @staticmethod
    def _in_store(store: Path, sha256: str, filename: str) -> Path:
        digest = validate.sha256(sha256)
        name = validate.file_name(filename, "artifact file name")
        return store / digest[:2] / digest[2:] / name

    def get_artifact(self, sha256: str, filename: str) -> Path | None:
        """The verified artifact with this hash, or None. In a believed cache entries are written once
        and never changed, so presence is proof (the hash was checked before the rename that made it
        visible). In one others can write, the shared entry is copied into this process's owner-only
        area while it is hashed (a mismatch is a miss): what is used is exactly what was hashed, however
        the shared file changes afterwards."""
        path = self.artifact_path(sha256, filename)
        present = path.is_file()
        if present or self.distrusted is None:
            return path if present else None
        shared = self._in_store(self.root / CACHE_LAYOUT_VERSION / "artifacts", sha256, filename)
        try:
            with validate.open_regular(shared) as source, self.artifact_writer(sha256, filename) as (out, h):
                while chunk := source.read(1 << 20):
                    out.write(chunk)
                    h.update(chunk)
        except (OSError, ValueError):  # absent, not a regular file (UnsafeInput), or other bytes
            return None
        return path

    @contextmanager
    def artifact_writer(self, sha256: str, filename: str) -> Iterator[tuple[BinaryIO, hashlib._Hash]]:
        """Write an artifact: yields (file, running sha256). On a clean exit the caller must have
        checked the hash; the entry becomes visible atomically. On error nothing is left behind."""
        final = self.artifact_path(sha256, filename)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=final.parent)
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as handle:
                yield handle, digest
                handle.flush()
                os.fsync(handle.fileno())
            if digest.hexdigest() != sha256:
                raise ValueError("artifact_writer closed with a hash that does not match")
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def write_entry(self, area: str, key: str, data: bytes) -> Path:
        """Atomically write ``data`` under ``area/key`` (key may contain '/')."""
        path = self.area(area) / validate.relative_path(key, "cache key")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data, durable=False)  # an entry lost to a power cut is fetched again
        return path

    def read_entry(self, area: str, key: str) -> bytes | None:
        """The entry, or None: a missing area is a miss (made when written), not a folder to make; so is
        every entry of a cache that is not believed."""
        if self.distrusted is not None:
            return None
        # joined as text: a warm compile reads a thousand entries; three Path joins cost more than a read
        key = validate.relative_path(key, "cache key")
        path = os.path.join(self.root, CACHE_LAYOUT_VERSION, area, key)  # noqa: PTH118
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def size(self) -> int:
        """Total bytes stored (for ``envlock doctor``)."""
        total = 0
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                with suppress(OSError):
                    total += (Path(dirpath) / name).stat().st_size
        return total


def key_for(text: str) -> str:
    """A filesystem-safe cache key for a URL or other text."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return f"{digest[:2]}/{digest[2:]}"
