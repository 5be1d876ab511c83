"""Resolution: a resolvelib provider over the index client that pins one version per project for one
target environment, and the formatter that explains a conflict in plain words.

Policies (docs/compile.md): PEP 440 order, newest first, except that a pin from the previous lock is
tried first (minimal diff). Prereleases are candidates only with ``--pre``, when a requirement's
specifier names a prerelease, or when no final release satisfies the requirements. Yanked files are
ignored unless a user requirement or constraint pins that exact version with ``==``/``===``. A file
whose Requires-Python excludes the target is ignored; a version with no wheel for the target's tags
and no (allowed) sdist is not a candidate.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version
from resolvelib.providers import AbstractProvider
from resolvelib.reporters import BaseReporter

from envlock.env.interpreter import TargetEnvironment
from envlock.errors import ResolutionError
from envlock.index.client import CoreMetadata, DistFile, ProjectPage
from envlock.inputs.config import DEFAULT_GROUP, InputRequirement, ResolverOptions

PYTHON = "<python>"
"""Identifier of the virtual requirement on the target's Python version (from Requires-Python)."""


class IndexLike(Protocol):
    """What the resolver needs from an index client (``index.client.IndexClient``; tests pass fakes)."""

    def project(self, name: str) -> ProjectPage: ...

    def metadata(self, file: DistFile) -> CoreMetadata: ...


@dataclass(frozen=True)
class Req:
    """A requirement inside the resolver: one project (with extras), a specifier, where it came from."""

    name: NormalizedName
    extras: frozenset[str]
    specifier: SpecifierSet
    url: str | None = None
    path: tuple[str, ...] = field(default=(), compare=False)
    """Chain from the input: (``requirements.in:2``, ``b 1.0``, ...) — for conflict messages."""
    root: bool = field(default=False, compare=False)
    """Written by the user (an input requirement), not a dependency of a package."""

    @property
    def identifier(self) -> str:
        return identify_name(self.name, self.extras)

    def __str__(self) -> str:
        if self.name == PYTHON:
            return f"Python {self.specifier}"
        text = self.name + (f"[{','.join(sorted(self.extras))}]" if self.extras else "")
        if self.url:
            return f"{text} @ {self.url}"
        return text + str(self.specifier)


@dataclass(frozen=True)
class Candidate:
    """One version of one project (with extras): the files usable for the target, and all lockable ones."""

    name: NormalizedName
    version: Version
    extras: frozenset[str] = frozenset()
    files: tuple[DistFile, ...] = field(default=(), compare=False)
    """Every file of this version that may go into the lock (not yanked unless pinned; binary rules)."""
    metadata_file: DistFile | None = field(default=None, compare=False)
    """The file metadata is read from: the best compatible wheel, else the sdist."""
    url: str | None = None
    index: str | None = field(default=None, compare=False)
    path: tuple[str, ...] = field(default=(), compare=False)

    @property
    def identifier(self) -> str:
        return identify_name(self.name, self.extras)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


def identify_name(name: str, extras: Iterable[str]) -> str:
    ordered = sorted(extras)
    return f"{name}[{','.join(ordered)}]" if ordered else name


@dataclass(frozen=True)
class ResolveRequest:
    """Everything a resolution depends on besides the index."""

    requirements: tuple[InputRequirement, ...]
    target: TargetEnvironment
    constraints: tuple[InputRequirement, ...] = ()
    options: ResolverOptions = field(default_factory=ResolverOptions)
    preferences: Mapping[str, Version] = field(default_factory=dict)
    """Pins of the previous lock to keep while they satisfy (already minus the upgraded ones)."""
    prefetch_workers: int = 16


@dataclass(frozen=True)
class Pin:
    """A resolved package for the target."""

    name: NormalizedName
    version: Version
    files: tuple[DistFile, ...]
    url: str | None
    index: str | None
    requires_python: str | None
    dependencies: tuple[NormalizedName, ...]
    """Packages this one requires (for the target, with the extras that were asked of it)."""
    via: tuple[str, ...]
    """What required it: package names and input files (``-r requirements.in``)."""
    groups: frozenset[str]
    """Root groups that reach it: ``""`` (plain), ``extra:x``, ``group:g``."""


@dataclass(frozen=True)
class Resolution:
    pins: tuple[Pin, ...]
    """Sorted by name."""
    target: TargetEnvironment
    warnings: tuple[str, ...] = ()
    """Things the user should know that did not stop the resolution (an extra a package does not
    provide, as pip warns), sorted."""


def to_req(requirement: Requirement, path: tuple[str, ...], *, root: bool = False) -> Req:
    return Req(
        name=canonicalize_name(requirement.name),
        extras=frozenset(canonicalize_name(e) for e in requirement.extras),
        specifier=requirement.specifier,
        url=requirement.url or None,
        path=path,
        root=root,
    )


def marker_applies(marker: Marker | None, target: TargetEnvironment, extras: Iterable[str] = ("",)) -> bool:
    if marker is None:
        return True
    for extra in extras:
        environment = {**target.markers, "extra": extra}
        if marker.evaluate(environment):
            return True
    return False


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
        from envlock.index.pages import _dist_file

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


def root_requirements(request: ResolveRequest) -> list[Req]:
    reqs = []
    for item in request.requirements:
        if not marker_applies(item.requirement.marker, request.target):
            continue
        reqs.append(to_req(item.requirement, (item.source,), root=True))
    return reqs


def resolve(client: IndexLike, request: ResolveRequest) -> Resolution:
    """Pin every requirement for ``request.target``; a conflict raises ResolutionError explaining it."""
    from resolvelib import ResolutionImpossible, ResolutionTooDeep, Resolver

    roots = root_requirements(request)
    workers = request.prefetch_workers
    with ThreadPoolExecutor(max_workers=workers) if workers > 0 else _NoPool() as pool:
        provider = Provider(client, request, pool if isinstance(pool, ThreadPoolExecutor) else None)
        for req in roots:
            provider.prefetch(req)
        resolver: Any = Resolver(provider, Reporter())
        try:
            result = resolver.resolve(roots, max_rounds=20000)
        except ResolutionImpossible as error:
            raise ResolutionError(
                explain_conflict(list(error.causes), provider), hint=_conflict_hint()
            ) from None
        except ResolutionTooDeep:
            raise ResolutionError(
                "the resolver gave up after too many rounds of backtracking",
                hint="add tighter version bounds to the requirements that keep changing",
            ) from None
        finally:
            if isinstance(pool, ThreadPoolExecutor):
                pool.shutdown(wait=True, cancel_futures=True)
    return _resolution(result.mapping, provider, request, roots)


class _NoPool:
    def __enter__(self) -> _NoPool:
        return self

    def __exit__(self, *args: object) -> None:
        return None


def _conflict_hint() -> str:
    return "relax one of the requirements named above, or pin a version that fits all of them"


def explain_conflict(causes: Sequence[Any], provider: Provider) -> str:
    """Plain words: each clashing requirement with the chain that led to it."""
    lines: list[str] = []
    names = sorted({cause.requirement.name for cause in causes})
    subject = ", ".join(n if n != PYTHON else "the Python version" for n in names)
    if len(causes) == 1 and causes[0].parent is None and causes[0].requirement.name != PYTHON:
        req = causes[0].requirement
        lines.append(f"no version of {req.name} satisfies {req} (required by {_chain(req)})")
        lines.extend(_why_none(provider, req.name))
        return "\n".join(lines)
    lines.append(f"cannot pin {subject}: these requirements clash:")
    seen = set()
    for cause in causes:
        req = cause.requirement
        if req.name == PYTHON:
            text = f"  {_chain(req)} requires {req} (the target is Python {provider.python_version})"
        else:
            text = f"  {_chain(req)} requires {req}"
        if text not in seen:
            seen.add(text)
            lines.append(text)
    for name in names:
        if name != PYTHON and name in provider.excluded:
            lines.extend(_why_none(provider, name))
    return "\n".join(lines)


def _chain(req: Req) -> str:
    return " → ".join(req.path) if req.path else "the input"


def _why_none(provider: Provider, name: str) -> list[str]:
    excluded = provider.excluded.get(name, {})
    lines = []
    for version in sorted(excluded, reverse=True)[:5]:
        lines.append(f"  {name} {version} is not a candidate: {excluded[version]}")
    try:
        versions = provider.client.project(name).versions()
    except Exception:
        versions = []
    if versions:
        shown = ", ".join(str(v) for v in versions[:8]) + (" ..." if len(versions) > 8 else "")
        lines.append(f"  versions on the index: {shown}")
    return lines


def _resolution(
    mapping: Mapping[str, Candidate], provider: Provider, request: ResolveRequest, roots: Sequence[Req]
) -> Resolution:
    edges: dict[str, set[str]] = {}
    for identifier, candidate in mapping.items():
        if identifier == PYTHON:
            continue
        edges[identifier] = {
            d.identifier for d in provider.dependencies.get(candidate, []) if d.name != PYTHON
        }
    base_of = {identifier: candidate.name for identifier, candidate in mapping.items()}
    groups: dict[str, set[str]] = {}
    group_of_source = {}
    for item in request.requirements:
        group_of_source[item.source] = item.group
    for root in roots:
        group = group_of_source.get(root.path[0], DEFAULT_GROUP)
        stack = [root.identifier]
        seen: set[str] = set()
        while stack:
            current = stack.pop()
            if current in seen or current not in edges:
                continue
            seen.add(current)
            groups.setdefault(base_of[current], set()).add(group)
            stack.extend(edges[current])
    via: dict[str, set[str]] = {}
    depends: dict[str, set[str]] = {}
    for identifier, children in edges.items():
        parent = base_of[identifier]
        for child in children:
            child_name = base_of.get(child)
            if child_name is None or child_name == parent:
                continue
            via.setdefault(child_name, set()).add(parent)
            depends.setdefault(parent, set()).add(child_name)
    for root in roots:
        via.setdefault(root.name, set()).add(_source_label(root.path[0]))
    for name, constraints in provider.constraints.items():
        for item in constraints:  # as pip-compile: "-c constraints.txt" names the file that constrained it
            if not item.source.startswith("--"):  # not -P NAME==VER
                via.setdefault(name, set()).add(_source_label(item.source, option="-c"))
    pins: dict[str, Pin] = {}
    for identifier, candidate in mapping.items():
        if identifier == PYTHON or (candidate.name in pins and not candidate.extras):
            continue
        if candidate.extras and candidate.name in mapping:
            continue  # the base candidate carries the pin
        metadata_python = None
        if candidate.metadata_file is not None:
            metadata_python = provider.client.metadata(candidate.metadata_file).requires_python
        pins[candidate.name] = Pin(
            name=candidate.name,
            version=candidate.version,
            files=candidate.files,
            url=candidate.url,
            index=candidate.index,
            requires_python=metadata_python,
            dependencies=tuple(NormalizedName(n) for n in sorted(depends.get(candidate.name, set()))),
            via=tuple(sorted(via.get(candidate.name, ()))),
            groups=frozenset(groups.get(candidate.name, {DEFAULT_GROUP})),
        )
    return Resolution(
        pins=tuple(pins[n] for n in sorted(pins)),
        target=request.target,
        warnings=tuple(sorted(provider.warnings)),
    )


def _source_label(source: str, option: str = "-r") -> str:
    """``requirements.in:3`` -> ``-r requirements.in`` (``-c constraints.txt`` for constraints);
    pyproject locations -> ``pyproject.toml``."""
    if " " in source:
        return source.split(" ", 1)[0]
    file = source.rsplit(":", 1)[0] if source.rsplit(":", 1)[-1].isdigit() else source
    return f"{option} {file}"
