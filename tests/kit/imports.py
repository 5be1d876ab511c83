"""What a launch-path process loads: the modules a snippet imports beyond those present at its start."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

LAUNCH_PATH_MODULES = frozenset(
    {
        "_sha2",
        "_sha256",
        "_json",
        "__future__",
        "_collections_abc",
        "_stat",
        "stat",
        "genericpath",
        "posixpath",
        "ntpath",
        "os",
        "os.path",
        "linecache",
    }
)
"""The standard-library modules the launchers' checker and the entry-point guard may load on a clean
venv (the launch path is measured: docs/benchmarks.md); ``linecache``: Python >= 3.13 keeps the source of
``-c`` code, the launcher's own included, for tracebacks."""


def modules_loaded(
    command: Sequence[str],
    code: str,
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> set[str]:
    """Run ``command -c PRELUDE+code args`` and return the modules ``code`` added to ``sys.modules``.

    ``code`` may use ``sys``; the snippet's own stdout is not read (the set is printed last)."""
    program = (
        "import sys; __before = set(sys.modules)\n"
        f"{code}\n"
        "print(','.join(sorted(set(sys.modules) - __before)))"
    )
    result = subprocess.run(
        [*command, "-c", program, *args], capture_output=True, text=True, check=True, env=env, cwd=cwd
    )
    return set(filter(None, result.stdout.strip().splitlines()[-1].split(",")))


def non_stdlib_imports(module: Path, allowed: Sequence[str] = ()) -> set[str]:
    """The top-level names ``module`` imports that are neither the standard library nor ``allowed``."""
    imported = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    return imported - set(sys.stdlib_module_names) - {"__future__", *allowed}


def launch_checker(folder: Path) -> Path:
    """``folder/_envlock_check.py``: the one-file launch runtime a launcher carries (``envlock/runtime/``)."""
    from envlock.guard import launchers

    path = folder / launchers.CHECK_SCRIPT
    path.write_text(launchers.checker_source(), encoding="utf-8")
    return path
