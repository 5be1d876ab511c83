"""Reads a pip-tools style hashed requirements file (every line ``name==version`` with ``--hash``) as a
lock: the file has no URLs, so each pinned file is looked up on the index by its hash."""

from __future__ import annotations

from pathlib import Path

from packaging.pylock import Pylock

from envlock.errors import UnsupportedError


def read_requirements_lock(path: Path, data: bytes) -> Pylock:
    raise UnsupportedError(f"{path}: hashed requirements files are not supported as a lock yet")
