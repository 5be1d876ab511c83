"""A plan's artifacts made ready before the venv is touched: fetched and verified into the cache, sdists
built into wheels for the target's Python, every wheel unpacked into the store and its METADATA checked
against the lock. After this, nothing can fail but the writing itself."""

from __future__ import annotations

import os
import shutil
import sysconfig
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from envlock.env.interpreter import Runner
from envlock.index import fetch
from envlock.index.cache import Cache
from envlock.index.fetch import ArtifactClient, ProgressCallback
from envlock.models.artifacts import Artifact, ArtifactKind, SelectedPackage
from envlock.runtime import sha256_file
from envlock.sync import wheel_claims, wheel_store
from envlock.sync.executor import prepare_wheels
from envlock.sync.plan import SyncEvent, SyncPlan
from envlock.sync.transaction import Checkpoint, no_checkpoint
from envlock.sync.wheel_store import UnpackedWheel


@dataclass(frozen=True)
class Preparer:
    """Where artifacts come from and go to, for one sync."""

    cache: Cache
    http: Callable[[], ArtifactClient]
    """Makes the HTTP client, called only when something must be downloaded."""
    runner: Runner
    """Asks an interpreter its version (the build cache key)."""
    offline: bool = False
    find_links: tuple[Path, ...] = ()
    """``--find-links``: folders of artifacts looked in before any download (``fetch.find_local``)."""
    progress: ProgressCallback | None = None
    checkpoint: Checkpoint = no_checkpoint
    """Crash-test hook (docs/safety.md), told when a wheel is unpacked into the store."""
    build_indexes: Callable[[], tuple[str, ...]] = tuple
    """Where build requirements come from when ``ENVLOCK_INDEX_URL`` is not set: the indexes the lock
    was compiled against (PyPI when it records none); asked only when something is built."""
    remember_claims: bool = True
    """Skip a wheel's METADATA check that passed before for the same selection (``wheel_claims``);
    ``--verify`` checks every wheel again."""
    report: Callable[[SyncEvent], None] = lambda _event: None
    """Told when downloads begin (with their totals) and when each build begins and ends."""
    clock: Callable[[], float] = time.monotonic
    backend_output: bool = False
    """Show the warnings a build backend raises (``-v``); a failed build's output is in its error."""

    def prepare(
        self, plan: SyncPlan, python: str, environment: Mapping[str, str]
    ) -> dict[str, UnpackedWheel]:
        """Every artifact the plan installs, verified in the cache and unpacked in its ``unpacked`` store
        (sha256 -> entry); sdists are built into wheels for ``python`` here too. ``environment``: the
        target's marker values, which the wheels' own METADATA must agree with."""
        wanted = plan.to_install()
        artifacts = [package.artifact for package in wanted]
        if not artifacts:
            return {}
        repairs = plan.repairs()
        present = fetch.cached(artifacts, self.cache)
        for sha256 in sorted(repairs & present.keys()):
            cached = present[sha256]
            if sha256_file(cached) != sha256:  # a repair trusts no cached byte unchecked
                cached.unlink(missing_ok=True)  # damaged in the cache: downloaded again below
                del present[sha256]
        missing = [a for a in artifacts if a.path is None and a.sha256 not in present]
        client = self.http() if missing and not self.offline else None
        downloads = {
            a.sha256: a for a in missing if a.origin is None and fetch.find_local(a, self.find_links) is None
        }
        if downloads and not self.offline:
            sizes = [a.size for a in downloads.values()]
            total = None if None in sizes else sum(s or 0 for s in sizes)
            self.report(SyncEvent("download", count=len(downloads), size=total))
        paths = fetch.fetch_all(
            artifacts,
            self.cache,
            client,
            fetch.FetchOptions(offline=self.offline, find_links=self.find_links),
            progress=self.progress,
        )
        for package in wanted:
            sha256 = package.artifact.sha256
            if package.artifact.kind is ArtifactKind.SDIST:
                paths[sha256] = self._built_wheel(paths[sha256], package, python)
            elif package.artifact.kind is ArtifactKind.SOURCE:
                paths[sha256] = self._source_wheel(package, python)
        store = self.cache.unchecked_area("unpacked")  # a shared cache's: this process's own, not theirs
        wheel_store.sweep(store)  # what killed syncs left half-unpacked or half-deleted
        unpacked = prepare_wheels(wanted, paths, store, fresh=repairs, checkpoint=self.checkpoint)
        # The wheels' own METADATA must agree with the lock (and the index metadata it came from).
        selected = wheel_claims.selected_versions(plan, unpacked)
        verdicts = self.cache.memo(wheel_claims.CLAIMS_AREA) if self.remember_claims else None
        wheel_claims.verify(wanted, unpacked, selected, environment, verdicts=verdicts)
        return unpacked

    def _built_wheel(self, sdist: Path, package: SelectedPackage, python: str) -> Path:
        """The wheel built from a verified sdist for ``python`` (PEP 517, isolated), cached per sdist hash
        and interpreter version so a rebuild is not needed on the next sync."""
        # lazy: only sdists are built; a wheel-only sync (benchmarked) loads no resolver or PEP 517 code
        from envlock.sources.builder import build_wheel

        sha256 = package.artifact.sha256
        python_tag = self._python_tag(python)
        folder = self.cache.unchecked_area("builds") / sha256 / f"{python_tag}-{sysconfig.get_platform()}"
        existing = sorted(folder.glob("*.whl")) if folder.is_dir() else []
        if existing:
            return existing[0]
        staging = self.cache.unchecked_area("builds") / f".tmp-{os.getpid()}-{sha256[:12]}"
        wheel = self._timed(
            f"{package.name} {package.version} (sdist)",
            lambda: build_wheel(
                sdist, staging, install_requirements=self._install_requirements, python=Path(python)
            ),
        )
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / wheel.name
        wheel.replace(final)
        shutil.rmtree(staging, ignore_errors=True)
        return final

    def _source_wheel(self, package: SelectedPackage, python: str) -> Path:
        """The wheel of a project folder or git commit (``sync.source_builds``)."""
        # lazy: only locks with project folders or git sources build them
        from envlock.sync.source_builds import GIT_AREA, built_wheel, cached_wheel

        artifact, python_tag = package.artifact, self._python_tag(python)
        areas = (self.cache.unchecked_area("builds"), self.cache.unchecked_area(GIT_AREA))
        existing = cached_wheel(artifact, areas[0], python_tag)
        if existing is not None:
            return existing
        return self._timed(
            f"{package.name} {package.version}".strip() + f" ({_source_kind(artifact)})",
            lambda: built_wheel(artifact, areas, python, python_tag, self._install_requirements),
        )

    def _timed(self, subject: str, build: Callable[[], Path]) -> Path:
        """``build()``, reported as it begins and ends, with the backend's warnings shown only when asked."""
        from envlock.sources.builder import show_backend_warnings  # lazy: loaded by every build anyway

        show_backend_warnings(self.backend_output)
        self.report(SyncEvent("build", subject))
        started = self.clock()
        wheel = build()
        self.report(SyncEvent("built", subject, seconds=self.clock() - started))
        return wheel

    def _install_requirements(self, requirements: Sequence[str], env_python: Path) -> None:
        """Build requirements from ``ENVLOCK_INDEX_URL``, else the lock's indexes, else PyPI, into a build
        venv."""
        # lazy: only builds need the resolver and PEP 517 code (and the index client)
        from envlock.index.client import DEFAULT_INDEX, IndexClient, IndexSettings
        from envlock.resolve.build_requirements import index_build_installer

        if not requirements:
            return
        named = os.environ.get("ENVLOCK_INDEX_URL")
        indexes = (named,) if named else self.build_indexes() or (DEFAULT_INDEX,)
        client = IndexClient(self.http(), self.cache, IndexSettings(indexes=indexes))  # type: ignore[arg-type]
        index_build_installer(client)(requirements, env_python)

    def _python_tag(self, python: str) -> str:
        # -I -S: asking a venv's Python its version must not run the venv's .pth files.
        result = self.runner([python, "-I", "-S", "-c", "import sys; print('cp%d%d' % sys.version_info[:2])"])
        return result.stdout.strip() or "unknown"


def _source_kind(artifact: Artifact) -> str:
    from envlock.models.source import VCS  # lazy: a sync of wheels never loads the sources' model

    origin = artifact.origin
    if origin is not None and origin.kind == VCS:
        return "git"
    return "project folder, editable" if origin is not None and origin.editable else "project folder"
