#!/usr/bin/env python3
"""Developer entry point behind the README's two Quick-start commands, and CI's other Pythons.

    python3 scripts/dev.py test      set up the dev environment, then ruff, mypy and pytest
    python3 scripts/dev.py example   set up envlock and run its main job on the bundled example
    python3 scripts/dev.py test --python PATH [PYTEST ARGS]
                                     the same test run on another CPython, in .venv-X.Y (.venv-bootstrap-X.Y)
    python3 scripts/dev.py others [PYTEST ARGS]
                                     that test run on the oldest and the newest supported CPython installed
                                     besides this one (pyenv's versions folder, python3.X on PATH)

Standard library only: it runs on a fresh clone with nothing but Python.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUPPORTED = (3, 10)  # the oldest CPython envlock supports: pyproject.toml's requires-python

sys.path.insert(0, str(ROOT))
from tests.kit.pythons import available_pythons  # noqa: E402  (stdlib only: the kit's one interpreter finder)


@dataclass(frozen=True)
class DevEnv:
    """The interpreter a test run uses and the two venvs it owns."""

    python: Path  # the base interpreter both venvs are made from
    bootstrap: Path  # envlock itself, installed with pip (the bootstrap)
    dev: Path  # the dev environment: exactly the top-level lock, synced by envlock


def this_python() -> DevEnv:
    """The README's setup: the Python running this script, in .venv-bootstrap and .venv."""
    return DevEnv(Path(sys.executable), ROOT / ".venv-bootstrap", ROOT / ".venv")


def other_python(python: Path) -> DevEnv:
    """Another interpreter, with venvs named after its version so they never meet this Python's."""
    version = subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return DevEnv(python, ROOT / f".venv-bootstrap-{version}", ROOT / f".venv-{version}")


def bin_path(env: Path, name: str) -> Path:
    if os.name == "nt":
        return env / "Scripts" / (name + ".exe")
    return env / "bin" / name


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        sys.exit(result.returncode)


def make_venv(base: Path, target: Path) -> None:
    """A new venv with pip at ``target``, made by ``base`` itself (whatever Python runs this script)."""
    run(base, "-m", "venv", "--clear", target)


def bootstrap(setup: DevEnv) -> Path:
    """Install envlock (editable) into its own venv with pip; returns the envlock executable."""
    python = bin_path(setup.bootstrap, "python")
    if not python.exists():
        make_venv(setup.python, setup.bootstrap)
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", ROOT)
    return bin_path(setup.bootstrap, "envlock")


LOCK_FITS = """
import sys
from envlock.tomlshim import tomllib
from packaging.markers import Marker
with open("pylock.toml", "rb") as f:
    environments = tomllib.load(f).get("environments") or []
sys.exit(0 if not environments or any(Marker(e).evaluate() for e in environments) else 1)
"""


def lock_fits(setup: DevEnv) -> bool:
    """Whether the committed dev lock was resolved for an environment like this one."""
    python = bin_path(setup.bootstrap, "python")
    return subprocess.run([str(python), "-c", LOCK_FITS], cwd=ROOT, check=False).returncode == 0


def dev_env(setup: DevEnv, envlock: Path) -> Path:
    """Make the dev venv exactly the committed dev lock (dogfooding); CI fails when that lock is stale."""
    if lock_fits(setup):
        run(envlock, "compile", "--check", "requirements.in", "-o", "pylock.toml")
        # --python: made from the interpreter itself, never linked through the bootstrap venv's python
        # (Python 3.10's venv module links a venv made from a venv's python to that python)
        run(envlock, "sync", "pylock.toml", "--venv", setup.dev, "--python", setup.python)
    else:  # the dev lock covers CPython 3.10-3.14 on Linux, Windows and macOS; elsewhere use pip
        print("note: pylock.toml was not resolved for this Python; installing requirements.in with pip")
        python = bin_path(setup.dev, "python")
        if not python.exists():
            make_venv(setup.python, setup.dev)
        run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", "requirements.in")
    return bin_path(setup.dev, "python")


def test(extra: list[str]) -> None:
    setup = this_python()
    if extra[:1] == ["--python"] and len(extra) >= 2:
        setup, extra = other_python(Path(extra[1])), extra[2:]
    envlock = bootstrap(setup)
    python = dev_env(setup, envlock)
    env = dict(os.environ)
    # envlock runs from the source tree: the dev venv holds exactly the lock, nothing else.
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    run(python, "-m", "ruff", "check", "src", "tests", "scripts", "benchmarks", env=env)
    run(python, "-m", "ruff", "format", "--check", "src", "tests", "scripts", "benchmarks", env=env)
    run(python, "-m", "mypy", env=env)
    run(python, "-m", "pytest", "-n", "auto", *extra, env=env)


def others_to_test(found: dict[str, Path], running: str) -> list[Path]:
    """Of the interpreters ``found`` (by "X.Y", oldest first), the oldest and the newest supported one
    that is not the ``running`` version: none, one or two."""
    supported = [
        path
        for version, path in found.items()
        if version != running and tuple(int(part) for part in version.split(".")) >= SUPPORTED
    ]
    return list(dict.fromkeys(supported[:1] + supported[-1:]))


def others(extra: list[str]) -> None:
    """``test`` on each other Python in turn (each in its own venvs); fails if any of them fails."""
    pythons = others_to_test(available_pythons(), f"{sys.version_info[0]}.{sys.version_info[1]}")
    if not pythons:
        print(f"note: no other CPython >= {SUPPORTED[0]}.{SUPPORTED[1]} installed; nothing more to test")
        return
    failed = []
    for python in pythons:
        print(f"== test on {python}", flush=True)
        command = [sys.executable, str(Path(__file__).resolve()), "test", "--python", str(python), *extra]
        if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
            failed.append(python)
    for python in pythons:
        print(f"{'FAILED' if python in failed else 'passed'}: test on {python}")
    if failed:
        sys.exit(1)


def example(extra: list[str]) -> None:
    envlock = bootstrap(this_python())
    run(
        bin_path(this_python().bootstrap, "python"),
        ROOT / "examples" / "service" / "demo.py",
        str(envlock),
        *extra,
    )


def main() -> None:
    commands = {"test": test, "others": others, "example": example}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        sys.exit(2)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
