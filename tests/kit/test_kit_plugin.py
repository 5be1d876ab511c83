"""Tests of the kit's fixtures: isolation, venvs, interpreters, several indexes and the CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec
from tests.kit.index import IndexFeatures, KitIndex
from tests.kit.plugin import KitIndexFactory, PythonMap, RunEnvlock, VenvFactory
from tests.kit.venvs import site_packages, venv_bin, venv_python


def test_isolated_environment(isolated: Path, tmp_path: Path) -> None:
    assert Path.cwd() == isolated == tmp_path / "work"
    assert Path(os.environ["HOME"]) == tmp_path / "home"
    assert os.environ["PIP_CONFIG_FILE"] == "/dev/null"
    for name in ("PIP_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONSTRAINT", "VIRTUAL_ENV", "UV_INDEX_URL"):
        assert name not in os.environ


def test_venv_factory_without_pip(venv_factory: VenvFactory) -> None:
    venv = venv_factory()
    python = venv_python(venv)
    assert (venv / "pyvenv.cfg").is_file()
    assert python.is_file()
    probe = subprocess.run(
        [str(python), "-c", "import sys; print(sys.prefix != sys.base_prefix); import pip"],
        capture_output=True,
        text=True,
    )
    assert probe.stdout.strip() == "True"
    assert probe.returncode != 0, "no pip in a --without-pip venv"
    assert site_packages(venv).is_relative_to(venv)
    assert venv_factory() != venv, "every call gives a new venv"


def test_venv_factory_with_another_python(venv_factory: VenvFactory, available_pythons: PythonMap) -> None:
    others = [
        v for v in available_pythons if v != f"{sys.version_info[0]}.{sys.version_info[1]}" and v >= "3.8"
    ]
    if not others:
        pytest.skip("no other Python on this machine")
    venv = venv_factory(available_pythons[others[0]])
    version = subprocess.run(
        [str(venv_python(venv)), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == others[0]


def test_venv_python_layouts(tmp_path: Path, venv_python: Callable[[Path], Path]) -> None:
    windows = tmp_path / "win"
    (windows / "Scripts").mkdir(parents=True)
    posix = tmp_path / "posix"
    (posix / "bin").mkdir(parents=True)
    if os.name != "nt":
        assert venv_python(posix) == posix / "bin" / "python"
        assert venv_bin(posix) == posix / "bin"
    assert venv_python(windows) == windows / "Scripts" / "python.exe"


def test_available_pythons(available_pythons: PythonMap) -> None:
    assert available_pythons() is available_pythons
    for version, executable in available_pythons.items():
        major, minor = version.split(".")
        assert major.isdigit()
        assert minor.isdigit()
        assert executable.is_file()
    keys = list(available_pythons)
    assert keys == sorted(keys, key=lambda v: tuple(map(int, v.split("."))))
    if Path("/root/.pyenv/versions").is_dir():
        assert f"{sys.version_info[0]}.{sys.version_info[1]}" in available_pythons


def test_several_indexes_with_their_own_features(
    kit_index: KitIndex, kit_index_factory: KitIndexFactory
) -> None:
    html_only = kit_index_factory(IndexFeatures(json=False))
    assert html_only.url != kit_index.url
    assert kit_index.url.startswith("http://127.0.0.1:")
    assert kit_index.url.endswith("/simple/")
    assert html_only.features.json is False
    assert kit_index.features.json is True
    html_only.publish(DistSpec("only-here", "1.0"))
    assert html_only.projects() == ["only-here"]
    assert kit_index.projects() == []


def test_kit_index_context_manager(tmp_path: Path) -> None:
    with KitIndex(tmp_path / "idx") as index:
        url = index.url
        assert url.startswith("http://127.0.0.1:")
    with pytest.raises(RuntimeError):
        _ = index.url


def test_run_envlock(run_envlock: RunEnvlock, tmp_path: Path) -> None:
    result = run_envlock("--help")
    assert result.returncode == 0
    assert "Usage" in result.stdout
    failed = run_envlock("no-such-command", cwd=tmp_path, env={"ENVLOCK_TEST_MARKER": "1"})
    assert failed.returncode != 0
    assert "no-such-command" in failed.stderr
    with pytest.raises(AssertionError, match="exited"):
        run_envlock("no-such-command", check=True)
