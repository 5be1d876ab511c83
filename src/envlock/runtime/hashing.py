# ruff: noqa: PTH116
# (os.path on purpose: pathlib costs milliseconds to import on the launch path)
"""sha256 of text, bytes and files without importing hashlib, and a file's cheap stat identity (standard
library only: part of the launchers' runtime)."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # the launch path avoids importing typing (import time)
    from typing import Any

    from envlock.runtime.layout import StrPath


_CONSTRUCTOR: list[Any] = []
"""The sha256 constructor, looked up once per process: a failed import (``_sha2`` before Python 3.12)
searches every ``sys.path`` entry again each time it is tried."""


def _sha256() -> Any:
    """A sha256 object, from CPython's built-in module when there is one (hashlib loads OpenSSL:
    milliseconds on the launch path)."""
    if not _CONSTRUCTOR:
        try:  # the module that has it in this version: _sha2 from 3.12, _sha256 before
            if sys.version_info >= (3, 12):
                from _sha2 import sha256  # type: ignore[import-not-found,unused-ignore]
            else:
                from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ImportError:  # a Python built without it
            from hashlib import sha256
        _CONSTRUCTOR.append(sha256)
    return _CONSTRUCTOR[0]()


def sha256_text(text: str) -> str:
    """Hex sha256 of a text's UTF-8 bytes (without importing hashlib)."""
    return sha256_bytes(text.encode("utf-8"))


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data`` (without importing hashlib)."""
    digest = _sha256()
    digest.update(data)
    return str(digest.hexdigest())


def sha256_file(path: StrPath) -> str:
    """Hex sha256 of a file's bytes."""
    digest = _sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return str(digest.hexdigest())


def stat_identity(path: StrPath) -> dict[str, int] | None:
    """``{size, mtime_ns}`` of a file (None if absent): the cheap identity stamps record."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
