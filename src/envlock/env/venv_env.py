"""The process environment of a command run inside a venv: VIRTUAL_ENV, PATH, no PYTHONHOME."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from envlock.runtime import venv_python


def scripts_dir(venv: Path) -> Path:
    """The venv's executables folder: ``Scripts`` on Windows, ``bin`` elsewhere (the folder of
    ``stamp.venv_python``, the one venv-python rule)."""
    return Path(venv_python(venv)).parent


def venv_environment(venv: Path, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with VIRTUAL_ENV set to ``venv``, its scripts folder first on PATH, PYTHONHOME unset."""
    root = venv.absolute()
    env = {key: value for key, value in base.items() if key not in ("PYTHONHOME", "__PYVENV_LAUNCHER__")}
    env["VIRTUAL_ENV"] = str(root)
    rest = [p for p in base.get("PATH", os.defpath).split(os.pathsep) if p and p != str(scripts_dir(root))]
    env["PATH"] = os.pathsep.join([str(scripts_dir(root)), *rest])
    return env


def which_in(program: str, path: str) -> str | None:
    """``program`` found on ``path`` (or as given when it contains a separator), like a shell would."""
    if os.sep in program or (os.altsep and os.altsep in program):
        return program if os.access(program, os.X_OK) else None
    return shutil.which(program, path=path)
