"""Frozen value types of a sync: installed distributions, selected artifacts, the sync plan and its result."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envlock.validate import redact

if TYPE_CHECKING:  # a sync of wheels never loads the sources' model (its regexes, hashlib): ~2 ms
    from envlock.sources.model import Source


class ArtifactKind(str, enum.Enum):
    """What a selected artifact is, which decides how it is installed."""

    WHEEL = "wheel"
    SDIST = "sdist"
    SOURCE = "source"
    """A project folder or git commit, built into a wheel by sync (``sync.source_builds``)."""


@dataclass(frozen=True)
class Artifact:
    """One file of the lock chosen for the target: where to get it and what its bytes must hash to."""

    filename: str
    """File name (``name-1.0-py3-none-any.whl``); decides the kind."""
    sha256: str
    """The sha256 the lock promises (lower-case hex)."""
    url: str | None = None
    """Where to download it; may carry credentials, which are never printed (``http.redact``)."""
    path: Path | None = None
    """A local file (the lock's ``path``, made absolute against the lock's folder)."""
    size: int | None = None
    """Byte size the lock promises, checked while streaming when given."""
    origin: Source | None = None
    """A project folder or git commit to build (``sha256`` is then its identity: ``sources.tree``'s
    digest of the folder, or ``Source.key()`` of the commit), not a file to fetch."""

    @property
    def kind(self) -> ArtifactKind:
        if self.origin is not None:
            return ArtifactKind.SOURCE
        return ArtifactKind.WHEEL if self.filename.endswith(".whl") else ArtifactKind.SDIST

    @property
    def source(self) -> str:
        """A printable location (URL without credentials or path)."""
        if self.origin is not None:
            return self.origin.shown()
        return redact(self.url) if self.url else str(self.path)


@dataclass(frozen=True)
class SelectedPackage:
    """A package the lock wants in the target, with the one artifact to install it from."""

    name: str
    """Normalized project name (PEP 503)."""
    version: str
    """The locked version; ``""`` for a project folder (PEP 751: a source tree's version can change)."""
    artifact: Artifact
    direct: bool = False
    """Installed from a URL or path rather than an index: ``direct_url.json`` (PEP 610) is written."""


@dataclass(frozen=True)
class Selection:
    """Everything the lock wants installed in one target environment, sorted by name."""

    packages: tuple[SelectedPackage, ...]

    def by_name(self) -> dict[str, SelectedPackage]:
        return {package.name: package for package in self.packages}


@dataclass(frozen=True)
class InstalledDist:
    """One ``*.dist-info`` folder found in the target's site-packages."""

    name: str
    """Normalized project name (from METADATA, else from the folder name)."""
    version: str
    dist_info: Path
    installer: str | None = None
    """Contents of INSTALLER (``envlock``, ``pip``, ``uv`` ...), or None when absent."""
    artifact_sha256: str | None = None
    """The sha256 of the artifact it was installed from, as recorded by envlock (``envlock.json``)
    or by PEP 610 ``direct_url.json`` ``archive_info.hashes``; None when unknown."""
    direct_url: Mapping[str, Any] | None = None
    """Parsed ``direct_url.json`` (PEP 610), when present."""
    problems: tuple[str, ...] = ()
    """Why it cannot be trusted: no METADATA, no RECORD, files missing or changed, a second dist-info."""

    @property
    def is_broken(self) -> bool:
        return bool(self.problems)


class Action(str, enum.Enum):
    """What the sync does with one project. Values are the ``--json`` spelling."""

    INSTALL = "install"
    REPLACE = "replace"
    REMOVE = "remove"
    KEEP = "keep"


@dataclass(frozen=True)
class PlanItem:
    """The decision for one project name."""

    name: str
    action: Action
    wanted: SelectedPackage | None = None
    """What the lock wants (None for REMOVE)."""
    installed: tuple[InstalledDist, ...] = ()
    """What is installed now under this name (several when the venv is torn)."""
    reason: str = ""
    """Why, in a few words (``1.0 -> 2.0``, ``installed by pip``, ``not in the lock``)."""

    @property
    def old_version(self) -> str | None:
        return self.installed[0].version if self.installed else None

    @property
    def new_version(self) -> str | None:
        return self.wanted.version if self.wanted else None


@dataclass(frozen=True)
class SyncPlan:
    """Install / replace / remove / keep, one item per project name, sorted by name."""

    items: tuple[PlanItem, ...]

    def _with(self, action: Action) -> tuple[PlanItem, ...]:
        return tuple(item for item in self.items if item.action is action)

    @property
    def install(self) -> tuple[PlanItem, ...]:
        return self._with(Action.INSTALL)

    @property
    def replace(self) -> tuple[PlanItem, ...]:
        return self._with(Action.REPLACE)

    @property
    def remove(self) -> tuple[PlanItem, ...]:
        return self._with(Action.REMOVE)

    @property
    def keep(self) -> tuple[PlanItem, ...]:
        return self._with(Action.KEEP)

    @property
    def changes(self) -> tuple[PlanItem, ...]:
        """Every item that touches the venv."""
        return tuple(item for item in self.items if item.action is not Action.KEEP)

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def to_uninstall(self) -> tuple[InstalledDist, ...]:
        """Dists to take out first: those removed and those about to be replaced."""
        return tuple(dist for item in self.changes for dist in item.installed)

    def to_install(self) -> tuple[SelectedPackage, ...]:
        return tuple(item.wanted for item in self.changes if item.wanted is not None)

    def repairs(self) -> frozenset[str]:
        """sha256 of the artifacts reinstalled over a damaged copy of themselves (files edited or
        missing): their store entries may share the edit (hardlinks) and are unpacked again from the
        wheel, whose hash is checked again."""
        return frozenset(
            item.wanted.artifact.sha256
            for item in self.changes
            if item.wanted is not None
            and any(d.artifact_sha256 == item.wanted.artifact.sha256 for d in item.installed)
        )


@dataclass(frozen=True)
class SyncEvent:
    """What a sync reports while it works, for the CLI to print (syncing itself never prints): a phase
    begun, a build begun or done."""

    kind: str
    """``download`` (``count`` files of ``size`` bytes in all, None when the lock does not give every
    size), ``build`` (``subject`` is being built), ``built`` (in ``seconds``), ``install`` (``count``
    distributions go in, ``removed`` come out)."""
    subject: str = ""
    """``build``/``built``: what is built, ``foo 1.0 (sdist)``, ``app (project folder)``."""
    count: int = 0
    size: int | None = None
    seconds: float = 0.0
    removed: int = 0


@dataclass(frozen=True)
class SyncResult:
    """What a sync did (or, with ``dry_run``, would do)."""

    plan: SyncPlan
    venv: Path
    python: str
    """The venv's interpreter."""
    created: bool = False
    """The venv did not exist and was created."""
    rebuilt: bool = False
    """The venv was rebuilt (interpreter change, broken interpreter, ``--rebuild``)."""
    dry_run: bool = False
    elapsed: float = 0.0
    """Wall-clock seconds (from the injected clock)."""
    up_to_date: bool = False
    """The stamp proved the venv matches the lock; nothing was read beyond it."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Things worth telling the user (repairs of an interrupted sync, ...)."""

    @property
    def counts(self) -> dict[str, int]:
        return {
            "installed": len(self.plan.install),
            "replaced": len(self.plan.replace),
            "removed": len(self.plan.remove),
            "kept": len(self.plan.keep),
        }
