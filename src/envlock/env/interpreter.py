"""Facts about a target Python: markers, wheel tags, install scheme, version.

The facts come from ``_probe.py`` run *by the target interpreter* (standard library only, never
importing envlock), so envlock can resolve for and install into any CPython >= 3.8 venv.
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envlock.errors import InputError, TargetEnvironmentError

if TYPE_CHECKING:
    import subprocess

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]
"""Runs a command and returns its completed process (tests pass fakes)."""

PROBE_SCRIPT = Path(__file__).with_name("_probe.py")


@dataclass(frozen=True)
class InstallScheme:
    """Where each part of a wheel lands in the target environment (absolute paths)."""

    purelib: str
    platlib: str
    scripts: str
    data: str
    headers: str

    def as_dict(self) -> dict[str, str]:
        return {
            "purelib": self.purelib,
            "platlib": self.platlib,
            "scripts": self.scripts,
            "data": self.data,
            "headers": self.headers,
        }


@dataclass(frozen=True)
class InterpreterInfo:
    """What the probe reported about one interpreter."""

    executable: str
    prefix: str
    base_prefix: str
    is_venv: bool
    version: tuple[int, int, int]
    implementation: str
    cache_tag: str | None
    markers: Mapping[str, str]
    platform: str
    debug: bool
    free_threaded: bool
    scheme: InstallScheme

    @property
    def version_str(self) -> str:
        return ".".join(str(v) for v in self.version)

    @property
    def python_version(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


@dataclass(frozen=True)
class TargetEnvironment:
    """The environment a lock is resolved for or selected against: marker values and wheel tags."""

    markers: Mapping[str, str]
    """PEP 508 marker environment (python_version, sys_platform, ...)."""
    tags: tuple[str, ...]
    """Supported wheel tags, most preferred first (``cp311-cp311-manylinux_2_28_x86_64``...)."""
    description: str = ""
    """Where the facts came from, for messages: an interpreter path or ``--python-version 3.12``."""
    platform: str | None = field(default=None, compare=False)
    """The sysconfig platform of a probed interpreter (``linux-x86_64``); None: this machine's."""

    @property
    def python_version(self) -> str:
        return self.markers["python_version"]

    @property
    def python_full_version(self) -> str:
        return self.markers["python_full_version"]

    @cached_property
    def tag_rank(self) -> Mapping[str, int]:
        """Tag -> preference (0 best); computed once because wheel selection asks often."""
        return {tag: index for index, tag in enumerate(self.tags)}


def run_subprocess(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    import subprocess  # lazy: a sync whose interpreter's facts are remembered starts no process

    return subprocess.run(list(command), capture_output=True, text=True, check=False, timeout=60)


def probe_command(python: str | os.PathLike[str], *args: str) -> list[str]:
    """The command line that runs the probe in ``python`` (``args`` go to the probe, e.g. ``--site-dirs``).

    -I isolates from PYTHON* variables, the user site and the current folder; -S skips site.py, which
    would execute the ``.pth`` files the venv's wheels shipped: inspecting a venv must run none of its
    code. The probe finds the venv itself, as site.py would (``_probe.venv_prefix``).
    """
    return [os.fspath(python), "-I", "-S", os.fspath(PROBE_SCRIPT), *args]


def probe(python: str | os.PathLike[str], runner: Runner = run_subprocess) -> InterpreterInfo:
    """Run the probe in ``python``; a broken or missing interpreter is a TargetEnvironmentError."""
    return probe_answer(python, runner)[0]


def probe_answer(
    python: str | os.PathLike[str], runner: Runner = run_subprocess
) -> tuple[InterpreterInfo, dict[str, Any]]:
    """``probe``, with the probe's JSON answer as it came (``env/probe_cache.py`` keeps it)."""
    import subprocess  # lazy: as run_subprocess

    try:
        result = runner(probe_command(python))
    except (OSError, subprocess.SubprocessError) as error:
        raise TargetEnvironmentError(f"cannot run Python at {python}: {error}") from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise TargetEnvironmentError(
            f"Python at {python} does not work (exit {result.returncode})"
            + (f": {detail[-1]}" if detail else "")
        )
    try:
        data = json.loads(result.stdout)
        return info_from_json(data), data
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise TargetEnvironmentError(f"Python at {python} gave an unreadable probe answer: {error}") from None


def info_from_json(data: Mapping[str, Any]) -> InterpreterInfo:
    """The probe's answer as interpreter facts; ValueError for one that is not well formed, or a venv's
    whose install folders are not inside it (every one is normalised first: ``install_folders``)."""
    major, minor, micro = (int(v) for v in data["version"])
    prefix, is_venv = str(data["prefix"]), bool(data["is_venv"])
    return InterpreterInfo(
        executable=str(data["executable"]),
        prefix=prefix,
        base_prefix=str(data["base_prefix"]),
        is_venv=is_venv,
        version=(major, minor, micro),
        implementation=str(data["implementation"]),
        cache_tag=data.get("cache_tag"),
        markers={str(k): str(v) for k, v in data["markers"].items()},
        platform=str(data["platform"]),
        debug=bool(data.get("debug")),
        free_threaded=bool(data.get("free_threaded")),
        scheme=InstallScheme(**install_folders(data["paths"], prefix if is_venv else None)),
    )


def install_folders(paths: Mapping[str, Any], venv: str | None) -> dict[str, str]:
    """The install scheme's folders (purelib, platlib, scripts, data, headers), each absolute and
    normalised (no ``..``, no ``//``); with ``venv``, each inside it (ValueError otherwise: a wheel's
    files must never land outside the venv, whoever gave the paths, docs/safety.md)."""
    folders = {}
    root = None if venv is None else os.path.normpath(venv)
    for key in ("purelib", "platlib", "scripts", "data", "headers"):
        path = paths[key]
        if not isinstance(path, str) or not os.path.isabs(path) or "\0" in path:  # noqa: PTH117
            raise ValueError(f"install folder {key} is not an absolute path")
        path = os.path.normpath(path)
        if root is not None and path != root and not path.startswith(root.rstrip(os.sep) + os.sep):
            raise ValueError(f"install folder {key} {path} is outside the venv {root}")
        folders[key] = path
    return folders


def environment_for(info: InterpreterInfo) -> TargetEnvironment:
    """Marker environment and wheel tags of a probed interpreter."""
    return TargetEnvironment(
        markers=dict(info.markers),
        tags=_tags(info.implementation, info.version[:2], _abi(info), _platforms(info.platform)),
        description=info.executable,
        platform=info.platform,
    )


def current_environment() -> TargetEnvironment:
    """The running interpreter, without a subprocess."""
    # lazy: packaging's markers and tags cost a sync ~20 ms of imports; a remembered selection needs neither
    from packaging.markers import default_environment
    from packaging.tags import sys_tags

    return TargetEnvironment(
        markers={k: str(v) for k, v in default_environment().items()},
        tags=tuple(str(t) for t in sys_tags()),
        description=sys.executable,
    )


def environment_for_version(version: str, base: TargetEnvironment | None = None) -> TargetEnvironment:
    """``--python-version X.Y[.Z]``: CPython X.Y on the platform of ``base`` (an interpreter given with
    ``--python``, as uv does: it supplies the platform, the option the version), else of this machine."""
    major, minor, full = parse_python_version(version)
    base = base if base is not None else current_environment()
    markers = dict(base.markers)
    markers.update(
        python_version=f"{major}.{minor}",
        python_full_version=full,
        implementation_name="cpython",
        implementation_version=full,
        platform_python_implementation="CPython",
    )
    abi = f"cp{major}{minor}"
    platform = base.platform or sysconfig.get_platform()
    where = f" on the platform of {base.description}" if base.platform else ""
    return TargetEnvironment(
        markers=markers,
        tags=_tags("cpython", (major, minor), abi, _platforms(platform)),
        description=f"--python-version {version}{where}",
    )


def parse_python_version(version: str) -> tuple[int, int, str]:
    """``X.Y[.Z]`` -> (X, Y, the full version); InputError for anything else."""
    parts = version.strip().split(".")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise InputError(f"invalid Python version {version!r}: expected X.Y or X.Y.Z")
    major, minor = int(parts[0]), int(parts[1])
    return major, minor, ".".join(parts) if len(parts) == 3 else f"{major}.{minor}.0"


def interpreter_path(text: str, cwd: Path) -> Path:
    """``--python`` as a shell reads a command: a value with a folder part (``./venv/bin/python``,
    ``../py``) is a path from the working folder; a bare name (``python3.12``) is looked up on PATH."""
    if os.sep in text or (os.altsep and os.altsep in text) or "/" in text:
        return cwd / text
    import shutil  # lazy: only a --python given by name is looked up

    found = shutil.which(text)
    if found is None:
        raise TargetEnvironmentError(
            f"--python {text}: no such interpreter on PATH",
            hint=f"give its path (./{text} for one in this folder)",
        )
    return Path(found)


def tags_basis(info: InterpreterInfo) -> tuple[object, ...]:
    """Everything ``environment_for(info).tags`` is computed from, without computing them (packaging.tags
    and its imports cost a sync ~15 ms): the interpreter's facts and, when its platform is this machine's,
    what packaging reads of the machine for its platform tags (the C library, the running interpreter,
    the kernel, a ``_manylinux`` override module) and packaging's version."""
    # lazy: packaging's own version only (its __init__ defines constants and imports nothing)
    import packaging

    host = sysconfig.get_platform()
    machine = _machine() if info.platform == host else ()
    return (
        info.implementation,
        info.version[:2],
        _abi(info),
        info.platform,
        host,
        machine,
        packaging.__version__,
    )


def _machine() -> tuple[object, ...]:
    """What packaging's ``platform_tags()`` reads of this machine and of the running interpreter."""
    if sys.platform == "win32":
        system: tuple[object, ...] = tuple(sys.getwindowsversion()[:5])
    else:
        system = tuple(os.uname())
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        libc = None
    return (libc, system, sys.executable, sys.version, sys.maxsize, _manylinux_override())


def _manylinux_override() -> tuple[object, ...] | None:
    """The ``_manylinux`` module packaging would import to decide manylinux compatibility (PEP 600 lets a
    distributor override it): where it is and its size and mtime; None when there is none."""
    # lazy: importlib.util is loaded at start by runpy (python -m envlock) but not by every caller
    import importlib.util

    try:
        spec = importlib.util.find_spec("_manylinux")
    except (ImportError, ValueError):
        return ("unfindable",)
    if spec is None:
        return None
    try:
        found = Path(spec.origin).stat() if spec.origin else None
    except OSError:
        found = None
    return (spec.origin, None if found is None else (found.st_size, found.st_mtime_ns))


def _abi(info: InterpreterInfo) -> str | None:
    if info.implementation != "cpython":
        return None
    major, minor = info.version[:2]
    abi = f"cp{major}{minor}"
    if info.free_threaded:
        abi += "t"
    if info.debug:
        abi += "d"
    return abi


def _platforms(platform: str) -> list[str]:
    """Platform tags for a sysconfig platform; this machine's full list (manylinux...) when it matches."""
    if platform == sysconfig.get_platform():
        from packaging.tags import platform_tags  # lazy: see current_environment

        return list(platform_tags())
    return [platform.replace("-", "_").replace(".", "_")]


def _tags(
    implementation: str, version: tuple[int, int], abi: str | None, platforms: list[str]
) -> tuple[str, ...]:
    from packaging.tags import compatible_tags, cpython_tags, generic_tags  # lazy: see current_environment

    if implementation == "cpython":
        found = [*cpython_tags(version, [abi] if abi else None, platforms)]
        interpreter = f"cp{version[0]}{version[1]}"
    else:
        interpreter = f"{implementation[:2]}{version[0]}{version[1]}"
        found = [*generic_tags(interpreter, None, platforms)]
    found += compatible_tags(version, interpreter, platforms)
    seen: dict[str, None] = {}
    for tag in found:
        seen.setdefault(str(tag), None)
    return tuple(seen)


_TARGET_KEYS = ("implementation_name", "python_version", "sys_platform", "platform_machine")
"""The marker values that identify a target for the lock's ``environments`` and the fingerprint."""


def target_identity(target: TargetEnvironment) -> dict[str, str]:
    """The stable identity of a target (no patch version, no host names): fingerprint and messages."""
    return {key: target.markers.get(key, "") for key in _TARGET_KEYS}


def describe_target(target: TargetEnvironment) -> str:
    ident = target_identity(target)
    return (
        f"{ident['implementation_name']} {ident['python_version']} on "
        f"{ident['sys_platform']}/{ident['platform_machine']}"
    )
