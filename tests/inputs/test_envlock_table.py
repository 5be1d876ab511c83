"""[tool.envlock] of pyproject.toml: its settings, and the lock and venv defaults of the commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from envlock.errors import InputError, RequirementsFileError
from envlock.inputs.envlock_table import index_table, project_defaults, read_tool_settings


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


def _table(envlock: dict[str, object]) -> dict[str, object]:
    return {"tool": {"envlock": envlock}}


def test_index_table_named_indexes_pins_and_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORP_TOKEN", "tok")
    data = _table(
        {
            "keyring": True,
            "index": [
                {"name": "corp", "url": "https://u:${CORP_TOKEN}@corp.example/simple", "explicit": True},
                {"name": "mirror", "url": "https://mirror.example/simple"},
            ],
            "sources": {"Acme_Utils": {"index": "corp"}},
        }
    )
    table = index_table(data, "pyproject.toml")
    assert [(i.name, i.url, i.explicit) for i in table.named] == [
        ("corp", "https://u:tok@corp.example/simple", True),
        ("mirror", "https://mirror.example/simple", False),
    ]
    assert table.pins == {"acme-utils": "corp"} and table.keyring
    read_tool_settings(data, "pyproject.toml")  # the compile settings reader accepts the keys


@pytest.mark.parametrize(
    ("envlock", "message"),
    [
        ({"keyring": "yes"}, "keyring must be true or false"),
        ({"index": {"name": "x"}}, "must be an array of tables"),
        ({"index": [{"name": "x"}]}, "needs name and url"),
        ({"index": [{"name": "x", "url": "ftp://h/"}]}, "must be an http"),
        ({"index": [{"name": "x", "url": "https://h/", "default": True}]}, "unknown key 'default'"),
        ({"index": [{"name": "x", "url": "https://h/"}] * 2}, "name 'x' is given twice"),
        ({"sources": {"a": {"index": "nowhere"}}}, "names index 'nowhere'"),
        (
            {"index": [{"name": "x", "url": "https://h/"}], "sources": {"a": "x"}},
            'must be { index = "NAME" }',
        ),
        ({"index": [{"name": "x", "url": "https://${UNSET_VAR_X}@h/"}]}, "UNSET_VAR_X is not set"),
    ],
)
def test_index_table_errors_name_the_key(envlock: dict[str, object], message: str) -> None:
    with pytest.raises(RequirementsFileError, match=re.escape(message)):
        index_table(_table(envlock), "pyproject.toml")
