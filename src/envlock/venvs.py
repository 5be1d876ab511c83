"""Virtual environments as build output: find a base interpreter, tell a venv from other folders, create
one with the standard library's ``venv`` (no pip inside), and rebuild one beside the old and swap it in
by rename, so a failed rebuild leaves the previous venv as it was."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from envlock.errors import InputError, TargetEnvironmentError
from envlock.interpreter import Runner, run_subprocess

Finder = Callable[[str], "str | None"]
"""``shutil.which``-like: a command name -> its path or None (tests pass fakes)."""


def venv_python(venv: Path) -> Path:
    """The venv's interpreter: ``Scripts/python.exe`` on Windows, else ``bin/python``."""
    if os.name == "nt" or ((venv / "Scripts").is_dir() and not (venv / "bin").is_dir()):
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def is_venv(path: Path) -> bool:
    """A folder with ``pyvenv.cfg`` (PEP 405) is a virtual environment."""
    return (path / "pyvenv.cfg").is_file()


def check_target(venv: Path, *, system: bool) -> None:
    """Refuse targets sync must not touch: a file, or a non-empty folder that is not a venv."""
    if venv.is_file() or (venv.exists() and not venv.is_dir()):
        raise TargetEnvironmentError(f"{venv} is a file, not a virtual environment folder")
    if system or not venv.exists() or is_venv(venv):
        return
    leftovers = [p.name for p in venv.iterdir() if p.name != ".envlock"]
    if leftovers:
        raise TargetEnvironmentError(
            f"{venv} is not a virtual environment (no pyvenv.cfg) and is not empty; "
            "refusing to install into it",
            hint="point --venv at a venv or a new folder; to install into a non-venv Python on purpose, "
            "use --system",
        )


def find_python(request: str, *, which: Finder = shutil.which, roots: Sequence[Path] | None = None) -> Path:
    """``--python``: a path to an interpreter, or a version ``X.Y[.Z]`` looked up in pyenv's versions
    folder and on PATH (``pythonX.Y``)."""
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", request):
        candidate = Path(request).expanduser()
        if candidate.is_dir():
            candidate = venv_python(candidate)
        if candidate.exists():
            return candidate.absolute()
        located = which(request)
        if located:
            return Path(located)
        raise InputError(f"--python {request}: no such interpreter")
    parts = request.split(".")
    wanted_minor = ".".join(parts[:2])
    pyenv_roots = list(roots) if roots is not None else _pyenv_roots()
    for root in pyenv_roots:
        versions = root / "versions"
        if not versions.is_dir():
            continue
        matches = sorted(
            (p for p in versions.iterdir() if re.fullmatch(r"\d+\.\d+\.\d+", p.name)),
            key=lambda p: tuple(int(v) for v in p.name.split(".")),
            reverse=True,
        )
        for folder in matches:
            if folder.name == request or (len(parts) == 2 and folder.name.startswith(wanted_minor + ".")):
                for name in ("python3", "python"):
                    if (folder / "bin" / name).exists():
                        return folder / "bin" / name
    if len(parts) == 2:
        located = which(f"python{wanted_minor}")
        if located:
            return Path(located)
    raise InputError(
        f"--python {request}: no Python {request} found "
        f"(looked in pyenv and for python{wanted_minor} on PATH)",
        hint="pass a path: --python /path/to/python",
    )


def _pyenv_roots() -> list[Path]:
    roots = [Path(os.environ["PYENV_ROOT"])] if os.environ.get("PYENV_ROOT") else []
    return [*roots, Path.home() / ".pyenv", Path("/root/.pyenv")]


def create(base_python: Path, target: Path, runner: Runner = run_subprocess) -> None:
    """``<base_python> -m venv --without-pip <target>``."""
    result = runner([str(base_python), "-m", "venv", "--without-pip", str(target)])
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise TargetEnvironmentError(
            f"cannot create a venv at {target} with {base_python}" + (f": {detail[-1]}" if detail else "")
        )


def sibling_path(venv: Path, purpose: str) -> Path:
    """A fresh path beside ``venv`` (same filesystem, so renames are atomic)."""
    return venv.parent / f".{venv.name}.envlock-{purpose}-{uuid.uuid4().hex[:8]}"


def build_sibling(base_python: Path, venv: Path, runner: Runner = run_subprocess) -> Path:
    """Create a venv beside ``venv`` whose activation scripts already name ``venv``; returns its path."""
    venv.parent.mkdir(parents=True, exist_ok=True)
    staging = sibling_path(venv, "new")
    try:
        create(base_python, staging, runner)
        _retarget(staging, venv)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _retarget(staging: Path, final: Path) -> None:
    """Rewrite the staging path to the final one in text files ``venv`` writes (activate*, pyvenv.cfg)."""
    old, new = str(staging), str(final)
    bin_dir = venv_python(staging).parent
    candidates = [
        staging / "pyvenv.cfg",
        *(p for p in bin_dir.iterdir() if p.name.lower().startswith("activate")),
    ]
    for path in candidates:
        if not path.is_file() or path.is_symlink():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if old in text:
            path.write_text(text.replace(old, new), encoding="utf-8")


def swap_in(staging: Path, venv: Path) -> Path | None:
    """Put ``staging`` at ``venv``; the previous venv (if any) is renamed aside and its new path
    returned for the caller to delete once it no longer needs it. If the second rename fails, the
    previous venv is put back."""
    aside: Path | None = None
    if venv.exists():
        aside = sibling_path(venv, "old")
        venv.rename(aside)
    try:
        staging.rename(venv)
    except OSError as error:
        if aside is not None:
            aside.rename(venv)
        raise TargetEnvironmentError(f"cannot move the rebuilt venv into place at {venv}: {error}") from None
    return aside


def clean_stale_siblings(venv: Path) -> list[Path]:
    """Delete staging/old venvs a killed rebuild left beside ``venv`` (call with the venv lock held:
    only the lock holder ever has a live one)."""
    stale = sorted(venv.parent.glob(f".{venv.name}.envlock-new-*")) + sorted(
        venv.parent.glob(f".{venv.name}.envlock-old-*")
    )
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def discard(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
