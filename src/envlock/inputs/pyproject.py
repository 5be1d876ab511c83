"""pyproject.toml as a compile input: ``[project].dependencies``, the selected
``[project.optional-dependencies]`` and PEP 735 ``[dependency-groups]``, read into CompileInputs.

A requirement naming the project itself (``myproject[a,b]`` in its own lists, or in a group) is inlined:
its extras' requirements (or, without extras, the project's dependencies) join the group that named it.
``[tool.envlock]`` is read by ``inputs.envlock_table``. Another tool's dependency tables (Poetry's, PDM's,
uv's, Hatch's, old Flit's) are not read: a pyproject whose dependencies are only there is refused by
name (``foreign_tables``) rather than locked as empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from envlock.errors import RequirementsFileError
from envlock.inputs.config import (
    DEFAULT_GROUP,
    VCS_PREFIXES,
    CompileInputs,
    InputRequirement,
    check_direct_url,
    display_path,
    unsupported,
)
from envlock.inputs.envlock_table import load_toml
from envlock.inputs.local_sources import project_requirement, url_requirement
from envlock.models.source import is_source_url
from envlock.sources.tree import config_files


def read_pyproject(path: Path, *, extras: Sequence[str], groups: Sequence[str], base: Path) -> CompileInputs:
    """``[project].dependencies`` plus the selected optional-dependencies and PEP 735 groups."""
    shown = display_path(path, base)
    data = load_toml(path, base)
    project, groups_table = _tables(data, shown)
    reader = _ProjectReader.of(shown, path.parent, project)
    installs = reader.own is not None and installs_project(data, shown)
    dynamic = set(project.get("dynamic", ())) if isinstance(project.get("dynamic"), list) else set()
    if "dependencies" in dynamic and not installs:
        _refuse_dynamic(shown, data)
    if "dependencies" not in dynamic:  # else they come from the project's own build
        reader.add_dependencies(DEFAULT_GROUP)
    chosen_extras: list[str] = sorted({canonicalize_name(e) for e in extras})
    if installs and reader.own is not None:
        built_extras = chosen_extras if "optional-dependencies" in dynamic else []
        own = project_requirement(path.parent, reader.own, f"{shown} [project]", extras=built_extras)
        reader.requirements.append(own)
    for extra in chosen_extras if "optional-dependencies" not in dynamic else ():
        reader.expand_extra(extra, f"extra:{extra}")
    chosen_groups: list[str] = sorted({canonicalize_name(g) for g in groups})
    groups_by_name: dict[str, str] = {canonicalize_name(k): k for k in groups_table}
    for group in chosen_groups:
        if group not in groups_by_name:
            _refuse_foreign_group(shown, data, group)
        reader.add_group(resolve_group(groups_table, groups_by_name, group, shown), f"group:{group}")
    if not reader.requirements:
        _refuse_foreign(shown, data)
    requires_python = project.get("requires-python")
    configs = [f for item in reader.requirements for f in config_files(item.origin)]
    return CompileInputs(
        requirements=tuple(reader.requirements),
        files=tuple(dict.fromkeys((path, *configs))),
        extras=tuple(chosen_extras),
        groups=tuple(chosen_groups),
        project_name=reader.own,
        project_requires_python=requires_python if isinstance(requires_python, str) else None,
    )


def foreign_tables(data: Mapping[str, Any]) -> list[str]:
    """The other tools' tables of ``data`` that list dependencies envlock does not read, as written in
    TOML (``[tool.poetry.dependencies]``); Poetry's ``python`` entry is the Python range, not one."""
    tool = data.get("tool")
    if not isinstance(tool, Mapping):
        return []
    found: list[str] = []

    def holds(value: Any, *path: str, ignore: tuple[str, ...] = ()) -> None:
        if (isinstance(value, Mapping) and set(value) - set(ignore)) or (isinstance(value, list) and value):
            found.append("[" + ".".join(("tool", *path)) + "]")

    poetry = _table(tool, "poetry")
    holds(poetry.get("dependencies"), "poetry", "dependencies", ignore=("python",))
    holds(poetry.get("dev-dependencies"), "poetry", "dev-dependencies")
    groups = _table(poetry, "group")
    for name in sorted(groups):
        holds(_table(groups, name).get("dependencies"), "poetry", "group", name, "dependencies")
    holds(_table(tool, "pdm").get("dev-dependencies"), "pdm", "dev-dependencies")
    holds(_table(tool, "uv").get("dev-dependencies"), "uv", "dev-dependencies")
    envs = _table(_table(tool, "hatch"), "envs")
    for name in sorted(envs):
        for key in ("dependencies", "extra-dependencies"):
            holds(_table(envs, name).get(key), "hatch", "envs", name, key)
    holds(_table(_table(tool, "flit"), "metadata").get("requires"), "flit", "metadata", "requires")
    return found


def _table(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, Mapping) else {}


def _way_forward(tables: Sequence[str]) -> str:
    if any(t.startswith("[tool.poetry.") for t in tables):
        return (
            "move them to [project] dependencies (PEP 621; Poetry 2 reads them there) and the groups to "
            "[dependency-groups] (PEP 735), or export them (poetry export --without-hashes -o "
            "requirements.in) and run: envlock compile requirements.in"
        )
    return (
        "move them to [project] dependencies (PEP 621) or [dependency-groups] (PEP 735), or list them "
        "in a requirements.in and run: envlock compile requirements.in"
    )


def _refuse_foreign(shown: str, data: Mapping[str, Any]) -> None:
    """Nothing to lock from ``[project]`` or the selected groups: refused when another tool's tables
    hold the dependencies (a lock of nothing would pass for a lock of them)."""
    tables = foreign_tables(data)
    if tables:
        raise RequirementsFileError(
            f"{shown}: {', '.join(tables)} {'holds' if len(tables) == 1 else 'hold'} the dependencies; "
            "envlock reads [project] (PEP 621) and [dependency-groups] (PEP 735), which list none here",
            hint=_way_forward(tables),
        )


def _refuse_foreign_group(shown: str, data: Mapping[str, Any], group: str) -> None:
    """``--group NAME`` that only another tool's table defines (``[tool.poetry.group.NAME.dependencies]``)."""
    poetry = [t for t in foreign_tables(data) if t.startswith("[tool.poetry.group.")]
    tables = [t for t in poetry if canonicalize_name(t.split(".")[-2]) == group]
    if tables:
        raise RequirementsFileError(
            f"{shown}: dependency group {group!r} is {tables[0]}, which envlock does not read; "
            "it reads [dependency-groups] (PEP 735)",
            hint=f"move it to [dependency-groups] {group} = [...] (PEP 508 strings)",
        )


def _refuse_dynamic(shown: str, data: Mapping[str, Any]) -> None:
    """Dynamic ``[project]`` dependencies come from the project's build, so the project must be installed."""
    tables = foreign_tables(data)
    origin = f" (from {', '.join(tables)})" if tables else ""
    raise RequirementsFileError(
        f"{shown}: dynamic [project] dependencies{origin} are read from the project's build, and the "
        "project is not installed",
        hint="add a [build-system] table (or set [tool.envlock] install-project = true) so envlock builds "
        "the project's metadata, or list the dependencies in [project] dependencies",
    )


def _tables(data: Mapping[str, Any], shown: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """``[project]`` (empty when absent) and ``[dependency-groups]``, checked to be tables."""
    project = data.get("project")
    groups_table = data.get("dependency-groups", {})
    if project is not None and not isinstance(project, Mapping):
        raise RequirementsFileError(f"{shown}: [project] must be a table")
    if not isinstance(groups_table, Mapping):
        raise RequirementsFileError(f"{shown}: [dependency-groups] must be a table")
    return project or {}, groups_table


@dataclass
class _ProjectReader:
    """Mutable accumulator of one pyproject.toml's root requirements (never leaves this module)."""

    shown: str
    root: Path
    """The folder of the pyproject.toml."""
    project: Mapping[str, Any]
    own: NormalizedName | None
    """The project's own name, canonical (None when ``[project]`` has none)."""
    optional: Mapping[str, tuple[str, Any]]
    """``[project.optional-dependencies]`` by canonical extra name: (the key as written, its entries)."""
    requirements: list[InputRequirement] = field(default_factory=list)
    expanded: set[tuple[str, str]] = field(default_factory=set)
    """(group, extra) pairs already added: each extra's entries go into a group once."""

    @classmethod
    def of(cls, shown: str, root: Path, project: Mapping[str, Any]) -> _ProjectReader:
        name = project.get("name")
        own = canonicalize_name(name) if isinstance(name, str) else None
        optional = project.get("optional-dependencies", {})
        if not isinstance(optional, Mapping):
            raise RequirementsFileError(f"{shown}: [project.optional-dependencies] must be a table")
        return cls(shown, root, project, own, {canonicalize_name(k): (k, v) for k, v in optional.items()})

    def add_dependencies(self, group: str) -> None:
        self.add(self.project.get("dependencies", []), "[project.dependencies]", group)

    def add(self, entries: Any, where: str, group: str) -> None:
        if not isinstance(entries, list):
            raise RequirementsFileError(f"{self.shown}: {where} must be a list of requirement strings")
        for index, entry in enumerate(entries):
            location = f"{self.shown} {where}[{index}]"
            if not isinstance(entry, str):
                raise RequirementsFileError(f"{location}: expected a requirement string")
            requirement = _pep508(entry, location)
            if self._is_own(requirement):
                # "myproject[a,b]" inside the project's own lists: inline those extras.
                for extra in sorted(requirement.extras):
                    self.expand_extra(canonicalize_name(extra), group)
                continue
            self.requirements.append(self._item(requirement, location, group))

    def expand_extra(self, extra: str, group: str) -> None:
        if (group, extra) in self.expanded:  # extras may name each other (x -> app[y] -> app[x])
            return
        self.expanded.add((group, extra))
        if extra not in self.optional:
            raise RequirementsFileError(
                f"{self.shown}: unknown extra {extra!r}",
                hint=f"known extras: {', '.join(sorted(self.optional)) or '(none)'}",
            )
        key, entries = self.optional[extra]
        self.add(entries, f"[project.optional-dependencies] {key}", group)

    def add_group(self, entries: list[tuple[str, str]], group: str) -> None:
        """A dependency group's requirement strings (``resolve_group``) into ``group``."""
        for entry, location in entries:
            requirement = _pep508(entry, location)
            if self._is_own(requirement):
                for extra in sorted(requirement.extras):
                    self.expand_extra(canonicalize_name(extra), group)
                if not requirement.extras:
                    self.add_dependencies(group)
                continue
            self.requirements.append(self._item(requirement, location, group))

    def _is_own(self, requirement: Requirement) -> bool:
        return self.own is not None and canonicalize_name(requirement.name) == self.own

    def _item(self, requirement: Requirement, location: str, group: str) -> InputRequirement:
        """A ``NAME @ file:///...`` / ``NAME @ git+...`` dependency becomes a sourced requirement."""
        sourced = url_requirement(requirement, location, self.root)
        return replace(sourced, group=group) if sourced else InputRequirement(requirement, location, group)


def resolve_group(
    table: Mapping[str, Any], by_name: Mapping[str, str], group: str, shown: str, _stack: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """PEP 735: a group's requirement strings with ``{include-group = ...}`` expanded (cycles refused)."""
    if group in _stack:
        chain = " -> ".join((*_stack, group))
        raise RequirementsFileError(f"{shown}: [dependency-groups] include cycle: {chain}")
    if group not in by_name:
        raise RequirementsFileError(
            f"{shown}: unknown dependency group {group!r}",
            hint=f"known groups: {', '.join(sorted(by_name)) or '(none)'}",
        )
    key = by_name[group]
    entries = table[key]
    if not isinstance(entries, list):
        raise RequirementsFileError(f"{shown}: [dependency-groups] {key} must be a list")
    result: list[tuple[str, str]] = []
    for index, entry in enumerate(entries):
        location = f"{shown} [dependency-groups] {key}[{index}]"
        if isinstance(entry, str):
            result.append((entry, location))
        elif isinstance(entry, Mapping) and set(entry) == {"include-group"}:
            included = entry["include-group"]
            if not isinstance(included, str):
                raise RequirementsFileError(f"{location}: include-group must be a string")
            result.extend(resolve_group(table, by_name, canonicalize_name(included), shown, (*_stack, group)))
        else:
            raise RequirementsFileError(f"{location}: expected a string or {{include-group = NAME}}")
    return result


def installs_project(data: Mapping[str, Any], shown: str) -> bool:
    """Is the project itself locked and installed (editable)? ``[tool.envlock] install-project`` when
    set, else whether it is a package: it has a ``[build-system]`` (as uv decides)."""
    tool = data.get("tool")
    table = tool.get("envlock") if isinstance(tool, Mapping) else None
    chosen = table.get("install-project") if isinstance(table, Mapping) else None
    if chosen is not None:
        if not isinstance(chosen, bool):
            raise RequirementsFileError(f"{shown}: [tool.envlock] install-project must be true or false")
        return chosen
    return isinstance(data.get("build-system"), Mapping)


def _pep508(text: str, location: str) -> Requirement:
    try:
        requirement = Requirement(text)
    except InvalidRequirement as error:
        raise RequirementsFileError(f"{location}: invalid requirement {text!r}: {error}") from None
    if requirement.url and not is_source_url(requirement.url):
        if requirement.url.lower().startswith(VCS_PREFIXES):
            raise unsupported(location, "VCS requirements other than git")
        check_direct_url(requirement.url, location)
    return requirement
