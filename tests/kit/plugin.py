"""pytest plugin of the test kit: isolation, a package index, real venvs, the envlock CLI in a subprocess."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

import pytest

import envlock
from tests.kit import venvs
from tests.kit.index import IndexFeatures, KitIndex

ENVLOCK_SOURCE = str(Path(envlock.__file__).resolve().parents[1])
"""The folder envlock is imported from; subprocesses get it as PYTHONPATH, like an installed tool."""


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Own HOME, caches and working folder; nothing reads the machine's pip config or user cache."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("ENVLOCK_CACHE_DIR", str(tmp_path / "envlock-cache"))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_NO_INPUT", "1")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    for name in (
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_FIND_LINKS",
        "PIP_CONSTRAINT",
        "UV_INDEX_URL",
        "UV_EXTRA_INDEX_URL",
        "UV_INDEX",
        "UV_DEFAULT_INDEX",
        "ENVLOCK_INDEX_URL",
        "ENVLOCK_KEYRING",
        "NETRC",
        "VIRTUAL_ENV",
        "PYTHONHOME",
    ):
        monkeypatch.delenv(name, raising=False)
    # `python -m envlock` works in every subprocess however the test run found envlock (installed, or the
    # source tree as in CI); nothing else leaks in. Tests of an app venv that must not see envlock drop it.
    monkeypatch.setenv("PYTHONPATH", ENVLOCK_SOURCE)
    monkeypatch.chdir(work)
    yield work


# --- package index ---


class KitIndexFactory(Protocol):
    def __call__(self, features: IndexFeatures | None = None) -> KitIndex: ...


@pytest.fixture
def kit_index_factory(tmp_path: Path) -> Iterator[KitIndexFactory]:
    """Make more started indexes (each with its own folder); all are stopped after the test."""
    started: list[KitIndex] = []
    counter = itertools.count()

    def make(features: IndexFeatures | None = None) -> KitIndex:
        index = KitIndex(tmp_path / f"kit-index-{next(counter)}", features)
        index.start()
        started.append(index)
        return index

    yield make
    for index in started:
        index.stop()


@pytest.fixture
def kit_index(kit_index_factory: KitIndexFactory) -> KitIndex:
    """A started, empty index with every feature on; ``kit_index.url`` is its ``/simple/`` root."""
    return kit_index_factory()


# --- venvs and interpreters ---


class VenvFactory(Protocol):
    def __call__(self, python: str | os.PathLike[str] = ..., *, with_pip: bool = False) -> Path: ...


@pytest.fixture
def venv_factory(tmp_path: Path) -> VenvFactory:
    """Create a real venv in tmp: ``--without-pip`` (fast) unless ``with_pip`` (ensurepip, offline)."""
    counter = itertools.count()

    def make(python: str | os.PathLike[str] = sys.executable, *, with_pip: bool = False) -> Path:
        return venvs.create_venv(tmp_path / "venvs" / f"venv-{next(counter)}", python, with_pip=with_pip)

    return make


@pytest.fixture
def venv_python() -> Callable[[Path], Path]:
    """``venv_python(venv)`` -> the venv's interpreter (POSIX or Windows layout)."""
    return venvs.venv_python


class PythonMap(dict[str, Path]):
    """``{"3.8": Path(...), ...}``; also callable (``available_pythons()``) returning itself."""

    def __call__(self) -> dict[str, Path]:
        return self


@pytest.fixture(scope="session")
def available_pythons() -> PythonMap:
    """Interpreters on this machine by ``"major.minor"`` (pyenv folders and PATH); possibly empty."""
    return PythonMap(venvs.available_pythons())


# --- the CLI ---


class RunEnvlock(Protocol):
    def __call__(
        self,
        *args: str | os.PathLike[str],
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = False,
    ) -> subprocess.CompletedProcess[str]: ...


@pytest.fixture
def run_envlock() -> RunEnvlock:
    """Run ``python -m envlock ARGS`` in a subprocess; ``env`` entries are laid over ``os.environ``."""

    def run(
        *args: str | os.PathLike[str],
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **(env or {})}
        full_env.setdefault("PYTHONIOENCODING", "utf-8")
        command = [sys.executable, "-m", "envlock", *(os.fspath(a) for a in args)]
        result = subprocess.run(
            command, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=600, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result

    return run
