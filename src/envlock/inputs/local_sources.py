"""Requirements that name a source instead of an index: ``-e PATH``, ``PATH`` (a project folder, a wheel
or an sdist, relative to the file that names it), ``NAME @ file:///...`` and ``NAME @ git+...``; and
the pyproject.toml project itself. Each is checked here, where it enters, and becomes an
``InputRequirement`` whose URL stands for its ``Source`` (``envlock.models.source``).

A project folder's name is read without building it (``[project] name``, else setup.cfg's
``[metadata] name``); pip's ``#egg=NAME`` names one that declares neither.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from envlock.errors import RequirementsFileError
from envlock.inputs.config import InputRequirement
from envlock.models.source import (
    ARCHIVE,
    DIRECTORY,
    VCS,
    BadSource,
    Source,
    egg_name,
    from_url,
    is_source_url,
    local,
)
from envlock.runtime import sha256_file
from envlock.sources import tree
from envlock.tomlshim import tomllib

_EXTRAS = re.compile(r"^(?P<path>.*?)(?P<extras>\[[^\]/\\]*\])?$")


def path_requirement(text: str, location: str, here: Path, *, editable: bool = False) -> InputRequirement:
    """A requirement written as a path (``./libs/common``, ``.``, ``-e ../lib[extra]``,
    ``./dist/pkg-1.0-py3-none-any.whl ; python_version >= "3.10"``), relative to ``here``, or as a
    bare ``file:`` / ``git+`` URL (``-e`` of a URL, ``git+https://host/repo@v1#egg=name``)."""
    link, marker = _split_marker(text)
    egg = egg_name(link)
    link = link.split("#", 1)[0] if egg is not None and not link.lower().startswith("git+") else link
    match = _EXTRAS.match(link.strip())
    assert match is not None  # the pattern matches every string
    where, extras = match.group("path").strip(), match.group("extras") or ""
    try:
        if is_source_url(where):
            source = from_url(where, editable=editable)
        else:
            source = local((here / where).resolve(), editable=editable)
    except BadSource as error:
        raise RequirementsFileError(f"{location}: {error}") from None
    if source.kind == VCS and editable:
        raise RequirementsFileError(
            f"{location}: editable VCS requirements are not supported",
            hint="drop -e: the locked commit is checked out and installed",
        )
    name = egg or project_name(source, location)
    return _requirement(f"{name}{extras} @ {source.reference()}{marker}", location, source)


def url_requirement(requirement: Requirement, location: str, here: Path) -> InputRequirement | None:
    """``NAME @ file:///...`` or ``NAME @ git+...`` (PEP 508) as a sourced requirement; None for any
    other URL (an ``http(s)`` archive: ``config.check_direct_url``)."""
    url = requirement.url or ""
    if not is_source_url(url):
        return None
    try:
        source = from_url(url)
    except BadSource as error:
        raise RequirementsFileError(f"{location}: {error}") from None
    requirement.url = source.reference()
    return InputRequirement(requirement, location, origin=source)


def project_requirement(
    root: Path, name: str, location: str, *, extras: Sequence[str] = (), editable: bool = True
) -> InputRequirement:
    """The pyproject.toml project itself, installed from its folder (editable unless asked otherwise),
    with ``extras`` (those its backend computes: dynamic optional-dependencies)."""
    source = Source(DIRECTORY, path=root.resolve(), editable=editable)
    chosen = f"[{','.join(extras)}]" if extras else ""
    return _requirement(f"{name}{chosen} @ {source.reference()}", location, source)


def project_name(source: Source, location: str) -> str:
    """The project a source holds, read without a build; else an error asking for ``#egg=NAME``."""
    if source.kind == VCS:
        raise RequirementsFileError(
            f"{location}: a git requirement needs its project name: NAME @ {source.shown()}"
        )
    path = source.path or Path()
    if source.kind == ARCHIVE:
        try:
            if path.name.endswith(".whl"):
                return str(parse_wheel_filename(path.name)[0])
            return str(parse_sdist_filename(path.name)[0])
        except (InvalidWheelFilename, InvalidSdistFilename) as error:
            raise RequirementsFileError(
                f"{location}: cannot tell the project of {path.name!r}: {error}"
            ) from None
    name = _static_name(path, location)
    if name is None:
        raise RequirementsFileError(
            f"{location}: cannot tell the project name of {path} without building it",
            hint="declare [project] name in its pyproject.toml, or append #egg=NAME to the path",
        )
    return name


def _static_name(folder: Path, location: str) -> str | None:
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            data: Mapping[str, Any] = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise RequirementsFileError(f"{location}: {pyproject}: not valid TOML: {error}") from None
        project = data.get("project")
        if isinstance(project, Mapping) and isinstance(project.get("name"), str):
            return str(canonicalize_name(project["name"]))
    setup_cfg = folder / "setup.cfg"
    if setup_cfg.is_file():
        import configparser  # lazy: only a project folder with a setup.cfg needs it

        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(setup_cfg, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            return None
        name = parser.get("metadata", "name", fallback=None)
        if name and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            return str(canonicalize_name(name))
    return None


def portable(source: Source, base: Path | None) -> str:
    """A source as the input fingerprint sees it: a path relative to ``base`` (so a checkout elsewhere
    fingerprints the same) with what decides its metadata: an archive's sha256, a directory's build
    configuration (``config_digest``), whether it is editable; a git URL without credentials."""
    if source.kind == VCS:
        return source.shown()
    path = source.path or Path()
    shown = Path(os.path.relpath(path, base)).as_posix() if base is not None else path.as_posix()
    if source.kind == ARCHIVE:
        return f"{shown}#sha256={sha256_file(path)}"
    return f"{shown}#config={tree.config_digest(path)}" + ("&editable" if source.editable else "")


def _split_marker(text: str) -> tuple[str, str]:
    """``link ; marker`` -> (link, `` ; marker``); pip needs the space before ``;`` in a path."""
    for separator in (" ;", "; "):
        if separator in text:
            link, _, marker = text.partition(separator)
            return link.strip(), f" ; {marker.strip()}"
    return text.strip(), ""


def _requirement(text: str, location: str, source: Source) -> InputRequirement:
    try:
        return InputRequirement(Requirement(text), location, origin=source)
    except InvalidRequirement as error:
        raise RequirementsFileError(f"{location}: invalid requirement {text!r}: {error}") from None
