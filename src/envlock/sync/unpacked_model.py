"""The values of the unpacked-wheel store (a file, an entry point, what an unpack found), RECORD's hash
format, and the rule for the venv's own names. Standard library only: a sync whose wheels are all in the
store reads them without loading ``installer`` (only ``sync.unpacked``, which unpacks, does)."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from typing import NamedTuple

from envlock.runtime import STATE_DIR

SCHEMES = frozenset({"purelib", "platlib", "scripts", "headers", "data"})

VENV_OWNED_SCRIPT = re.compile(
    r"(?i)(python[0-9.]*w?(\.exe)?|pypy[0-9.]*(\.exe)?|activate(\.(bat|csh|fish|nu|ps1))?|deactivate\.bat)"
)
"""Names in a venv's scripts folder that belong to the venv itself (its interpreter, activation)."""


class UnpackedFile(NamedTuple):
    """One file of an unpacked wheel (a named tuple, not a dataclass: a big venv reads ~11,000 of them
    from the store's manifests on every sync, and a tuple is built several times faster)."""

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
class UnpackedContents:
    """What ``unpack`` wrote and found."""

    dist_info_dir: str
    root_scheme: str
    """``purelib`` or ``platlib`` (the wheel's ``Root-Is-Purelib``)."""
    files: tuple[UnpackedFile, ...]
    """Sorted by scheme and path."""
    scripts: tuple[EntryPointScript, ...]


class UnpackError(ValueError):
    """A verified wheel that cannot be installed (invalid layout, unsafe path, bad WHEEL file)."""


def record_digest(digest: bytes) -> str:
    """A digest as RECORD spells it: urlsafe base64 without padding."""
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def record_hash(data: bytes) -> str:
    """RECORD's hash column for ``data``."""
    return f"sha256={record_digest(hashlib.sha256(data).digest())}"


def refuse_venv_owned(scheme: str, path: str) -> None:
    """A wheel may not write the venv's own files: its interpreter and activation scripts (from the
    ``scripts`` scheme, or ``bin/``/``Scripts/`` of ``data``, the venv's root), ``pyvenv.cfg`` or envlock's
    state folder. Checked while unpacking (and again on each manifest read, ``wheel_store.load``), so
    before any venv is touched; the one owner of this rule."""
    parts = path.split("/")
    if scheme == "data" and parts[0] in ("bin", "Scripts") and len(parts) == 2:
        scheme, parts = "scripts", parts[1:]
    owned = (scheme == "data" and (parts[0] == STATE_DIR or path == "pyvenv.cfg")) or (
        scheme == "scripts" and len(parts) == 1 and VENV_OWNED_SCRIPT.fullmatch(parts[0])
    )
    if owned:
        raise UnpackError(f"{scheme} file {path!r} belongs to the environment itself, not to a package")
