"""Core metadata of packages built from a source (a project folder, a git commit) for the resolver:
through the project's PEP 517 backend in an isolated build environment (``resolve.builder``). A git
revision is resolved to its full commit id once per compile, or kept from the previous lock (until
``-P NAME`` / ``--upgrade`` frees it), and a commit's metadata is cached by commit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path

from envlock.index.cache import Cache
from envlock.index.core_metadata import CoreMetadata
from envlock.index.metadata import parse_core_metadata
from envlock.resolve.builder import BuildRequirementsInstaller, directory_metadata
from envlock.sources import git
from envlock.sources.model import VCS, Source, commit_key

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
    ) -> None:
        self._cache = cache
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
            self._on_build(path.name)
            data = directory_metadata(
                path, str(path), editable=source.editable, install_requirements=self._install
            )
            return source, parse_core_metadata(data, str(path))
        commit = self._kept.get(commit_key(source)) or git.resolve_commit(source)
        pinned = source.with_commit(commit)
        key = f"vcs-{pinned.key()}.json"
        cached = self._cache.read_entry("metadata", key)
        if cached is not None:
            with suppress(ValueError, KeyError, TypeError):
                return pinned, CoreMetadata.from_json(cached)
        folder = git.checkout(pinned, self._cache.area(GIT_AREA))
        self._on_build(pinned.shown())
        data = directory_metadata(folder, pinned.shown(), editable=False, install_requirements=self._install)
        metadata = parse_core_metadata(data, pinned.shown())
        with suppress(OSError):
            self._cache.write_entry("metadata", key, metadata.to_json())
        return pinned, metadata
