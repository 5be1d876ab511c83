"""Virtual environments as build output: find a base interpreter, tell a venv from other folders, create
one with the standard library's ``venv`` (no pip inside), and rebuild one beside the old and swap it in
by rename, so a failed rebuild leaves the previous venv as it was.

The swap is two renames (old venv aside, new one in). Before the first, a swap journal
``.<venv>.envlock-swap.json`` beside the venv names both folders (written atomically, fsync'd); it is
removed after the second. A sync killed between the renames leaves the journal, which
``recover_rebuild`` (the next sync, under the venv lock) uses to finish the swap, and which
``envlock check`` reports as an interrupted rebuild."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from envlock import runtime
from envlock.atomic import fsync_dir, write_atomic
from envlock.env.interpreter import InstallScheme, InterpreterInfo, Runner, run_subprocess
from envlock.errors import InputError, TargetEnvironmentError

if TYPE_CHECKING:
    from types import SimpleNamespace

    from _typeshed import StrOrBytesPath

Finder = Callable[[str], "str | None"]
"""``shutil.which``-like: a command name -> its path or None (tests pass fakes)."""


def is_venv(path: Path) -> bool:
    """A folder with ``pyvenv.cfg`` (PEP 405) is a virtual environment."""
    return (path / "pyvenv.cfg").is_file()


def check_target(venv: Path, *, system: bool) -> None:
    """Refuse targets sync must not touch: a file, or a non-empty folder that is not a venv."""
    if venv.is_file() or (venv.exists() and not venv.is_dir()):
        raise TargetEnvironmentError(f"{venv} is a file, not a virtual environment folder")
    if system or not venv.exists() or is_venv(venv):
        return
    leftovers = [p.name for p in venv.iterdir() if p.name != runtime.STATE_DIR]
    if leftovers:
        raise TargetEnvironmentError(
            f"{venv} is not a virtual environment (no pyvenv.cfg) and is not empty; "
            "refusing to install into it",
            hint="point --venv at a venv or a new folder; to install into a non-venv Python on purpose, "
            "use --system",
        )


def find_python(request: str, *, which: Finder | None = None, roots: Sequence[Path] | None = None) -> Path:
    """``--python``: a path to an interpreter, or a version ``X.Y[.Z]`` looked up in pyenv's versions
    folder and on PATH (``pythonX.Y``; ``which`` defaults to ``shutil.which``)."""
    which = which or shutil.which
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", request):
        candidate = Path(request).expanduser()
        if candidate.is_dir():
            candidate = Path(runtime.venv_python(candidate))
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


def create(base_python: Path, target: Path, runner: Runner | None = None) -> None:
    """``<base_python> -m venv --without-pip <target>`` (``runner``: ``interpreter.run_subprocess``);
    in this process when ``base_python`` is the interpreter running envlock (POSIX). A venv's python
    stands for its base (``outside_venvs``): 3.10's venv module would link the new venv through it."""
    if _is_running_interpreter(base_python):
        _create_here(target)
        return
    base_python = outside_venvs(base_python)
    if runner is None:
        runner = run_subprocess
    # -I -S: creating the venv must not run the base interpreter's .pth files or read PYTHON* settings
    result = runner([str(base_python), "-I", "-S", "-m", "venv", "--without-pip", str(target)])
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise TargetEnvironmentError(
            f"cannot create a venv at {target} with {base_python}" + (f": {detail[-1]}" if detail else "")
        )


def outside_venvs(python: Path) -> Path:
    """The interpreter ``python`` stands for when it is a venv's (in ``pyvenv.cfg``'s ``home``: the same
    file name, else the name its link resolves to), else ``python``. A venv made from another venv's python
    must not link through that venv, which may be deleted (envlock's own venv, a pipx one)."""
    home = _home(python)
    if home is None:
        return python
    for name in dict.fromkeys((python.name, Path(os.path.realpath(python)).name)):
        candidate = Path(home) / name
        if candidate.is_file() and _home(candidate) is None:
            return candidate
    return python


def _home(python: Path) -> str | None:
    """``home`` of the venv whose interpreter ``python`` is (None: not a venv's)."""
    return runtime.read_pyvenv_cfg(python.parent.parent).get("home") or None


def _is_running_interpreter(base_python: Path) -> bool:
    """``base_python`` names this very interpreter (its path as started, or the base a venv of it names),
    so ``python -m venv`` in a subprocess would build what ``venv.EnvBuilder`` builds here. POSIX only:
    a Windows venv copies launchers, which only the subprocess path is tested with."""
    if os.name == "nt":
        return False
    named = os.path.abspath(base_python)  # noqa: PTH100
    return named in (sys.executable, getattr(sys, "_base_executable", sys.executable))


def _create_here(target: Path) -> None:
    """``python -m venv --without-pip --symlinks TARGET`` done by this process: a second interpreter's
    start-up is a large part of a small sync (docs/benchmarks.md, "Why the fast paths exist")."""
    import venv  # lazy: only a sync that creates a venv

    running = Path(getattr(sys, "_base_executable", sys.executable))
    base = str(outside_venvs(running))

    class Builder(venv.EnvBuilder):
        def ensure_directories(self, env_dir: StrOrBytesPath) -> SimpleNamespace:
            context: SimpleNamespace = super().ensure_directories(env_dir)
            if base != str(running):  # 3.10 in a venv: _base_executable is that venv's python
                context.executable = base
                context.python_dir, context.python_exe = os.path.split(base)
            return context

    if sys.version_info >= (3, 13):  # python -m venv writes a .gitignore from 3.13 on; EnvBuilder() does not
        builder = Builder(with_pip=False, symlinks=True, scm_ignore_files={"git"})
    else:
        builder = Builder(with_pip=False, symlinks=True)
    try:
        builder.create(str(target))
    except OSError as error:
        raise TargetEnvironmentError(
            f"cannot create a venv at {target} with {sys.executable}: {error}"
        ) from None


def new_venv_info(base: InterpreterInfo, venv: Path) -> InterpreterInfo | None:
    """What the probe says of a venv just made at ``venv`` from the interpreter ``base`` describes,
    without running it (a subprocess of ~40 ms): ``moved_info``, once the venv's interpreter is there
    (None otherwise, or when the answer cannot be moved: the probe must say then)."""
    if not os.path.exists(runtime.venv_python(venv)):  # noqa: PTH110 - follows the link to the base
        return None
    return moved_info(base, venv)


def moved_info(info: InterpreterInfo, venv: Path) -> InterpreterInfo | None:
    """``info`` as the same interpreter reports it from a venv at ``venv``: its prefix the venv's, its
    scheme's folders moved under it. None when a folder of ``info``'s scheme is not under its prefix or
    ``venv`` is not an absolute, normalized path (the probe sees it normalized: no "..", no "//")."""
    if str(venv) != os.path.abspath(venv):  # noqa: PTH100
        return None
    old, new = info.prefix, str(venv)
    moved: dict[str, str] = {}
    for key, path in info.scheme.as_dict().items():
        if path != old and not path.startswith(old + os.sep):
            return None
        moved[key] = new + path[len(old) :]
    python = runtime.venv_python(venv)
    return dataclasses.replace(
        info, executable=python, prefix=new, is_venv=True, scheme=InstallScheme(**moved)
    )


def sibling_path(venv: Path, purpose: str) -> Path:
    """A fresh path beside ``venv`` (same filesystem, so renames are atomic)."""
    return venv.parent / f"{runtime.sibling_prefix(venv)}{purpose}-{os.urandom(4).hex()}"


def build_sibling(base_python: Path, venv: Path, runner: Runner | None = None) -> Path:
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
    bin_dir = Path(runtime.venv_python(staging)).parent
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


def swap_journal_path(venv: Path) -> Path:
    """``.<name>.envlock-swap.json`` beside ``venv``: present only while a swap is under way."""
    return Path(runtime.swap_journal_path(venv))


def swap_in(
    staging: Path, venv: Path, checkpoint: Callable[[str], None] = lambda _point: None
) -> Path | None:
    """Put ``staging`` at ``venv``; the previous venv (if any) is renamed aside and its new path
    returned for the caller to delete once it no longer needs it. If the second rename fails, the
    previous venv is put back. The swap journal makes a kill between the renames recoverable."""
    aside = sibling_path(venv, "old") if venv.exists() or venv.is_symlink() else None
    journal = swap_journal_path(venv)
    _write_json_atomic(journal, {"new": staging.name, "old": aside.name if aside else None})
    checkpoint("swap-journal")
    if aside is not None:
        venv.rename(aside)
    checkpoint("swap-between")
    try:
        staging.rename(venv)
    except OSError as error:
        if aside is not None:
            aside.rename(venv)
        journal.unlink(missing_ok=True)
        raise TargetEnvironmentError(f"cannot move the rebuilt venv into place at {venv}: {error}") from None
    journal.unlink(missing_ok=True)
    fsync_dir(venv.parent)
    return aside


def recover_rebuild(venv: Path) -> tuple[bool, list[str]]:
    """Finish what a killed rebuild left beside ``venv`` (call with the venv lock held): a swap cut
    between its renames is completed (the new venv, fully installed before the swap began, is moved
    in; it still carries its in-progress marker, so it is verified and stamped by the sync that
    follows); staging and old venvs are deleted. Returns (whether the folder at ``venv`` changed, so
    the caller must release its lock and start over, notes)."""
    notes: list[str] = []
    changed = False
    journal = swap_journal_path(venv)
    if journal.exists():
        names = _read_json(journal)
        new_name, old_name = names.get("new"), names.get("old")
        new = venv.parent / new_name if isinstance(new_name, str) and new_name else None
        old = venv.parent / old_name if isinstance(old_name, str) and old_name else None
        if not is_venv(venv):
            for candidate in (new, old):
                if candidate is not None and is_venv(candidate):
                    parked = sibling_path(venv, "old") if venv.exists() else None
                    if parked is not None:
                        venv.rename(parked)  # what is there is no venv (a lock-only folder)
                    candidate.rename(venv)
                    fsync_dir(venv.parent)
                    discard(parked)
                    changed = True
                    which = "finished" if candidate == new else "rolled back"
                    notes.append(f"{which} the swap of an interrupted rebuild")
                    break
        journal.unlink(missing_ok=True)
    if clean_stale_siblings(venv):
        notes.append("removed folders left beside the venv by an interrupted rebuild")
    return changed, notes


def clean_stale_siblings(venv: Path) -> list[Path]:
    """Delete staging/old venvs a killed rebuild left beside ``venv`` (call with the venv lock held:
    only the lock holder ever has a live one). A pending swap journal is left to ``recover_rebuild``."""
    if swap_journal_path(venv).exists():
        return []
    stale = sorted(venv.parent.glob(f"{runtime.sibling_prefix(venv)}new-*")) + sorted(
        venv.parent.glob(f"{runtime.sibling_prefix(venv)}old-*")
    )
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    for tmp in sorted(venv.parent.glob(f"{swap_journal_path(venv).name}.*.tmp")):
        tmp.unlink(missing_ok=True)
    return stale


def discard(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)


def _write_json_atomic(path: Path, data: dict[str, object]) -> None:
    write_atomic(path, (json.dumps(data, sort_keys=True) + "\n").encode("utf-8"))


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
