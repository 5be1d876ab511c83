"""The core metadata a source tree's build gave, remembered so a later compile does not run its build
backend again (as uv's ``cache-keys``): one entry per key, in an owner-only area of the cache.

A key names everything the answer is taken to depend on: a project folder's place, whether it is built
editable, and its ``sources.tree.metadata_files`` (``pyproject.toml``, ``setup.cfg``, ``setup.py`` and
the files its ``[tool.envlock] cache-keys`` globs match); a git source's repository, commit and folder
(fixed by the commit); and the Python that runs the backend. The entry holds the key's text and the
metadata, behind a sha256 of both: a missing, torn, edited or foreign entry is a miss, never an error,
and a cache folder that others could write is not read at all (``Cache.private_area``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import sysconfig
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envlock.atomic import write_atomic
from envlock.cache_dir import memo_disabled
from envlock.index.cache import Cache
from envlock.index.core_metadata import CoreMetadata
from envlock.models.source import Source
from envlock.sources import tree

AREA = "source-metadata"
"""The cache area of the entries (``<sha256 of the key>.json``)."""
FORMAT = "envlock-source-metadata-1"
"""Part of every key: a change of what an entry holds, or of how metadata is built, misses them all."""


@dataclass(frozen=True)
class MetadataMemo:
    """The entries under ``area``."""

    area: Path | None
    """None: the cache is not trusted (or cannot be written); nothing is read or written."""
    read: bool = True
    """False (``compile --upgrade``): every build runs; what it gives is remembered as usual."""

    @classmethod
    def open(cls, cache: Cache, *, refresh: bool = False) -> MetadataMemo:
        """The memo in ``cache``; ``refresh``: read no entry, write them anew."""
        return cls(None if memo_disabled() else cache.private_area(AREA), read=not refresh)

    def recall(self, key: str) -> CoreMetadata | None:
        """The metadata remembered under ``key``, or None for anything else."""
        if self.area is None or not self.read:
            return None
        try:
            data = (self.area / _file_name(key)).read_bytes()
            checksum, _, body = data.partition(b"\n")
            if hashlib.sha256(body).hexdigest().encode() != checksum:
                return None
            record = json.loads(body)
            if record["key"] != key:
                return None
            return _metadata(record["metadata"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def remember(self, key: str, metadata: CoreMetadata) -> None:
        """Keep ``metadata`` under ``key``; a cache that cannot be written costs the next compile a build."""
        if self.area is None:
            return
        body = json.dumps({"key": key, "metadata": json.loads(metadata.to_json())}, sort_keys=True).encode()
        data = hashlib.sha256(body).hexdigest().encode() + b"\n" + body
        with suppress(OSError):
            write_atomic(self.area / _file_name(key), data, durable=False, mode=0o600)


def folder_key(path: Path, *, editable: bool) -> str:
    """The key of a project folder's metadata (InputError for a malformed ``cache-keys`` list)."""
    files = tree.metadata_files(path)
    return _key({"folder": str(path.resolve()), "editable": editable, "files": files})


def git_key(pinned: Source) -> str:
    """The key of a git source's metadata at its (full) commit: repository, commit and folder."""
    return _key({"vcs": pinned.key()})


def _key(what: dict[str, Any]) -> str:
    python = {
        "executable": os.path.realpath(sys.executable),
        "version": sys.version,
        "platform": sysconfig.get_platform(),
    }
    return json.dumps({"format": FORMAT, "python": python, **what}, sort_keys=True)


def _file_name(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest() + ".json"


def _metadata(raw: Any) -> CoreMetadata:
    """``CoreMetadata`` from an entry's JSON, every field of the type it must have (else ValueError)."""
    metadata = CoreMetadata.from_json(json.dumps(raw).encode())
    strings = (metadata.name, metadata.version, *metadata.requires_dist, *metadata.provides_extra)
    if not all(isinstance(value, str) for value in strings) or not isinstance(
        metadata.requires_python, (str, type(None))
    ):
        raise ValueError("not core metadata")
    return metadata
