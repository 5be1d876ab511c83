"""What a compile job reads before it resolves: the existing lock (once), the settings of the command line
merged with the lock's, the default source and groups, the inputs, and the targets."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envlock.errors import InputError
from envlock.inputs.config import check_upgrade_packages, display_path
from envlock.inputs.settings import CompileSettings, has_dev_group, recorded_in, resolve, tool_settings
from envlock.resolve.job_targets import compile_targets

if TYPE_CHECKING:
    from envlock.env.interpreter import TargetEnvironment
    from envlock.inputs.config import CompileInputs, ToolSettings
    from envlock.inputs.settings import Resolved
    from envlock.resolve.job import CompileRequest

LockRead = tuple[str, dict[str, Any]]
"""A lock's text and its plain TOML data (``read_lock_text``)."""

DEFAULT_SOURCES = ("requirements.in", "pyproject.toml")
"""What compile reads without SOURCES: the first of these that exists."""


@dataclass(frozen=True)
class JobInputs:
    """Everything a compile job read before resolving."""

    root: Path
    out: Path
    """The lock this compile writes (as given, relative to ``root``)."""
    shown_out: str
    """``out`` as messages show it."""
    read: LockRead | None
    """The existing lock, read once (None: none, or not a regular UTF-8 TOML file)."""
    compiled: CompileSettings | None
    """The settings the existing lock records (None: none, or ``--reset-settings``)."""
    settings: CompileSettings
    """This compile's settings: the command line's, the lock's for what it leaves unset, defaults."""
    recorded: CompileSettings
    """``settings`` as the lock records them (paths relative to its folder, target included)."""
    targets: tuple[TargetEnvironment, ...]
    interpreters: tuple[str, ...] | None
    """The interpreters the targets came from; None when no cached verdict can vouch for the outcome
    (an interpreter looked up on PATH, a ``-r``/``-c`` file fetched from a URL)."""
    resolved: Resolved
    selection: str
    """``extras dev; groups dev, test`` (``selection_line``), '' without a pyproject.toml input."""
    described: str
    """The targets and the selection, for the result lines."""


def read_job(request: CompileRequest, root: Path) -> JobInputs:
    """Read what ``request`` compiles, in ``root`` (the working folder)."""
    tool = tool_settings(root)
    out = request.output or lock_path(tool)
    shown_out = display_path(out, root)
    read = read_lock_text(out)
    compiled, settings, targets, interpreters = _settings(request, tool, root, (out, shown_out), read)
    fetched: list[str] = []
    resolved = resolve(settings, root, os.environ, lambda url: fetch_text(url, fetched))
    selection = selection_line(resolved.inputs, settings)
    return JobInputs(
        root=root,
        out=out,
        shown_out=shown_out,
        read=read,
        compiled=compiled,
        settings=settings,
        recorded=settings.for_lock(out.absolute().parent, root),
        targets=targets,
        interpreters=None if fetched else interpreters,
        resolved=resolved,
        selection=selection,
        described=_describe(targets) + (f"; {selection}" if selection else ""),
    )


def lock_path(tool: ToolSettings) -> Path:
    """The lock a compile without ``-o`` writes: ``[tool.envlock]`` output (or lock), else pylock.toml."""
    return Path(tool.output or tool.lock or "pylock.toml")


def recorded_settings(out: Path, root: Path) -> CompileSettings | None:
    """The settings the lock at ``out`` records (None: no lock, or one without them); what a compile
    without flags takes as its defaults (``_settings``)."""
    read = read_lock_text(out)
    return None if read is None else recorded_in(read[1], display_path(out, root))


def default_source(root: Path) -> Path:
    for name in DEFAULT_SOURCES:
        if (root / name).is_file():
            return Path(name)
    raise InputError(
        "nothing to compile: no requirements.in or pyproject.toml in this folder",
        hint="create requirements.in, or name the input: envlock compile path/to/requirements.in",
    )


def read_lock_text(out: Path) -> LockRead | None:
    """The lock at ``out`` as text and plain TOML, read once for what this compile asks of it (its
    settings, the "kept" verdict, ``--check``'s lock model); None when it is no regular file or no UTF-8
    TOML (whoever needs it then reads it again and reports why)."""
    from envlock.tomlshim import tomllib  # lazy: the lock is read as plain TOML

    try:
        if not out.is_file():  # never a FIFO's open
            return None
        text = out.read_bytes().decode("utf-8")
        return text, tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def _settings(
    request: CompileRequest, tool: ToolSettings, root: Path, lock: tuple[Path, str], read: LockRead | None
) -> tuple[CompileSettings | None, CompileSettings, tuple[TargetEnvironment, ...], tuple[str, ...] | None]:
    """The settings the existing ``lock`` (path, as shown; ``read``: ``read_lock_text``) was compiled
    with (None: no lock, one without them, or ``--reset-settings``); the command line's settings (its
    ``-P`` values checked) with the default source, the lock's settings for those it leaves unset, the
    default groups and the targets' identity filled in; the targets, and the interpreters they came
    from (``job_targets``)."""
    check_upgrade_packages(request.upgrade_packages)
    out = lock[0]
    compiled = None if request.reset_settings or read is None else recorded_in(read[1], lock[1])
    settings = request.settings
    if compiled is not None:
        named = bool(request.python or tool.targets or tool.python_version)
        settings = settings.with_lock(compiled, out.absolute().parent, root, target_named=named)
    if not settings.sources:
        settings = dataclasses.replace(settings, sources=(str(default_source(root)),))
    if request.no_default_groups:
        settings = dataclasses.replace(settings, groups=request.settings.groups)
    elif (
        not settings.groups
        and not tool.groups
        and (request.reset_settings or not out.exists())
        and has_dev_group(settings.sources, root)
    ):  # as uv: a new lock holds the project's dev group (recorded, so later compiles keep it)
        settings = dataclasses.replace(settings, groups=("dev",))
    request = dataclasses.replace(request, settings=settings)
    targets, identity, interpreters = compile_targets(request, tool, root)
    settings = dataclasses.replace(settings, target=identity)
    if settings.targets:  # recorded as the canonical, sorted list, however the command line gave them
        settings = dataclasses.replace(settings, targets=tuple(identity["targets"].split()))
    return compiled, settings, targets, interpreters


def selection_line(inputs: CompileInputs, settings: CompileSettings) -> str:
    """``extras dev; groups dev, test`` for the result lines: what of pyproject.toml the lock holds
    (``no extras`` / ``no groups``); empty when no pyproject.toml is an input."""
    if not any(source.endswith(".toml") for source in settings.sources):
        return ""
    extras = f"extras {', '.join(inputs.extras)}" if inputs.extras else "no extras"
    groups = f"groups {', '.join(inputs.groups)}" if inputs.groups else "no groups"
    return f"{extras}; {groups}"


def fetch_text(url: str, fetched: list[str]) -> str:
    """A ``-r``/``-c`` file given as a URL (credentials in it are used, never shown), noted in
    ``fetched``: no cached verdict can vouch for what a server will answer next time."""
    fetched.append(url)
    # lazy: only an input that includes a URL loads the HTTP client
    from envlock.errors import RequirementsFileError
    from envlock.index.http import HttpClient, read_limited, strip_credentials
    from envlock.inputs.config import MAX_INPUT_BYTES

    client = HttpClient()
    try:  # the same cap as a local input file
        with client.stream(url) as response:
            body = read_limited(response, MAX_INPUT_BYTES, url, "requirements file")
    finally:
        client.close()
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequirementsFileError(f"{strip_credentials(url)}: cannot read: {error}") from None


def _describe(targets: tuple[TargetEnvironment, ...]) -> str:
    from envlock.env.interpreter import describe_target  # lazy: envlock --help loads this module

    if len(targets) == 1:
        return describe_target(targets[0])
    return f"{len(targets)} targets"
