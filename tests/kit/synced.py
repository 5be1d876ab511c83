"""Synced test projects for the check tests: a real venv, kit wheels installed with ``installer``, a lock
and a stamp — built the way ``envlock sync`` leaves a venv, without depending on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile

from envlock import runtime
from envlock.guard import stamp_writer
from tests.kit.dists import DistSpec, build_wheel
from tests.kit.venvs import create_venv, venv_python

DEV_PYTHON = Path(sys.executable)


@dataclass(frozen=True)
class Project:
    """A project folder with requirements.in, pylock.toml and a synced ``.venv``."""

    root: Path
    venv: Path
    lock: Path
    requirements: Path

    @property
    def python(self) -> Path:
        return venv_python(self.venv)

    def site_packages(self) -> Path:
        return Path(_scheme(self.python)["purelib"])


def _scheme(python: Path) -> dict[str, str]:
    code = "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    paths: dict[str, str] = json.loads(result.stdout)
    return paths


def install_wheels(python: Path, wheels: Iterable[Path], installer_name: str = "envlock") -> None:
    """Install wheels into the environment of ``python`` the way envlock sync does (INSTALLER envlock)."""
    scheme = _scheme(python)
    names = ("purelib", "platlib", "headers", "scripts", "data")
    destination = SchemeDictionaryDestination(
        {name: scheme.get(name, scheme["data"]) for name in names},
        interpreter=str(python),
        script_kind="posix" if os.name != "nt" else "win-amd64",
    )
    for wheel in wheels:
        with WheelFile.open(wheel) as source:
            install(source, destination, {"INSTALLER": installer_name.encode() + b"\n"})


def lock_text(specs: Sequence[DistSpec], inputs: Sequence[str] = ("requirements.in",)) -> str:
    """A small PEP 751 lock naming ``specs`` (the check only hashes it)."""
    lines = ['lock-version = "1.0"', 'created-by = "envlock"', ""]
    for spec in sorted(specs, key=lambda s: s.name):
        lines += ["[[packages]]", f'name = "{spec.name}"', f'version = "{spec.version}"', ""]
    lines += ["[tool.envlock]", "inputs = [" + ", ".join(f'"{i}"' for i in inputs) + "]", ""]
    return "\n".join(lines)


def make_project(root: Path, specs: Sequence[DistSpec], *, python: Path = DEV_PYTHON) -> Project:
    """``root`` with requirements.in, pylock.toml and ``.venv`` synced to it (stamp written)."""
    root.mkdir(parents=True, exist_ok=True)
    requirements = root / "requirements.in"
    requirements.write_text("".join(f"{s.name}\n" for s in specs), encoding="utf-8")
    lock = root / "pylock.toml"
    lock.write_text(lock_text(specs), encoding="utf-8")
    venv = create_venv(root / ".venv", python)
    project = Project(root=root, venv=venv, lock=lock, requirements=requirements)
    stamp_writer.begin_sync(venv)
    wheels = [build_wheel(spec, root.parent / "wheels") for spec in specs]
    install_wheels(project.python, wheels)
    restamp(project)
    return project


def restamp(project: Project) -> None:
    """What a successful sync ends with: the stamp for the current lock."""
    source = stamp_writer.SyncedFrom(
        lock_path=project.lock,
        lock_bytes_sha256=runtime.sha256_file(project.lock),
        extras=(),
        groups=(),
        python=str(project.python),
    )
    stamp_writer.write_stamp(project.venv, source)


def pip_install(project: Project, index_url: str, *requirements: str) -> None:
    """pip from outside the venv (the dev venv's pip) installing into it: the drift a stray pip causes."""
    subprocess.run(
        [
            str(DEV_PYTHON),
            "-m",
            "pip",
            "--python",
            str(project.python),
            "install",
            "--quiet",
            "--index-url",
            index_url,
            *requirements,
        ],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )
