"""The core metadata a source tree's build gave, remembered so a later compile does not run its build
backend again (as uv's ``cache-keys``): one entry per key, in an owner-only area of the cache.

A key names everything the answer is taken to depend on: a project folder's place, whether it is built
editable, and its ``sources.tree.metadata_files`` (``pyproject.toml``, ``setup.cfg``, ``setup.py`` and
the files its ``[tool.envlock] cache-keys`` globs match); a git source's repository, commit and folder
(fixed by the commit); and the Python that runs the backend. A memo (``envlock.memo``): a missing,
torn, edited or foreign entry is a miss, never an error, and a cache folder that others could write is
not read at all (the cache trust rule).
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envlock.index.cache import Cache
from envlock.index.core_metadata import CoreMetadata
from envlock.memo import Memo
from envlock.memo import key as memo_key
from envlock.models.source import Source
from envlock.sources import tree

AREA = "source-metadata"
"""The memo area of the entries."""
FORMAT = "envlock-source-metadata-1"
"""Part of every key: a change of what an entry holds, or of how metadata is built, misses them all."""


@dataclass(frozen=True)
class MetadataMemo:
    """The remembered metadata of source builds (``envlock.memo``: off in a cache that is not believed)."""

    memo: Memo
    read: bool = True
    """False (``compile --upgrade``): every build runs; what it gives is remembered as usual."""

    @classmethod
    def open(cls, cache: Cache, *, refresh: bool = False) -> MetadataMemo:
        """The memo in ``cache``; ``refresh``: read no entry, write them anew."""
        return cls(cache.memo(AREA), read=not refresh)

    def through(self, key: str, build: Callable[[], CoreMetadata]) -> CoreMetadata:
        """What ``build`` gives, remembered under ``key`` (``folder_key``, ``git_key``); with ``read``
        False it always builds, and remembers what it gave."""
        found = self.recall(key)
        if found is None:
            found = build()
            self.memo.remember(memo_key(AREA, key), _encode(found))
        return found

    def recall(self, key: str) -> CoreMetadata | None:
        """The metadata remembered under ``key``, or None for anything else."""
        return self.memo.recall(memo_key(AREA, key), _decode) if self.read else None


def _encode(metadata: CoreMetadata) -> bytes:
    return metadata.to_json()


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


def _decode(body: bytes) -> CoreMetadata:
    """``CoreMetadata`` from an entry's JSON, every field of the type it must have (else ValueError)."""
    metadata = CoreMetadata.from_json(body)
    strings = (metadata.name, metadata.version, *metadata.requires_dist, *metadata.provides_extra)
    if not all(isinstance(value, str) for value in strings) or not isinstance(
        metadata.requires_python, (str, type(None))
    ):
        raise ValueError("not core metadata")
    return metadata
