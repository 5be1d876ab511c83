"""Which locked packages have newer releases, and what the lock's requirements say about them: the newest
release every recorded requirement on the package allows (what ``compile -P NAME`` can move to), or the
requirements that exclude the newest one. Pure: the lock's graph and each project's releases (read from
the index by the caller) in, frozen values out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from envlock.lock.graph import TOP_LEVEL, LockGraph, TargetGraph, group_targets


@dataclass(frozen=True)
class ReleaseFile:
    """A file of a release that is not yanked: its Requires-Python and, for a wheel, its tags."""

    requires_python: str | None = None
    tags: frozenset[str] = frozenset()
    """The wheel's tags (``cp312-cp312-win_amd64``...); empty for an sdist, which builds anywhere."""

    def fits(self, python: str | None, tags: frozenset[str] | None) -> bool:
        """Can the target (its Python, None: not named; its wheel tags, None: not known) install it?"""
        if python is not None and not _accepts(self.requires_python, python):
            return False
        return tags is None or not self.tags or not self.tags.isdisjoint(tags)


@dataclass(frozen=True)
class Release:
    """One version on the index, with its files that are not yanked."""

    version: Version
    files: tuple[ReleaseFile, ...]

    def runs_on(self, python: str | None, tags: frozenset[str] | None = None) -> bool:
        """Does a file of this release fit the target (as ``ReleaseFile.fits``)?"""
        return any(file.fits(python, tags) for file in self.files)


@dataclass(frozen=True)
class Outdated:
    """A locked package with a newer release, on the targets where the answer is the same."""

    name: str
    locked: str
    latest: str
    """The newest release on the index (final releases only, unless the lock allows prereleases)."""
    allowed: str | None
    """The newest release newer than ``locked`` that the lock's requirements on it and the target's
    Python allow (``compile -P NAME`` can take it); None when none is."""
    blocked_by: tuple[str, ...]
    """Why ``latest`` is not allowed: the requirements that exclude it (``left 1.0: base<3,>=1``,
    ``-r requirements.in: base<3``) or ``Requires-Python >=3.12``; empty when it is allowed."""
    python_holds_back: str | None = None
    """A newer release than ``allowed`` that the requirements allow but the target does not: its Python
    (``2.1 needs Python >=3.12 (the target has 3.11.0)``) or its platform (``2.1 has no wheel for the
    target and no sdist (its wheels: ...)``); None when there is none."""
    recorded: bool = True
    """Does the lock record how it is required (``via-requirements``)? False for a lock from an older
    envlock or another tool: ``allowed`` then counts the target's Python only."""
    targets: tuple[str, ...] = ()
    """Where this holds; empty: every target of the lock."""


Releases = Callable[[str, Version], Sequence[Release]]
"""A project's releases on the index newer than a version, newest first (empty: the index has none, or
does not have the project)."""


def find_outdated(graph: LockGraph, releases: Releases, *, prereleases: bool = False) -> tuple[Outdated, ...]:
    """Every locked package from an index with a newer release, sorted by name."""
    found: list[Outdated] = []
    names = sorted({name for g in graph.targets for name, node in g.nodes.items() if node.version})
    everywhere = [g.target for g in graph.targets]
    for name in names:
        locked = [_version(g.nodes[name].version) for g in graph.targets if name in g.nodes]
        floor = min((v for v in locked if v is not None), default=None)
        if floor is None:
            continue
        known = releases(name, floor)
        per_target = [
            (g.target, _judge(g, name, known, prereleases)) for g in graph.targets if name in g.nodes
        ]
        for targets, answer in group_targets(per_target):
            if answer is not None:
                where = () if list(targets) == everywhere else targets
                found.append(replace(answer, targets=where))
    return tuple(found)


def _judge(graph: TargetGraph, name: str, known: Sequence[Release], prereleases: bool) -> Outdated | None:
    locked = _version(graph.nodes[name].version)
    if locked is None:
        return None
    usable = [
        r for r in known if r.files and (prereleases or locked.is_prerelease or not r.version.is_prerelease)
    ]
    newer = [r for r in usable if r.version > locked]
    if not newer:
        return None
    latest = newer[0]
    edges = [e for e in graph.parents.get(name, ()) if e.parent != TOP_LEVEL]
    asked = [(f"{e.parent}: {e.requirement}", _specifier(e.requirement)) for e in edges if e.requirement]
    wanted = [r for r in newer if all(s.contains(r.version, prereleases=True) for _, s in asked)]
    allowed = next((r for r in wanted if r.runs_on(graph.python, graph.tags)), None)
    too_new = wanted[0] if wanted and wanted[0] is not allowed else None
    blocked = [text for text, spec in asked if not spec.contains(latest.version, prereleases=True)]
    if not latest.runs_on(graph.python, graph.tags) and not blocked:
        blocked.append(_fit_note(latest, graph))
    return Outdated(
        name=name,
        locked=str(locked),
        latest=str(latest.version),
        allowed=str(allowed.version) if allowed is not None else None,
        blocked_by=tuple(blocked),
        python_holds_back=_fit_note(too_new, graph) if too_new and too_new is not latest else None,
        recorded=bool(asked) or not edges,
    )


def _version(text: str | None) -> Version | None:
    try:
        return Version(text or "")
    except InvalidVersion:
        return None


def _specifier(requirement: str | None) -> SpecifierSet:
    """The specifier of a recorded requirement (``base[fast]>=2`` -> ``>=2``; one parent's several
    requirements, ``", "``-joined, together); anything unreadable allows every version (the lock cannot
    say it blocks)."""
    specifier = SpecifierSet()
    for part in (requirement or "").split(", "):
        try:
            specifier &= Requirement(part).specifier
        except InvalidRequirement:
            continue
    return specifier


def _accepts(requires_python: str | None, python: str) -> bool:
    if not requires_python:
        return True
    try:
        return SpecifierSet(requires_python).contains(python, prereleases=True)
    except InvalidSpecifier:
        return True  # the resolver ignores an unreadable Requires-Python too


def _fit_note(release: Release, graph: TargetGraph) -> str:
    """Why no file of ``release`` fits the target: its Python, else its platform."""
    if not release.runs_on(graph.python):
        needs = " or ".join(sorted({f.requires_python or "" for f in release.files} - {""})) or "?"
        return f"{release.version} needs Python {needs} (the target has {graph.python})"
    wheels = sorted({tag for f in release.files for tag in f.tags})
    shown = ", ".join(wheels[:3]) + (", ..." if len(wheels) > 3 else "")
    return f"{release.version} has no wheel for the target and no sdist (its wheels: {shown})"
