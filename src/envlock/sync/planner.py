"""Pure planning: the lock's selection x the installed distributions -> a SyncPlan (install, replace,
remove, keep). No I/O: both inputs are values, so the rules below are unit-tested directly.

Rules (exact sync):

- wanted, not installed                                         -> install
- wanted, installed, and any of: broken (no METADATA/RECORD, files missing or changed, two dist-infos),
  another version, INSTALLER is not ``envlock``, or envlock recorded another artifact sha256 -> replace
- wanted, installed from exactly the locked artifact by envlock -> keep
- installed, not wanted                                         -> remove. No exceptions: pip, setuptools
  and wheel are removed too unless the lock names them, so a stray ``pip install`` is not possible by
  accident and the venv is exactly the lock (``uv pip sync`` does the same; pip-sync keeps them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from envlock.env.site_packages import INSTALLER_NAME
from envlock.models.artifacts import InstalledDist, SelectedPackage, Selection
from envlock.sync.plan import Action, PlanItem, SyncPlan


def plan(selection: Selection, installed: Sequence[InstalledDist]) -> SyncPlan:
    """One PlanItem per project name in either input, sorted by name."""
    wanted = selection.by_name()
    present: dict[str, list[InstalledDist]] = {}
    for dist in installed:
        present.setdefault(dist.name, []).append(dist)
    items: list[PlanItem] = []
    for name in sorted(set(wanted) | set(present)):
        dists = tuple(sorted(present.get(name, ()), key=lambda d: d.dist_info.name))
        want = wanted.get(name)
        if want is None:
            items.append(PlanItem(name, Action.REMOVE, None, dists, "not in the lock"))
        elif not dists:
            items.append(PlanItem(name, Action.INSTALL, want, (), "missing"))
        else:
            reason = replace_reason(want, dists)
            action = Action.REPLACE if reason else Action.KEEP
            items.append(PlanItem(name, action, want, dists, reason or "up to date"))
    return SyncPlan(tuple(items))


def replace_reason(want: SelectedPackage, dists: Sequence[InstalledDist]) -> str | None:
    """Why the installed ``dists`` are not the locked ``want`` (None: they are)."""
    if len(dists) > 1:
        return f"{len(dists)} dist-info folders"
    dist = dists[0]
    if dist.problems:
        return "broken: " + "; ".join(dist.problems)
    if want.version and not same_version(dist.version, want.version):
        return f"{dist.version} -> {want.version}"
    if dist.installer != INSTALLER_NAME:
        return f"installed by {dist.installer or 'an unknown installer'}"
    if dist.artifact_sha256 != want.artifact.sha256:
        return "installed from another artifact"
    return None


def same_version(installed: str, wanted: str) -> bool:
    if installed == wanted:  # the common case, answered without importing packaging.version
        return True
    if _RELEASE.fullmatch(installed) and _RELEASE.fullmatch(wanted):  # PEP 440: trailing zeros are padding
        return _release(installed) == _release(wanted)
    from packaging.version import InvalidVersion, Version  # lazy: only versions beyond X.Y.Z

    try:
        return Version(installed) == Version(wanted)
    except InvalidVersion:
        return installed == wanted


_RELEASE = re.compile(r"[0-9]+(?:\.[0-9]+)*")
"""A version that is a release segment only (``1.26.4``): compared without packaging (a patch's old and
new versions are nearly always such)."""


def _release(version: str) -> tuple[int, ...]:
    parts = [int(part) for part in version.split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)
