"""The resolvelib provider: all packaging policy of a resolution, over the index client.

Policies (docs/compile.md): PEP 440 order, newest first, except that a pin from the previous lock is
tried first (minimal diff). Prereleases are candidates only with ``--pre``, when a requirement's
specifier names a prerelease, or when no final release satisfies the requirements: decided per project
from its current requirements after backtracking, so finals the resolution ruled out do not count (the
``prereleases_last`` second pass of ``resolve.resolver``: prereleases after every final, used only when
a resolution of finals alone failed). Yanked files are ignored unless a user requirement or constraint
pins that exact version with ``==``/``===``. A file whose Requires-Python excludes the target is
ignored; a version with no wheel for the target's tags and no (allowed) sdist is not a candidate. A
project no index has offers no candidates (the resolver backtracks past what requires it). Pages and
metadata are prefetched from a thread pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version
from resolvelib.providers import AbstractProvider

from envlock.errors import ProjectNotFoundError, ResolutionError
from envlock.index.core_metadata import CoreMetadata
from envlock.index.pages import _dist_file
from envlock.inputs.config import InputRequirement
from envlock.models.source import ARCHIVE, BadSource, Source, from_url, is_source_url
from envlock.resolve.candidates import CandidateFinder, Query
from envlock.resolve.models import (
    PYTHON,
    Candidate,
    IndexLike,
    Req,
    ResolveRequest,
    marker_applies,
    to_req,
)
from envlock.resolve.progress import OnEvent, ResolveEvent, ignore


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


def _cause_names(causes: Sequence[Any]) -> set[str]:
    """The identifiers of a backtrack's requirements and of the candidates that required them."""
    names = {cause.requirement.identifier for cause in causes}
    return names | {cause.parent.identifier for cause in causes if cause.parent is not None}


def _url_key(url: str) -> str:
    return url.split("#", 1)[0]


class Provider(AbstractProvider):  # type: ignore[type-arg]
    """The resolvelib provider (see module docstring for the policies it implements)."""

    def __init__(
        self,
        client: IndexLike,
        request: ResolveRequest,
        pool: ThreadPoolExecutor | None,
        on_event: OnEvent = ignore,
        *,
        prereleases_last: bool = False,
    ) -> None:
        super().__init__()
        self.on_event = on_event
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
        self.finder = CandidateFinder(request, self.yank_ok, prereleases_last=prereleases_last)
        self.excluded = self.finder.excluded
        """Why versions were not candidates (for 'no matching version' messages)."""
        self.origins: dict[str, Source] = {
            _url_key(item.requirement.url or ""): item.origin
            for item in (*request.requirements, *request.constraints)
            if item.origin is not None
        }
        """Requirement URL -> the source the user wrote (editable or not); other ``file:``/``git+`` URLs
        (a dependency's) are read from the URL."""
        self.doomed: dict[str, dict[Version, tuple[Any, ...]]] = {}
        """Identifier -> versions that can never be pinned, each with the clash that dooms it (resolvelib's
        requirement information): their dependencies clash with the input's own requirements."""
        self.dependencies: dict[Candidate, list[Req]] = {}
        self._parsed: dict[str, Requirement | None] = {}
        self._asks: dict[int, tuple[SpecifierSet, bool]] = {}
        """A specifier object -> does it name a prerelease (held: its id is not reused meanwhile)."""
        """A dependency's text -> its parse (None: unparsable): packages name the same requirement."""
        self.warnings: set[str] = set()
        self.missing: dict[str, str] = {}
        """Projects no index has -> the indexes asked (for the conflict message)."""
        self._prefetched: set[str] = set()
        self._causes: tuple[Any, ...] = ()
        self._cause_names: frozenset[str] = frozenset()

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
        """pip's order: direct URLs, ``==`` pins, the packages that caused the last backtrack,
        upper-bounded ones (few versions to try) and then the shallowest first. Called for every
        unpinned package every round: each requirement's part is computed once (``Req``'s cached
        properties), the backtrack's names once per backtrack (``cause_names``)."""
        reqs = [info.requirement for info in information[identifier]]
        return (
            not any(req.url for req in reqs),
            not any(req.exact_pin for req in reqs),
            identifier not in self.cause_names(backtrack_causes),
            not any(req.upper_bounded for req in reqs),
            min((len(req.path) for req in reqs), default=0),
            identifier,
        )

    def narrow_requirement_selection(
        self,
        identifiers: Iterable[str],
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> Iterable[str]:
        """After a backtrack, only the packages involved in it, so the resolver goes straight back to
        the conflict."""
        names = self.cause_names(backtrack_causes)
        if not names:
            return identifiers
        identifiers = list(identifiers)
        involved = [i for i in identifiers if i in names]
        return involved or identifiers

    def cause_names(self, backtrack_causes: Sequence[Any]) -> frozenset[str]:
        """The identifiers of a backtrack's causes: the same set object while the causes are the same
        (resolvelib copies the list every round; a preference cache keys on this set)."""
        causes = tuple(backtrack_causes)
        if causes != self._causes:
            self._causes = causes
            self._cause_names = frozenset(_cause_names(causes))
        return self._cause_names

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> Sequence[Candidate] | Callable[[], Iterator[Candidate]]:
        reqs = list(requirements[identifier])
        bad = {c.version for c in incompatibilities[identifier]}
        bad.update(self.doomed.get(identifier, ()))
        if identifier == PYTHON:
            ok = all(r.specifier.contains(self.python_version, prereleases=True) for r in reqs)
            if ok and self.python_version not in bad:  # rejected once, never offered again
                return [Candidate(NormalizedName(PYTHON), self.python_version)]
            return []
        name = reqs[0].name
        extras = reqs[0].extras
        path = min((r.path for r in reqs), key=len)
        urls = {_url_key(r.url) for r in reqs if r.url}
        if urls:
            return self._url_candidates(name, extras, reqs, path)
        constraints = [c.requirement.specifier for c in self.constraints.get(name, [])]
        specifiers = [r.specifier for r in reqs] + constraints
        try:
            page = self.client.project(name)
        except ProjectNotFoundError as error:
            # No candidates rather than a fatal error: resolvelib backtracks to another version of
            # whatever requires it (as pip and uv do); the conflict message names the requirers.
            self.missing[name] = error.where
            return []
        query = Query(
            page=page,
            specifiers=specifiers,
            excluded=frozenset(bad),
            extras=extras,
            path=path,
            preferred=self.request.preferences.get(name),
            explicit_pre=any(self._asks_prereleases(r.specifier) for r in reqs)
            or any(s.prereleases for s in constraints),
        )
        return self.finder.matches(query)

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
        if candidate.name != PYTHON:
            self.on_event(ResolveEvent("metadata", candidate.label))
        for dep in deps:
            self.prefetch(dep)
        return deps

    def note_rejected(self, candidate: Candidate, information: Sequence[Any]) -> None:
        """A candidate whose dependencies clash with the input's requirements alone (no other package's)
        can never be pinned: find_matches offers it no more. resolvelib forgets a rejection when it
        backtracks, and without this tries it again under every version of whatever required it."""
        if any(info.parent is not None and info.parent != candidate for info in information):
            return
        if information and self._unsatisfiable([info.requirement for info in information]):
            self.doomed.setdefault(candidate.identifier, {})[candidate.version] = tuple(information)

    # -- helpers --

    def _unsatisfiable(self, reqs: Sequence[Req]) -> bool:
        """Could no candidate ever satisfy all of ``reqs`` (and the constraints), whatever else is pinned?"""
        if reqs[0].name == PYTHON:
            return not all(r.specifier.contains(self.python_version, prereleases=True) for r in reqs)
        if any(r.url for r in reqs):
            return False  # a URL's candidate is judged by find_matches alone
        name = reqs[0].name
        constraints = [c.requirement.specifier for c in self.constraints.get(name, [])]
        specifiers = [r.specifier for r in reqs] + constraints
        try:
            page = self.client.project(name)
        except ResolutionError:
            return False
        return not self.finder.any_usable(page, specifiers)

    def _dependencies(self, candidate: Candidate) -> list[Req]:
        if candidate.name == PYTHON or (candidate.metadata_file is None and candidate.metadata is None):
            return []
        metadata = candidate.metadata
        if metadata is None and candidate.metadata_file is not None:
            metadata = self.client.metadata(candidate.metadata_file)
        assert metadata is not None  # one of the two is set (checked above)
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
        if not candidate.extras and not self.finder.admits_python(metadata.requires_python):
            # The metadata's Requires-Python (the index's value already filtered the files) excludes the
            # target: a requirement no candidate satisfies, so resolvelib rejects this candidate and the
            # conflict names it. One admitting the target adds nothing: resolvelib rechecks every
            # requirement of every criterion each round, and one per package cost a fifth of its time.
            spec = SpecifierSet(metadata.requires_python or "")
            deps.append(Req(NormalizedName(PYTHON), frozenset(), spec, None, path))
        for text in metadata.requires_dist:
            requirement = self._requirement(text)
            if requirement is None:  # an unparsable dependency in someone's metadata: skip like pip does
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

    def _asks_prereleases(self, specifier: SpecifierSet) -> bool:
        """Does ``specifier`` name a prerelease (``>=2.0b1``: prereleases are candidates, PEP 440)? Once per
        specifier object: asked every time its package's candidates are listed, and the requirements of a
        dependency named alike share one (``_requirement``); packaging parses each version anew."""
        known = self._asks.get(id(specifier))
        if known is None or known[0] is not specifier:
            known = self._asks[id(specifier)] = (specifier, bool(specifier.prereleases))
        return known[1]

    def _requirement(self, text: str) -> Requirement | None:
        """``text`` parsed once per resolution (None: unparsable); the value is only read, never changed."""
        if text not in self._parsed:
            try:
                self._parsed[text] = Requirement(text)
            except Exception:
                self._parsed[text] = None
        return self._parsed[text]

    def _url_candidates(
        self, name: NormalizedName, extras: frozenset[str], reqs: Sequence[Req], path: tuple[str, ...]
    ) -> list[Candidate]:
        urls = sorted({r.url for r in reqs if r.url})
        if len({_url_key(u) for u in urls}) > 1:
            return []
        url = urls[0]
        origin = self._origin(url)
        if origin is not None and origin.kind != ARCHIVE:
            return self._source_candidates(name, extras, reqs, path, origin)
        filename = url.split("#", 1)[0].rsplit("/", 1)[-1]
        if origin is not None and origin.path is not None:  # a local archive: its file's own name
            filename = origin.path.name
        file = _dist_file(filename, url, name, index=None, local=origin is not None)
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

    def _origin(self, url: str) -> Source | None:
        found = self.origins.get(_url_key(url))
        if found is None and is_source_url(url):
            try:
                found = from_url(url)
            except BadSource as error:
                raise ResolutionError(str(error)) from None
        return found

    def _source_candidates(
        self,
        name: NormalizedName,
        extras: frozenset[str],
        reqs: Sequence[Req],
        path: tuple[str, ...],
        origin: Source,
    ) -> list[Candidate]:
        """The one candidate a project folder or git source offers: its metadata from its backend."""
        if self.request.sources is None:
            raise ResolutionError(f"{name}: {origin.shown()} needs a build, which is disabled here")
        resolved, metadata = self.request.sources.resolve(origin)
        if canonicalize_name(metadata.name) != name:
            raise ResolutionError(f"{origin.shown()} is the project {metadata.name!r}, not {name!r}")
        try:
            version = Version(metadata.version)
        except InvalidVersion:
            raise ResolutionError(f"{origin.shown()}: invalid version {metadata.version!r}") from None
        if not all(r.specifier.contains(version, prereleases=True) for r in reqs):
            return []
        url = reqs[0].url or resolved.reference()
        return [Candidate(name, version, extras, url=url, path=path, origin=resolved, metadata=metadata)]

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
            if preferred is not None and preferred in page.version_set:
                versions = [preferred]
            for version in versions:
                if not req.specifier.contains(version, prereleases=self.request.options.pre):
                    continue
                candidate = self.finder.candidate(page, version, frozenset(), req.path)
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
