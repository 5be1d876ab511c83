"""The compile inputs as values, and the rules every input source shares.

The model (``InputRequirement``, ``IndexConfig``, ``ResolverOptions``, ``ToolSettings``,
``CompileInputs``), the merge of two sources and the input fingerprint that ``envlock compile --check``
compares; the one reader of input files; and the checks of what any source may give (index and direct
URLs, project names, binary rules, find-links). The readers build on it: ``requirements_file``
(pip syntax), ``pyproject`` (``[project]``, dependency groups) and ``envlock_table`` (``[tool.envlock]``).

Pure apart from reading the input files: environment variables are passed in as a mapping.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from envlock import validate
from envlock.errors import InputError, RequirementsFileError, UnsupportedError
from envlock.index.credentials import NamedIndex
from envlock.inputs import ALL as ALL  # the word's home is light: a sync selects with it
from envlock.validate import redact, strip_credentials

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from packaging.utils import NormalizedName

    from envlock.models.source import Source

# packaging is imported where it is used: ``envlock --help`` loads cli/compile, which imports this model
# (through inputs.settings), and must not pay for packaging.


DEFAULT_GROUP = ""
"""The root group of plain requirements (neither an extra nor a dependency group)."""

VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
"""URL prefixes of VCS requirements (git is supported: ``envlock.sources``)."""

ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz")
"""What a direct URL (or a local path, refused) ends with: a wheel or an sdist."""


@dataclass(frozen=True)
class InputRequirement:
    """One requirement as the user wrote it, with where it came from."""

    requirement: Requirement
    """The parsed PEP 508 requirement (a direct URL keeps its ``#sha256=`` fragment)."""
    source: str
    """``requirements.in:3`` or ``pyproject.toml [project.dependencies]`` for messages and ``via``."""
    group: str = DEFAULT_GROUP
    """Root group: ``""`` for plain requirements, ``extra:NAME`` or ``group:NAME`` otherwise."""
    origin: Source | None = None
    """Where it is built from when not from an index: a local directory, a local archive or a git
    repository (the requirement's URL stands for it)."""

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

    def normalized(self, base: Path | None = None) -> str:
        """Stable text for the fingerprint: credentials stripped, canonical spelling; a local source as
        a path relative to ``base`` (the same on every checkout) with what its contents decide."""
        from packaging.requirements import Requirement  # lazy: envlock --help must not import packaging

        req = Requirement(str(self.requirement))
        req.name = _canonical(req.name)
        if req.url:
            req.url = strip_credentials(req.url)
        if self.origin is not None:
            # lazy: only inputs with local or VCS sources need it
            from envlock.inputs.local_sources import portable

            req.url = portable(self.origin, base)
        return str(req)


@dataclass(frozen=True)
class IndexConfig:
    """Where projects are looked up: the indexes in priority order and find-links locations."""

    index_url: str | None = None
    """Primary index (``None``: the default, PyPI). May carry credentials; never written out."""
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    """Local folders (absolute) or URLs of HTML pages with links to distributions."""
    named: tuple[NamedIndex, ...] = ()
    """``[[tool.envlock.index]]``: the non-explicit ones join the search order after ``index_url``."""
    pins: Mapping[str, str] = field(default_factory=dict)
    """``[tool.envlock.sources]``: canonical package name -> the name of the index it comes from alone."""

    def indexes(self, default: str) -> tuple[str, ...]:
        """The search order: ``index_url``, the non-explicit named indexes, the extra indexes; ``default``
        (the public index) first only when none of them names an index."""
        listed = [i.url for i in self.named if not i.explicit]
        primary = [self.index_url] if self.index_url else [] if listed else [default]
        return tuple(dict.fromkeys([*primary, *listed, *self.extra_index_urls]))

    def pinned(self) -> dict[str, tuple[str, str]]:
        """Canonical package name -> (index name, URL) of its pinned index."""
        urls = {index.name: index.url for index in self.named}
        return {package: (name, urls[name]) for package, name in sorted(self.pins.items())}


@dataclass(frozen=True)
class ResolverOptions:
    """Options that shape the resolution (from option lines, ``[tool.envlock]`` and the CLI)."""

    pre: bool = False
    """Allow prereleases everywhere."""
    only_binary: frozenset[str] = frozenset()
    """Canonical names (or ``:all:``) for which sdists are never used."""
    no_binary: frozenset[str] = frozenset()
    """Canonical names (or ``:all:``) for which wheels are never used."""
    exclude_newer: datetime | None = None
    """Resolve as if the index were frozen at this instant (UTC; files uploaded later are ignored)."""

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
        if self.exclude_newer is not None:
            data["exclude-newer"] = format_timestamp(self.exclude_newer)
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
    exclude_newer: str | None = None
    output: str | None = None
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    lock: str | None = None
    """The project's lock (sync, export and check read it; compile writes it when no ``output``)."""
    venv: str | None = None
    """The project's venv (``sync`` makes it; ``compile`` resolves for its Python when it exists)."""
    targets: tuple[str, ...] = ()
    """The targets the lock serves (``cp312-windows-amd64``...; ``env.targets``); none: one target,
    the project's venv or envlock's own Python."""


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
        "requirements": sorted({f"{r.group}|{r.normalized(base)}" for r in inputs.requirements}),
        "constraints": sorted({r.normalized(base) for r in inputs.constraints}),
        "extras": sorted(inputs.extras),
        "groups": sorted(inputs.groups),
        "index-url": strip_credentials(index.index_url) if index.index_url else None,
        "extra-index-urls": [strip_credentials(u) for u in index.extra_index_urls],
        "find-links": [_portable_location(u, base) for u in index.find_links],
        **_named_document(index),
        "options": options.as_dict(),
        "target": dict(sorted(target.items())),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _named_document(index: IndexConfig) -> dict[str, Any]:
    """Named indexes and pins for the fingerprint; nothing when there are none (older fingerprints hold)."""
    if not index.named and not index.pins:
        return {}
    return {
        "named-indexes": [[i.name, strip_credentials(i.url), i.explicit] for i in index.named],
        "index-pins": dict(sorted(index.pins.items())),
    }


def _portable_location(location: str, base: Path | None) -> str:
    if "://" in location:
        return strip_credentials(location)
    if base is None:
        return location
    return Path(os.path.relpath(Path(location).resolve(), base.resolve())).as_posix()


def display_path(path: Path, base: Path) -> str:
    """``path`` as messages show it: relative to ``base`` when inside it, else as given."""
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


def unsupported(location: str, what: str) -> UnsupportedError:
    """``what`` (plural: "VCS requirements") is refused at ``location``, with what to use instead."""
    return UnsupportedError(
        f"{location}: {what} are not supported yet",
        hint="use a released version from an index, or a direct URL to a wheel/sdist with #sha256=",
    )


def check_direct_url(url: str, location: str) -> None:
    """A direct URL of a requirement: ``http(s)://`` to a wheel or an sdist; anything else is refused."""
    try:
        parts = validate.split_url(url)
    except validate.UnsafeInput as error:
        raise RequirementsFileError(f"{location}: {error}") from None
    scheme = parts.scheme
    if scheme == "file":
        raise unsupported(location, "local file URLs")
    if scheme not in ("http", "https"):
        raise unsupported(location, f"{scheme or 'scheme-less'} URLs")
    filename = unquote(parts.path.rsplit("/", 1)[-1])
    if not filename.endswith(ARCHIVE_SUFFIXES):
        raise unsupported(location, "direct URLs that are not wheel or sdist archives")


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


def resolve_find_links(value: str, here: Path, where: str = "find-links") -> str:
    """A find-links value: a URL stays as is, a path is made absolute relative to ``here``. ``where``
    names it in errors (``requirements.in:3``)."""
    if "\0" in value:  # a TOML string or a requirements line can carry one; no path can
        raise InputError(f"{where}: {value!r} is not a path (it contains a NUL character)")
    if "://" in value:
        try:
            parts = validate.split_url(value)
        except validate.UnsafeInput as error:
            raise InputError(f"{where}: {error}") from None
        if value.startswith("file://"):
            return str(Path(unquote(parts.path)))
        return value
    return str((here / value).resolve())


def check_upgrade_packages(values: Iterable[str]) -> tuple[str, ...]:
    """``-P NAME`` / ``-P NAME==VER`` (any specifier, as pip-compile): a malformed one is an input error."""
    # lazy: envlock --help must not import packaging
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
    from packaging.utils import canonicalize_name  # lazy: envlock --help must not import packaging

    return canonicalize_name(name)


def parse_timestamp(value: str, where: str) -> datetime:
    """``--exclude-newer``: an RFC 3339 instant (``2024-05-01T12:00:00Z``, an offset, or none: UTC) or a
    date (``2024-05-01``: its first instant, UTC). Anything else is an input error naming ``where``."""
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.strptime(text, "%Y-%m-%d")
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{where}: {value!r} is not a timestamp",
            hint="give an RFC 3339 instant (2024-05-01T12:00:00Z) or a date (2024-05-01)",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
