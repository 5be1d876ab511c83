"""The frozen values of one sync: the plan (an action per project), the progress events and the result."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from envlock.models.artifacts import InstalledDist, SelectedPackage


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
