"""Real virtual environments for tests: creation, layout, and the interpreters found on this machine."""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from envlock.sync.link import FICLONE

if sys.platform.startswith("linux"):
    import fcntl

__all__ = ["available_pythons", "create_venv", "reflinks_here", "site_packages", "venv_bin", "venv_python"]

_ORIGINAL_HOME = Path(os.environ.get("HOME", "~")).expanduser()
"""HOME as it was when the kit was imported, before the ``isolated`` fixture replaced it."""


def venv_bin(venv: Path) -> Path:
    """The folder of a venv's executables (``bin`` on POSIX, ``Scripts`` on Windows)."""
    scripts = venv / "Scripts"
    if os.name == "nt" or (scripts.is_dir() and not (venv / "bin").is_dir()):
        return scripts
    return venv / "bin"


def venv_python(venv: Path) -> Path:
    """The venv's interpreter, in the POSIX (``bin/python``) or Windows (``Scripts/python.exe``) layout."""
    folder = venv_bin(venv)
    return folder / ("python.exe" if folder.name == "Scripts" else "python")


def site_packages(venv: Path) -> Path:
    """The venv's purelib folder, asked of its own interpreter."""
    result = subprocess.run(
        [str(venv_python(venv)), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(result.stdout.strip())


def create_venv(
    target: Path, python: str | os.PathLike[str] = sys.executable, *, with_pip: bool = False
) -> Path:
    """``python -m venv [--without-pip] target``; returns ``target``."""
    command = [str(python), "-m", "venv"]
    if not with_pip:
        command.append("--without-pip")
    subprocess.run([*command, str(target)], check=True, capture_output=True, text=True)
    return target


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


def reflinks_here(folder: Path) -> bool:
    """Whether ``folder``'s filesystem clones files (then ``auto`` clones instead of hardlinking)."""
    if not sys.platform.startswith("linux"):
        return False
    source, target = folder / "reflink-probe-a", folder / "reflink-probe-b"
    source.write_bytes(b"x")
    with source.open("rb") as src, target.open("wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
        except OSError as error:
            assert error.errno in (errno.EOPNOTSUPP, errno.ENOTTY, errno.EINVAL, errno.EXDEV), error
            return False
    return True
