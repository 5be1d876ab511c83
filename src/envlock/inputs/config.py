"""The compile inputs: ``requirements*.in`` (pip syntax) and ``pyproject.toml`` read into frozen values,
and the fingerprint of the normalized inputs that ``envlock compile --check`` compares.

Pure apart from reading the input files: environment variables are passed in as a mapping.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from envlock import validate
from envlock.errors import InputError, NeedsNetworkError, RequirementsFileError, UnsupportedError
from envlock.inputs.requirements_syntax import logical_lines, split_option
from envlock.validate import redact, strip_credentials

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from packaging.utils import NormalizedName

# packaging and the TOML parser are imported inside the functions that use them: ``project_defaults``
# is on ``envlock sync``'s start-up path, which must not pay for them.


def _tomllib() -> Any:
    from envlock.tomlshim import tomllib

    return tomllib


ALL = ":all:"
"""``--only-binary :all:`` / ``--no-binary :all:``: the rule covers every project."""

DEFAULT_GROUP = ""
"""The root group of plain requirements (neither an extra nor a dependency group)."""

_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz")


@dataclass(frozen=True)
class InputRequirement:
    """One requirement as the user wrote it, with where it came from."""

    requirement: Requirement
    """The parsed PEP 508 requirement (a direct URL keeps its ``#sha256=`` fragment)."""
    source: str
    """``requirements.in:3`` or ``pyproject.toml [project.dependencies]`` for messages and ``via``."""
    group: str = DEFAULT_GROUP
    """Root group: ``""`` for plain requirements, ``extra:NAME`` or ``group:NAME`` otherwise."""

    @property
    def name(self) -> NormalizedName:
        return _canonical(self.requirement.name)

    @property
    def url_sha256(self) -> str | None:
        """The ``#sha256=`` of a direct URL, if given."""
        if not self.requirement.url:
            return None
        fragment = urlsplit(self.requirement.url).fragment
        for part in fragment.split("&"):
            key, _, value = part.partition("=")
            if key == "sha256" and value:
                return value.lower()
        return None

    def normalized(self) -> str:
        """Stable text for the fingerprint: credentials stripped, canonical spelling."""
        from packaging.requirements import Requirement

        req = Requirement(str(self.requirement))
        req.name = _canonical(req.name)
        if req.url:
            req.url = strip_credentials(req.url)
        return str(req)


@dataclass(frozen=True)
class IndexConfig:
    """Where projects are looked up: the indexes in priority order and find-links locations."""

    index_url: str | None = None
    """Primary index (``None``: the default, PyPI). May carry credentials; never written out."""
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    """Local folders (absolute) or URLs of HTML pages with links to distributions."""

    def indexes(self, default: str) -> tuple[str, ...]:
        primary = self.index_url or default
        ordered = [primary, *self.extra_index_urls]
        return tuple(dict.fromkeys(ordered))


@dataclass(frozen=True)
class ResolverOptions:
    """Options that shape the resolution (from option lines, ``[tool.envlock]`` and the CLI)."""

    pre: bool = False
    """Allow prereleases everywhere."""
    only_binary: frozenset[str] = frozenset()
    """Canonical names (or ``:all:``) for which sdists are never used."""
    no_binary: frozenset[str] = frozenset()
    """Canonical names (or ``:all:``) for which wheels are never used."""

    def allows_sdist(self, name: str) -> bool:
        if name in self.only_binary:
            return False
        return ALL not in self.only_binary or name in self.no_binary

    def allows_wheel(self, name: str) -> bool:
        if name in self.no_binary:
            return False
        return ALL not in self.no_binary or name in self.only_binary

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.pre:
            data["pre"] = True
        if self.only_binary:
            data["only-binary"] = sorted(self.only_binary)
        if self.no_binary:
            data["no-binary"] = sorted(self.no_binary)
        return data


@dataclass(frozen=True)
class ToolSettings:
    """``[tool.envlock]`` of pyproject.toml: defaults for the CLI."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    pre: bool = False
    only_binary: tuple[str, ...] = ()
    no_binary: tuple[str, ...] = ()
    python_version: str | None = None
    output: str | None = None
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    lock: str | None = None
    """The project's lock (sync, export and check read it; compile writes it when no ``output``)."""
    venv: str | None = None
    """The project's venv (``sync`` makes it; ``compile`` resolves for its Python when it exists)."""


@dataclass(frozen=True)
class CompileInputs:
    """Everything read from the input files."""

    requirements: tuple[InputRequirement, ...]
    """Root requirements of every root group (plain, selected extras, selected groups), in file order."""
    constraints: tuple[InputRequirement, ...] = ()
    index: IndexConfig = field(default_factory=IndexConfig)
    """Index settings from option lines (the CLI may override)."""
    options: ResolverOptions = field(default_factory=ResolverOptions)
    """Resolver options from option lines."""
    files: tuple[Path, ...] = ()
    """Every file read, in the order read (inputs, ``-r`` and ``-c`` files)."""
    extras: tuple[str, ...] = ()
    """Extras of the project (pyproject) that were selected."""
    groups: tuple[str, ...] = ()
    """Dependency groups (pyproject) that were selected."""
    project_name: str | None = None
    project_requires_python: str | None = None


def _unsupported(location: str, what: str) -> UnsupportedError:
    return UnsupportedError(
        f"{location}: {what} are not supported yet",
        hint="use a released version from an index, or a direct URL to a wheel/sdist with #sha256=",
    )


@dataclass
class _Collector:
    """Mutable accumulator used while reading requirements files (never leaves this module)."""

    env: Mapping[str, str]
    fetch: Callable[[str], str] | None = None
    requirements: list[InputRequirement] = field(default_factory=list)
    constraints: list[InputRequirement] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    pre: bool = False
    only_binary: set[str] = field(default_factory=set)
    no_binary: set[str] = field(default_factory=set)


def read_requirements_files(
    paths: Sequence[Path],
    env: Mapping[str, str],
    *,
    base: Path,
    fetch: Callable[[str], str] | None = None,
) -> CompileInputs:
    """Read ``requirements*.in`` files (pip syntax) into CompileInputs; errors name file and line.
    ``fetch`` reads ``-r``/``-c`` files given as http(s) URLs (None: such includes are an error)."""
    collector = _Collector(env=env, fetch=fetch)
    for path in paths:
        _read_file(path, collector, constraint=False, base=base, stack=())
    return CompileInputs(
        requirements=tuple(collector.requirements),
        constraints=tuple(collector.constraints),
        index=IndexConfig(
            index_url=collector.index_url,
            extra_index_urls=tuple(dict.fromkeys(collector.extra_index_urls)),
            find_links=tuple(dict.fromkeys(collector.find_links)),
        ),
        options=ResolverOptions(
            pre=collector.pre,
            only_binary=frozenset(collector.only_binary),
            no_binary=frozenset(collector.no_binary),
        ),
        files=tuple(dict.fromkeys(collector.files)),
    )


def display_path(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


MAX_INPUT_BYTES = 16 * 1024 * 1024
"""The largest requirements or pyproject.toml file envlock reads (docs/cli.md): real ones are kilobytes,
and ``-r /dev/zero`` must not exhaust memory."""


def read_input_text(path: Path, shown: str, *, included_at: str | None = None) -> str:
    """The UTF-8 text of an input file (requirements, constraints, pyproject.toml), read only when it is a
    regular file of at most MAX_INPUT_BYTES; else a RequirementsFileError naming it (and, for ``-r``/``-c``,
    ``included_at``: the option and the including file and line, ``--requirement at base.in:3``). The one
    reader of input files (requirements, pyproject.toml, hashed requirements to import), so no path skips
    the check.

    The file is opened non-blocking and judged by ``fstat`` of the opened file, not by a ``stat`` before
    opening, so a FIFO (whose open would wait for a writer) or a device swapped in meanwhile is refused
    without blocking or reading it; at most MAX_INPUT_BYTES + 1 bytes are ever read (a file growing
    while it is read)."""
    suffix = f" (included by {included_at})" if included_at else ""

    def refuse(problem: str) -> RequirementsFileError:
        return RequirementsFileError(f"{shown}: {problem}{suffix}")

    try:
        data = validate.read_regular(path, MAX_INPUT_BYTES)
    except FileNotFoundError:
        raise refuse("file not found") from None
    except validate.UnsafeInput as error:
        raise refuse(str(error).replace("bytes allowed", "bytes an input may have")) from None
    except OSError as error:
        raise refuse(f"cannot read: {error.strerror or error}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise refuse(f"cannot read: {error}") from None


MAX_INCLUDE_DEPTH = 32
"""How deep ``-r``/``-c`` includes may nest."""


def _read_file(
    path: Path | str,
    collector: _Collector,
    *,
    constraint: bool,
    base: Path,
    stack: tuple[str, ...],
    included_at: str | None = None,
) -> None:
    """Read one requirements file: a local path, or an ``http(s)://`` URL (``-r``/``-c`` of a URL, as
    pip allows; fetched through ``collector.fetch``, never recorded as an input file)."""
    if isinstance(path, str):
        key = shown = strip_credentials(path)
    else:
        key, shown = str(path.resolve()), display_path(path, base)
    if key in stack:
        raise RequirementsFileError(f"{shown}: includes itself (through -r/-c)")
    if len(stack) >= MAX_INCLUDE_DEPTH:  # a server answering every URL with "-r 0/" never repeats one
        raise RequirementsFileError(f"{shown}: -r/-c includes nest deeper than {MAX_INCLUDE_DEPTH} levels")
    if isinstance(path, str):
        if collector.fetch is None:
            raise NeedsNetworkError(f"{shown}: requirements from a URL need the network here")
        text = collector.fetch(path)
    else:
        text = read_input_text(path, shown, included_at=included_at)
        collector.files.append(path)
    for number, line in logical_lines(text):
        location = f"{shown}:{number}"
        line = _expand(line, collector.env, location)
        if line.startswith("-"):
            _option_line(
                line, location, path, collector, constraint=constraint, base=base, stack=(*stack, key)
            )
            continue
        requirement = parse_requirement_line(line, location, base if isinstance(path, str) else path.parent)
        if constraint:
            collector.constraints.append(InputRequirement(requirement, location))
        else:
            collector.requirements.append(InputRequirement(requirement, location))


def _is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _relative_to(source: Path | str, value: str) -> Path | str:
    """An included file named in ``source``: URLs as they are, else relative to ``source``'s folder
    (or, for a URL source, resolved against that URL)."""
    if _is_url(value):
        return value
    if isinstance(source, str):
        try:
            return validate.join_url(source, value)
        except validate.UnsafeInput as error:
            raise RequirementsFileError(f"{strip_credentials(source)}: {error}") from None
    return source.parent / value


def _expand(line: str, env: Mapping[str, str], location: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise RequirementsFileError(
                f"{location}: environment variable {name} is not set (in ${{{name}}})"
            )
        return env[name]

    return _ENV_VAR.sub(substitute, line)


_SHORT = {
    "-r": "--requirement",
    "-c": "--constraint",
    "-i": "--index-url",
    "-f": "--find-links",
    "-e": "--editable",
}


def _option_line(
    line: str,
    location: str,
    path: Path | str,
    collector: _Collector,
    *,
    constraint: bool,
    base: Path,
    stack: tuple[str, ...],
) -> None:
    name, value = split_option(line)
    name = _SHORT.get(name, name)
    needs_value = name not in ("--pre",)
    if needs_value and not value:
        raise RequirementsFileError(f"{location}: option {name} needs a value")
    if name in ("--requirement", "--constraint"):
        _read_file(
            _relative_to(path, value),
            collector,
            constraint=constraint or name == "--constraint",
            base=base,
            stack=stack,
            included_at=f"{name} at {location}",
        )
    elif name == "--index-url":
        collector.index_url = check_index_url(value, location)
    elif name == "--extra-index-url":
        collector.extra_index_urls.append(check_index_url(value, location))
    elif name == "--find-links":
        found = _relative_to(path, value) if isinstance(path, str) else resolve_find_links(value, path.parent)
        collector.find_links.append(str(found))
    elif name == "--pre":
        collector.pre = True
    elif name in ("--only-binary", "--no-binary"):
        target = collector.only_binary if name == "--only-binary" else collector.no_binary
        other = collector.no_binary if name == "--only-binary" else collector.only_binary
        for item in parse_binary_names(value, location):
            target.add(item)
            other.discard(item)
    elif name == "--editable":
        raise _unsupported(location, "editable requirements (-e)")
    elif name == "--hash":
        raise _unsupported(location, "--hash options in input files")
    else:
        raise RequirementsFileError(f"{location}: unknown or unsupported option {name!r}")


def parse_binary_names(value: str, location: str) -> list[str]:
    """``:all:``, ``:none:`` or a comma-separated list of project names."""
    items = [item.strip() for item in value.split(",") if item.strip()]
    result: list[str] = []
    for item in items:
        if item == ":none:":
            continue
        if item == ALL:
            result.append(ALL)
            continue
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", item):
            raise RequirementsFileError(f"{location}: invalid project name {item!r} in binary option")
        result.append(_canonical(item))
    return result


def resolve_find_links(value: str, here: Path) -> str:
    """A find-links value: a URL stays as is, a path is made absolute relative to ``here``."""
    if "://" in value:
        try:
            parts = validate.split_url(value)
        except validate.UnsafeInput as error:
            raise InputError(f"find-links: {error}") from None
        if value.startswith("file://"):
            return str(Path(unquote(parts.path)))
        return value
    return str((here / value).resolve())


def parse_requirement_line(line: str, location: str, here: Path) -> Requirement:
    """One requirement line: PEP 508, or a bare URL to a wheel/sdist; editables/VCS/dirs refused."""
    from packaging.requirements import InvalidRequirement, Requirement

    stripped = line.strip()
    if " --hash" in stripped or stripped.startswith("--hash"):
        raise _unsupported(location, "--hash options in input files")
    lowered = stripped.lower()
    if lowered.startswith(_VCS_PREFIXES) or re.search(r"@\s*(git|hg|svn|bzr)\+", lowered):
        raise _unsupported(location, "VCS requirements")
    if "://" in stripped and not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@", stripped):
        return _bare_url(stripped, location)
    if "://" not in stripped and _looks_like_path(stripped, here):
        raise _unsupported(location, "local directories and files")
    try:
        requirement = Requirement(stripped)
    except InvalidRequirement as error:
        raise RequirementsFileError(f"{location}: invalid requirement {stripped!r}: {error}") from None
    if requirement.url:
        _check_url(requirement.url, location)
    return requirement


def _looks_like_path(text: str, here: Path) -> bool:
    if text.startswith((".", "/", "~")) or text.endswith(_ARCHIVE_SUFFIXES):
        return True
    return bool(re.match(r"^[A-Za-z]:[\\/]", text)) or ("/" in text and (here / text).exists())


def _check_url(url: str, location: str) -> None:
    try:
        parts = validate.split_url(url)
    except validate.UnsafeInput as error:
        raise RequirementsFileError(f"{location}: {error}") from None
    scheme = parts.scheme
    if scheme == "file":
        raise _unsupported(location, "local file URLs")
    if scheme not in ("http", "https"):
        raise _unsupported(location, f"{scheme or 'scheme-less'} URLs")
    filename = unquote(parts.path.rsplit("/", 1)[-1])
    if not filename.endswith(_ARCHIVE_SUFFIXES):
        raise _unsupported(location, "direct URLs that are not wheel or sdist archives")


def _bare_url(url: str, location: str) -> Requirement:
    """``https://host/pkg-1.0-py3-none-any.whl#sha256=...`` (marker after ``;`` allowed)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    link, _, marker = url.partition(" ;")
    if not marker:
        link, _, marker = url.partition("; ")
    link = link.strip()
    _check_url(link, location)
    filename = unquote(urlsplit(link).path.rsplit("/", 1)[-1])
    try:
        if filename.endswith(".whl"):
            name = parse_wheel_filename(filename)[0]
        else:
            name = parse_sdist_filename(filename)[0]
    except (InvalidWheelFilename, InvalidSdistFilename) as error:
        raise RequirementsFileError(f"{location}: cannot tell the project of {filename!r}: {error}") from None
    text = f"{name} @ {link}" + (f" ; {marker.strip()}" if marker.strip() else "")
    try:
        return Requirement(text)
    except InvalidRequirement as error:
        raise RequirementsFileError(f"{location}: invalid requirement {url!r}: {error}") from None


# ---------------------------------------------------------------------------------------------- pyproject


def load_toml(path: Path, base: Path) -> dict[str, Any]:
    shown = display_path(path, base)
    tomllib = _tomllib()
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
        "output": str,
        "extras": list,
        "groups": list,
        "lock": str,
        "venv": str,
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
    return ToolSettings(**values)


def project_defaults(pyproject: Path) -> dict[str, str]:
    """``lock`` and ``venv`` from ``[tool.envlock]`` of ``pyproject`` (made relative to its folder), for
    the commands that take a lock or a venv (sync, export, compile). Reads with the standard library
    only and skips the other keys (``read_tool_settings`` validates those for compile)."""
    if not pyproject.is_file():
        return {}
    tomllib = _tomllib()
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


def read_pyproject(path: Path, *, extras: Sequence[str], groups: Sequence[str], base: Path) -> CompileInputs:
    """``[project].dependencies`` plus the selected optional-dependencies and PEP 735 groups."""
    shown = display_path(path, base)
    data = load_toml(path, base)
    project = data.get("project")
    groups_table = data.get("dependency-groups", {})
    if project is not None and not isinstance(project, Mapping):
        raise RequirementsFileError(f"{shown}: [project] must be a table")
    if not isinstance(groups_table, Mapping):
        raise RequirementsFileError(f"{shown}: [dependency-groups] must be a table")
    project = project or {}
    if "dependencies" in project.get("dynamic", ()):
        raise _unsupported(f"{shown}", "dynamic [project] dependencies")
    project_name = project.get("name")
    own = _canonical(project_name) if isinstance(project_name, str) else None
    optional = project.get("optional-dependencies", {})
    if not isinstance(optional, Mapping):
        raise RequirementsFileError(f"{shown}: [project.optional-dependencies] must be a table")
    optional_by_name: dict[str, tuple[str, Any]] = {_canonical(k): (k, v) for k, v in optional.items()}
    requirements: list[InputRequirement] = []

    def add(entries: Any, where: str, group: str) -> None:
        if not isinstance(entries, list):
            raise RequirementsFileError(f"{shown}: {where} must be a list of requirement strings")
        for index, entry in enumerate(entries):
            location = f"{shown} {where}[{index}]"
            if not isinstance(entry, str):
                raise RequirementsFileError(f"{location}: expected a requirement string")
            requirement = _pep508(entry, location)
            if own is not None and _canonical(requirement.name) == own:
                # "myproject[a,b]" inside the project's own lists: inline those extras.
                for extra in sorted(requirement.extras):
                    expand_extra(_canonical(extra), group, seen=set())
                continue
            requirements.append(InputRequirement(requirement, location, group))

    def expand_extra(extra: str, group: str, seen: set[str]) -> None:
        if extra in seen:
            return
        seen.add(extra)
        if extra not in optional_by_name:
            raise RequirementsFileError(
                f"{shown}: unknown extra {extra!r}",
                hint=f"known extras: {', '.join(sorted(optional_by_name)) or '(none)'}",
            )
        key, entries = optional_by_name[extra]
        add(entries, f"[project.optional-dependencies] {key}", group)

    add(project.get("dependencies", []), "[project.dependencies]", DEFAULT_GROUP)
    chosen_extras: list[str] = sorted({_canonical(e) for e in extras})
    for extra in chosen_extras:
        expand_extra(extra, f"extra:{extra}", seen=set())
    chosen_groups: list[str] = sorted({_canonical(g) for g in groups})
    groups_by_name: dict[str, str] = {_canonical(k): k for k in groups_table}
    for group in chosen_groups:
        for entry, location in resolve_group(groups_table, groups_by_name, group, shown):
            requirement = _pep508(entry, location)
            if own is not None and _canonical(requirement.name) == own:
                for extra in sorted(requirement.extras):
                    expand_extra(_canonical(extra), f"group:{group}", seen=set())
                if not requirement.extras:
                    add(project.get("dependencies", []), "[project.dependencies]", f"group:{group}")
                continue
            requirements.append(InputRequirement(requirement, location, f"group:{group}"))
    requires_python = project.get("requires-python")
    return CompileInputs(
        requirements=tuple(requirements),
        files=(path,),
        extras=tuple(chosen_extras),
        groups=tuple(chosen_groups),
        project_name=own,
        project_requires_python=requires_python if isinstance(requires_python, str) else None,
    )


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
            result.extend(resolve_group(table, by_name, _canonical(included), shown, (*_stack, group)))
        else:
            raise RequirementsFileError(f"{location}: expected a string or {{include-group = NAME}}")
    return result


def _pep508(text: str, location: str) -> Requirement:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(text)
    except InvalidRequirement as error:
        raise RequirementsFileError(f"{location}: invalid requirement {text!r}: {error}") from None
    if requirement.url:
        lowered = requirement.url.lower()
        if lowered.startswith(_VCS_PREFIXES):
            raise _unsupported(location, "VCS requirements")
        _check_url(requirement.url, location)
    return requirement


def merge(first: CompileInputs, second: CompileInputs) -> CompileInputs:
    """Two sources compiled together (``envlock compile a.in b.in``); later index settings extend."""
    return replace(
        first,
        requirements=first.requirements + second.requirements,
        constraints=first.constraints + second.constraints,
        index=IndexConfig(
            index_url=second.index.index_url or first.index.index_url,
            extra_index_urls=tuple(
                dict.fromkeys((*first.index.extra_index_urls, *second.index.extra_index_urls))
            ),
            find_links=tuple(dict.fromkeys((*first.index.find_links, *second.index.find_links))),
        ),
        options=ResolverOptions(
            pre=first.options.pre or second.options.pre,
            only_binary=first.options.only_binary | second.options.only_binary,
            no_binary=first.options.no_binary | second.options.no_binary,
        ),
        files=tuple(dict.fromkeys((*first.files, *second.files))),
        extras=tuple(sorted({*first.extras, *second.extras})),
        groups=tuple(sorted({*first.groups, *second.groups})),
        project_name=first.project_name or second.project_name,
        project_requires_python=first.project_requires_python or second.project_requires_python,
    )


def fingerprint(
    inputs: CompileInputs, *, index: IndexConfig, options: ResolverOptions, target: Mapping[str, str]
) -> str:
    """sha256 of the normalized inputs: requirement and constraint sets (sorted, canonical, without
    credentials or comments), their root groups, index settings (without credentials; local find-links
    folders relative to the first input file's folder, so a checkout elsewhere — CI — has the same
    fingerprint), resolver options and the target environment's identity. Not envlock's version, not
    the clock, not file order."""
    base = inputs.files[0].resolve().parent if inputs.files else None
    document = {
        "requirements": sorted({f"{r.group}|{r.normalized()}" for r in inputs.requirements}),
        "constraints": sorted({r.normalized() for r in inputs.constraints}),
        "extras": sorted(inputs.extras),
        "groups": sorted(inputs.groups),
        "index-url": strip_credentials(index.index_url) if index.index_url else None,
        "extra-index-urls": [strip_credentials(u) for u in index.extra_index_urls],
        "find-links": [_portable_location(u, base) for u in index.find_links],
        "options": options.as_dict(),
        "target": dict(sorted(target.items())),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _portable_location(location: str, base: Path | None) -> str:
    if "://" in location:
        return strip_credentials(location)
    if base is None:
        return location
    return Path(os.path.relpath(Path(location).resolve(), base.resolve())).as_posix()


def check_index_url(url: str, where: str) -> str:
    """An index URL must be ``http(s)://host/...``; anything else is an input error naming ``where``."""
    try:
        parts = validate.split_url(url)
    except validate.UnsafeInput:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InputError(
            f"{where}: invalid index URL {redact(url)!r} (expected http:// or https://)",
            hint="an index is a PEP 503/691 simple API root, e.g. https://pypi.org/simple/",
        )
    return url


def check_upgrade_packages(values: Iterable[str]) -> tuple[str, ...]:
    """``-P NAME`` / ``-P NAME==VER`` (any specifier, as pip-compile): a malformed one is an input error."""
    from packaging.requirements import InvalidRequirement, Requirement

    for value in values:
        try:
            requirement = Requirement(value)
        except InvalidRequirement as error:
            raise InputError(f"--upgrade-package {value!r}: {error}") from None
        if requirement.url or requirement.marker or requirement.extras:
            raise InputError(f"--upgrade-package {value!r}: expected NAME or NAME==VERSION")
    return tuple(values)


def check_names(names: Iterable[str], what: str) -> tuple[str, ...]:
    """Validate CLI project names (``--extra``, ``-P``) early, with a clear message."""
    result = []
    for name in names:
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", name):
            raise InputError(f"invalid {what} {name!r}")
        result.append(_canonical(name))
    return tuple(result)


def _canonical(name: str) -> NormalizedName:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)
