"""Core metadata of packages built from a source (a project folder, a git commit) for the resolver:
through the project's PEP 517 backend in an isolated build environment (``sources.builder``). A git
revision is resolved to its full commit id once per compile, or kept from the previous lock (until
``-P NAME`` / ``--upgrade`` frees it). What a build gives is remembered (``resolve.metadata_memo``): a
folder's by the files that define it, a commit's by the commit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from envlock.index.cache import Cache
from envlock.index.core_metadata import CoreMetadata
from envlock.models.source import VCS, Source, commit_key
from envlock.resolve import metadata_memo
from envlock.resolve.metadata_memo import MetadataMemo
from envlock.sources import git

if TYPE_CHECKING:
    from envlock.sources.builder import BuildRequirementsInstaller

GIT_AREA = "git"
"""Cache area of git checkouts (``<repository key>/<commit>``)."""


class SourceMetadata:
    """``resolve(source)``: the source with its commit (git) and its core metadata."""

    def __init__(
        self,
        cache: Cache,
        install_requirements: BuildRequirementsInstaller,
        *,
        kept_commits: Mapping[str, str] | None = None,
        on_build: Callable[[str], None] = lambda _label: None,
        refresh: bool = False,
    ) -> None:
        """``refresh`` (``--upgrade``): every source is built again, whatever is remembered."""
        self._cache = cache
        self._memo = MetadataMemo.open(cache, refresh=refresh)
        self._install = install_requirements
        self._kept = dict(kept_commits or {})
        """``commit_key`` -> the commit the previous lock recorded."""
        self._on_build = on_build
        self._done: dict[Source, tuple[Source, CoreMetadata]] = {}

    def resolve(self, source: Source) -> tuple[Source, CoreMetadata]:
        if source not in self._done:
            self._done[source] = self._resolve(source)
        return self._done[source]

    def _resolve(self, source: Source) -> tuple[Source, CoreMetadata]:
        if source.kind != VCS:
            path = source.path or Path()
            key = metadata_memo.folder_key(path, editable=source.editable)
            return source, self._built(key, lambda: path, str(path), path.name, editable=source.editable)
        commit = self._kept.get(commit_key(source)) or git.resolve_commit(source)
        pinned = source.with_commit(commit)

        def checkout() -> Path:
            return git.checkout(pinned, self._cache.unchecked_area(GIT_AREA))

        key = metadata_memo.git_key(pinned)
        return pinned, self._built(key, checkout, pinned.shown(), pinned.shown(), editable=False)

    def _built(
        self, key: str, folder: Callable[[], Path], label: str, shown: str, *, editable: bool
    ) -> CoreMetadata:
        """The metadata remembered under ``key``, else built from ``folder()`` (``label`` in errors,
        ``shown`` in progress) and remembered."""

        def build() -> CoreMetadata:
            # lazy: a compile whose every source is remembered loads no PEP 517 or metadata-parsing code
            from envlock.index.metadata import parse_core_metadata
            from envlock.sources.builder import directory_metadata

            project = folder()
            self._on_build(shown)
            data = directory_metadata(project, label, editable=editable, install_requirements=self._install)
            return parse_core_metadata(data, label)

        return self._memo.through(key, build)
