"""The launch runtime's venv facts (``envlock.runtime``): the base interpreter behind a venv's python."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from envlock import runtime


@pytest.mark.skipif(os.name == "nt", reason="a venv's python is a symlink on POSIX")
def test_a_linked_interpreter_is_resolved_without_reading_pyvenv_cfg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pyvenv.cfg's home names the base interpreter of a copied one (Windows) only: every check and no-op
    # sync of a POSIX venv used to read it for nothing
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = {Path(sys.executable).parent}\n")
    (venv / "bin" / "python").symlink_to(sys.executable)
    read: list[str] = []
    real = runtime.read_pyvenv_cfg
    monkeypatch.setattr(runtime, "read_pyvenv_cfg", lambda folder: read.append(str(folder)) or real(folder))
    assert runtime.base_interpreter(venv, venv / "bin" / "python") == os.path.realpath(sys.executable)
    assert read == []


def test_a_copied_interpreter_is_the_one_pyvenv_cfg_names(tmp_path: Path) -> None:
    venv, home = tmp_path / "venv", tmp_path / "base"
    (venv / "bin").mkdir(parents=True)
    home.mkdir()
    (home / "python").write_bytes(b"base")
    (venv / "bin" / "python").write_bytes(b"copy")
    (venv / "pyvenv.cfg").write_text(f"home = {home}\n")
    assert runtime.base_interpreter(venv, venv / "bin" / "python") == os.path.realpath(home / "python")
