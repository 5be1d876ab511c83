"""The resolver's work grows linearly with the packages it pins (issue 23): counted in provider calls,
not timed. resolvelib re-checks every pinned package's requirements and re-ranks every unpinned package
each round; envlock remembers those answers per criterion, so only what changed is asked again."""

from __future__ import annotations

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
