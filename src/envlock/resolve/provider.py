"""The resolvelib provider: all packaging policy of a resolution, over the index client.

Policies (docs/compile.md): PEP 440 order, newest first, except that a pin from the previous lock is
tried first (minimal diff). Prereleases are candidates only with ``--pre``, when a requirement's
specifier names a prerelease, or when no final release satisfies the requirements. Yanked files are
ignored unless a user requirement or constraint pins that exact version with ``==``/``===``. A file
whose Requires-Python excludes the target is ignored; a version with no wheel for the target's tags
and no (allowed) sdist is not a candidate. Pages and metadata are prefetched from a thread pool.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version
from resolvelib.providers import AbstractProvider
from resolvelib.reporters import BaseReporter

from envlock.errors import ResolutionError
from envlock.index.core_metadata import CoreMetadata
from envlock.index.pages import DistFile, ProjectPage, _dist_file
from envlock.inputs.config import InputRequirement
from envlock.resolve.models import (
    PYTHON,
    Candidate,
    IndexLike,
    Req,
    ResolveRequest,
    marker_applies,
    to_req,
)


def _exact_pins(requirements: Iterable[InputRequirement]) -> dict[str, set[Version]]:
    pins: dict[str, set[Version]] = {}
    for item in requirements:
        for spec in item.requirement.specifier:
            if spec.operator in ("==", "===") and "*" not in spec.version:
                try:
                    pins.setdefault(item.name, set()).add(Version(spec.version))
                except InvalidVersion:
                    continue
    return pins


def _provided_extras(metadata: CoreMetadata) -> set[str]:
    """``Provides-Extra``, plus extras that ``Requires-Dist`` markers test (older metadata may omit
    ``Provides-Extra``; pip accepts those extras too)."""
    provided: set[str] = {canonicalize_name(e) for e in metadata.provides_extra}
    for text in metadata.requires_dist:
        marker = text.partition(";")[2]
        if "extra" in marker:
            for quote in ("'", '"'):
                parts = marker.split(quote)
                provided.update(canonicalize_name(p) for p in parts[1::2] if p.strip())
    return provided


def _url_key(url: str) -> str:
    return url.split("#", 1)[0]


class Provider(AbstractProvider):  # type: ignore[type-arg]
    """The resolvelib provider (see module docstring for the policies it implements)."""

    def __init__(self, client: IndexLike, request: ResolveRequest, pool: ThreadPoolExecutor | None) -> None:
        super().__init__()
        self.client = client
        self.request = request
        self.target = request.target
        self.python_version = Version(request.target.python_full_version)
        self.pool = pool
        self.constraints: dict[str, list[InputRequirement]] = {}
        for item in request.constraints:
            if marker_applies(item.requirement.marker, self.target):
                self.constraints.setdefault(item.name, []).append(item)
        self.yank_ok = _exact_pins(
            [r for r in request.requirements if marker_applies(r.requirement.marker, self.target)]
            + [c for items in self.constraints.values() for c in items]
        )
        self.excluded: dict[str, dict[Version, str]] = {}
        """Why versions were not candidates (for 'no matching version' messages)."""
        self.dependencies: dict[Candidate, list[Req]] = {}
        self.warnings: set[str] = set()
        self._prefetched: set[str] = set()

    # -- resolvelib provider interface --

    def identify(self, requirement_or_candidate: Req | Candidate) -> str:
        return requirement_or_candidate.identifier

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> Any:
        infos = list(information[identifier])
        direct = any(info.requirement.url for info in infos)
        pinned = any(
            spec.operator in ("==", "===") and "*" not in spec.version
            for info in infos
            for spec in info.requirement.specifier
        )
        root = any(info.parent is None for info in infos)
        causes = {cause.requirement.identifier for cause in backtrack_causes} | {
            cause.parent.identifier for cause in backtrack_causes if cause.parent is not None
        }
        return (
            identifier != PYTHON,
            not direct,
            not pinned,
            identifier not in causes,
            not root,
            identifier,
        )

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> list[Candidate]:
        reqs = list(requirements[identifier])
        bad = {c.version for c in incompatibilities[identifier]}
        if identifier == PYTHON:
            if all(r.specifier.contains(self.python_version, prereleases=True) for r in reqs):
                return [Candidate(NormalizedName(PYTHON), self.python_version)]
            return []
        name = reqs[0].name
        extras = reqs[0].extras
        path = min((r.path for r in reqs), key=len)
        urls = {_url_key(r.url) for r in reqs if r.url}
        if urls:
            return self._url_candidates(name, extras, reqs, path)
        page = self.client.project(name)
        specifiers = [r.specifier for r in reqs] + [
            c.requirement.specifier for c in self.constraints.get(name, [])
        ]
        matches: list[Candidate] = []
        for version in page.versions():
            if version in bad:
                continue
            if not all(s.contains(version, prereleases=True) for s in specifiers):
                continue
            candidate = self._candidate(page, version, extras, path)
            if candidate is not None:
                matches.append(candidate)
        matches = self._prerelease_policy(matches, specifiers, name)
        preferred = self.request.preferences.get(name)
        if preferred is not None:
            matches.sort(key=lambda c: c.version != preferred)  # stable: the rest stays newest-first
        return matches

    def is_satisfied_by(self, requirement: Req, candidate: Candidate) -> bool:
        if requirement.name == PYTHON:
            return requirement.specifier.contains(candidate.version, prereleases=True)
        if requirement.url:
            return candidate.url is not None and _url_key(candidate.url) == _url_key(requirement.url)
        return requirement.specifier.contains(candidate.version, prereleases=True)

    def get_dependencies(self, candidate: Candidate) -> list[Req]:
        known = self.dependencies.get(candidate)
        if known is not None:
            return known
        deps = self._dependencies(candidate)
        self.dependencies[candidate] = deps
        for dep in deps:
            self.prefetch(dep)
        return deps

    # -- helpers --

    def _dependencies(self, candidate: Candidate) -> list[Req]:
        if candidate.name == PYTHON or candidate.metadata_file is None:
            return []
        metadata = self.client.metadata(candidate.metadata_file)
        path = (*candidate.path, candidate.label)
        deps: list[Req] = []
        if candidate.extras:
            base_spec = SpecifierSet(f"=={candidate.version}") if candidate.url is None else SpecifierSet()
            deps.append(Req(candidate.name, frozenset(), base_spec, candidate.url, path))
            for extra in sorted(candidate.extras - _provided_extras(metadata)):
                self.warnings.add(
                    f"{candidate.label} does not provide the extra {extra!r} "
                    f"(required by {' → '.join(candidate.path) or 'the input'})"
                )
        if metadata.requires_python:
            try:
                spec = SpecifierSet(metadata.requires_python)
            except InvalidSpecifier:
                spec = SpecifierSet()
            if not candidate.extras:
                deps.append(Req(NormalizedName(PYTHON), frozenset(), spec, None, path))
        for text in metadata.requires_dist:
            try:
                requirement = Requirement(text)
            except Exception:  # an unparsable dependency in someone's metadata: skip like pip does
                continue
            if candidate.extras:
                if not marker_applies(requirement.marker, self.target, sorted(candidate.extras)):
                    continue
                if marker_applies(requirement.marker, self.target):
                    continue  # already a dependency of the base candidate
            elif not marker_applies(requirement.marker, self.target):
                continue
            deps.append(to_req(requirement, path))
        return deps

    def _candidate(
        self, page: ProjectPage, version: Version, extras: frozenset[str], path: tuple[str, ...]
    ) -> Candidate | None:
        name = page.name
        options = self.request.options
        files = page.files_for(version)
        yank_ok = version in self.yank_ok.get(name, set())
        lockable = [
            f
            for f in files
            if (f.yanked is None or yank_ok)
            and (options.allows_wheel(name) if f.is_wheel else options.allows_sdist(name))
        ]
        usable = [f for f in lockable if self._python_ok(f) and (not f.is_wheel or self._tags_ok(f))]
        if not usable:
            self.excluded.setdefault(name, {})[version] = self._reason(files, lockable)
            return None
        wheels = sorted(
            (f for f in usable if f.is_wheel),
            key=lambda f: (min(self.target.tag_rank.get(t, 1 << 30) for t in f.tags), f.filename),
        )
        sdists = sorted((f for f in usable if not f.is_wheel), key=lambda f: f.filename)
        best = wheels[0] if wheels else sdists[0]
        return Candidate(
            name=name,
            version=version,
            extras=extras,
            files=tuple(lockable),
            metadata_file=best,
            index=page.index,
            path=path,
        )

    def _reason(self, files: Sequence[DistFile], lockable: Sequence[DistFile]) -> str:
        if files and all(f.yanked is not None for f in files):
            return "yanked"
        if not lockable:
            return "excluded by --only-binary/--no-binary"
        if not any(self._python_ok(f) for f in lockable):
            needs = sorted({f.requires_python or "" for f in lockable} - {""})
            return f"requires Python {', '.join(needs)}"
        return "no wheel for this platform and no sdist"

    def _python_ok(self, file: DistFile) -> bool:
        if not file.requires_python:
            return True
        try:
            return SpecifierSet(file.requires_python).contains(self.python_version, prereleases=True)
        except InvalidSpecifier:
            return True

    def _tags_ok(self, file: DistFile) -> bool:
        rank = self.target.tag_rank
        return any(tag in rank for tag in file.tags)

    def _prerelease_policy(
        self, matches: list[Candidate], specifiers: Sequence[SpecifierSet], name: str
    ) -> list[Candidate]:
        if self.request.options.pre or any(s.prereleases for s in specifiers):
            return matches
        finals = [c for c in matches if not c.version.is_prerelease]
        if finals:
            for candidate in matches:
                if candidate.version.is_prerelease:
                    self.excluded.setdefault(name, {}).setdefault(
                        candidate.version, "a prerelease (allow with --pre)"
                    )
            return finals
        return matches  # nothing else satisfies: prereleases are allowed

    def _url_candidates(
        self, name: NormalizedName, extras: frozenset[str], reqs: Sequence[Req], path: tuple[str, ...]
    ) -> list[Candidate]:
        urls = sorted({r.url for r in reqs if r.url})
        if len({_url_key(u) for u in urls}) > 1:
            return []
        url = urls[0]
        filename = url.split("#", 1)[0].rsplit("/", 1)[-1]
        file = _dist_file(filename, url, name, index=None)
        if file is None:
            raise ResolutionError(f"{url}: not a wheel or sdist of {name}")
        if not all(r.specifier.contains(file.version, prereleases=True) for r in reqs):
            return []
        return [
            Candidate(
                name=name,
                version=file.version,
                extras=extras,
                files=(file,),
                metadata_file=file,
                url=url,
                path=path,
            )
        ]

    def prefetch(self, req: Req) -> None:
        """Warm the project page and the likely candidate's metadata in the background."""
        if self.pool is None or req.name == PYTHON or req.url or req.name in self._prefetched:
            return
        self._prefetched.add(req.name)
        cached_project = getattr(self.client, "cached_project", None)
        if cached_project is not None and cached_project(req.name) is not None:
            return  # fresh in the cache: the resolver reads it at once, a thread would only cost time
        self.pool.submit(self._warm, req)

    def _warm(self, req: Req) -> None:
        try:
            page = self.client.project(req.name)
            preferred = self.request.preferences.get(req.name)
            versions = page.versions()
            if preferred is not None and preferred in versions:
                versions = [preferred]
            for version in versions:
                if not req.specifier.contains(version, prereleases=self.request.options.pre):
                    continue
                candidate = self._candidate(page, version, frozenset(), req.path)
                if candidate is not None and candidate.metadata_file is not None:
                    metadata = self.client.metadata(candidate.metadata_file)
                    self._prefetch_dependencies(metadata, req.extras)
                    return
        except Exception:  # the resolver asks again in the main thread and reports it there
            return

    def _prefetch_dependencies(self, metadata: CoreMetadata, extras: frozenset[str]) -> None:
        """Speculatively warm the likely candidate's own dependencies too, so the pages and metadata of
        the whole graph are fetched in parallel instead of one level per resolver round trip (a guess
        that the resolver does not take costs a few unused requests, never a different result)."""
        for text in metadata.requires_dist:
            try:
                requirement = Requirement(text)
            except Exception:  # reported (skipped) by the resolver itself
                continue
            if marker_applies(requirement.marker, self.target, ("", *sorted(extras))):
                self.prefetch(to_req(requirement, ()))


class Reporter(BaseReporter):  # type: ignore[type-arg]
    """resolvelib reporter: counts rounds and backtracks (for ``-v`` output)."""

    def __init__(self) -> None:
        super().__init__()
        self.rounds = 0
        self.backtracks = 0

    def starting(self) -> None: ...

    def starting_round(self, index: int) -> None:
        self.rounds = index + 1

    def ending_round(self, index: int, state: Any) -> None: ...

    def ending(self, state: Any) -> None: ...

    def adding_requirement(self, requirement: Any, parent: Any) -> None: ...

    def resolving_conflicts(self, causes: Any) -> None:
        self.backtracks += 1

    def rejecting_candidate(self, criterion: Any, candidate: Any) -> None: ...

    def pinning(self, candidate: Any) -> None: ...
