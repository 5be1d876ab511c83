"""``[tool.envlock]`` of pyproject.toml: envlock's own settings (defaults for the CLI), and pyproject.toml
read as TOML.

Light on purpose: a no-op ``envlock sync`` in a project with a pyproject.toml reads its ``lock`` and
``venv`` here (``project_defaults``), so this module imports neither packaging nor the requirement readers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envlock.errors import InputError, RequirementsFileError
from envlock.index.credentials import CredentialLookup, CredentialSources, NamedIndex, keyring_enabled
from envlock.inputs.config import ToolSettings, display_path, read_input_text
from envlock.option_table import tool_keys
from envlock.tomlshim import tomllib

INDEX_KEYS = ("index", "sources", "keyring")
PROJECT_KEYS: dict[str, type] = {
    "install-project": bool,
    "cache-keys": list,
    "index": list,
    "sources": Mapping,
    "keyring": bool,
}
"""The ``[tool.envlock]`` keys of no command-line option (those of an option are the option table's
``tool`` column: ``option_table.tool_keys``)."""
_TOML_TYPES: dict[str, type] = {"multi": list, "flag": bool}
"""``[tool.envlock]`` keys about indexes, read by ``index_table`` (compile and sync both need them)."""


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
    known: dict[str, type] = {key: _TOML_TYPES.get(kind, str) for key, kind in tool_keys().items()}
    known.update(PROJECT_KEYS)
    values: dict[str, Any] = {}
    for key, value in table.items():
        expected = known.get(key)
        if expected is None:
            raise RequirementsFileError(
                f"{shown}: unknown setting [tool.envlock] {key!r}", hint=f"known: {', '.join(sorted(known))}"
            )
        if key in INDEX_KEYS:
            continue  # read by index_table
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


@dataclass(frozen=True)
class IndexTable:
    """``[[tool.envlock.index]]``, ``[tool.envlock.sources]`` and ``keyring`` of pyproject.toml."""

    named: tuple[NamedIndex, ...] = ()
    pins: Mapping[str, str] = field(default_factory=dict)
    """Canonical package name -> the name of the index it is taken from alone."""
    keyring: bool = False

    def credential_lookup(self, environ: Mapping[str, str] | None = None) -> CredentialLookup:
        """The login lookup for this project: its named indexes' variables, netrc, the keyring if on."""
        env = dict(os.environ if environ is None else environ)
        return CredentialLookup(
            CredentialSources(named=self.named, keyring=keyring_enabled(self.keyring, env), environ=env)
        )


def index_table(data: Mapping[str, Any], shown: str) -> IndexTable:
    """The index settings of ``[tool.envlock]``; a wrong shape is an input error naming the key."""
    # lazy: as below (the module stays light for project_defaults)
    from packaging.utils import canonicalize_name

    tool = data.get("tool")
    table = tool.get("envlock") if isinstance(tool, Mapping) else None
    if not isinstance(table, Mapping):
        return IndexTable()
    keyring = table.get("keyring", False)
    if not isinstance(keyring, bool):
        raise RequirementsFileError(f"{shown}: [tool.envlock] keyring must be true or false")
    named = tuple(_named_index(entry, shown) for entry in _list(table.get("index", []), shown))
    names = [index.name for index in named]
    doubled = sorted({name for name in names if names.count(name) > 1})
    if doubled:
        raise RequirementsFileError(f"{shown}: [[tool.envlock.index]] name {doubled[0]!r} is given twice")
    pins: dict[str, str] = {}
    sources = table.get("sources", {})
    if not isinstance(sources, Mapping):
        raise RequirementsFileError(f"{shown}: [tool.envlock.sources] must be a table")
    for package, source in sources.items():
        index = source.get("index") if isinstance(source, Mapping) else None
        if not isinstance(index, str) or set(source) != {"index"}:
            raise RequirementsFileError(
                f'{shown}: [tool.envlock.sources] {package} must be {{ index = "NAME" }}'
            )
        if index not in names:
            raise RequirementsFileError(
                f"{shown}: [tool.envlock.sources] {package} names index {index!r}, which no"
                " [[tool.envlock.index]] defines",
                hint=f"defined: {', '.join(names) or 'none'}",
            )
        pins[canonicalize_name(package)] = index
    return IndexTable(named, pins, keyring)


def project_index_table(lock_path: Path) -> IndexTable:
    """The index settings of the project a lock belongs to: pyproject.toml next to the lock, else in the
    working folder; none when there is neither (a lock alone still syncs, with netrc and keyring)."""
    for pyproject in (lock_path.parent / "pyproject.toml", Path("pyproject.toml")):
        if pyproject.is_file():
            return index_table(load_toml(pyproject, Path.cwd()), display_path(pyproject, Path.cwd()))
    return IndexTable()


def _list(value: object, shown: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise RequirementsFileError(f"{shown}: [[tool.envlock.index]] must be an array of tables")
    return value


def _named_index(entry: Mapping[str, Any], shown: str) -> NamedIndex:
    name, url, explicit = entry.get("name"), entry.get("url"), entry.get("explicit", False)
    unknown = set(entry) - {"name", "url", "explicit"}
    if unknown:
        raise RequirementsFileError(
            f"{shown}: [[tool.envlock.index]] unknown key {sorted(unknown)[0]!r}",
            hint="known: name, url, explicit",
        )
    if not isinstance(name, str) or not name or not isinstance(url, str) or not isinstance(explicit, bool):
        raise RequirementsFileError(
            f"{shown}: each [[tool.envlock.index]] needs name and url (strings), explicit true or false"
        )
    if not url.startswith(("https://", "http://", "file://")):
        raise RequirementsFileError(f"{shown}: [[tool.envlock.index]] {name}: url must be an http(s) URL")
    # lazy: the requirements reader owns ``${VAR}`` expansion; a no-op sync never reads index settings
    from envlock.inputs.requirements_file import _expand

    return NamedIndex(name, _expand(url, os.environ, f"{shown}: [[tool.envlock.index]] {name}"), explicit)
