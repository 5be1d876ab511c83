"""Resolution: pins one version per project for one target environment (``resolve``), with resolvelib
driving the provider (``resolve.provider``); a conflict is explained in plain words (``resolve.conflicts``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from packaging.utils import NormalizedName
from resolvelib import ResolutionImpossible, ResolutionTooDeep
from resolvelib.resolvers import Criterion
from resolvelib.resolvers import Resolution as _ResolvelibResolution

from envlock.errors import ResolutionError
from envlock.inputs.config import DEFAULT_GROUP
from envlock.resolve.conflicts import conflict_hint, explain_conflict
from envlock.resolve.models import (
    PYTHON,
    Candidate,
    IndexLike,
    Pin,
    Req,
    Resolution,
    ResolveRequest,
    marker_applies,
    to_req,
)
from envlock.resolve.progress import OnEvent, Reporter, ResolveEvent, ignore
from envlock.resolve.provider import Provider


def root_requirements(request: ResolveRequest) -> list[Req]:
    reqs = []
    for item in request.requirements:
        if not marker_applies(item.requirement.marker, request.target):
            continue
        reqs.append(to_req(item.requirement, (item.source,), root=True))
    return reqs


def resolve(client: IndexLike, request: ResolveRequest, on_event: OnEvent = ignore) -> Resolution:
    """Pin every requirement for ``request.target``; a conflict raises ResolutionError explaining it.
    ``on_event`` hears what the resolution does while it runs (``resolve.progress``)."""
    roots = root_requirements(request)
    workers = request.prefetch_workers
    with ThreadPoolExecutor(max_workers=workers) if workers > 0 else _NoPool() as pool:
        threads = pool if isinstance(pool, ThreadPoolExecutor) else None
        provider = Provider(client, request, threads, on_event)
        for req in roots:
            provider.prefetch(req)
        try:
            mapping = _run(provider, roots, on_event)
        except ResolutionImpossible as error:
            if not provider.finder.held_back:
                raise _conflict(error, provider) from None
            # A second pass only when the first held a prerelease back: prereleases are then offered
            # after every final, so one is locked only where no all-final resolution exists.
            retry = "no resolution of final releases: again, with prereleases after them"
            on_event(ResolveEvent("backtrack", retry))
            second = Provider(client, request, threads, on_event, prereleases_last=True)
            try:
                mapping = _run(second, roots, on_event)
            except ResolutionImpossible:
                raise _conflict(error, provider) from None  # the first pass's clash: about finals
            provider = second
        except ResolutionTooDeep:
            raise ResolutionError(
                "the resolver gave up after too many rounds of backtracking",
                hint="add tighter version bounds to the requirements that keep changing",
            ) from None
        finally:
            if isinstance(pool, ThreadPoolExecutor):
                pool.shutdown(wait=True, cancel_futures=True)
    return _resolution(mapping, provider, request, roots)


class _Resolution(_ResolvelibResolution[Req, Candidate, str]):
    """resolvelib's resolution, with each package's "is its pin still satisfying?" remembered.

    resolvelib asks it of every package twice a round, re-checking every requirement of every pinned
    package: with N packages pinned one a round, N² checks (most of a large compile). The answer
    depends only on the package's criterion (an object resolvelib replaces, never changes, when its
    requirements change) and the pin, so it is kept while both are the same objects; the order of the
    unpinned packages likewise.
    """

    def __init__(self, provider: Provider, reporter: Reporter) -> None:
        super().__init__(provider, reporter)
        self._provider = provider
        self._satisfying: dict[str, tuple[Criterion[Req, Candidate], Candidate, bool]] = {}
        self._preferences: dict[str, tuple[Criterion[Req, Candidate], frozenset[str], Any]] = {}

    def _get_preference(self, name: str) -> Any:
        """The provider's preference, kept while the package's criterion and the backtrack's causes are
        the same objects (all it depends on): asked of every unpinned package every round."""
        criterion = self.state.criteria[name]
        causes = self._provider.cause_names(self.state.backtrack_causes)
        known = self._preferences.get(name)
        if known is not None and known[0] is criterion and known[1] is causes:
            return known[2]
        preference = super()._get_preference(name)
        self._preferences[name] = (criterion, causes, preference)
        return preference

    def _is_current_pin_satisfying(self, name: str, criterion: Criterion[Req, Candidate]) -> bool:
        pin = self.state.mapping.get(name)
        if pin is None:
            return False
        known = self._satisfying.get(name)
        if known is not None and known[0] is criterion and known[1] is pin:
            return known[2]
        answer = super()._is_current_pin_satisfying(name, criterion)
        self._satisfying[name] = (criterion, pin, answer)  # holding both: their ids stay theirs
        return answer


_MEMO_HOOKS = ("_get_preference", "_is_current_pin_satisfying")
# The two per-round checks _Resolution remembers are resolvelib methods (1.0 to 1.2), not its public API:
# a resolvelib without them gets its own Resolution (slower, the same answer), never a broken override;
# tests/resolve/test_resolver_cost.py fails when the locked resolvelib drops them.
_MEMO_HOOKS_PRESENT = all(callable(getattr(_ResolvelibResolution, hook, None)) for hook in _MEMO_HOOKS)


def _reachable(
    mapping: Mapping[str, Candidate], provider: Provider, roots: Sequence[Req]
) -> dict[str, Candidate]:
    """The pins the roots reach through the pins' dependencies (backtracking may leave others behind)."""
    reached: dict[str, Candidate] = {}
    stack = [root.identifier for root in roots]
    while stack:
        identifier = stack.pop()
        candidate = mapping.get(identifier)
        if candidate is None or identifier in reached:
            continue
        reached[identifier] = candidate
        stack.extend(dep.identifier for dep in provider.dependencies.get(candidate, ()))
    return {identifier: candidate for identifier, candidate in mapping.items() if identifier in reached}


def _run(provider: Provider, roots: Sequence[Req], on_event: OnEvent) -> dict[str, Candidate]:
    """One resolvelib resolution: the pins the roots reach."""
    reporter = Reporter(on_event, provider.note_rejected)
    resolution = _Resolution if _MEMO_HOOKS_PRESENT else _ResolvelibResolution
    try:
        state = resolution(provider, reporter).resolve(roots, max_rounds=20000)
    finally:
        reporter.finished()
    return _reachable(state.mapping, provider, roots)


def _conflict(error: ResolutionImpossible, provider: Provider) -> ResolutionError:  # type: ignore[type-arg]
    causes = list(error.causes)
    return ResolutionError(explain_conflict(causes, provider), hint=conflict_hint(causes, provider))


class _NoPool:
    def __enter__(self) -> _NoPool:
        return self

    def __exit__(self, *args: object) -> None:
        return None


def _resolution(
    mapping: Mapping[str, Candidate], provider: Provider, request: ResolveRequest, roots: Sequence[Req]
) -> Resolution:
    """The pins of resolvelib's result, each with what it depends on, what required it and its groups."""
    edges = _edges(mapping, provider)
    base_of = {identifier: candidate.name for identifier, candidate in mapping.items()}
    groups = _groups(edges, base_of, request, roots)
    via, depends = _links(edges, base_of)
    requested = _requested(mapping, provider)
    for root in roots:
        label = _source_label(root.path[0])
        via.setdefault(root.name, set()).add(label)
        requested.setdefault(root.name, set()).add(f"{label}: {_asked(root)}")
    for name, constraints in provider.constraints.items():
        for item in constraints:  # as pip-compile: "-c constraints.txt" names the file that constrained it
            if not item.source.startswith("--"):  # not -P NAME==VER
                label = _source_label(item.source, option="-c")
                via.setdefault(name, set()).add(label)
                spec = item.requirement
                asked = Req(NormalizedName(name), frozenset(spec.extras), spec.specifier)
                requested.setdefault(name, set()).add(f"{label}: {_asked(asked)}")
    pins: dict[str, Pin] = {}
    for identifier, candidate in mapping.items():
        if identifier == PYTHON or (candidate.name in pins and not candidate.extras):
            continue
        if candidate.extras and candidate.name in mapping:
            continue  # the base candidate carries the pin
        metadata_python = candidate.metadata.requires_python if candidate.metadata is not None else None
        if candidate.metadata is None and candidate.metadata_file is not None:
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
            origin=candidate.origin,
            requested=tuple(sorted(requested.get(candidate.name, ()))),
        )
    return Resolution(
        pins=tuple(pins[n] for n in sorted(pins)),
        target=request.target,
        warnings=tuple(sorted(provider.warnings)),
    )


def _edges(mapping: Mapping[str, Candidate], provider: Provider) -> dict[str, set[str]]:
    """Identifier -> identifiers of its dependencies (the target's Python left out)."""
    edges: dict[str, set[str]] = {}
    for identifier, candidate in mapping.items():
        if identifier == PYTHON:
            continue
        edges[identifier] = {
            d.identifier for d in provider.dependencies.get(candidate, []) if d.name != PYTHON
        }
    return edges


def _groups(
    edges: Mapping[str, set[str]], base_of: Mapping[str, str], request: ResolveRequest, roots: Sequence[Req]
) -> dict[str, set[str]]:
    """Project -> the root groups whose requirements reach it."""
    group_of_source = {item.source: item.group for item in request.requirements}
    groups: dict[str, set[str]] = {}
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
    return groups


def _links(
    edges: Mapping[str, set[str]], base_of: Mapping[str, str]
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Between projects (extras folded into their base): child -> parents (``via``), parent -> children."""
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
    return via, depends


def _requested(mapping: Mapping[str, Candidate], provider: Provider) -> dict[str, set[str]]:
    """Project -> ``"parent: requirement"`` for each package requirement on it (extras folded in)."""
    requested: dict[str, set[str]] = {}
    for identifier, candidate in mapping.items():
        if identifier == PYTHON:
            continue
        for dependency in provider.dependencies.get(candidate, []):
            if dependency.name not in (PYTHON, candidate.name):
                requested.setdefault(dependency.name, set()).add(f"{candidate.name}: {_asked(dependency)}")
    return requested


def _asked(req: Req) -> str:
    """What a requirement asks for, as the lock records it: name, extras and specifier (a direct URL is
    the entry's own ``archive``/``vcs``/``directory``, never repeated here: it may carry credentials)."""
    return req.name + (f"[{','.join(sorted(req.extras))}]" if req.extras else "") + str(req.specifier)


def _source_label(source: str, option: str = "-r") -> str:
    """``requirements.in:3`` -> ``-r requirements.in`` (``-c constraints.txt`` for constraints);
    pyproject locations -> ``pyproject.toml``."""
    if " " in source:
        return source.split(" ", 1)[0]
    file = source.rsplit(":", 1)[0] if source.rsplit(":", 1)[-1].isdigit() else source
    return f"{option} {file}"
