#!/usr/bin/env python3
"""Developer entry point behind the README's two Quick-start commands.

    python3 scripts/dev.py test      set up the dev environment, then ruff, mypy and pytest
    python3 scripts/dev.py example   set up envlock and run its main job on the bundled example

Standard library only: it runs on a fresh clone with nothing but Python.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / ".venv-bootstrap"  # envlock itself, installed with pip (the bootstrap)
DEV = ROOT / ".venv"  # the dev environment: exactly the top-level lock, synced by envlock


def bin_path(env: Path, name: str) -> Path:
    if os.name == "nt":
        return env / "Scripts" / (name + ".exe")
    return env / "bin" / name


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        sys.exit(result.returncode)


def bootstrap() -> Path:
    """Install envlock (editable) into its own venv with pip; returns the envlock executable."""
    python = bin_path(BOOTSTRAP, "python")
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(BOOTSTRAP)
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", ROOT)
    return bin_path(BOOTSTRAP, "envlock")


LOCK_FITS = """
import sys, tomllib
from packaging.markers import Marker
with open("pylock.toml", "rb") as f:
    environments = tomllib.load(f).get("environments") or []
sys.exit(0 if not environments or any(Marker(e).evaluate() for e in environments) else 1)
"""


def lock_fits_this_python() -> bool:
    """Whether the committed dev lock was resolved for an environment like this one."""
    python = bin_path(BOOTSTRAP, "python")
    return subprocess.run([str(python), "-c", LOCK_FITS], cwd=ROOT, check=False).returncode == 0


def dev_env(envlock: Path) -> Path:
    """Make .venv exactly the committed dev lock (dogfooding); CI fails when that lock is stale."""
    if lock_fits_this_python():
        run(envlock, "compile", "--check", "requirements.in", "-o", "pylock.toml")
        run(envlock, "sync", "pylock.toml", "--venv", DEV)
    else:  # the dev lock covers CPython 3.10-3.14 on Linux, Windows and macOS; elsewhere use pip
        print("note: pylock.toml was not resolved for this Python; installing requirements.in with pip")
        python = bin_path(DEV, "python")
        if not python.exists():
            venv.EnvBuilder(with_pip=True, clear=True).create(DEV)
        run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", "requirements.in")
    return bin_path(DEV, "python")


def test(extra: list[str]) -> None:
    envlock = bootstrap()
    python = dev_env(envlock)
    env = dict(os.environ)
    # envlock runs from the source tree: the dev venv holds exactly the lock, nothing else.
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    run(python, "-m", "ruff", "check", "src", "tests", "scripts", "benchmarks", env=env)
    run(python, "-m", "ruff", "format", "--check", "src", "tests", "scripts", "benchmarks", env=env)
    run(python, "-m", "mypy", env=env)
    run(python, "-m", "pytest", "-n", "auto", *extra, env=env)


def example(extra: list[str]) -> None:
    envlock = bootstrap()
    run(
        bin_path(BOOTSTRAP, "python"),
        ROOT / "examples" / "service" / "demo.py",
        str(envlock),
        *extra,
    )


def main() -> None:
    commands = {"test": test, "example": example}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        sys.exit(2)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
