"""Resolution: pins one version per project for one target environment (``resolve``), with resolvelib
driving the provider (``resolve.provider``); a conflict is explained in plain words (``resolve.conflicts``).
"""

from __future__ import annotations

import collections
import heapq
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import resolvelib
from packaging.utils import NormalizedName
from resolvelib import ResolutionImpossible, ResolutionTooDeep
from resolvelib.resolvers import Criterion, RequirementsConflicted
from resolvelib.resolvers import Resolution as _ResolvelibResolution
from resolvelib.structs import State

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
    made: list[Provider] = []  # the last one is the provider of the resolution that ran last

    def provider(prereleases_last: bool = False) -> Provider:
        made.append(Provider(client, request, threads, on_event, prereleases_last=prereleases_last))
        for req in roots:
            made[-1].prefetch(req)
        return made[-1]

    with ThreadPoolExecutor(max_workers=workers) if workers > 0 else _NoPool() as pool:
        threads = pool if isinstance(pool, ThreadPoolExecutor) else None
        try:
            mapping = _run(provider, roots, on_event)
        except ResolutionImpossible as error:
            first = made[-1]
            if not first.finder.held_back:
                raise _conflict(error, first) from None
            # A second pass only when the first held a prerelease back: prereleases are then offered
            # after every final, so one is locked only where no all-final resolution exists.
            retry = "no resolution of final releases: again, with prereleases after them"
            on_event(ResolveEvent("backtrack", retry))
            try:
                mapping = _run(lambda: provider(prereleases_last=True), roots, on_event)
            except ResolutionImpossible:
                raise _conflict(error, first) from None  # the first pass's clash: about finals
        except ResolutionTooDeep:
            raise ResolutionError(
                "the resolver gave up after too many rounds of backtracking",
                hint="add tighter version bounds to the requirements that keep changing",
            ) from None
        finally:
            if isinstance(pool, ThreadPoolExecutor):
                pool.shutdown(wait=True, cancel_futures=True)
    return _resolution(mapping, made[-1], request, roots)


class _Resolution(_ResolvelibResolution[Req, Candidate, str]):
    """resolvelib's resolution, with each package's "is its pin still satisfying?" remembered, and a
    conflict-free loop that judges only what each pin changed (``resolve_without_conflict``).

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
        # resolve_without_conflict's bookkeeping: the packages to pin, and their preferences in a heap
        self._unsatisfied: set[str] = set()
        self._heap: list[tuple[Any, int, str, Criterion[Req, Candidate]]] = []
        self._order = itertools.count()  # ties in the heap never compare criteria
        self._in_place = False  # the conflict-free loop runs: pins write only the criteria they change

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

    def resolve_without_conflict(
        self, requirements: Sequence[Req], max_rounds: int
    ) -> State[Req, Candidate, str]:
        """resolvelib's rounds while no pin fails, with each round's work proportional to what changed:
        the first failed pin (or root clash) raises ``_Conflicted``, and the caller starts resolvelib's
        own loop. Without a failure the two loops are the same steps: each round pins the most
        preferred package whose pin is missing or no longer satisfies its requirements (the preference
        ends with the identifier, so it names one package whatever the order; no backtrack, so the
        provider narrows nothing), through resolvelib's own pin and state methods, and un-pins (drops
        the requirements of) pinned packages that the new pin's requirements no longer admit. What
        differs is the bookkeeping: resolvelib rescans every package every round and copies its state
        for backtracking (N² at N packages); here only the pinned package and its dependencies, whose
        criteria are the only ones that changed, are judged again, the most preferred one comes from a
        heap, and the one state is pinned into in place."""
        self._r.starting()
        self._in_place = True
        self._states = [State(mapping=collections.OrderedDict(), criteria={}, backtrack_causes=[])]
        try:
            for requirement in requirements:
                self._add_to_criteria(self.state.criteria, requirement, parent=None)
        except RequirementsConflicted:
            raise _Conflicted from None
        self._push_new_state()
        self._judge(list(self.state.criteria))
        known = set(self.state.criteria)  # keys never leave the criteria while nothing backtracks
        for index in range(max_rounds):
            self._r.starting_round(index=index)
            if not self._unsatisfied:
                self._r.ending(state=self.state)
                return self.state
            name = self._most_preferred()
            if self._attempt_to_pin_criterion(name):
                raise _Conflicted
            pinned = self.state.mapping[name]
            changed = {self._p.identify(dep) for dep in self._p.get_dependencies(candidate=pinned)}
            dropped = {
                key
                for key in changed & known
                if key not in self._unsatisfied
                and not self._is_current_pin_satisfying(key, self.state.criteria[key])
            }
            known |= changed
            if dropped:  # every criterion is replaced: judge them all again
                self._remove_information_from_criteria(self.state.criteria, dropped)
                self._unsatisfied.clear()
                self._heap.clear()
                self._judge(list(self.state.criteria))
            else:
                self._judge(changed | {name})
            # No state pushed per round (resolvelib copies the pins and criteria every round, N² at N
            # packages, to backtrack to): this loop never backtracks, a conflict starts over instead.
            self._r.ending_round(index=index, state=self.state)
        raise ResolutionTooDeep(max_rounds)

    def _get_updated_criteria(self, candidate: Candidate) -> dict[str, Criterion[Req, Candidate]]:
        """resolvelib copies every criterion, adds the candidate's dependencies to the copy, and the pin
        writes the whole copy back (N entries a pin). In the conflict-free loop the dependencies are
        added to a dict of the changed criteria read over the state's, and only those are written back:
        the same criteria after the pin."""
        if not self._in_place:
            return super()._get_updated_criteria(candidate)
        changed: dict[str, Criterion[Req, Candidate]] = {}
        over = collections.ChainMap(changed, self.state.criteria)  # reads fall through, writes stay
        for requirement in self._p.get_dependencies(candidate=candidate):
            # resolvelib reads, writes and wraps it as a mapping (get, [], in): a ChainMap serves
            self._add_to_criteria(cast("dict[str, Criterion[Req, Candidate]]", over), requirement, candidate)
        return changed

    def _judge(self, names: Iterable[str]) -> None:
        """Re-judge ``names`` (their criteria or pins changed): in or out of the unsatisfied, and a fresh
        preference on the heap for those in it (older entries are skipped when met)."""
        criteria = self.state.criteria
        for name in names:
            criterion = criteria[name]
            if self._is_current_pin_satisfying(name, criterion):
                self._unsatisfied.discard(name)
            else:
                self._unsatisfied.add(name)
                entry = (self._get_preference(name), next(self._order), name, criterion)
                heapq.heappush(self._heap, entry)

    def _most_preferred(self) -> str:
        """The unsatisfied package the provider prefers (its preference as of its criterion now)."""
        heap = self._heap
        while heap[0][2] not in self._unsatisfied or self.state.criteria[heap[0][2]] is not heap[0][3]:
            heapq.heappop(heap)  # pinned since, or its criterion replaced (a newer entry exists)
        return heap[0][2]


class _Conflicted(Exception):
    """The conflict-free loop met a failed pin: the resolution is left to resolvelib's own loop."""


_MEMO_HOOKS = ("_get_preference", "_is_current_pin_satisfying")
# The two per-round checks _Resolution remembers are resolvelib methods (1.0 to 1.2), not its public API:
# a resolvelib without them gets its own Resolution (slower, the same answer), never a broken override;
# tests/resolve/test_resolver_cost.py fails when the locked resolvelib drops them.
_MEMO_HOOKS_PRESENT = all(callable(getattr(_ResolvelibResolution, hook, None)) for hook in _MEMO_HOOKS)
_FAST_LOOP_HOOKS = (
    "_add_to_criteria",
    "_get_updated_criteria",
    "_push_new_state",
    "_attempt_to_pin_criterion",
    "_remove_information_from_criteria",
)
# The conflict-free loop steps through these resolvelib methods (1.0 to 1.2) as resolvelib's loop does;
# without them, resolvelib's own loop runs. tests/resolve/test_resolver_cost.py checks both loops pin
# the same packages in the same rounds, so a resolvelib whose loop changes fails there.
PROVEN_RESOLVELIB = ("1.0", "1.1", "1.2")
"""The resolvelib releases the conflict-free loop's steps were proven against (the test pins with both
loops round by round): a later one, even with methods of the same names, gets resolvelib's own loop,
for private steps may keep their names and change what they do."""


def fast_loop_allowed(version: str, resolution: type) -> bool:
    """May the conflict-free loop run on resolvelib ``version`` with its ``resolution`` class?"""
    present = all(callable(getattr(resolution, hook, None)) for hook in (*_MEMO_HOOKS, *_FAST_LOOP_HOOKS))
    return present and ".".join(version.split(".")[:2]) in PROVEN_RESOLVELIB


_FAST_LOOP_PRESENT = fast_loop_allowed(resolvelib.__version__, _ResolvelibResolution)


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


MAX_ROUNDS = 20000


def _run(provider: Callable[[], Provider], roots: Sequence[Req], on_event: OnEvent) -> dict[str, Candidate]:
    """One resolution with a new ``provider()``: the pins the roots reach. First the conflict-free loop
    (``_Resolution.resolve_without_conflict``); at its first conflict, resolvelib's own loop from the
    start with another new provider (the first one learned from its rejections), so a resolution that
    backtracks is exactly resolvelib's."""
    if _FAST_LOOP_PRESENT:
        first = provider()
        reporter = Reporter(on_event, first.note_rejected)
        try:
            state = _Resolution(first, reporter).resolve_without_conflict(roots, MAX_ROUNDS)
        except _Conflicted:
            pass
        except BaseException:
            reporter.finished()
            raise
        else:
            reporter.finished()
            return _reachable(state.mapping, first, roots)
    again = provider()
    reporter = Reporter(on_event, again.note_rejected)
    resolution = _Resolution if _MEMO_HOOKS_PRESENT else _ResolvelibResolution
    try:
        state = resolution(again, reporter).resolve(roots, max_rounds=MAX_ROUNDS)
    finally:
        reporter.finished()
    return _reachable(state.mapping, again, roots)


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
