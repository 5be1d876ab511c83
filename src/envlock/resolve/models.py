"""The values of a resolution: what it is asked (``ResolveRequest``, over an ``IndexLike``), what the
provider reasons with (``Req``, ``Candidate``) and what it answers (``Pin``, ``Resolution``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from envlock.env.interpreter import TargetEnvironment
from envlock.index.core_metadata import CoreMetadata
from envlock.index.pages import DistFile, ProjectPage
from envlock.inputs.config import InputRequirement, ResolverOptions
from envlock.models.source import Source

PYTHON = "<python>"
"""Identifier of the virtual requirement on the target's Python version (from Requires-Python)."""


class SourcesLike(Protocol):
    """What the resolver needs for packages built from a source (``resolve.sources.SourceMetadata``):
    the source with its commit resolved (git), and its core metadata."""

    def resolve(self, source: Source) -> tuple[Source, CoreMetadata]: ...


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

    @cached_property
    def exact_pin(self) -> bool:
        """An ``==`` (or ``===``) without a wildcard: one version fits (for the resolver's order)."""
        return any(s.operator in ("==", "===") and "*" not in s.version for s in self.specifier)

    @cached_property
    def upper_bounded(self) -> bool:
        """An ``==``, ``<``, ``<=`` or ``~=``: few versions to try (for the resolver's order)."""
        return any(s.operator in ("<", "<=", "~=", "==") for s in self.specifier)

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
    origin: Source | None = field(default=None, compare=False)
    """A project folder or git commit it is built from (its ``url`` stands for it)."""
    metadata: CoreMetadata | None = field(default=None, compare=False)
    """Its core metadata when known without the index (a built source's)."""

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
    sources: SourcesLike | None = None
    """Metadata of project folders and git sources; None: such requirements are refused."""


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
    origin: Source | None = None
    """The project folder or git commit it is built from (None: an index or an archive)."""
    requested: tuple[str, ...] = ()
    """How each of ``via`` asks for it: ``"a: b<2,>=1"``, ``"-r requirements.in: b>=1"`` (sorted), so
    ``envlock why``/``tree``/``outdated`` show each edge's specifier from the lock alone."""


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
