"""Interpreter facts come from the target Python itself: markers, tags, scheme, venv-ness."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from envlock.env.interpreter import (
    current_environment,
    environment_for,
    environment_for_version,
    probe,
)
from envlock.errors import InputError, TargetEnvironmentError
from tests.kit.plugin import PythonMap, VenvFactory


def test_probe_of_the_running_python_agrees_with_packaging() -> None:
    info = probe(sys.executable)
    environment = environment_for(info)
    current = current_environment()
    assert environment.markers == current.markers
    assert environment.tags == current.tags
    assert info.version == tuple(sys.version_info[:3])


def test_probe_of_a_venv_reports_the_venv_scheme(venv_factory: VenvFactory) -> None:
    venv = venv_factory()
    info = probe(venv / "bin" / "python")
    assert info.is_venv
    assert Path(info.prefix) == venv
    assert Path(info.scheme.purelib).is_relative_to(venv)
    assert Path(info.scheme.scripts) == venv / "bin"


def test_probe_of_an_old_python(available_pythons: PythonMap) -> None:
    if "3.8" not in available_pythons:
        pytest.skip("no Python 3.8 on this machine")
    info = probe(available_pythons["3.8"])
    environment = environment_for(info)
    assert environment.python_version == "3.8"
    assert environment.tags[0].startswith("cp38-cp38-")
    assert "py3-none-any" in environment.tags


def test_broken_interpreters_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(TargetEnvironmentError, match="cannot run Python at"):
        probe(tmp_path / "missing-python")

    def failing(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "Fatal Python error: init failed\n")

    with pytest.raises(TargetEnvironmentError, match="does not work \\(exit 1\\): Fatal Python error"):
        probe("/fake/python", failing)

    def garbage(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 0, "not json", "")

    with pytest.raises(TargetEnvironmentError, match="unreadable probe answer"):
        probe("/fake/python", garbage)


def test_environment_for_a_version() -> None:
    environment = environment_for_version("3.12")
    assert environment.python_version == "3.12"
    assert environment.python_full_version == "3.12.0"
    assert environment.tags[0].startswith("cp312-cp312-")
    assert environment.tag_rank[environment.tags[0]] == 0
    with pytest.raises(InputError, match="invalid Python version 'three'"):
        environment_for_version("three")
