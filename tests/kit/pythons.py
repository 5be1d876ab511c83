"""The CPython interpreters installed on this machine (pyenv's versions folder, ``python3.X`` on PATH).

Standard library only: ``scripts/dev.py`` imports it on a fresh clone, before any dependency is installed,
to run the suite on other Pythons; the kit re-exports it from ``tests.kit.venvs``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

__all__ = ["available_pythons"]

_ORIGINAL_HOME = Path(os.environ.get("HOME", "~")).expanduser()
"""HOME as it was when the kit was imported, before the ``isolated`` fixture replaced it."""


def available_pythons() -> dict[str, Path]:
    """Interpreters by ``"major.minor"`` found in pyenv's versions folder and on PATH (may be empty)."""
    found: dict[str, Path] = {}
    roots = [Path(os.environ["PYENV_ROOT"])] if os.environ.get("PYENV_ROOT") else []
    roots += [_ORIGINAL_HOME / ".pyenv", Path("/root/.pyenv")]
    for root in roots:
        versions = root / "versions"
        if not versions.is_dir():
            continue
        for folder in sorted(versions.iterdir()):
            match = re.fullmatch(r"(\d+)\.(\d+)\.\d+", folder.name)
            if not match:
                continue
            key = f"{match.group(1)}.{match.group(2)}"
            for candidate in ("python3", "python"):
                executable = folder / "bin" / candidate
                if key not in found and executable.is_file() and os.access(executable, os.X_OK):
                    found[key] = executable
    for minor in range(6, 20):
        key = f"3.{minor}"
        if key not in found:
            located = shutil.which(f"python{key}")
            if located:
                found[key] = Path(located)
    return dict(sorted(found.items(), key=lambda item: tuple(int(p) for p in item[0].split("."))))
