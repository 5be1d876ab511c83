"""Compile settings as data: what a compile was asked for beyond its input files, the one merge of those
settings with the inputs' option lines and ``[tool.envlock]``, and the input fingerprint built from them.

``CompileSettings`` is what the command line builds, what compile merges and fingerprints, what the
lock records under ``[tool.envlock.settings]`` (structured, each setting once) and what the staleness
judge (``inputs.freshness``) reads back to fingerprint the inputs again. Nothing is rebuilt from a display
form. A new compile option is a row of ``envlock.option_table`` (its lock key and merge rule) and a field
here; ``to_tool`` / ``from_tool`` write and read every recorded field by the table's lock column, and
``resolve`` is the one place that merges it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from envlock.errors import InputError
from envlock.inputs.config import (
    CompileInputs,
    IndexConfig,
    ResolverOptions,
    ToolSettings,
    check_index_url,
    check_names,
    fingerprint,
    merge,
    parse_binary_names,
    parse_timestamp,
    resolve_find_links,
)
from envlock.option_table import flag_of, recorded
from envlock.validate import strip_credentials

# The readers of the input files are imported where they are used: ``envlock --help`` loads cli/compile,
# which imports CompileSettings from here, and must not pay for packaging or the TOML parser.

Fetch = Callable[[str], str]
"""Reads a ``-r``/``-c`` URL (compile passes the network; the offline judge passes None)."""


@dataclass(frozen=True)
class CompileSettings:
    """What a compile was asked for besides the contents of its inputs (command line and environment).

    Paths are as given on the command line until ``for_lock`` makes them relative to the lock's
    folder; credentials never reach the lock (``for_lock`` strips them)."""

    sources: tuple[str, ...] = ()
    """The input files compile was given (``requirements.in``, ``pyproject.toml``)."""
    index_url: str | None = None
    """``--index-url`` / ``ENVLOCK_INDEX_URL``; None: the inputs', ``[tool.envlock]``'s, else PyPI."""
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    pre: bool = False
    only_binary: tuple[str, ...] = ()
    no_binary: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    exclude_newer: str | None = None
    """``--exclude-newer TIMESTAMP`` as given (checked when merged; recorded so a re-lock is the same)."""
    python_version: str | None = None
    """``--python-version X.Y[.Z]`` as given (the target's identity is ``target``)."""
    targets: tuple[str, ...] = ()
    """``--target`` (repeatable); none: ``[tool.envlock] targets``, else one target from an interpreter."""
    universal: bool = False
    """``--universal``: the common desktop and server targets for the project's ``requires-python``."""
    target: Mapping[str, str] = field(default_factory=dict)
    """The target's identity (implementation, Python X.Y, platform, machine): from ``--python``,
    ``--python-version``, the project's venv or envlock's own Python, decided once by compile."""

    def with_lock(
        self, recorded: CompileSettings, lock_dir: Path, here: Path, *, target_named: bool
    ) -> CompileSettings:
        """These settings (the command line's) with each one they leave unset taken from ``recorded``,
        what the existing lock in ``lock_dir`` was compiled with: a later ``compile`` or ``compile
        --check`` without flags is the same request again. The target choice (``--target``,
        ``--universal``, ``--python-version``) is taken whole, and only when neither these settings nor
        ``target_named`` (``--python``, ``[tool.envlock]`` targets or python-version) name one; extras
        and groups not when the sources given include no pyproject.toml. An index
        URL that is the recorded one but for a trailing ``/`` (or credentials) takes the recorded
        spelling, so that it fingerprints alike. Paths in ``recorded`` are relative to ``lock_dir``, the
        command line's to ``here``."""
        defaults = CompileSettings()
        unset = {
            f.name for f in dataclasses.fields(self) if getattr(self, f.name) == getattr(defaults, f.name)
        }
        names = [n for n in _STICKY if n in unset]
        if self.sources and not any(s.endswith(".toml") for s in self.sources):
            names = [n for n in names if n not in ("extras", "groups")]  # no pyproject.toml to select from
        if not target_named and unset.issuperset(TARGET_CHOICE):
            names += TARGET_CHOICE
        values: dict[str, Any] = {name: getattr(recorded, name) for name in names}
        if "sources" in unset:  # recorded relative to the lock's folder, given relative to ``here``
            values["sources"] = tuple(_portable(lock_dir / s, here) for s in recorded.sources)
        if "find_links" in unset:
            values["find_links"] = tuple(f if "://" in f else str(lock_dir / f) for f in recorded.find_links)
        if self.index_url and recorded.index_url and same_index(self.index_url, recorded.index_url):
            values["index_url"] = respell(self.index_url, recorded.index_url)
        if self.extra_index_urls and len(self.extra_index_urls) == len(recorded.extra_index_urls):
            values["extra_index_urls"] = tuple(
                respell(mine, theirs) if same_index(mine, theirs) else mine
                for mine, theirs in zip(self.extra_index_urls, recorded.extra_index_urls, strict=True)
            )
        return dataclasses.replace(self, **values)

    def for_lock(self, lock_dir: Path, here: Path) -> CompileSettings:
        """As recorded in a lock in ``lock_dir``: local paths relative to it, URLs without credentials."""
        return dataclasses.replace(
            self,
            sources=tuple(_portable(here / s, lock_dir) for s in self.sources),
            index_url=strip_credentials(self.index_url) if self.index_url else None,
            extra_index_urls=tuple(strip_credentials(u) for u in self.extra_index_urls),
            find_links=tuple(
                strip_credentials(f) if "://" in f else _portable(Path(resolve_find_links(f, here)), lock_dir)
                for f in self.find_links
            ),
        )

    def to_tool(self) -> dict[str, Any]:
        """``[tool.envlock.settings]``: every setting that differs from its default, under its key in the
        option table's lock column, each once: the target's identity is left out when ``targets`` gives
        it (``from_tool`` makes it again)."""
        table: dict[str, Any] = {}
        defaults = CompileSettings()
        for name, key in RECORDED.items():
            value = getattr(self, name)
            if value == getattr(defaults, name) or (name == "target" and value == self._declared_target()):
                continue
            if isinstance(value, tuple):
                table[key] = list(value)
            elif isinstance(value, Mapping):
                table[key] = dict(sorted(value.items()))
            else:
                table[key] = value
        return table

    def _declared_target(self) -> dict[str, str]:
        """The target identity ``--target`` gives (compile records the targets canonical and sorted);
        {} without ``--target``."""
        return {"targets": " ".join(self.targets)} if self.targets else {}

    @classmethod
    def from_tool(cls, table: Mapping[str, Any]) -> CompileSettings:
        """The settings a lock recorded; ValueError naming the key for anything of the wrong shape. A lock
        of an earlier envlock records the target's identity beside ``targets`` too: read, the same."""
        values: dict[str, Any] = {}
        defaults = cls()
        for name, key in RECORDED.items():
            if key not in table:
                continue
            value = table[key]
            current = getattr(defaults, name)
            if isinstance(current, tuple):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"{key} must be a list of strings")
                values[name] = tuple(value)
            elif isinstance(current, Mapping):
                if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
                    raise ValueError(f"{key} must be a table of strings")
                values[name] = dict(value)
            elif isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be true or false")
                values[name] = value
            else:
                if value is not None and not isinstance(value, str):
                    raise ValueError(f"{key} must be a string")
                values[name] = value
        unknown = sorted(set(table) - set(RECORDED.values()))
        if unknown:
            raise ValueError(f"unknown settings {', '.join(unknown)} (a newer envlock wrote this lock?)")
        settings = cls(**values)
        if "target" not in values and settings.targets:
            settings = dataclasses.replace(settings, target=settings._declared_target())
        return settings


RECORDED = {option.dest: option.lock for option in recorded("compile") if option.lock} | {"target": "target"}
"""Each setting a lock records, by ``CompileSettings`` field, and its key in ``[tool.envlock.settings]``:
the option table's lock column, and the target's identity (decided by compile, from no one option)."""

_REBASED = ("sources", "find_links")
"""Sticky settings that are paths: recorded relative to the lock's folder, given relative to the working
folder (``with_lock`` rebases them)."""

_STICKY = tuple(o.dest for o in recorded("compile") if o.merge == "sticky" and o.dest not in _REBASED)
"""The settings a later compile of the same lock takes from it when its command line leaves them unset
(``with_lock``; the option table's ``sticky`` merge; sources and find-links too, rebased)."""

TARGET_CHOICE = tuple(o.dest for o in recorded("compile") if o.merge == "target")
"""The settings that choose the targets (the table's ``target`` merge): a command line naming any of them
(or ``--python``) takes none of the lock's."""


def flag(name: str) -> str:
    """The flag that gives the setting ``name`` (a ``CompileSettings`` field)."""
    return flag_of("compile", name)


def describe(settings: CompileSettings, name: str) -> str:
    """The setting ``name`` as the command line gives it (``--extra dev --extra test``, ``--pre``), or
    ``no --extra`` when unset."""
    value = getattr(settings, name)
    if name == "sources":
        return f"sources {', '.join(value)}" if value else "no sources"
    if isinstance(value, bool):
        return flag(name) if value else f"no {flag(name)}"
    if isinstance(value, tuple):
        return " ".join(f"{flag(name)} {v}" for v in value) if value else f"no {flag(name)}"
    return f"{flag(name)} {value}" if value else f"no {flag(name)}"


def differences(compiled: CompileSettings, asked: CompileSettings) -> list[tuple[str, str]]:
    """The settings ``asked`` (a command line, with the lock's settings for what it leaves unset:
    ``with_lock``, as recorded: ``for_lock``) gives otherwise than ``compiled`` (what the lock records),
    as (compiled, asked) in words, in field order: ``("--extra dev", "no --extra")``. Index URLs count
    without credentials and a trailing ``/``; the target's identity is left to the caller."""
    found = []
    for name in RECORDED:
        if name == "target":
            continue
        mine, theirs = getattr(asked, name), getattr(compiled, name)
        if name in ("index_url", "extra_index_urls"):
            mine, theirs = _spelled(mine), _spelled(theirs)
        if mine != theirs:
            found.append((describe(compiled, name), describe(asked, name)))
    return found


def same_index(first: str, second: str) -> bool:
    """Two spellings of one index URL: equal without credentials and a trailing ``/``."""
    return strip_credentials(first).rstrip("/") == strip_credentials(second).rstrip("/")


def respell(url: str, like: str) -> str:
    """``url`` (credentials kept) ending in ``/`` exactly when ``like`` does."""
    return url.rstrip("/") + ("/" if like.endswith("/") else "")


def _spelled(value: str | tuple[str, ...] | None) -> object:
    if isinstance(value, tuple):
        return tuple(strip_credentials(u).rstrip("/") for u in value)
    return strip_credentials(value).rstrip("/") if value else value


@dataclass(frozen=True)
class Resolved:
    """Settings merged with what the inputs and ``[tool.envlock]`` say: what compile resolves with."""

    inputs: CompileInputs
    index: IndexConfig
    options: ResolverOptions
    tool: ToolSettings

    def fingerprint(self, target: Mapping[str, str]) -> str:
        return fingerprint(self.inputs, index=self.index, options=self.options, target=target)


def recorded_in(lock: Mapping[str, Any], shown: str) -> CompileSettings | None:
    """The settings a lock (its TOML data; ``shown`` names it in messages) was compiled with
    (``[tool.envlock.settings]``); None without that table (another tool's lock, an older envlock's):
    then only the command line counts. A table of the wrong shape is an input error naming the key."""
    tool = lock.get("tool")
    envlock = tool.get("envlock") if isinstance(tool, Mapping) else None
    table = envlock.get("settings") if isinstance(envlock, Mapping) else None
    if not isinstance(table, Mapping):
        return None
    try:
        return CompileSettings.from_tool(table)
    except ValueError as error:
        raise InputError(
            f"{shown} [tool.envlock.settings]: {error}",
            hint="repair that table, or compile with --reset-settings (and the options you want)",
        ) from None


def has_dev_group(sources: tuple[str, ...], root: Path) -> bool:
    """A pyproject.toml among ``sources`` (relative to ``root``) defines a PEP 735 ``dev`` group (any
    spelling of the name): a new lock holds it by default, as uv's does."""
    from packaging.utils import canonicalize_name  # lazy: envlock --help

    from envlock.inputs.envlock_table import load_toml  # lazy: envlock --help

    for source in sources:
        if source.endswith(".toml") and (root / source).is_file():
            groups = load_toml(root / source, root).get("dependency-groups")
            if isinstance(groups, dict) and any(canonicalize_name(name) == "dev" for name in groups):
                return True
    return False


def tool_settings(root: Path) -> ToolSettings:
    """``[tool.envlock]`` of ``root/pyproject.toml`` (defaults when there is none)."""
    from envlock.inputs.envlock_table import load_toml, read_tool_settings  # lazy: envlock --help

    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return ToolSettings()
    return read_tool_settings(load_toml(pyproject, root), "pyproject.toml")


def resolve(settings: CompileSettings, root: Path, env: Mapping[str, str], fetch: Fetch | None) -> Resolved:
    """Read the inputs named by ``settings.sources`` (relative to ``root``) and merge every source of
    settings: the command line wins, then the inputs' option lines, then ``[tool.envlock]``. The one
    merge, used by compile and by the staleness judge."""
    tool = tool_settings(root)
    inputs = _read_inputs(settings, tool, root, env, fetch)
    index = dataclasses.replace(_index_config(settings, inputs.index, tool, root), **_named(root))
    return Resolved(inputs, index, _options(settings, inputs, tool), tool)


def _named(root: Path) -> dict[str, Any]:
    """``[[tool.envlock.index]]`` and ``[tool.envlock.sources]`` of ``root``'s pyproject.toml."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    from envlock.inputs.envlock_table import index_table, load_toml  # lazy: envlock --help

    table = index_table(load_toml(pyproject, root), "pyproject.toml")
    return {"named": table.named, "pins": table.pins}


def _read_inputs(
    settings: CompileSettings, tool: ToolSettings, root: Path, env: Mapping[str, str], fetch: Fetch | None
) -> CompileInputs:
    from envlock.inputs.pyproject import read_pyproject  # lazy: envlock --help
    from envlock.inputs.requirements_file import read_requirements_files  # lazy: envlock --help

    extras = check_names(settings.extras or tool.extras, "extra name")
    groups = check_names(settings.groups or tool.groups, "group name")
    result = None
    pyproject_seen = False
    for source in settings.sources:
        path = root / source
        if path.name.endswith(".toml"):
            pyproject_seen = True
            read = read_pyproject(path, extras=extras, groups=groups, base=root)
        else:
            read = read_requirements_files([path], dict(env), base=root, fetch=fetch)
        result = read if result is None else merge(result, read)
    if (extras or groups) and not pyproject_seen:
        raise InputError("--extra and --group select parts of pyproject.toml, which is not an input here")
    if result is None:
        raise InputError("nothing to compile: no input files")
    return result


def _index_config(
    settings: CompileSettings, from_files: IndexConfig, tool: ToolSettings, here: Path
) -> IndexConfig:
    if settings.index_url:
        check_index_url(settings.index_url, "--index-url")
    for url in settings.extra_index_urls:
        check_index_url(url, "--extra-index-url")
    if tool.index_url:
        check_index_url(tool.index_url, "pyproject.toml [tool.envlock] index-url")
    for url in tool.extra_index_urls:
        check_index_url(url, "pyproject.toml [tool.envlock] extra-index-urls")
    return IndexConfig(
        index_url=settings.index_url or from_files.index_url or tool.index_url,
        extra_index_urls=tuple(
            dict.fromkeys((*tool.extra_index_urls, *from_files.extra_index_urls, *settings.extra_index_urls))
        ),
        find_links=tuple(
            dict.fromkeys(
                (
                    *(resolve_find_links(f, here) for f in tool.find_links),
                    *from_files.find_links,
                    *(resolve_find_links(f, here) for f in settings.find_links),
                )
            )
        ),
    )


def _options(settings: CompileSettings, inputs: CompileInputs, tool: ToolSettings) -> ResolverOptions:
    only = set(inputs.options.only_binary)
    no = set(inputs.options.no_binary)
    for value in (*tool.only_binary, *settings.only_binary):
        only.update(parse_binary_names(value, "--only-binary"))
    for value in (*tool.no_binary, *settings.no_binary):
        no.update(parse_binary_names(value, "--no-binary"))
    if settings.exclude_newer:
        exclude_newer: datetime | None = parse_timestamp(settings.exclude_newer, "--exclude-newer")
    elif tool.exclude_newer:
        exclude_newer = parse_timestamp(tool.exclude_newer, "pyproject.toml [tool.envlock] exclude-newer")
    else:
        exclude_newer = None
    return ResolverOptions(
        pre=settings.pre or inputs.options.pre or tool.pre,
        only_binary=frozenset(only),
        no_binary=frozenset(no),
        exclude_newer=exclude_newer,
    )


def _portable(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` with ``/`` separators (``..`` where it lies outside)."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return os.path.relpath(path.resolve(), base.resolve()).replace(os.sep, "/")
