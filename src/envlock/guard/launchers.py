"""Launcher scripts (POSIX sh, Windows .cmd and .ps1) and the entry-point guard module, as text and files.

A launcher checks its venv with ``_envlock_check.py`` — the modules of ``envlock/runtime/`` in one file,
standard library only — run by the venv's own Python, then runs the command inside the venv. A Python
command runs in the interpreter that checked (``_envlock_run.py``, a copy of ``envlock/guard/runner.py``):
one start, not two. Every path in a launcher is relative to the launcher's folder, so a project can move or
be checked out elsewhere.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from envlock import __version__, validate
from envlock.atomic import write_atomic
from envlock.errors import InputError
from envlock.guard import runner
from envlock.runtime import drift

CHECK_SCRIPT = "_envlock_check.py"
"""The checker every launcher of a folder shares (envlock/runtime/ in one file)."""
RUN_SCRIPT = "_envlock_run.py"
"""Runs a Python command in the interpreter that checked (a copy of envlock/guard/runner.py)."""
GUARD_MODULE = "envlock_guard.py"
"""The entry-point guard: importing it checks the running venv (the checker + ``guard()``)."""

CHECK_RUNNER = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); from _envlock_check import main; "
    "sys.exit(main(sys.argv[1:]))"
)
"""How launchers run the checker alone: imported rather than run as a script, so its bytecode is cached."""
RUN_CODE = (
    "import sys; sys.dont_write_bytecode = False; sys.path[0] or sys.path.pop(0); sys.path.insert(0, "
    "sys.argv[1]); from _envlock_check import main; from _envlock_run import launch; launch(main)"
)
"""How launchers check, then run a Python command in the same interpreter (``runner.launch``). The ``''``
(cwd) that ``-c`` puts first on sys.path is taken off before anything is imported (it is absent only under
``-P``/PYTHONSAFEPATH, where the first entry is never empty); the checker's bytecode is cached whatever
PYTHONDONTWRITEBYTECODE says (the runner restores the flag for the program)."""

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
_SCRIPT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
"""A command name that may be a console script of the venv (and is safe unquoted in a launcher)."""

PYTHON = "python"
"""Launch kind: the venv's python runs a file, ``-m`` module or ``-c`` code: in the checking interpreter."""
SCRIPT = "script"
"""Launch kind: a bare name, run in the checking interpreter if it is a console script of the venv."""
OTHER = "other"
"""Launch kind: anything else: checked, then exec'd."""


@dataclass(frozen=True)
class LauncherSpec:
    """One launcher, with every path relative to the launcher's folder (POSIX spelling)."""

    name: str
    """The script name (``NAME``, ``NAME.cmd``, ``NAME.ps1``)."""
    command: tuple[str, ...]
    """The command the launcher runs in the venv, and its fixed arguments."""
    venv: str
    """The venv, relative to the launcher's folder."""
    lock: str | None
    """The lock, relative to the launcher's folder; ``None``: the lock the venv's stamp names."""
    chdir: str | None
    """Folder to change to before running the command, relative to the launcher's folder."""
    label: str
    """How messages name the venv (its path from the project folder, e.g. ``.venv``)."""
    sync_command: str
    """The fix the check suggests for drift."""
    compile_command: str = "envlock compile"
    """The fix for a lock older than its inputs (before ``&& sync_command``): ``-o LOCK`` when not the
    default lock."""


def _relative(path: Path, start: Path) -> str:
    try:
        return PurePosixPath(Path(os.path.relpath(path.absolute(), start.absolute())).as_posix()).as_posix()
    except ValueError:  # another drive
        raise InputError(
            f"{path} and {start} are on different drives; a launcher needs relative paths"
        ) from None


def plan_launcher(
    name: str,
    command: Sequence[str],
    *,
    out_dir: Path,
    venv: Path,
    lock: Path | None = None,
    chdir: Path | None = None,
    project: Path | None = None,
) -> LauncherSpec:
    """The launcher for ``command``; ``project`` (default: cwd) is where fix commands are to be run."""
    if not name or not set(name) <= _NAME_CHARS or name.startswith("."):
        raise InputError(f"invalid launcher name {name!r}", hint="use letters, digits, '-', '_' and '.'")
    if not command:
        raise InputError("no command given", hint="envlock launcher NAME -- CMD [ARGS...]")
    project = project or Path.cwd()
    venv_from_project = _relative(venv, project)
    lock_from_project = None if lock is None else _relative(lock, project)
    planned = LauncherSpec(
        name=name,
        command=tuple(command),
        venv=_relative(venv, out_dir),
        lock=None if lock is None else _relative(lock, out_dir),
        chdir=None if chdir is None else _relative(chdir, out_dir),
        label=venv_from_project,
        sync_command=drift.sync_fix(venv_from_project, lock_from_project),
        compile_command=drift.compile_fix(lock_from_project),
    )
    paths = (
        ("venv", planned.label),
        ("venv", planned.venv),
        ("lock", planned.lock),
        ("--chdir", planned.chdir),
    )
    for what, path in paths:
        if path is not None and not _cmd_safe(path):
            raise InputError(
                f"the {what} path {validate.shown(path)} cannot be written safely into a Windows "
                "launcher (it holds a quote, '%', '!' or a control character)",
                hint="rename the folder, or name it by another path",
            )
    return planned


_CMD_UNSAFE = frozenset('"%!')
"""What cmd.exe acts on even inside double quotes: the quote itself, ``%VAR%`` expansion, ``!VAR!``
(delayed expansion, which a registry setting may turn on)."""


def _cmd_safe(path: str) -> bool:
    return not _CMD_UNSAFE.intersection(path) and path.isprintable()


def launch_kind(command: Sequence[str]) -> str:
    """How a launcher runs ``command``: ``PYTHON``, ``SCRIPT`` or ``OTHER``."""
    if command[0] in runner.PYTHONS:
        return PYTHON if runner.plan(command) is not None else OTHER
    return SCRIPT if _SCRIPT_NAME.fullmatch(command[0]) else OTHER


def _under_here(path: str) -> str:
    """``$here/PATH`` as one sh word: PATH single-quoted unless it is plain (``$(...)``, backticks and
    ``"`` in a folder name stay characters of the name)."""
    quoted = shlex.quote(path)
    return f'"$here/{path}"' if quoted == path else f'"$here/"{quoted}'


def _compile_arg(spec: LauncherSpec, quote: Callable[[str], str]) -> str:
    """`` --compile-command ...`` when the fix is not the default (launchers of the default lock keep
    their text)."""
    if spec.compile_command == "envlock compile":
        return ""
    return f" --compile-command {quote(spec.compile_command)}"


def render_posix(spec: LauncherSpec) -> str:
    """The POSIX sh launcher."""
    q = shlex.quote
    lock = f" --lock {_under_here(spec.lock)}" if spec.lock else ""
    cd = f"cd {_under_here(spec.chdir)} || exit\n" if spec.chdir else ""
    missing = f"{spec.name}: no usable virtual environment at {spec.label} — run: {spec.sync_command}"
    check_args = (
        f'"$here" --name {q(spec.name)} --label {q(spec.label)} --venv "$venv"{lock} '
        f"--sync-command {q(spec.sync_command)}{_compile_arg(spec, q)}"
    )
    command = f'{" ".join(q(word) for word in spec.command)} "$@"'
    kind = launch_kind(spec.command)
    return (
        "#!/bin/sh\n"
        f"# {spec.name}: generated by `envlock launcher` (envlock {__version__}). Checks the venv against\n"
        "# its lock with the venv's own Python (standard library only), then runs the command in the venv:\n"
        "# a Python program in the interpreter that checked (one start), any other command with exec.\n"
        "case $0 in */*) here=${0%/*} ;; *) here=. ;; esac  # dirname, without starting it\n"
        'here=$(CDPATH= cd -- "$here" && pwd) || exit\n'
        f"venv={_under_here(spec.venv)}\n"
        'if [ ! -x "$venv/bin/python" ]; then\n'
        f"    echo {q(missing)} >&2\n"
        "    exit 1\n"
        "fi\n"
        'VIRTUAL_ENV=$venv PATH="$venv/bin:$PATH"\n'
        "export VIRTUAL_ENV PATH\n"
        "unset PYTHONHOME\n"
        f"{cd}" + _posix_run(kind, spec.command[0], check_args, command)
    )


def _posix_run(kind: str, program: str, check_args: str, command: str) -> str:
    """The end of a POSIX launcher: check and run in one interpreter, or check, then exec."""
    q = shlex.quote
    run = f"run={q(RUN_CODE)}  # imports $here/{CHECK_SCRIPT} and $here/{RUN_SCRIPT}\n"
    # `python` looked up on PATH (the venv's first), as exec would: the same sys.executable on every Python
    in_process = f'exec {program if kind == PYTHON else "python"} -c "$run" {check_args} -- {command}'
    if kind == PYTHON:
        return f"{run}{in_process}\n"
    check = (
        f"check={q(CHECK_RUNNER)}  # imports $here/{CHECK_SCRIPT}\n"
        f'"$venv/bin/python" -I -S -c "$check" {check_args} || exit\n'
        f"exec {command}\n"
    )
    if kind == OTHER:
        return check
    return (
        f"{run}line=  # a console script of the venv (#! this python) runs in the checking interpreter\n"
        f'[ -f "$venv/bin/{program}" ] && IFS= read -r line 2>/dev/null <"$venv/bin/{program}"\n'
        f"case $line in '#!'*python*) {in_process} ;; esac\n"
        f"{check}"
    )


def _win(path: str) -> str:
    return str(PureWindowsPath(path))


def _cmd_quote(word: str) -> str:
    """One word for a cmd.exe command line: C runtime quoting, quoted when cmd.exe would act on it."""
    quoted = subprocess.list2cmdline([word])
    if not quoted.startswith('"') and any(char in word for char in "&|<>()^,;="):
        quoted = f'"{quoted}"'
    return quoted.replace("%", "%%")


def render_cmd(spec: LauncherSpec) -> str:
    """The Windows cmd.exe launcher."""
    lock = f' --lock "%here%{_win(spec.lock)}"' if spec.lock else ""
    cd = f'cd /d "%here%{_win(spec.chdir)}" || exit /b 1\r\n' if spec.chdir else ""
    missing = f"{spec.name}: no usable virtual environment at {spec.label} - run: {spec.sync_command}"
    missing = "".join("^" + c if c in "^&|<>()" else c for c in missing).replace("%", "%%")
    check_args = (
        f'--name {_cmd_quote(spec.name)} --label {_cmd_quote(spec.label)} --venv "%venv%"{lock} '
        f"--sync-command {_cmd_quote(spec.sync_command)}{_compile_arg(spec, _cmd_quote)}"
    )
    command = f"{' '.join(_cmd_quote(word) for word in spec.command)} %*"
    if launch_kind(spec.command) == PYTHON:  # "%here%." : a trailing backslash would escape the quote
        run = f'"%venv%\\Scripts\\python.exe" -c "{RUN_CODE}" "%here%." {check_args} -- {command}\r\n'
    else:
        run = (
            f'"%venv%\\Scripts\\python.exe" -I -S "%here%{CHECK_SCRIPT}" {check_args} || exit /b\r\n'
            f"{command}\r\n"
        )
    return (
        "@echo off\r\n"
        f"rem {spec.name}: generated by envlock launcher (envlock {__version__}). Checks the venv against\r\n"
        "rem its lock with the venv's own Python (standard library only), then runs the command in it:\r\n"
        "rem a Python program in the interpreter that checked (one start).\r\n"
        "setlocal\r\n"
        'set "here=%~dp0"\r\n'
        f'set "venv=%here%{_win(spec.venv)}"\r\n'
        'if not exist "%venv%\\Scripts\\python.exe" (\r\n'
        f"    echo {missing} 1>&2\r\n"
        "    exit /b 1\r\n"
        ")\r\n"
        'set "VIRTUAL_ENV=%venv%"\r\n'
        'set "PATH=%venv%\\Scripts;%PATH%"\r\n'
        'set "PYTHONHOME="\r\n'
        f"{cd}"
        f"{run}"
        "exit /b %ERRORLEVEL%\r\n"
    )


_PS_SINGLE_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")
"""What ends a single-quoted PowerShell string: the ASCII quote and four typographic ones."""


def _ps_quote(word: str) -> str:
    """A single-quoted PowerShell string: each quote doubled (nothing else is special inside)."""
    for quote in _PS_SINGLE_QUOTES:
        word = word.replace(quote, quote * 2)
    return "'" + word + "'"


def render_ps1(spec: LauncherSpec) -> str:
    """The Windows PowerShell launcher."""
    lock = f" --lock (Join-Path $PSScriptRoot {_ps_quote(_win(spec.lock))})" if spec.lock else ""
    where = _ps_quote(_win(spec.chdir)) if spec.chdir else ""
    push = f"    Push-Location (Join-Path $PSScriptRoot {where})\n" if spec.chdir else ""
    pop = "    Pop-Location\n" if spec.chdir else ""
    missing = f"{spec.name}: no usable virtual environment at {spec.label} - run: {spec.sync_command}"
    check_args = (
        f"--name {_ps_quote(spec.name)} --label {_ps_quote(spec.label)} --venv $venv{lock} "
        f"--sync-command {_ps_quote(spec.sync_command)}{_compile_arg(spec, _ps_quote)}"
    )
    command = f"{' '.join(_ps_quote(word) for word in spec.command)} @args"
    check = ""
    if launch_kind(spec.command) == PYTHON:  # checked and run by one interpreter
        command = f"$python -c {_ps_quote(RUN_CODE)} $PSScriptRoot {check_args} -- {command}"
    else:
        check = (
            f"& $python -I -S (Join-Path $PSScriptRoot '{CHECK_SCRIPT}') {check_args}\n"
            "if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }\n"
        )
    # A .ps1 runs in the caller's session: everything it changes is put back in `finally`.
    return (
        f"# {spec.name}: generated by envlock launcher (envlock {__version__}). Checks the venv against\n"
        "# its lock with the venv's own Python (standard library only), then runs the command in the venv:\n"
        "# a Python program in the interpreter that checked (one start).\n"
        f"$venv = Join-Path $PSScriptRoot {_ps_quote(_win(spec.venv))}\n"
        "$python = Join-Path $venv 'Scripts\\python.exe'\n"
        "if (-not (Test-Path $python)) {\n"
        f"    [Console]::Error.WriteLine({_ps_quote(missing)})\n"
        "    exit 1\n"
        "}\n"
        f"{check}"
        "$saved = @{ PATH = $env:PATH; VIRTUAL_ENV = $env:VIRTUAL_ENV; PYTHONHOME = $env:PYTHONHOME }\n"
        "try {\n"
        "    $env:VIRTUAL_ENV = $venv\n"
        "    $env:PATH = (Join-Path $venv 'Scripts') + [IO.Path]::PathSeparator + $env:PATH\n"
        "    Remove-Item Env:PYTHONHOME -ErrorAction SilentlyContinue\n"
        f"{push}"
        f"    & {command}\n"
        "    $code = $LASTEXITCODE\n"
        "} finally {\n"
        f"{pop}"
        "    $env:PATH = $saved.PATH\n"
        "    $env:VIRTUAL_ENV = $saved.VIRTUAL_ENV\n"
        "    $env:PYTHONHOME = $saved.PYTHONHOME\n"
        "}\n"
        "exit $code\n"
    )


RUNTIME_MODULES = ("__init__", "lock_header", "drift", "detail", "launch")
"""The launch runtime's modules, each after those it imports (``envlock/runtime/``)."""


def _header(names: str, purpose: str) -> str:
    return (
        f"# Generated by envlock {__version__}: a copy of {names} (standard library only)\n"
        f"# that {purpose}. Regenerate with `envlock launcher`; do not edit.\n"
    )


def _copy_of(module: Path, name: str, purpose: str) -> str:
    """The source of one of envlock's standard-library-only modules, as it is in this envlock, behind a
    header saying what it is for and that it is generated."""
    return _header(f"envlock/guard/{name}", purpose) + module.read_text(encoding="utf-8")


def _without_runtime_imports(text: str, *, first: bool) -> str:
    """One runtime module's source without its imports of ``envlock.runtime`` (in one file its names are
    already defined above) and, after the first module, without its ``__future__`` import."""
    lines = text.splitlines(keepends=True)
    for node in reversed([n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.ImportFrom)]):
        own = (node.module or "").startswith("envlock.runtime")
        if own or (node.module == "__future__" and not first):
            del lines[node.lineno - 1 : node.end_lineno or node.lineno]
    return "".join(lines)


def checker_source() -> str:
    """``_envlock_check.py``: the modules of envlock/runtime/ in one file, the check every launcher runs.

    One file, not a copied package: ``envlock_guard.py`` must be one importable module next to the app, and
    the launchers start one module's import (the launch path is measured)."""
    folder = Path(drift.__file__).parent
    parts = [
        _without_runtime_imports((folder / f"{name}.py").read_text(encoding="utf-8"), first=index == 0)
        for index, name in enumerate(RUNTIME_MODULES)
    ]
    names = "envlock/runtime/{" + ",".join(RUNTIME_MODULES) + "}.py"
    return _header(names, "launchers run with the venv's Python") + "\n\n".join(parts)


def runner_source() -> str:
    """``_envlock_run.py``: envlock/guard/runner.py, which runs a Python command after the check."""
    return _copy_of(Path(runner.__file__), "runner.py", "launchers run a Python command with")


def guard_source() -> str:
    """``envlock_guard.py``: the checker plus a call of ``guard_or_exit()`` when imported."""
    return (
        checker_source().replace("launchers run with the venv's Python", "`import envlock_guard` runs")
        + '\n\nif __name__ != "__main__":  # `import envlock_guard`: refuse to run in a drifted venv\n'
        "    guard_or_exit()  # the report on stderr and exit 1; ENVLOCK_GUARD=raise: VenvDriftError\n"
    )


def _write(path: Path, text: str, *, executable: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"), mode=0o755 if executable else None)
    return path


def write_launchers(spec: LauncherSpec, out_dir: Path) -> list[Path]:
    """Write ``NAME``, ``NAME.cmd``, ``NAME.ps1``, the shared checker and runner into ``out_dir``; returns
    them."""
    return [
        _write(out_dir / spec.name, render_posix(spec), executable=True),
        _write(out_dir / f"{spec.name}.cmd", render_cmd(spec)),
        _write(out_dir / f"{spec.name}.ps1", render_ps1(spec)),
        _write(out_dir / CHECK_SCRIPT, checker_source()),
        _write(out_dir / RUN_SCRIPT, runner_source()),
    ]


def write_guard(directory: Path) -> Path:
    """Write ``envlock_guard.py`` into ``directory`` (next to the app's entry module)."""
    return _write(directory / GUARD_MODULE, guard_source())
