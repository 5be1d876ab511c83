"""Real virtual environments for tests: creation, layout, and the interpreters found on this machine."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

from envlock.sync.link import FICLONE
from tests.kit.pythons import available_pythons

if sys.platform.startswith("linux"):
    import fcntl

__all__ = ["available_pythons", "create_venv", "reflinks_here", "site_packages", "venv_bin", "venv_python"]


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
