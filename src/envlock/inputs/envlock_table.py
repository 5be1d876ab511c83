"""``[tool.envlock]`` of pyproject.toml: envlock's own settings (defaults for the CLI), and pyproject.toml
read as TOML.

Light on purpose: a no-op ``envlock sync`` in a project with a pyproject.toml reads its ``lock`` and
``venv`` here (``project_defaults``), so this module imports neither packaging nor the requirement readers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from envlock.errors import InputError, RequirementsFileError
from envlock.inputs.config import ToolSettings, display_path, read_input_text
from envlock.tomlshim import tomllib


def load_toml(path: Path, base: Path) -> dict[str, Any]:
    """pyproject.toml (``path``, shown relative to ``base``) as TOML data; invalid TOML is an input error."""
    shown = display_path(path, base)
    text = read_input_text(path, shown)
    try:
        data: dict[str, Any] = tomllib.loads(text)
        return data
    except tomllib.TOMLDecodeError as error:
        raise RequirementsFileError(f"{shown}: not valid TOML: {error}") from None


def read_tool_settings(data: Mapping[str, Any], shown: str) -> ToolSettings:
    """``[tool.envlock]`` (kebab-case keys); unknown keys and wrong types are input errors."""
    table = data.get("tool", {}).get("envlock", {}) if isinstance(data.get("tool"), Mapping) else {}
    if not isinstance(table, Mapping):
        raise RequirementsFileError(f"{shown}: [tool.envlock] must be a table")
    known = {
        "index-url": str,
        "extra-index-urls": list,
        "find-links": list,
        "pre": bool,
        "only-binary": list,
        "no-binary": list,
        "python-version": str,
        "exclude-newer": str,
        "output": str,
        "extras": list,
        "groups": list,
        "lock": str,
        "venv": str,
        "targets": list,
        "install-project": bool,
        "cache-keys": list,
    }
    values: dict[str, Any] = {}
    for key, value in table.items():
        expected = known.get(key)
        if expected is None:
            raise RequirementsFileError(
                f"{shown}: unknown setting [tool.envlock] {key!r}", hint=f"known: {', '.join(sorted(known))}"
            )
        if not isinstance(value, expected) or (
            isinstance(value, list) and not all(isinstance(item, str) for item in value)
        ):
            kind = "a list of strings" if expected is list else expected.__name__
            raise RequirementsFileError(f"{shown}: [tool.envlock] {key} must be {kind}")
        values[key.replace("-", "_")] = tuple(value) if isinstance(value, list) else value
    values.pop("install_project", None)  # read where the project is: inputs.pyproject.installs_project
    values.pop("cache_keys", None)  # read where the project is built: sources.tree.cache_key_patterns
    return ToolSettings(**values)


def project_defaults(pyproject: Path) -> dict[str, str]:
    """``lock`` and ``venv`` from ``[tool.envlock]`` of ``pyproject`` (made relative to its folder), for
    the commands that take a lock or a venv (sync, export, compile). Reads with the standard library
    only and skips the other keys (``read_tool_settings`` validates those for compile)."""
    if not pyproject.is_file():
        return {}
    try:
        data = tomllib.loads(read_input_text(pyproject, str(pyproject)))
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{pyproject}: cannot read: {error}") from None
    tool = data.get("tool")
    table = tool.get("envlock") if isinstance(tool, Mapping) else None
    if not isinstance(table, Mapping):
        return {}
    found: dict[str, str] = {}
    for key in ("lock", "venv"):
        value = table.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InputError(f"{pyproject}: [tool.envlock] {key} must be a string")
        found[key] = str(pyproject.parent / value)
    return found
