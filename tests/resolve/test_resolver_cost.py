"""The resolver's work grows linearly with the packages it pins (issue 23): counted in provider calls,
not timed. resolvelib re-checks every pinned package's requirements and re-ranks every unpinned package
each round; envlock remembers those answers per criterion, so only what changed is asked again."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from packaging.requirements import Requirement

from envlock.inputs.config import InputRequirement
from envlock.resolve.models import ResolveRequest
from envlock.resolve.provider import Provider
from envlock.resolve.resolver import resolve
from tests.kit.counting import count_calls
from tests.resolve.test_resolver import LINUX_311, FakeIndex, Rel


def _graph(n: int) -> dict[str, list[Rel]]:
    """p0 … p(n-1): each requires its two children of a binary heap and the next project, every
    release with a Requires-Python (as real packages have) that admits the target."""
    projects: dict[str, list[Rel]] = {}
    for i in range(n):
        requires = tuple(f"p{j}>=1" for j in sorted({2 * i + 1, 2 * i + 2, i + 1}) if j < n)
        projects[f"p{i}"] = [Rel(v, requires, requires_python=">=3.8") for v in ("1.0", "2.0")]
    return projects


def _resolve_graph(graph: dict[str, list[Rel]]) -> None:
    """Resolve ``p0`` of ``graph``: every project pinned (the graph has no conflict)."""
    request = ResolveRequest(
        requirements=(InputRequirement(Requirement("p0"), "requirements.in:1"),),
        target=LINUX_311,
        prefetch_workers=0,
    )
    assert len(resolve(FakeIndex(graph), request).pins) == len(graph)


def _texts(graph: dict[str, list[Rel]]) -> set[str]:
    """The distinct requirement texts of the graph's newest releases."""
    return {text for releases in graph.values() for text in releases[-1].requires}


def _calls(n: int, monkeypatch: pytest.MonkeyPatch) -> int:
    counted = count_calls(monkeypatch, Provider, "is_satisfied_by", "get_preference")
    request = ResolveRequest(
        requirements=(InputRequirement(Requirement("p0"), "requirements.in:1"),),
        target=LINUX_311,
        prefetch_workers=0,
    )
    resolution = resolve(FakeIndex(_graph(n)), request)
    assert {p.name: str(p.version) for p in resolution.pins} == {f"p{i}": "2.0" for i in range(n)}
    monkeypatch.undo()
    return sum(counted.values())


def test_provider_calls_grow_linearly_with_the_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    small, large = _calls(50, monkeypatch), _calls(200, monkeypatch)
    assert large <= 4 * small * 1.25, (small, large)  # 4× the packages: 4× the calls, not 16×


def test_the_locked_resolvelib_has_the_checks_envlock_remembers() -> None:
    """The memo overrides two resolvelib methods outside its public API: an upgrade that drops them
    would silently bring back the quadratic cost, so it fails here instead."""
    from envlock.resolve import resolver

    assert resolver._MEMO_HOOKS_PRESENT


def _bookkeeping(n: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """The resolution's own per-package checks (pin still satisfying? preference?), answered from
    memory or not: resolvelib asks them of every package every round."""
    from envlock.resolve import resolver

    counted = count_calls(monkeypatch, resolver._Resolution, "_is_current_pin_satisfying", "_get_preference")
    _resolve_graph(_graph(n))
    monkeypatch.undo()
    return sum(counted.values())


def test_the_rounds_bookkeeping_grows_linearly_with_the_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even remembered, resolvelib's rescan of every package every round is N² lookups (at 500
    packages, 300k); the conflict-free loop judges only the pinned package and its dependencies."""
    small, large = _bookkeeping(50, monkeypatch), _bookkeeping(200, monkeypatch)
    assert large <= 4 * small * 1.25, (small, large)


def test_the_conflict_free_loop_copies_no_state_per_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """resolvelib copies its pins and criteria every round to backtrack to (N copies of N entries);
    the conflict-free loop never backtracks, so it copies none, whatever the lock's size."""
    from envlock.resolve import resolver

    pushed = []
    for n in (50, 200):
        counted = count_calls(monkeypatch, resolver._Resolution, "_push_new_state")
        _resolve_graph(_graph(n))
        monkeypatch.undo()
        pushed.append(counted["_push_new_state"])
    assert pushed == [1, 1], pushed


def test_a_pin_writes_back_only_the_criteria_it_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    """resolvelib's pin copies every criterion and writes the copy back (N entries a pin: N² at N
    packages); in the conflict-free loop a pin writes its dependencies' criteria alone."""
    from envlock.resolve import resolver

    written = Counter[int]()
    original = resolver._Resolution._get_updated_criteria

    def counting(self: Any, candidate: Any) -> Any:
        criteria = original(self, candidate)
        written[len(self.state.mapping)] += len(criteria)
        return criteria

    monkeypatch.setattr(resolver._Resolution, "_get_updated_criteria", counting)
    n = 200
    _resolve_graph(_graph(n))
    assert sum(written.values()) <= 3 * n, sum(written.values())  # at most three dependencies a package


def _random_graph(seed: int, n: int = 14) -> dict[str, list[Rel]]:
    """Projects with three releases each requiring later projects with random bounds: upper bounds
    that un-pin an already pinned package (its newest release no longer admitted), and clashes."""
    rng = random.Random(seed)
    projects: dict[str, list[Rel]] = {}
    for i in range(n):
        releases = []
        for version in ("1.0", "2.0", "3.0"):
            later = rng.sample(range(i + 1, n), min(rng.randint(0, 3), n - i - 1))
            requires = tuple(
                f"p{j}" + rng.choice(("", ">=1", "<3", "<2", ">=2", "!=3.0", "==1.0")) for j in sorted(later)
            )
            releases.append(Rel(version, requires, requires_python=">=3.8"))
        projects[f"p{i}"] = releases
    return projects


def _pins_and_rounds(
    loop: str, index: FakeIndex, request: ResolveRequest
) -> tuple[list[tuple[str, str]], int]:
    """The pins in the order made, and the rounds, of one loop ("fast": the conflict-free one)."""
    from envlock.resolve.progress import Reporter
    from envlock.resolve.resolver import _Resolution, root_requirements

    reporter = Reporter()
    resolution = _Resolution(Provider(index, request, None), reporter)
    resolution.loop = loop  # type: ignore[attr-defined]
    roots = root_requirements(request)
    if loop == "fast":
        state = resolution.resolve_without_conflict(roots, 1000)
    else:
        state = resolution.resolve(roots, max_rounds=1000)
    return [(k, str(c.version)) for k, c in state.mapping.items()], reporter.rounds


def test_the_conflict_free_loop_pins_as_resolvelibs_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Round by round the same pins, in the same order, as resolvelib's own loop, whenever no pin
    fails (un-pinning included); at the first failure it hands over (``_Conflicted``)."""
    from envlock.resolve import resolver
    from envlock.resolve.resolver import _Conflicted

    dropped = Counter[str]()
    original = resolver._Resolution._remove_information_from_criteria

    def counting(self: Any, criteria: Any, parents: Any) -> None:
        dropped[getattr(self, "loop", "")] += bool(parents)
        original(self, criteria, parents)

    monkeypatch.setattr(resolver._Resolution, "_remove_information_from_criteria", counting)
    outcomes = Counter[str]()
    for seed in range(80):
        index = FakeIndex(_random_graph(seed))
        lines = ("p0", "p1>=2") if seed % 2 else ("p0",)
        request = ResolveRequest(
            requirements=tuple(
                InputRequirement(Requirement(r), f"requirements.in:{i}") for i, r in enumerate(lines)
            ),
            target=LINUX_311,
            prefetch_workers=0,
        )

        try:
            fast = _pins_and_rounds("fast", index, request)
        except _Conflicted:
            outcomes["conflict"] += 1
            continue
        assert fast == _pins_and_rounds("resolvelib", index, request), seed
        outcomes["same"] += 1
    # Both paths are exercised: resolutions that un-pin without failing, and conflicts handed over.
    assert outcomes["same"] >= 20 and outcomes["conflict"] >= 2 and dropped["fast"] >= 3, (
        outcomes,
        dropped,
    )


def test_the_locked_resolvelib_has_the_steps_of_the_conflict_free_loop() -> None:
    from envlock.resolve import resolver

    assert resolver._FAST_LOOP_PRESENT


def test_the_conflict_free_loop_runs_only_on_the_resolvelib_it_was_proven_against() -> None:
    """A later resolvelib with methods of the same names gets its own loop; so does one without them."""
    from resolvelib.resolvers import Resolution

    from envlock.resolve.resolver import fast_loop_allowed

    assert fast_loop_allowed("1.2.1", Resolution) and fast_loop_allowed("1.0.1", Resolution)
    assert not fast_loop_allowed("1.3.0", Resolution) and not fast_loop_allowed("2.0", Resolution)
    assert not fast_loop_allowed("1.2.1", object)


def test_a_requirements_specifier_is_spelled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The admitted-versions memo is keyed by the specifier's text; packaging sorts and joins it anew
    each time, and a requirement's specifier is asked about every time its package's candidates are
    listed: once per specifier object, not once per question."""
    from packaging.specifiers import SpecifierSet

    n = 100
    graph = _graph(n)
    counted = count_calls(monkeypatch, SpecifierSet, "__str__")
    _resolve_graph(graph)
    monkeypatch.undo()
    edges = sum(len(releases[0].requires) for releases in graph.values())
    # once for the memo's key, once for what the lock records each package asks for (``via``)
    assert counted["__str__"] <= 2 * edges + 2, (counted, edges)


def test_a_dependency_named_by_several_packages_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the graph every ``pJ>=1`` is required by two packages (J's parent and J-1): the provider
    parses each text once (the fake index parses them too, to build metadata: not counted)."""
    import sys

    n = 100
    graph = _graph(n)
    parsed = Counter[str]()
    original = Requirement.__init__

    def counting(self: Requirement, text: str) -> None:
        parsed[sys._getframe(1).f_globals["__name__"]] += 1
        original(self, text)

    monkeypatch.setattr(Requirement, "__init__", counting)
    _resolve_graph(graph)
    monkeypatch.undo()
    texts = _texts(graph)
    assert parsed["envlock.resolve.provider"] == len(texts), (parsed, len(texts))


def test_whether_a_specifier_names_a_prerelease_is_judged_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked every time a package's candidates are listed; the requirements of a dependency named alike
    share one specifier (parsed once), and packaging parses its versions anew at each question."""
    from packaging.specifiers import SpecifierSet

    n = 100
    graph = _graph(n)
    asked = Counter[int]()
    original = SpecifierSet.prereleases

    def counting(self: SpecifierSet) -> bool | None:
        asked[id(self)] += 1
        return original.fget(self)  # type: ignore[attr-defined,no-any-return]

    monkeypatch.setattr(SpecifierSet, "prereleases", property(counting, original.fset))  # type: ignore[attr-defined]
    _resolve_graph(graph)
    monkeypatch.undo()
    texts = _texts(graph)
    assert sum(asked.values()) <= len(texts) + 1, (sum(asked.values()), len(texts))  # + the root's
