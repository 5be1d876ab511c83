"""Fuzz the lock-reading commands' core: whatever lock envlock accepts, with any ``via`` and
``via-requirements`` text, the graph, its paths and trees, the diff and the outdated judgement finish
with values or an EnvlockError, never another exception; a lock compared with itself shows no change."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from envlock.lock.diff import as_markdown, as_text, diff_locks
from envlock.lock.graph import lock_graph, paths_to, tree_lines
from envlock.lock.lockfile import lock_from_dict
from envlock.lock.outdated import Release, ReleaseFile, find_outdated
from tests.hostile.test_fuzz import FUZZ, LOCK_DATA, NAMES, NEAR_VALID_LOCK, TEXT, outcome

LABELS = st.one_of(NAMES, TEXT, st.sampled_from(["-r requirements.in", "-c c.txt", "pyproject.toml"]))
ASKED = st.builds(
    lambda label, text: f"{label}: {text}", LABELS, st.one_of(TEXT, NAMES, st.just("x>=1, x[y]<2"))
)


@st.composite
def with_graph_tables(draw: st.DrawFn) -> dict[str, Any]:
    data = draw(st.one_of(NEAR_VALID_LOCK, LOCK_DATA))
    packages = data.get("packages")
    if isinstance(packages, list):
        for package in packages:
            if isinstance(package, dict) and draw(st.booleans()):
                table = {
                    "via": draw(st.lists(LABELS, max_size=3)),
                    "via-requirements": draw(st.lists(ASKED, max_size=3)),
                }
                package["tool"] = {"envlock": table}
    return data


@FUZZ
@given(data=with_graph_tables(), newest=st.sampled_from(["0.1", "1.0", "99", "2.0rc1"]))
def test_graph_diff_and_outdated_on_any_accepted_lock(data: dict[str, Any], newest: str) -> None:
    lock = outcome(lambda: lock_from_dict(data, source="fuzz.toml"))
    if lock is None:
        return
    graph = outcome(lambda: lock_graph(lock))
    if graph is None:
        return
    for target in graph.targets:
        for name in target.nodes:
            paths, _ = paths_to(target, name)
            assert all(path[-1].child == name for path in paths)
            tree_lines(target, depth=2, invert=name)
        tree_lines(target)
    same = diff_locks(lock, lock, old_label="a", new_label="a")
    assert not same.changed, same
    as_text(same), as_markdown(same)
    empty = diff_locks(None, lock, old_label="none", new_label="a")
    as_text(empty), as_markdown(empty)
    find_outdated(
        graph, lambda _name, _floor: [Release(Version(newest), (ReleaseFile(), ReleaseFile(">=3.99")))]
    )
