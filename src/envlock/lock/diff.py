"""What changed between two locks, made for review: packages added, removed, upgraded and downgraded per
target with the input requirements that reach each, the input requirements that changed, and every
artifact whose hash changed while its version did not (a re-uploaded file). Pure: two parsed locks in,
frozen values out; rendering as text, markdown or JSON is here too (``envlock diff`` prints it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from packaging.pylock import Package, Pylock
from packaging.version import InvalidVersion, Version

from envlock.lock.graph import TOP_LEVEL, LockGraph, TargetGraph, lock_graph, paths_to

ADDED = "added"
REMOVED = "removed"
UPGRADED = "upgraded"
DOWNGRADED = "downgraded"
CHANGED = "changed"
"""A version change that PEP 440 cannot order (a directory entry became an index one, ...)."""
_DIRECTORY = "(directory)"


@dataclass(frozen=True)
class PackageChange:
    """One package's move, on the targets where it moved alike."""

    name: str
    kind: str
    """``added``, ``removed``, ``upgraded``, ``downgraded`` or ``changed``."""
    old: str | None
    """The old version (``(directory)`` for a source tree); None when added."""
    new: str | None
    targets: tuple[str, ...]
    """Where it moved so; empty: on every target of the two locks."""
    causes: tuple[str, ...]
    """The input requirements that reach it (``-r requirements.in: app>=2``), in the new lock (the old
    one for a removal)."""


@dataclass(frozen=True)
class InputChange:
    """An input requirement (a root of the graph) that was added, removed or rewritten."""

    source: str
    """``-r requirements.in``, ``pyproject.toml``."""
    name: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class HashChange:
    """A file of one version whose sha256 differs between the locks: the index serves other bytes under
    the same name (a re-upload), which a reviewer must see."""

    name: str
    version: str
    file: str
    old: str
    new: str


@dataclass(frozen=True)
class LockDiff:
    old_label: str
    new_label: str
    targets_added: tuple[str, ...]
    targets_removed: tuple[str, ...]
    inputs: tuple[InputChange, ...]
    packages: tuple[PackageChange, ...]
    rehashed: tuple[HashChange, ...]

    @property
    def changed(self) -> bool:
        return bool(
            self.targets_added or self.targets_removed or self.inputs or self.packages or self.rehashed
        )


def diff_locks(old: Pylock | None, new: Pylock | None, *, old_label: str, new_label: str) -> LockDiff:
    """``old`` -> ``new`` (None: no lock there, as before a first commit of one)."""
    before = _graphs(old)
    after = _graphs(new)
    targets = list(dict.fromkeys([*before, *after]))
    return LockDiff(
        old_label=old_label,
        new_label=new_label,
        targets_added=tuple(t for t in after if t not in before and t),
        targets_removed=tuple(t for t in before if t not in after and t),
        inputs=_input_changes(before.values(), after.values()),
        packages=_package_changes(before, after, targets),
        rehashed=_rehashed(old, new),
    )


def _graphs(lock: Pylock | None) -> dict[str, TargetGraph]:
    if lock is None:
        return {}
    graph: LockGraph = lock_graph(lock)
    return {g.target: g for g in graph.targets}


def _input_changes(before: Iterable[TargetGraph], after: Iterable[TargetGraph]) -> tuple[InputChange, ...]:
    def roots(graphs: Iterable[TargetGraph]) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], set[str]] = {}
        for graph in graphs:
            for edge in graph.roots:
                if edge.parent != TOP_LEVEL:
                    found.setdefault((edge.parent, edge.child), set()).add(edge.shown)
        return {key: ", ".join(sorted(texts)) for key, texts in found.items()}

    old, new = roots(before), roots(after)
    return tuple(
        InputChange(source, name, old.get((source, name)), new.get((source, name)))
        for source, name in sorted({*old, *new})
        if old.get((source, name)) != new.get((source, name))
    )


def _package_changes(
    before: Mapping[str, TargetGraph], after: Mapping[str, TargetGraph], targets: Sequence[str]
) -> tuple[PackageChange, ...]:
    moves: dict[tuple[str, str, str | None, str | None], list[str]] = {}
    causes: dict[tuple[str, str, str | None, str | None], set[str]] = {}
    names = sorted({n for g in (*before.values(), *after.values()) for n in g.nodes})
    for name in names:
        for target in targets:
            old_graph, new_graph = before.get(target), after.get(target)
            old, new = _version_in(old_graph, name), _version_in(new_graph, name)
            if old == new:
                continue
            key = (name, _kind(old, new), old, new)
            moves.setdefault(key, []).append(target)
            reached_in = new_graph if new is not None else old_graph
            assert reached_in is not None
            causes.setdefault(key, set()).update(_roots_reaching(reached_in, name))
    changes = [
        PackageChange(
            name=name,
            kind=kind,
            old=old,
            new=new,
            targets=() if len(where) == len(targets) else tuple(where),
            causes=tuple(sorted(causes[name, kind, old, new])),
        )
        for (name, kind, old, new), where in moves.items()
    ]
    return tuple(sorted(changes, key=lambda c: (c.name, c.targets)))


def _version_in(graph: TargetGraph | None, name: str) -> str | None:
    node = graph.nodes.get(name) if graph is not None else None
    if node is None:
        return None
    return node.version or _DIRECTORY


def _kind(old: str | None, new: str | None) -> str:
    if old is None:
        return ADDED
    if new is None:
        return REMOVED
    try:
        return UPGRADED if Version(new) > Version(old) else DOWNGRADED
    except InvalidVersion:
        return CHANGED


def _roots_reaching(graph: TargetGraph, name: str) -> set[str]:
    paths, _truncated = paths_to(graph, name)
    return {f"{path[0].parent}: {path[0].shown}" for path in paths if path[0].parent != TOP_LEVEL}


def _rehashed(old: Pylock | None, new: Pylock | None) -> tuple[HashChange, ...]:
    if old is None or new is None:
        return ()
    before = {(p.name, str(p.version)): _file_hashes(p) for p in old.packages if p.version is not None}
    found = []
    for package in new.packages:
        if package.version is None:
            continue
        old_files = before.get((package.name, str(package.version)), {})
        for file, digest in sorted(_file_hashes(package).items()):
            previous = old_files.get(file)
            if previous is not None and previous != digest:
                found.append(HashChange(package.name, str(package.version), file, previous, digest))
    return tuple(found)


def _file_hashes(package: Package) -> dict[str, str]:
    """File name (or URL/path of an archive) -> its sha256, for every artifact of the entry."""
    found: dict[str, str] = {}
    for wheel in package.wheels or ():
        found[wheel.name or wheel.url or wheel.path or "?"] = wheel.hashes.get("sha256", "")
    if package.sdist is not None:
        sdist = package.sdist
        found[sdist.name or sdist.url or sdist.path or "?"] = sdist.hashes.get("sha256", "")
    if package.archive is not None:
        archive = package.archive
        found[archive.url or archive.path or "archive"] = archive.hashes.get("sha256", "")
    return found


# ----------------------------------------------------------------------------------------- rendering


def as_json(diff: LockDiff) -> dict[str, Any]:
    return {"changed": diff.changed, **asdict(diff)}


def as_text(diff: LockDiff) -> str:
    lines = [f"lock diff: {diff.old_label} -> {diff.new_label}"]
    for rehashed in diff.rehashed:
        lines += [
            f"!!! HASH CHANGED, SAME VERSION: {rehashed.name} {rehashed.version}: {rehashed.file}",
            f"!!!   sha256 {rehashed.old} -> {rehashed.new}",
            "!!!   the index serves other bytes under this name (a re-upload): verify before trusting it",
        ]
    lines += [f"target added: {t}" for t in diff.targets_added]
    lines += [f"target removed: {t}" for t in diff.targets_removed]
    for item in diff.inputs:
        lines.append(f"input {item.source}: {item.old or '(none)'} -> {item.new or '(removed)'}")
    for change in diff.packages:
        line = f"{_SIGN[change.kind]} {change.name} {_versions(change)}"
        if change.targets:
            line += f" on {', '.join(change.targets)}"
        if change.causes:
            line += f"  ({'was ' if change.kind == REMOVED else ''}via {_grouped(change.causes)})"
        lines.append(line)
    if not diff.changed:
        lines.append("no changes")
    return "\n".join(lines) + "\n"


def as_markdown(diff: LockDiff) -> str:
    lines = [f"### Lock changes: `{diff.old_label}` → `{diff.new_label}`", ""]
    if diff.rehashed:
        lines += [
            "> [!WARNING]",
            "> **Artifact hash changed while its version did not** (a re-uploaded file):",
        ]
        lines += [
            f"> - `{c.name} {c.version}`: `{c.file}` sha256 `{c.old[:12]}…` → `{c.new[:12]}…`"
            for c in diff.rehashed
        ]
        lines.append("")
    lines += [f"- target added: {t}" for t in diff.targets_added]
    lines += [f"- target removed: {t}" for t in diff.targets_removed]
    lines += [f"- input `{i.source}`: `{i.old or '(none)'}` → `{i.new or '(removed)'}`" for i in diff.inputs]
    if diff.targets_added or diff.targets_removed or diff.inputs:
        lines.append("")
    if diff.packages:
        lines += ["| change | package | old | new | targets | via |", "|---|---|---|---|---|---|"]
        lines += [
            f"| {c.kind} | {c.name} | {c.old or ''} | {c.new or ''} | {', '.join(c.targets) or 'all'} | "
            + "<br>".join(f"`{_cell(cause)}`" for cause in c.causes)
            + " |"
            for c in diff.packages
        ]
    if not diff.changed:
        lines.append("No changes.")
    return "\n".join(lines) + "\n"


def _grouped(causes: Sequence[str]) -> str:
    """``-r requirements.in: a; -r requirements.in: b`` -> ``-r requirements.in: a, b``."""
    by_source: dict[str, list[str]] = {}
    for cause in causes:
        source, _, requirement = cause.partition(": ")
        by_source.setdefault(source, []).append(requirement)
    return "; ".join(f"{source}: {', '.join(requirements)}" for source, requirements in by_source.items())


def _cell(text: str) -> str:
    """Text inside a markdown table cell: a ``|`` would end the cell."""
    return text.replace("|", "\\|")


_SIGN = {ADDED: "+", REMOVED: "-", UPGRADED: "~", DOWNGRADED: "~", CHANGED: "~"}


def _versions(change: PackageChange) -> str:
    if change.kind == ADDED:
        return str(change.new)
    if change.kind == REMOVED:
        return str(change.old)
    suffix = {DOWNGRADED: " (downgraded)", CHANGED: " (changed)"}.get(change.kind, "")
    return f"{change.old} -> {change.new}{suffix}"
