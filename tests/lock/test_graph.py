"""lock/graph.py, lock/diff.py and lock/outdated.py on hand-made locks: shapes compile does not make
(another tool's lock without ``via``, a cycle, a constraint, a dense graph) and the pure judgements."""

from __future__ import annotations

from typing import Any

from packaging.version import Version

from envlock.lock import graph as graph_module
from envlock.lock.diff import diff_locks
from envlock.lock.graph import CONSTRAINT, INPUT, TOP_LEVEL, lock_graph, paths_to, tree_lines
from envlock.lock.lockfile import lock_from_dict
from envlock.lock.outdated import Release, ReleaseFile, find_outdated

H = "a" * 64


def package(
    name: str,
    version: str,
    *deps: str,
    via: list[str] | None = None,
    asked: list[str] | None = None,
    sha: str = H,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "version": version,
        "wheels": [
            {
                "name": f"{name}-{version}-py3-none-any.whl",
                "url": f"https://x/{name}.whl",
                "hashes": {"sha256": sha},
            }
        ],
    }
    if deps:
        entry["dependencies"] = [{"name": d} for d in deps]
    table: dict[str, Any] = {}
    if via:
        table["via"] = via
    if asked:
        table["via-requirements"] = asked
    if table:
        entry["tool"] = {"envlock": table}
    return entry


def lock(*packages: dict[str, Any]) -> Any:
    return lock_from_dict(
        {"lock-version": "1.0", "created-by": "test", "packages": list(packages)}, source="t"
    )


def test_a_lock_without_via_grows_from_what_nothing_requires() -> None:
    (graph,) = lock_graph(lock(package("app", "1.0", "lib"), package("lib", "2.0"))).targets
    assert graph.target == ""
    assert [(e.parent, e.child, e.kind) for e in graph.roots] == [(TOP_LEVEL, "app", INPUT)]
    lines = tree_lines(graph)
    assert [(line.depth, line.node.shown if line.node else None) for line in lines] == [
        (0, "app 1.0"),
        (1, "lib 2.0"),
    ]
    paths, truncated = paths_to(graph, "lib")
    assert [[e.parent for e in path] for path in paths] == [[TOP_LEVEL, "app"]] and not truncated


def test_a_cycle_is_shown_once_and_not_followed() -> None:
    parsed = lock(
        package("a", "1.0", "b", via=["-r r.in", "b"], asked=["-r r.in: a", "b: a>=1"]),
        package("b", "1.0", "a", via=["a"], asked=["a: b"]),
    )
    (graph,) = lock_graph(parsed).targets
    lines = tree_lines(graph)
    assert [(line.depth, line.edge.child, line.cycle) for line in lines] == [
        (0, "a", False),
        (1, "b", False),
        (2, "a", True),
    ]
    paths, _ = paths_to(graph, "b")
    assert [[e.parent for e in path] for path in paths] == [["-r r.in", "a"]]


def test_a_constraint_limits_but_is_no_path_and_blocks_in_outdated() -> None:
    parsed = lock(
        package("app", "1.0", "lib", via=["-r r.in"], asked=["-r r.in: app"]),
        package("lib", "1.0", via=["-c c.txt", "app"], asked=["-c c.txt: lib<2", "app: lib>=1"]),
    )
    (graph,) = lock_graph(parsed).targets
    assert [(e.parent, e.kind) for e in graph.parents["lib"]] == [
        ("-c c.txt", CONSTRAINT),
        ("app", "package"),
    ]
    assert [e.child for e in graph.roots] == ["app"]
    paths, _ = paths_to(graph, "lib")
    assert [[e.parent for e in path] for path in paths] == [["-r r.in", "app"]]
    releases = {
        "lib": [Release(Version("2.0"), (ReleaseFile(),)), Release(Version("1.5"), (ReleaseFile(),))],
        "app": [],
    }
    (found,) = find_outdated(lock_graph(parsed), lambda name, _floor: releases[name])
    assert (found.name, found.latest, found.allowed, found.blocked_by) == (
        "lib",
        "2.0",
        "1.5",
        ("-c c.txt: lib<2",),
    )


def test_why_stops_at_max_paths(monkeypatch: Any) -> None:
    monkeypatch.setattr(graph_module, "MAX_PATHS", 3)
    layers = [package(f"m{i}", "1.0", "leaf", via=["top"]) for i in range(5)]
    parsed = lock(
        package("top", "1.0", *(f"m{i}" for i in range(5)), via=["-r r.in"]), *layers, package("leaf", "1.0")
    )
    paths, truncated = paths_to(lock_graph(parsed).targets[0], "leaf")
    assert len(paths) == 3 and truncated


def test_diff_of_a_downgrade_and_a_rehashed_file() -> None:
    old = lock(package("a", "2.0", via=["-r r.in"]), package("b", "1.0", sha=H))
    new = lock(package("a", "1.0", via=["-r r.in"]), package("b", "1.0", sha="b" * 64))
    diff = diff_locks(old, new, old_label="o", new_label="n")
    assert [(c.name, c.kind, c.old, c.new) for c in diff.packages] == [("a", "downgraded", "2.0", "1.0")]
    assert [(r.name, r.file, r.old, r.new) for r in diff.rehashed] == [
        ("b", "b-1.0-py3-none-any.whl", H, "b" * 64)
    ]
    assert diff.changed and not diff_locks(new, new, old_label="n", new_label="n").changed


def test_a_subtree_cut_by_depth_is_shown_where_it_is_reached_within_it() -> None:
    parsed = lock(
        package("app", "1.0", "lib", via=["-r r.in"]),
        package("lib", "1.0", "leaf", via=["app", "-r r.in"]),
        package("leaf", "1.0", via=["lib"]),
    )
    lines = tree_lines(lock_graph(parsed).targets[0], depth=1)
    shown = [(line.depth, line.edge.child, line.repeated) for line in lines]
    assert shown == [(0, "app", False), (1, "lib", False), (0, "lib", False), (1, "leaf", False)]


def test_outdated_without_recorded_requirements_says_so() -> None:
    parsed = lock(package("app", "1.0", "lib", via=["-r r.in"]), package("lib", "1.0", via=["app"]))
    found = find_outdated(
        lock_graph(parsed), lambda _name, _floor: [Release(Version("2.0"), (ReleaseFile(),))]
    )
    assert [(o.name, o.recorded) for o in found] == [("app", False), ("lib", False)]
    top = lock(package("solo", "1.0"))  # nothing requires it: nothing to record, allowed
    (only,) = find_outdated(
        lock_graph(top), lambda _name, _floor: [Release(Version("2.0"), (ReleaseFile(),))]
    )
    assert (only.recorded, only.allowed, only.blocked_by) == (True, "2.0", ())
