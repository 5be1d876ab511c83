"""Wheels that sync builds from a lock's project folders and git commits, for the target's Python,
before the venv is touched: a git commit checked out into the cache (``sources.git``) and built; a plain
folder copied first (what ``sources.tree`` hashes), so its build leaves nothing in the user's tree and
sees none of its leftovers; an editable folder built in place (PEP 660: the wheel points at it). Kept
in the build cache by the source's identity (the artifact's sha256) and the interpreter, as sdists are."""

from __future__ import annotations

import os
import shutil
import sysconfig
import tempfile
from pathlib import Path

from envlock.models.artifacts import Artifact
from envlock.models.source import VCS
from envlock.sources import git, tree
from envlock.sources.builder import BuildRequirementsInstaller, build_directory

GIT_AREA = "git"
"""Cache area of git checkouts, shared with compile (``resolve.sources``)."""


def cached_wheel(artifact: Artifact, builds: Path, python_tag: str) -> Path | None:
    """The wheel an earlier sync built of ``artifact.origin`` for this Python, if any (``builds``: the
    builds area)."""
    folder = _folder(artifact, builds, python_tag)
    existing = sorted(folder.glob("*.whl")) if folder.is_dir() else []
    return existing[0] if existing else None


def _folder(artifact: Artifact, builds: Path, python_tag: str) -> Path:
    return builds / f"source-{artifact.sha256}" / f"{python_tag}-{sysconfig.get_platform()}"


def built_wheel(
    artifact: Artifact,
    cache_areas: tuple[Path, Path],
    python: str,
    python_tag: str,
    install_requirements: BuildRequirementsInstaller,
) -> Path:
    """The wheel of ``artifact.origin`` for ``python``; ``cache_areas``: the builds and git areas."""
    origin = artifact.origin
    assert origin is not None  # the caller passes sourced artifacts only
    builds, checkouts = cache_areas
    existing = cached_wheel(artifact, builds, python_tag)
    if existing is not None:
        return existing
    folder = _folder(artifact, builds, python_tag)
    staging = builds / f".tmp-{os.getpid()}-{artifact.sha256[:12]}"
    try:
        with tempfile.TemporaryDirectory(prefix="envlock-source-") as tmp:
            if origin.kind == VCS:
                project = git.checkout(origin, checkouts)
            elif origin.editable:
                project = origin.path or Path()
            else:
                project = tree.copy_project(origin.path or Path(), Path(tmp) / "src")
            wheel = build_directory(
                project,
                staging,
                f"{artifact.filename} ({origin.shown()})",
                editable=origin.editable,
                install_requirements=install_requirements,
                python=Path(python),
            )
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / wheel.name
        wheel.replace(final)
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)
