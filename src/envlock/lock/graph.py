"""The lock's dependency graph, per target of the lock: packages (nodes), who requires whom and how
(edges carrying the requirement ``[packages.tool.envlock] via-requirements`` records), and the input
requirements the graph grows from (roots). Pure: a ``Pylock`` in, frozen values out; ``envlock why``,
``tree`` and ``diff`` read the lock through it, never the index."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.pylock import Package, Pylock
from packaging.utils import canonicalize_name

from envlock.env.interpreter import TargetEnvironment, describe_target
from envlock.env.targets import parse_target, spec_for, target_environment
from envlock.errors import InputError
from envlock.lock.lockfile import TOOL_KEY, VIA_REQUIREMENTS

INPUT = "input"
"""Edge kind: an input requirement (``-r requirements.in``, ``pyproject.toml``) on a package."""
PACKAGE = "package"
"""Edge kind: a locked package's requirement on another."""
CONSTRAINT = "constraint"
"""Edge kind: a constraint file (``-c constraints.txt``) that limits a package without requiring it."""
TOP_LEVEL = "(top level)"
"""The parent of a package nothing in the lock says requires (a lock from another tool, without ``via``)."""
_T = TypeVar("_T")
MAX_PATHS = 200
"""``why`` lists at most this many paths per target (a dense graph can have millions)."""


@dataclass(frozen=True, order=True)
class Edge:
    """``parent`` requires ``child`` (as ``requirement`` says, when the lock records it)."""

    parent: str
    """A package name, or an input label (``-r requirements.in``, ``pyproject.toml``, ``-c c.txt``)."""
    child: str
    requirement: str | None
    """``b<2,>=1`` as the parent asks for the child; None: the lock does not say (older lock, other tool)."""
    kind: str = PACKAGE
    """``package``, ``input`` or ``constraint``."""

    @property
    def shown(self) -> str:
        """``b<2,>=1`` or, with no recorded requirement, the bare name."""
        return self.requirement or self.child


@dataclass(frozen=True)
class Node:
    """A locked package as one target sees it."""

    name: str
    version: str | None
    """None for a ``directory`` entry (a source tree has no fixed version)."""

    @property
    def shown(self) -> str:
        return f"{self.name} {self.version}" if self.version else f"{self.name} (directory)"


@dataclass(frozen=True)
class TargetGraph:
    """The packages one target of the lock installs and the edges between them."""

    target: str
    """``cpython 3.12 on linux/x86_64``; ``""`` for a lock that names no targets."""
    nodes: Mapping[str, Node]
    children: Mapping[str, tuple[Edge, ...]]
    """Package name -> its requirements on other packages (package edges), sorted by child."""
    parents: Mapping[str, tuple[Edge, ...]]
    """Package name -> every edge into it (package, input and constraint edges), sorted."""
    roots: tuple[Edge, ...]
    """The input edges (and top-level ones), sorted by child then label."""
    python: str | None = None
    """The target's Python (``3.11.0``: what compile resolves for); None for a lock without targets."""
    tags: frozenset[str] | None = None
    """The target's wheel tags; None when not known (a lock without targets, or targets envlock cannot
    name): every wheel is then taken to fit."""


@dataclass(frozen=True)
class LockGraph:
    targets: tuple[TargetGraph, ...]
    """One per target of the lock, in the lock's ``environments`` order (at least one)."""

    def known(self, name: str, lock_path: Path) -> str:
        """``name`` normalized, when some target has it; an InputError naming the lock else."""
        wanted = str(canonicalize_name(name))
        if not any(wanted in graph.nodes for graph in self.targets):
            raise InputError(
                f"{lock_path} has no package {name!r}",
                hint=f"see what it has: envlock tree --lock {lock_path}",
            )
        return wanted

    def target(self, label: str, lock_path: Path) -> TargetGraph:
        """The graph of the target described as ``label``; an InputError naming the lock's targets else."""
        for graph in self.targets:
            if graph.target == label:
                return graph
        known = "; ".join(g.target for g in self.targets if g.target) or "none named"
        raise InputError(f"{lock_path} has no target {label} (its targets: {known})")


def lock_graph(lock: Pylock) -> LockGraph:
    """The graph of every target the lock's ``environments`` names (one graph of every package when it
    names none, or names them in a form other than envlock's)."""
    identities = [_identity(str(marker)) for marker in lock.environments or ()]
    extras = frozenset(str(e) for e in lock.extras or ())
    groups = frozenset(str(g) for g in (*(lock.dependency_groups or ()), *(lock.default_groups or ())))
    if not identities or any(identity is None for identity in identities):
        return LockGraph((_graph("", list(lock.packages)),))
    graphs = []
    for identity in identities:
        assert identity is not None
        target = _environment(identity)
        environment = {**target.markers, "extras": extras, "dependency_groups": groups}
        chosen = [p for p in lock.packages if _applies(p.marker, environment)]
        graph = _graph(describe_target(target), chosen, target.python_full_version)
        graphs.append(replace(graph, tags=frozenset(target.tags) or None))
    return LockGraph(tuple(graphs))


def target_label(spec_text: str) -> str:
    """``cp312-linux-x86_64`` -> ``cpython 3.12 on linux/x86_64`` (how a graph names its target);
    an InputError for a malformed target."""
    return describe_target(target_environment(parse_target(spec_text)))


_IDENTITY = re.compile(r"(\w+) == [\"']([^\"']*)[\"']")
_IDENTITY_KEYS = {"implementation_name", "python_version", "sys_platform", "platform_machine"}


def _identity(marker: str) -> dict[str, str] | None:
    """The identity values of an ``environments`` marker as compile writes it, else None."""
    values = dict(_IDENTITY.findall(marker))
    return values if set(values) >= _IDENTITY_KEYS else None


def _environment(identity: Mapping[str, str]) -> TargetEnvironment:
    """Full marker values for a target identity: those of the named target when envlock can name it
    (``cp312-windows-amd64``), else the identity's own values."""
    bare = TargetEnvironment(
        markers={**identity, "python_full_version": f"{identity['python_version']}.0"}, tags=()
    )
    text = spec_for(bare)
    if text is None:
        return bare
    named = target_environment(parse_target(text))
    return TargetEnvironment(markers={**named.markers, **identity}, tags=named.tags)


def _applies(marker: Marker | None, environment: Mapping[str, object]) -> bool:
    if marker is None:
        return True
    try:
        return marker.evaluate(environment, context="lock_file")  # type: ignore[arg-type]
    except (UndefinedEnvironmentName, UndefinedComparison):
        return True  # a marker naming what no target states: shown rather than hidden


def _graph(target: str, packages: Sequence[Package], python: str | None = None) -> TargetGraph:
    nodes: dict[str, Node] = {}
    for package in sorted(packages, key=lambda p: (p.name, str(p.version or ""))):
        nodes.setdefault(str(package.name), Node(str(package.name), _version(package)))
    # a second entry of one name (a lock without targets): the first one stands
    kept = [p for p in packages if nodes[str(p.name)].version == _version(p)]
    asked = {str(p.name): _asked(p) for p in kept}
    edges: set[Edge] = set()
    for package in kept:
        name = str(package.name)
        for dependency in package.dependencies or ():
            child = str(canonicalize_name(str(dependency.get("name", ""))))
            if child in nodes and child != name:
                edges.add(Edge(name, child, _requirement(asked[child], name)))
        for label in _via(package):
            if label in nodes:
                if label != name:
                    edges.add(Edge(label, name, _requirement(asked[name], label)))
            else:
                kind = CONSTRAINT if label.startswith("-c ") else INPUT
                edges.add(Edge(label, name, _requirement(asked[name], label), kind))
    required = {e.child for e in edges if e.kind != CONSTRAINT}
    edges |= {Edge(TOP_LEVEL, name, None, INPUT) for name in nodes if name not in required}
    children: dict[str, list[Edge]] = {}
    parents: dict[str, list[Edge]] = {}
    for edge in sorted(edges, key=lambda e: (e.child, e.parent)):
        parents.setdefault(edge.child, []).append(edge)
        if edge.kind == PACKAGE:
            children.setdefault(edge.parent, []).append(edge)
    roots = tuple(e for e in sorted(edges, key=lambda e: (e.child, e.parent)) if e.kind == INPUT)
    return TargetGraph(
        target=target,
        nodes=nodes,
        children={k: tuple(v) for k, v in children.items()},
        parents={k: tuple(v) for k, v in parents.items()},
        roots=roots,
        python=python,
    )


def _version(package: Package) -> str | None:
    return str(package.version) if package.version is not None else None


def _table(package: Package) -> Mapping[str, object]:
    table = (package.tool or {}).get(TOOL_KEY)
    return table if isinstance(table, Mapping) else {}


def _via(package: Package) -> list[str]:
    via = _table(package).get("via")
    return [str(v) for v in via] if isinstance(via, list) else []


def _asked(package: Package) -> dict[str, list[str]]:
    """``via-requirements`` as label -> the requirements that label states."""
    found: dict[str, list[str]] = {}
    entries = _table(package).get(VIA_REQUIREMENTS)
    for entry in entries if isinstance(entries, list) else ():
        label, sep, requirement = str(entry).partition(": ")
        if sep:
            found.setdefault(label, []).append(requirement)
    return found


def _requirement(asked: Mapping[str, list[str]], label: str) -> str | None:
    texts = asked.get(label)
    return ", ".join(sorted(texts)) if texts else None


def paths_to(graph: TargetGraph, name: str) -> tuple[tuple[tuple[Edge, ...], ...], bool]:
    """Every path from an input requirement to ``name`` (each a sequence of edges, the input edge
    first), sorted; and whether ``MAX_PATHS`` cut the list short."""
    found: list[tuple[Edge, ...]] = []
    truncated = False

    def walk(current: str, trail: tuple[Edge, ...], seen: frozenset[str]) -> None:
        nonlocal truncated
        for edge in graph.parents.get(current, ()):
            if len(found) >= MAX_PATHS:
                truncated = True
                return
            if edge.kind == INPUT:
                found.append((edge, *trail))
            elif edge.kind == PACKAGE and edge.parent not in seen:
                walk(edge.parent, (edge, *trail), seen | {edge.parent})

    walk(name, (), frozenset({name}))
    return tuple(sorted(found, key=lambda path: [(e.parent, e.child) for e in path])), truncated


@dataclass(frozen=True)
class TreeLine:
    """One line of ``envlock tree``: a package reached through ``edge`` at ``depth`` (0: top)."""

    depth: int
    edge: Edge
    node: Node | None
    """None for an input label (the leaves of an inverted tree)."""
    repeated: bool = False
    """Shown in full above: its subtree is not repeated (``(*)``)."""
    cycle: bool = False
    """Already on the way here: a dependency cycle, not followed."""


def tree_lines(
    graph: TargetGraph, *, depth: int | None = None, invert: str | None = None
) -> tuple[TreeLine, ...]:
    """The tree from the input requirements down (or, with ``invert``, from that package up to the input
    requirements), each package's subtree shown once; ``depth`` cuts it below that many levels."""
    lines: list[TreeLine] = []
    expanded: set[str] = set()

    def below(name: str) -> Iterable[Edge]:
        if invert is None:
            return graph.children.get(name, ())
        return (e for e in graph.parents.get(name, ()) if e.kind != CONSTRAINT)

    def visit(edge: Edge, level: int, trail: frozenset[str]) -> None:
        name = edge.parent if invert is not None else edge.child
        node = graph.nodes.get(name) if edge.kind == PACKAGE or invert is None else None
        if node is None:
            lines.append(TreeLine(level, edge, None))
            return
        if name in trail:
            lines.append(TreeLine(level, edge, node, cycle=True))
            return
        more = list(below(name))
        if name in expanded and more:
            lines.append(TreeLine(level, edge, node, repeated=True))
            return
        lines.append(TreeLine(level, edge, node))
        if depth is not None and level >= depth:
            return  # cut here: a shallower occurrence still shows its subtree
        expanded.add(name)
        for child in more:
            visit(child, level + 1, trail | {name})

    if invert is None:
        for root in graph.roots:
            visit(root, 0, frozenset())
    elif invert in graph.nodes:  # else: not on this target, nothing to show
        start = graph.nodes[invert]
        lines.append(TreeLine(0, Edge(start.name, start.name, None, INPUT), start))
        expanded.add(start.name)
        if depth is None or depth > 0:
            for edge in below(start.name):
                visit(edge, 1, frozenset({start.name}))
    return tuple(lines)


def group_targets(results: Sequence[tuple[str, _T]]) -> list[tuple[tuple[str, ...], _T]]:
    """(target, result) pairs -> (targets, result) for each distinct result, in first-seen order: output
    is shown once for the targets it is the same for."""
    grouped: dict[str, tuple[list[str], _T]] = {}
    for target, result in results:
        key = repr(result)
        grouped.setdefault(key, ([], result))[0].append(target)
    return [(tuple(targets), result) for targets, result in grouped.values()]
