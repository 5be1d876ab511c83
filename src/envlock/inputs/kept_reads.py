"""What a compile's outcome is read from besides its command line, recorded with its cached "lock kept"
verdict (``inputs.kept_cache``): the input files and the files they include, ./pyproject.toml (its
``[tool.envlock]``), the files compile would pick without sources, each local source's build
configuration (absent files included: a new setup.py changes it) or archive, and the environment
variables the requirements files name."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from envlock.inputs.requirements_file import variables_in
from envlock.inputs.settings import Resolved
from envlock.models.source import ARCHIVE, DIRECTORY
from envlock.sources.tree import CONFIG_FILES


def read_files(resolved: Resolved, root: Path, defaults: Iterable[str]) -> list[str]:
    """Every file the outcome depends on, absolute (links not resolved: a link pointed elsewhere is
    read anew); ``defaults``: the default sources compile looks for, when none were given."""
    found = [*resolved.inputs.files, root / "pyproject.toml", *(root / name for name in defaults)]
    for item in (*resolved.inputs.requirements, *resolved.inputs.constraints):
        source = item.origin
        if source is None or source.path is None:
            continue
        if source.kind == DIRECTORY:
            found.extend(source.path / name for name in CONFIG_FILES)
        elif source.kind == ARCHIVE:
            found.append(source.path)
    return [str(path.absolute()) for path in found]


def variables(resolved: Resolved) -> set[str]:
    """The ``${NAME}`` variables the input files name (read again: the readers keep no text)."""
    names: set[str] = set()
    for path in resolved.inputs.files:
        try:
            names |= variables_in(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return names
