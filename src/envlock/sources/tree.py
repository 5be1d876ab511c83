"""What a local project's identity on disk is: its contents (a non-editable directory is reinstalled when
they change), its build configuration (an editable one only when that changes), and the one rule of what
belongs to a project tree (``ignored``), shared by the hash and the copy a build is made from."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from envlock.guard.stamp import sha256_file
from envlock.sources.model import ARCHIVE, VCS, Source

CONFIG_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
"""What decides a project's metadata, entry points and layout: a change re-resolves (the input
fingerprint) and reinstalls an editable install."""

_IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "__pycache__",
        "build",
        "dist",
        "node_modules",
    }
)
"""Folders that are no part of a project's source: VCS data, caches, venvs and build output (a build in
place writes ``build/`` and ``*.egg-info``; hashing them would make every build a change)."""


def ignored(folder: str, names: Iterable[str]) -> set[str]:
    """The entries of ``folder`` that are no part of the project (``shutil.copytree``'s ``ignore``)."""
    skipped = set()
    for name in names:
        full = Path(folder, name)
        if name.endswith((".pyc", ".pyo", ".egg-info")) or (
            full.is_dir()
            and not full.is_symlink()
            and (name in _IGNORED_DIRS or (full / "pyvenv.cfg").is_file())
        ):
            skipped.add(name)
    return skipped


def content_digest(root: Path) -> str:
    """sha256 over the project's files (relative path, link target or bytes), in a stable order: the
    identity of a non-editable directory source, compared with the one it was installed from."""
    digest = hashlib.sha256(b"envlock-tree-1\0")
    for relative, full in _files(root):
        digest.update(relative.encode("utf-8", "surrogateescape") + b"\0")
        if full.is_symlink():
            digest.update(b"L" + str(full.readlink()).encode("utf-8", "surrogateescape"))
        else:
            digest.update(b"F" + sha256_file(full).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def config_digest(root: Path) -> str:
    """sha256 over the project's build configuration files (``CONFIG_FILES``), absent ones included."""
    digest = hashlib.sha256(b"envlock-config-1\0")
    for name in CONFIG_FILES:
        path = root / name
        digest.update(name.encode() + b"\0" + (sha256_file(path) if path.is_file() else "-").encode() + b"\0")
    return digest.hexdigest()


def editable_key(root: Path) -> str:
    """The identity of an editable install of ``root``: its place and its build configuration, not its
    code (editing the code is what an editable install is for)."""
    text = f"editable\0{root.resolve()}\0{config_digest(root)}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def portable(source: Source, base: Path | None) -> str:
    """A source as the input fingerprint sees it: a path relative to ``base`` (so a checkout elsewhere
    fingerprints the same) with what decides its metadata: an archive's sha256, a directory's build
    configuration (``config_digest``), whether it is editable; a git URL without credentials."""
    if source.kind == VCS:
        return source.shown()
    path = source.path or Path()
    shown = Path(os.path.relpath(path, base)).as_posix() if base is not None else path.as_posix()
    if source.kind == ARCHIVE:
        return f"{shown}#sha256={sha256_file(path)}"
    return f"{shown}#config={config_digest(path)}" + ("&editable" if source.editable else "")


def copy_project(root: Path, into: Path) -> Path:
    """The project's files (as ``content_digest`` sees them) copied to ``into``, for a build that must
    not write into the user's tree or see its leftovers."""
    shutil.copytree(root, into, symlinks=True, ignore=ignored)
    return into


def _files(root: Path) -> list[tuple[str, Path]]:
    """Every file and link of the project (links are not followed), by relative path."""
    found: list[tuple[str, Path]] = []
    for folder, dirs, _files in os.walk(root):
        here = Path(folder)
        entries = sorted(here.iterdir())
        skipped = ignored(folder, [entry.name for entry in entries])
        dirs[:] = [e.name for e in entries if e.is_dir() and not e.is_symlink() and e.name not in skipped]
        for entry in entries:
            if entry.name not in skipped and (entry.is_symlink() or not entry.is_dir()):
                found.append((entry.relative_to(root).as_posix(), entry))
    return sorted(found)
