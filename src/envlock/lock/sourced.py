"""A lock's ``directory`` and ``vcs`` entries: written from sources (``locked_entry``) and read back
into sources (``sourced``), checked where they enter: a path relative to the lock (``..`` allowed: a
monorepo's sibling; an absolute path is refused, it would hold on one machine only), a git URL of an
allowed transport without a leading ``-``, a full commit id, a subdirectory inside the checkout."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from packaging.pylock import PackageDirectory, PackageVcs

from envlock import validate
from envlock.errors import LockFileError
from envlock.models.source import COMMIT, DIRECTORY, VCS, BadSource, Source, check_repository, local
from envlock.sources import tree


def sourced(entry: PackageDirectory | PackageVcs, name: str, lock_path: Path) -> Source:
    """The source of a ``directory`` or ``vcs`` entry; LockFileError naming the package otherwise."""
    where = f"{lock_path}: package {name!r}"
    if isinstance(entry, PackageDirectory):
        folder = _folder(entry.path, name, lock_path)
        try:
            found = local(folder, editable=bool(entry.editable))
        except BadSource as error:
            raise LockFileError(f"{where}: {error}") from None
        if found.kind != DIRECTORY:
            raise LockFileError(f"{where}: directory {entry.path!r} is not a folder")
        return found
    if entry.type != "git":
        raise LockFileError(f"{where}: vcs type {entry.type!r} is not supported (only git)")
    url = entry.url or ""
    try:
        check_repository(url)
    except BadSource as error:
        raise LockFileError(f"{where}: vcs url: {error}") from None
    if not COMMIT.fullmatch(entry.commit_id or ""):
        raise LockFileError(f"{where}: commit-id {entry.commit_id!r} is not a full commit id")
    subdirectory = entry.subdirectory
    if subdirectory is not None:
        try:
            validate.relative_path(subdirectory, "subdirectory")
        except validate.UnsafeInput as error:
            raise LockFileError(f"{where}: {error}") from None
    return Source(
        VCS, url=url, revision=entry.requested_revision, commit=entry.commit_id, subdirectory=subdirectory
    )


def _folder(path: str, name: str, lock_path: Path) -> Path:
    """A ``directory`` entry's ``path`` made absolute against the lock's folder; an absolute or
    NUL-carrying path is refused (the lock would hold on one machine only)."""
    if "\0" in path or Path(path).is_absolute() or path.startswith(("/", "\\")):
        raise LockFileError(
            f"{lock_path}: package {name!r}: path {path!r} is absolute; a lock names local files "
            "relative to its folder"
        )
    return (lock_path.parent / path).absolute()


def locked_entry(origin: Source, lock_dir: Path) -> dict[str, Any]:
    """The ``directory`` or ``vcs`` field of a package built from ``origin`` (what ``sourced`` reads
    back): a folder by its path relative to ``lock_dir``, a git commit by its credential-free URL."""
    if origin.kind == VCS:
        vcs = PackageVcs(
            type="git",
            url=origin.public_url,
            requested_revision=origin.revision,
            commit_id=origin.commit or "",
            subdirectory=origin.subdirectory,
        )
        return {"vcs": vcs}
    path = local_path(origin.path or Path(), lock_dir)
    return {"directory": PackageDirectory(path=path, editable=origin.editable or None)}


def local_path(path: Path, lock_dir: Path) -> str:
    """A local source's path as a lock writes it: relative to the lock's folder, ``/``-separated
    (``..`` where it is outside), never an absolute path of this machine."""
    return Path(os.path.relpath(path.resolve(), lock_dir.resolve())).as_posix()


def identity(origin: Source) -> str:
    """What the planner compares with the installed copy's record: a git commit's key; an editable
    folder's place and build configuration; a plain folder's contents (a change reinstalls it)."""
    if origin.kind == VCS:
        return origin.key() or ""
    path = origin.path or Path()
    return tree.editable_key(path) if origin.editable else tree.content_digest(path)
