"""The sources of a pip-tools requirements file (``envlock import``, or a hashed file synced as a lock):
``-e file:///abs/dir`` / ``-e ./dir``, ``name @ file:///abs/dir``, ``name @ file:///abs/pkg.whl
--hash=...`` and ``name @ git+URL@REF`` (pip-compile writes them without hashes, which pip has none
for), read into PEP 751 ``directory``, ``archive`` and ``vcs`` entries; a git revision that is not a
full commit id is resolved to one (``git ls-remote``), so the lock is reproducible."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from envlock.errors import LockFileError, RequirementsFileError
from envlock.inputs.local_sources import path_requirement
from envlock.lock.sourced import local_path
from envlock.models.source import ARCHIVE, COMMIT, VCS, BadSource, Source, from_url
from envlock.runtime import sha256_file
from envlock.sources import git


@dataclass(frozen=True)
class SourcedPin:
    """One requirement of the file that names a folder, a local archive or a git repository."""

    name: str
    source: Source
    marker: str | None
    sha256: frozenset[str]
    line: int


def editable_pin(value: str, path: Path, number: int) -> SourcedPin:
    """``-e PATH`` or ``-e file:///...`` (a folder, relative to the file's folder)."""
    try:
        item = path_requirement(value, f"{path}:{number}", path.parent, editable=True)
    except RequirementsFileError as error:
        raise LockFileError(error.message, hint=error.hint) from None
    assert item.origin is not None  # path_requirement always names one
    marker = str(item.requirement.marker) if item.requirement.marker else None
    return SourcedPin(str(canonicalize_name(item.requirement.name)), item.origin, marker, frozenset(), number)


def url_pin(requirement: Requirement, sha256: frozenset[str], path: Path, number: int) -> SourcedPin:
    """``name @ file:///...`` or ``name @ git+...``."""
    try:
        source = from_url(requirement.url or "")
    except BadSource as error:
        raise LockFileError(f"{path}:{number}: {error}") from None
    marker = str(requirement.marker) if requirement.marker else None
    return SourcedPin(str(canonicalize_name(requirement.name)), source, marker, sha256, number)


def source_entry(pin: SourcedPin, lock_dir: Path) -> dict[str, Any]:
    """The PEP 751 package entry of ``pin``, paths relative to ``lock_dir``."""
    entry: dict[str, Any] = {"name": pin.name}
    if pin.marker:
        entry["marker"] = pin.marker
    source = pin.source
    if source.kind == VCS:
        commit = (
            source.revision
            if source.revision and COMMIT.fullmatch(source.revision)
            else git.resolve_commit(source)
        )
        vcs = {"type": "git", "url": source.public_url, "commit-id": commit}
        if source.revision:
            vcs["requested-revision"] = source.revision
        if source.subdirectory:
            vcs["subdirectory"] = source.subdirectory
        entry["vcs"] = vcs
        return entry
    where = local_path(source.path or Path(), lock_dir)
    if source.kind == ARCHIVE:
        digest = sorted(pin.sha256)[0] if pin.sha256 else sha256_file(source.path or Path())
        entry["archive"] = {"path": where, "hashes": {"sha256": digest}}
        return entry
    entry["directory"] = {"path": where, **({"editable": True} if source.editable else {})}
    return entry
