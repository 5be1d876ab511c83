"""What a local project's identity on disk is: its contents (a non-editable directory is reinstalled when
they change), its build configuration (an editable one only when that changes), and the one rule of what
belongs to a project tree (``ignored``), shared by the hash and the copy a build is made from."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from envlock.models.source import DIRECTORY, Source
from envlock.runtime import sha256_file

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


def config_files(source: Source | None) -> list[Path]:
    """The files a project folder's metadata is built from (``build_inputs``): a compile records them as
    lock inputs, so an edit is seen as the lock's inputs changing (check, the no-op sync)."""
    if source is None or source.kind != DIRECTORY or source.path is None:
        return []
    return build_inputs(source.path)


def build_inputs(root: Path) -> list[Path]:
    """The ``CONFIG_FILES`` the folder has, then every file its ``[tool.envlock] cache-keys`` globs match
    (sorted): what its built metadata is read from. A file a glob matches later is seen by the next
    compile's fingerprint (``config_digest``), not by a lock's recorded inputs."""
    found = [root / name for name in CONFIG_FILES if (root / name).is_file()]
    return found + [path for path in cache_key_files(root) if path not in found]


def config_digest(root: Path) -> str:
    """sha256 over the project's build configuration files (``CONFIG_FILES``), absent ones included, and
    the files its ``cache-keys`` match (path and bytes; none: the digest of a folder without the list)."""
    digest = hashlib.sha256(b"envlock-config-1\0")
    for name in CONFIG_FILES:
        path = root / name
        digest.update(name.encode() + b"\0" + (sha256_file(path) if path.is_file() else "-").encode() + b"\0")
    for path in cache_key_files(root):
        relative = path.relative_to(root).as_posix().encode("utf-8", "surrogateescape")
        digest.update(b"K" + relative + b"\0" + sha256_file(path).encode() + b"\0")
    return digest.hexdigest()


def cache_key_files(root: Path) -> list[Path]:
    """The files ``cache_key_patterns`` match, sorted, each once; none without the list (the common
    case costs one read of pyproject.toml's bytes, no TOML parse)."""
    pyproject = root / "pyproject.toml"
    try:
        if b"cache-keys" not in pyproject.read_bytes():
            return []
    except OSError:
        return []
    matched = {path for pattern in cache_key_patterns(root) for path in root.glob(pattern) if path.is_file()}
    return sorted(matched)


def cache_key_patterns(root: Path) -> tuple[str, ...]:
    """``[tool.envlock] cache-keys`` of the project's pyproject.toml: globs, relative to ``root``, of the
    files besides ``CONFIG_FILES`` its built metadata depends on (a version or dependencies read from a
    file). InputError naming the file when the list is malformed or leaves the folder."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return ()
    # lazy: the no-op sync hashes folders with this module and never reads a cache-keys list
    from envlock.errors import InputError
    from envlock.tomlshim import tomllib

    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"{pyproject}: cannot read: {error}") from None
    tool = data.get("tool")
    table = tool.get("envlock") if isinstance(tool, dict) else None
    patterns = table.get("cache-keys", []) if isinstance(table, dict) else []
    if not isinstance(patterns, list) or not all(isinstance(item, str) and item for item in patterns):
        raise InputError(f"{pyproject}: [tool.envlock] cache-keys must be a list of file names or globs")
    for pattern in patterns:
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            raise InputError(
                f"{pyproject}: [tool.envlock] cache-keys: {pattern!r} is not inside the project folder",
                hint='write globs relative to the folder of pyproject.toml, e.g. "requirements/*.txt"',
            )
    return tuple(patterns)


def metadata_files(root: Path) -> dict[str, str]:
    """What a project's built metadata is remembered by (``resolve.metadata_memo``): relative path ->
    sha256 (``-`` when absent) of ``CONFIG_FILES`` and of every file ``cache_key_patterns`` matches."""
    found = {name: sha256_file(root / name) if (root / name).is_file() else "-" for name in CONFIG_FILES}
    for path in cache_key_files(root):
        found[path.relative_to(root).as_posix()] = sha256_file(path)
    return found


def editable_key(root: Path) -> str:
    """The identity of an editable install of ``root``: its place and its build configuration, not its
    code (editing the code is what an editable install is for)."""
    text = f"editable\0{root.resolve()}\0{config_digest(root)}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def copy_project(root: Path, into: Path) -> Path:
    """The project's files (as ``content_digest`` sees them) copied to ``into``, for a build that must
    not write into the user's tree or see its leftovers."""
    import shutil  # lazy: the no-op sync hashes folders with this module and never copies one

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
