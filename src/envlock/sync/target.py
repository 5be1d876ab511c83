"""The target of a sync: patch the venv, create it, rebuild it beside itself, or (``--system``) change an
interpreter's own environment. Decided from the venv as probed, and checked again under the venv lock.
The sync pipeline (``syncer``) is the same for all four; they differ only in this value."""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from envlock import runtime
from envlock.env import venvs
from envlock.env.interpreter import InterpreterInfo
from envlock.errors import TargetEnvironmentError

Prober = Callable[[Path], InterpreterInfo]
"""Probes an interpreter (``interpreter.probe``, or its cached answer: ``env/probe_cache.py``)."""


class Kind(enum.Enum):
    """What a sync does to its target."""

    PATCH = "patch"
    """Change the existing venv in place."""
    CREATE = "create"
    """Build a venv where there is none."""
    REBUILD = "rebuild"
    """Build a new venv beside the existing one and swap it in."""
    SYSTEM = "system"
    """``--system``: change the interpreter's own environment in place."""


@dataclass(frozen=True)
class Target:
    """Where a sync installs: all that a patch, a create, a rebuild and ``--system`` differ in."""

    kind: Kind
    root: Path
    """The venv (or the system interpreter's prefix): what the result names and the venv lock guards."""
    info: InterpreterInfo
    """The interpreter the lock is selected for and sdists are built with (a new venv: its base)."""
    python: str
    """The interpreter the result names, scripts run with and the stamp records."""
    base: Path | None = None
    """Create and rebuild: the interpreter a new venv is made from, beside ``root``, then swapped in."""
    config: bytes | None = None
    """``pyvenv.cfg`` as it was when the target was decided (None: none there)."""
    reason: str | None = None
    """Rebuild: why."""

    @property
    def in_place(self) -> bool:
        """Patch and ``--system``: planned against what is installed, changed where it is."""
        return self.base is None

    @property
    def owned(self) -> bool:
        """A venv envlock keeps: an in-progress marker before the first change, a stamp last, repairs
        reported; a ``--system`` Python gets none of them."""
        return self.kind is not Kind.SYSTEM

    @property
    def build_python(self) -> str:
        """The interpreter sdists are built for."""
        return str(self.base) if self.base is not None else self.info.executable

    def note(self, *, dry_run: bool) -> str | None:
        """The line that says what happened to the venv itself."""
        if self.kind is Kind.REBUILD:
            return f"would rebuild: {self.reason}" if dry_run else f"rebuilt: {self.reason}"
        if self.kind is Kind.CREATE and dry_run:
            return f"would create {self.root}"
        return None

    def changed_since_decided(self) -> tuple[bool, list[str]]:
        """Under the venv lock: finish what a killed rebuild left beside the venv, and tell whether the
        venv changed since this target was decided (another sync created, rebuilt or swapped it), so a
        plan made against it would be wrong; a rebuild replaces it either way. Also the notes to report."""
        if not self.owned:
            return False, []
        changed, notes = venvs.recover_rebuild(self.root)
        if self.kind is not Kind.REBUILD:
            changed = changed or _pyvenv_cfg(self.root) != self.config
        return changed, notes


def system_target(python: str | None, default_python: str, prober: Prober) -> Target:
    """``--system``: ``python`` (a version or a path; None: ``default_python``) installed in place."""
    path = venvs.find_python(python) if python else Path(default_python)
    info = prober(path)
    return Target(Kind.SYSTEM, Path(info.prefix), info, info.executable)


def venv_target(
    venv: Path, python: str | None, *, rebuild: bool, default_python: str, prober: Prober
) -> Target:
    """Patch the venv at ``venv``, or create or rebuild it: with ``rebuild``, when its interpreter is
    missing or broken, or when ``python`` asks for another one (None: keep the venv's; a new venv is
    made from ``default_python``)."""
    config = _pyvenv_cfg(venv)
    existing = _probe_existing(venv, prober)
    wanted = _probe_wanted(python, prober)
    reason = _rebuild_reason(venv, existing, wanted[1] if wanted else None, rebuild=rebuild)
    if reason is None and existing is not None:
        return Target(Kind.PATCH, venv, existing, existing.executable, config=config)
    if wanted is None:
        base = _base_of(existing) if existing is not None else Path(default_python)
        wanted = base, prober(base)
    kind = Kind.CREATE if reason is None else Kind.REBUILD
    final_python = runtime.venv_python(venv)
    return Target(kind, venv, wanted[1], final_python, base=wanted[0], config=config, reason=reason)


def _probe_wanted(python: str | None, prober: Prober) -> tuple[Path, InterpreterInfo] | None:
    """``--python``'s interpreter and what the probe says of it (None without ``--python``)."""
    if not python:
        return None
    base = venvs.find_python(python)
    return base, prober(base)


def _rebuild_reason(
    venv: Path, existing: InterpreterInfo | None, wanted: InterpreterInfo | None, *, rebuild: bool
) -> str | None:
    """Why the existing venv must be rebuilt (None: patch it, or create it when there is none)."""
    if existing is None:
        if venvs.is_venv(venv):
            return "its interpreter is missing or broken"
        return None
    if rebuild:
        return "--rebuild"
    if wanted is not None and (
        wanted.version != existing.version
        or wanted.implementation != existing.implementation
        or os.path.realpath(wanted.base_prefix) != os.path.realpath(existing.base_prefix)
    ):
        return f"--python asks for Python {wanted.version_str}, the venv has {existing.version_str}"
    return None


def _probe_existing(venv: Path, prober: Prober) -> InterpreterInfo | None:
    if not venvs.is_venv(venv):
        return None
    python = Path(runtime.venv_python(venv))
    try:
        return _as_its_bases(venv, python, prober) or prober(python)
    except TargetEnvironmentError:
        return None


def _as_its_bases(venv: Path, python: Path, prober: Prober) -> InterpreterInfo | None:
    """The venv's probe answer as its base interpreter's, moved to the venv (``venvs.new_venv_info``),
    when the venv's python is a link to the interpreter in the folder ``pyvenv.cfg`` names: the same
    program, so the same answer but for the prefix, and the base's answer is usually cached where the
    venv's is not (a venv made by ``python -m venv`` just before). None: the venv's own probe says."""
    home = runtime.read_pyvenv_cfg(venv).get("home")
    if not home or not python.is_symlink():
        return None
    base = python.resolve()
    if base.parent != Path(home).resolve() or not base.is_file():
        return None
    return venvs.new_venv_info(prober(base), venv)


def _base_of(info: InterpreterInfo) -> Path:
    """The interpreter a venv was made from (to rebuild it with the same one)."""
    cfg = runtime.read_pyvenv_cfg(info.prefix)
    home = cfg.get("home")
    name = Path(info.executable).name
    if home and (Path(home) / name).exists():
        return Path(home) / name
    return Path(sys.executable)


def _pyvenv_cfg(venv: Path) -> bytes | None:
    try:
        return (venv / "pyvenv.cfg").read_bytes()
    except OSError:
        return None
