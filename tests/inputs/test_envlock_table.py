"""[tool.envlock] of pyproject.toml: its settings, and the lock and venv defaults of the commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from envlock.errors import InputError, RequirementsFileError
from envlock.inputs.envlock_table import project_defaults, read_tool_settings


def test_tool_settings() -> None:
    data = {"tool": {"envlock": {"index-url": "https://i", "pre": True, "only-binary": [":all:"]}}}
    settings = read_tool_settings(data, "pyproject.toml")
    assert settings.index_url == "https://i" and settings.pre and settings.only_binary == (":all:",)
    with pytest.raises(RequirementsFileError, match="unknown setting"):
        read_tool_settings({"tool": {"envlock": {"bogus": 1}}}, "pyproject.toml")
    with pytest.raises(RequirementsFileError, match="pre must be bool"):
        read_tool_settings({"tool": {"envlock": {"pre": "yes"}}}, "pyproject.toml")


def test_project_defaults_lock_and_venv_relative_to_pyproject(tmp_path: Path) -> None:
    assert project_defaults(tmp_path / "pyproject.toml") == {}
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n[tool.envlock]\nlock = "locks/dev.toml"\nvenv = ".venv-dev"\npre = true\n'
    )
    found = project_defaults(tmp_path / "pyproject.toml")
    assert found == {"lock": str(tmp_path / "locks/dev.toml"), "venv": str(tmp_path / ".venv-dev")}
    settings = read_tool_settings({"tool": {"envlock": {"lock": "l.toml", "venv": "v"}}}, "pyproject.toml")
    assert settings.lock == "l.toml" and settings.venv == "v"
    (tmp_path / "pyproject.toml").write_text("[tool.envlock]\nlock = 3\n")
    with pytest.raises(InputError, match=r"\[tool.envlock\] lock must be a string"):
        project_defaults(tmp_path / "pyproject.toml")
    (tmp_path / "pyproject.toml").write_text("[tool.envlock\n")
    with pytest.raises(InputError, match="cannot read"):
        project_defaults(tmp_path / "pyproject.toml")
