"""``requirements*.in`` files (pip syntax) read into CompileInputs: ``-r``/``-c`` includes (local files and
``http(s)://`` URLs), option lines (indexes, find-links, ``--pre``, binary rules), ``${VAR}`` expansion and
requirement lines (PEP 508, or a bare URL to a wheel or an sdist). Lines come from the one lexer,
``inputs.requirements_syntax``; every error names its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from envlock import validate
from envlock.errors import NeedsNetworkError, RequirementsFileError
from envlock.inputs.config import (
    ARCHIVE_SUFFIXES,
    VCS_PREFIXES,
    CompileInputs,
    IndexConfig,
    InputRequirement,
    ResolverOptions,
    check_direct_url,
    check_index_url,
    display_path,
    parse_binary_names,
    read_input_text,
    resolve_find_links,
    unsupported,
)
from envlock.inputs.local_sources import path_requirement, url_requirement
from envlock.inputs.requirements_syntax import logical_lines, split_option
from envlock.models.source import VCS, is_source_url
from envlock.sources.tree import config_files
from envlock.validate import strip_credentials

_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")


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

    def add(self, item: InputRequirement, *, constraint: bool) -> None:
        """A requirement or constraint; a project folder's build configuration becomes an input file."""
        (self.constraints if constraint else self.requirements).append(item)
        self.files.extend(f for f in config_files(item.origin) if f not in self.files)


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
        item = requirement_item(
            line, location, base if isinstance(path, str) else path.parent, remote=isinstance(path, str)
        )
        collector.add(item, constraint=constraint)


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


def variables_in(text: str) -> set[str]:
    """The environment variables a requirements file names (``${NAME}``): what its reading depends on."""
    return set(_ENV_VAR.findall(text))


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
        found = (
            _relative_to(path, value)
            if isinstance(path, str)
            else resolve_find_links(value, path.parent, where=location)
        )
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
        if isinstance(path, str):
            raise RequirementsFileError(
                f"{location}: a requirements file read from a URL cannot name local paths"
            )
        collector.add(path_requirement(value, location, path.parent, editable=True), constraint=constraint)
    elif name == "--hash":
        raise unsupported(location, "--hash options in input files")
    else:
        raise RequirementsFileError(f"{location}: unknown or unsupported option {name!r}")


def requirement_item(line: str, location: str, here: Path, *, remote: bool = False) -> InputRequirement:
    """One requirement line as an input: a source (a path, a ``file:`` or ``git+`` URL, with or
    without ``NAME @``; ``inputs.local_sources``) or a requirement from an index or an http(s) archive.
    A requirements file read from a URL (``remote``) may name git repositories but no local path."""
    stripped = line.strip()
    lowered = stripped.lower()
    named = _NAMED.match(stripped) is not None
    local = lowered.startswith("file:") or ("://" not in stripped and _looks_like_path(stripped, here))
    if not named and " --hash" not in stripped and (lowered.startswith("git+") or local):
        if remote and local:
            raise RequirementsFileError(
                f"{location}: a requirements file read from a URL cannot name local paths"
            )
        return path_requirement(stripped, location, here)
    requirement = parse_requirement_line(stripped, location, here)
    sourced = url_requirement(requirement, location, here)
    if sourced is not None and remote and sourced.origin is not None and sourced.origin.kind != VCS:
        raise RequirementsFileError(
            f"{location}: a requirements file read from a URL cannot name local paths"
        )
    return sourced or InputRequirement(requirement, location)


def parse_requirement_line(line: str, location: str, here: Path) -> Requirement:
    """One requirement line: PEP 508 (a ``file:`` or ``git+`` URL is checked by ``requirement_item``),
    or a bare URL to a wheel/sdist; other VCS and bare local paths are refused."""
    stripped = line.strip()
    if " --hash" in stripped or stripped.startswith("--hash"):
        raise unsupported(location, "--hash options in input files")
    lowered = stripped.lower()
    if lowered.startswith(VCS_PREFIXES[1:]) or re.search(r"@\s*(hg|svn|bzr)\+", lowered):
        raise unsupported(location, "VCS requirements other than git")
    if "://" in stripped and _NAMED.match(stripped) is None:
        return _bare_url(stripped, location)
    if "://" not in stripped and _looks_like_path(stripped, here):
        raise unsupported(location, "bare local paths here")
    try:
        requirement = Requirement(stripped)
    except InvalidRequirement as error:
        raise RequirementsFileError(f"{location}: invalid requirement {stripped!r}: {error}") from None
    if requirement.url and not is_source_url(requirement.url):
        check_direct_url(requirement.url, location)
    return requirement


_NAMED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
"""``NAME @`` or ``NAME[extras] @``: a PEP 508 direct reference, not a bare URL or path."""


def _looks_like_path(text: str, here: Path) -> bool:
    if text.startswith((".", "/", "~")) or text.endswith(ARCHIVE_SUFFIXES):
        return True
    return bool(re.match(r"^[A-Za-z]:[\\/]", text)) or ("/" in text and (here / text).exists())


def _bare_url(url: str, location: str) -> Requirement:
    """``https://host/pkg-1.0-py3-none-any.whl#sha256=...`` (marker after ``;`` allowed)."""
    link, _, marker = url.partition(" ;")
    if not marker:
        link, _, marker = url.partition("; ")
    link = link.strip()
    check_direct_url(link, location)
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
