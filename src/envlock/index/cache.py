"""The on-disk cache: a content-addressed store (by sha256) for artifacts plus named areas for
HTTP responses and parsed metadata.

Safe for concurrent processes: every entry is written to a temporary file in the same folder and
renamed into place, so a reader sees a whole entry or none. An artifact enters the verified area
only after its sha256 was checked.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from envlock import validate
from envlock.atomic import write_atomic
from envlock.cache_dir import default_cache_dir as default_cache_dir  # its home: light, for check

CACHE_LAYOUT_VERSION = "v1"


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

    def private_area(self, name: str) -> Path | None:
        """A named sub-area for entries whose content is believed without a hash to check it against (a
        memo of a build), made owner-only; None unless the cache folder, its layout folder and the area
        are this user's and writable by no one else (the cache trust rule, docs/design.md), or when the
        area cannot be made. Its callers then do the work instead of remembering it."""
        layout = self.root / CACHE_LAYOUT_VERSION
        try:
            path = self.area(name)
            private = all(_private(folder.stat()) for folder in (self.root, layout, path))
        except OSError:
            return None
        return path if private else None

    def artifact_path(self, sha256: str, filename: str) -> Path:
        """Where the artifact goes; a hash or file name that would leave the store is a ValueError
        (``validate.UnsafeInput``): callers validated both where they entered, this is the backstop."""
        digest = validate.sha256(sha256)
        name = validate.file_name(filename, "artifact file name")
        return self.root / CACHE_LAYOUT_VERSION / "artifacts" / digest[:2] / digest[2:] / name

    def get_artifact(self, sha256: str, filename: str) -> Path | None:
        """The verified artifact with this hash, or None. Entries are written once and never changed,
        so presence is proof (the hash was checked before the rename that made it visible)."""
        path = self.artifact_path(sha256, filename)
        return path if path.is_file() else None

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
        """The entry, or None: a missing area is a miss (made when written), not a folder to make."""
        path = self.root / CACHE_LAYOUT_VERSION / area / validate.relative_path(key, "cache key")
        try:
            return path.read_bytes()
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


def _private(found: os.stat_result) -> bool:
    """A folder only this user can write to (POSIX; Windows folders carry no such mode bits)."""
    if os.name == "nt":
        return stat.S_ISDIR(found.st_mode)
    mine = found.st_uid == os.getuid()
    return stat.S_ISDIR(found.st_mode) and mine and not found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def key_for(text: str) -> str:
    """A filesystem-safe cache key for a URL or other text."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return f"{digest[:2]}/{digest[2:]}"
