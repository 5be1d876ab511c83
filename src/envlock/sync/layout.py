"""Where wheels land in one target: its install scheme, state folder and the interpreter its scripts name."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envlock.errors import TargetEnvironmentError
from envlock.runtime import STATE_DIR

if TYPE_CHECKING:
    from envlock.env.interpreter import InterpreterInfo


@dataclass(frozen=True)
class InstallLayout:
    """Where wheels land in one target, taken from the target interpreter's scheme."""

    root: Path
    """The venv (or prefix with --system): nothing outside it is ever removed."""
    scheme: Mapping[str, str]
    """purelib, platlib, scripts, data; ``headers`` is the folder under which ``<dist name>/`` goes."""
    interpreter: str
    """The interpreter written into script shebangs / launchers (the venv's final python path)."""
    script_kind: str
    """``posix`` or a Windows launcher kind (``win-amd64`` ...)."""
    python_version: str
    """``X.Y`` of the target."""

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def site_dirs(self) -> tuple[Path, ...]:
        purelib, platlib = Path(self.scheme["purelib"]), Path(self.scheme["platlib"])
        return (purelib,) if purelib == platlib else (purelib, platlib)

    def confined(self) -> InstallLayout:
        """This layout, once every install folder is found inside the venv (links resolved): whatever
        reported the folders (a probe, a remembered answer), no file of a wheel lands outside the venv
        it is written to (docs/safety.md). TargetEnvironmentError otherwise."""
        venv = os.path.realpath(self.root)
        for key, folder in sorted(self.scheme.items()):
            found = os.path.realpath(folder)
            if found != venv and not found.startswith(venv.rstrip(os.sep) + os.sep):
                where = f"its {key} folder {folder} outside the venv {self.root}"
                raise TargetEnvironmentError(f"Python at {self.interpreter} reports {where}")
        return self

    @classmethod
    def for_interpreter(
        cls, info: InterpreterInfo, *, root: Path, interpreter: str | None = None
    ) -> InstallLayout:
        """The layout of ``info``'s environment. ``interpreter`` overrides the shebang path (a venv
        being rebuilt in a temporary folder gets the path it will have after the swap)."""
        scheme = info.scheme.as_dict()
        if info.is_venv:
            # pip's historical header location inside virtual environments.
            scheme["headers"] = str(Path(info.prefix, "include", "site", f"python{info.python_version}"))
        return cls(
            root=root,
            scheme=scheme,
            interpreter=interpreter or info.executable,
            script_kind=_script_kind(info.platform),
            python_version=info.python_version,
        )


def _script_kind(platform: str) -> str:
    if not platform.startswith("win"):
        return "posix"
    return {"win32": "win-ia32", "win-amd64": "win-amd64", "win-arm64": "win-arm64"}.get(
        platform, "win-amd64"
    )
