"""Builds from sdists and project folders: core metadata and wheels through the project's PEP 517 backend
(PEP 660 for editable wheels), run by ``pyproject-hooks`` in a fresh, isolated virtual environment whose
build requirements are installed by the caller's ``BuildRequirementsInstaller``
(``resolve.build_requirements`` resolves them from the same indexes, wheels only).
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import sys
import tarfile
import tempfile
import venv
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.metadata import parse_email
from pyproject_hooks import BuildBackendHookCaller, BuildBackendWarning, HookMissing

from envlock import validate
from envlock.errors import BuildError
from envlock.index.limits import max_unpacked_bytes
from envlock.runtime import venv_python
from envlock.tomlshim import tomllib

DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"
DEFAULT_REQUIRES = ("setuptools>=40.8.0",)
BUILD_TIMEOUT = 900.0

BuildRequirementsInstaller = Callable[[Sequence[str], Path], None]
"""Installs requirement strings into the build venv whose interpreter is the given path."""


@dataclass(frozen=True)
class BuildSystem:
    """``[build-system]`` of an unpacked sdist (PEP 517/518 defaults applied)."""

    requires: tuple[str, ...]
    backend: str
    backend_path: tuple[str, ...] | None


def build_wheel(
    sdist: Path,
    out_dir: Path,
    *,
    install_requirements: BuildRequirementsInstaller,
    python: Path | None = None,
) -> Path:
    """Build a wheel from ``sdist`` into ``out_dir`` and return its path.

    ``install_requirements(requirements, venv_python)`` installs build requirements into the isolated
    build venv (``index_build_installer(client)`` gives one over envlock's index client);
    ``python`` is the interpreter the venv is made from (default: the running one). BuildError on
    any failure, with the backend's output tail.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="envlock-build-") as tmp:
        hooks, _source = _prepare(sdist, Path(tmp), install_requirements, python, for_metadata=False)
        try:
            filename = hooks.build_wheel(str(out_dir))
        except Exception as error:
            raise _build_error(sdist.name, "building a wheel", error, hooks.build_backend) from None
    return out_dir / str(filename)


def show_backend_warnings(shown: bool) -> None:
    """The warnings a backend raises (setuptools' deprecation notices, re-raised in this process by
    pyproject_hooks): shown with ``-v`` only. A failed build's whole output is in its error either way."""
    warnings.filterwarnings("default" if shown else "ignore", category=BuildBackendWarning)


def prepare_metadata(
    sdist: Path,
    *,
    install_requirements: BuildRequirementsInstaller,
    python: Path | None = None,
) -> bytes:
    """Core metadata (METADATA bytes) of an sdist: PKG-INFO when it is Metadata-Version >= 2.2 with
    no dynamic dependencies (PEP 643), else the backend's ``prepare_metadata_for_build_wheel``."""
    static = _static_metadata(sdist)
    if static is not None:
        return static
    with tempfile.TemporaryDirectory(prefix="envlock-build-") as tmp:
        hooks, _source = _prepare(sdist, Path(tmp), install_requirements, python, for_metadata=True)
        out = Path(tmp) / "metadata"
        out.mkdir()
        try:
            dist_info = hooks.prepare_metadata_for_build_wheel(str(out), _allow_fallback=True)
        except Exception as error:
            raise _build_error(sdist.name, "preparing metadata", error, hooks.build_backend) from None
        return (out / str(dist_info) / "METADATA").read_bytes()


def _static_metadata(sdist: Path) -> bytes | None:
    """PEP 643: trust PKG-INFO of Metadata-Version >= 2.2 unless Requires-Dist/Requires-Python are dynamic."""
    data = _read_pkg_info(sdist)
    if data is None:
        return None
    raw, _ = parse_email(data)
    version = raw.get("metadata_version", "1.0")
    try:
        major, minor = (int(p) for p in version.split(".")[:2])
    except ValueError:
        return None
    if (major, minor) < (2, 2):
        return None
    dynamic = {d.lower() for d in raw.get("dynamic", [])}
    if {"requires-dist", "requires-python", "provides-extra"} & dynamic:
        return None
    return data


def _read_pkg_info(sdist: Path) -> bytes | None:
    try:
        if sdist.name.endswith(".zip"):
            with zipfile.ZipFile(sdist) as archive:
                names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/PKG-INFO")]
                return archive.read(names[0]) if names else None
        with tarfile.open(sdist) as archive:
            for member in archive.getmembers():
                if member.name.count("/") == 1 and member.name.endswith("/PKG-INFO") and member.isfile():
                    handle = archive.extractfile(member)
                    return handle.read() if handle else None
    except (OSError, tarfile.TarError, zipfile.BadZipFile):
        return None
    return None


def _prepare(
    sdist: Path,
    tmp: Path,
    install_requirements: BuildRequirementsInstaller,
    python: Path | None,
    *,
    for_metadata: bool,
) -> tuple[Any, Path]:
    source = unpack_sdist(sdist, tmp / "src")
    return _hooks(source, sdist.name, tmp, install_requirements, python, editable=False), source


def _hooks(
    source: Path,
    label: str,
    tmp: Path,
    install_requirements: BuildRequirementsInstaller,
    python: Path | None,
    *,
    editable: bool,
) -> Any:
    """The backend of the project in ``source``, in a fresh build venv under ``tmp`` that has its build
    requirements (PEP 518, then those it asks for: PEP 517 / PEP 660)."""
    system = read_build_system(source, label)
    env_dir = tmp / "env"
    env_python = create_build_venv(env_dir, python)
    if system.requires:
        install_requirements(system.requires, env_python)
    hooks = BuildBackendHookCaller(
        str(source),
        system.backend,
        backend_path=list(system.backend_path) if system.backend_path is not None else None,
        runner=_runner(env_dir),
        python_executable=str(env_python),
    )
    try:
        extra = (
            hooks.get_requires_for_build_editable({}) if editable else hooks.get_requires_for_build_wheel({})
        )
    except Exception as error:
        raise _build_error(
            label, "asking the backend for build requirements", error, system.backend
        ) from None
    if extra:
        install_requirements(tuple(extra), env_python)
    return hooks


def directory_metadata(
    source: Path,
    label: str,
    *,
    editable: bool,
    install_requirements: BuildRequirementsInstaller,
    python: Path | None = None,
) -> bytes:
    """Core metadata of a project folder through its backend: ``prepare_metadata_for_build_editable``
    (PEP 660) or ``_wheel`` (PEP 517), each falling back to a build when the backend lacks the hook.
    ``label`` names the project in errors."""
    with tempfile.TemporaryDirectory(prefix="envlock-build-") as tmp:
        hooks = _hooks(source, label, Path(tmp), install_requirements, python, editable=editable)
        out = Path(tmp) / "metadata"
        out.mkdir()
        try:
            if editable:
                dist_info = hooks.prepare_metadata_for_build_editable(str(out), _allow_fallback=True)
            else:
                dist_info = hooks.prepare_metadata_for_build_wheel(str(out), _allow_fallback=True)
        except Exception as error:
            raise _build_error(label, "preparing metadata", error, hooks.build_backend) from None
        return (out / str(dist_info) / "METADATA").read_bytes()


def build_directory(
    source: Path,
    out_dir: Path,
    label: str,
    *,
    editable: bool,
    install_requirements: BuildRequirementsInstaller,
    python: Path | None = None,
) -> Path:
    """A wheel of the project folder ``source`` into ``out_dir``: ``build_editable`` (PEP 660, the wheel
    points at ``source``) or ``build_wheel``. BuildError naming ``label`` and the backend otherwise."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="envlock-build-") as tmp:
        hooks = _hooks(source, label, Path(tmp), install_requirements, python, editable=editable)
        try:
            if editable:
                filename = hooks.build_editable(str(out_dir))
            else:
                filename = hooks.build_wheel(str(out_dir))
        except Exception as error:
            what = "building an editable wheel" if editable else "building a wheel"
            raise _build_error(label, what, error, hooks.build_backend) from None
    return out_dir / str(filename)


def unpack_sdist(sdist: Path, into: Path) -> Path:
    """Extract safely (no absolute paths, no ``..``, no links leading outside, no device files, at most
    the wheel size cap in all: ``ENVLOCK_MAX_UNPACKED_BYTES``) and return the top folder."""
    into.mkdir(parents=True)
    limit = max_unpacked_bytes()
    try:
        if sdist.name.endswith(".zip"):
            with zipfile.ZipFile(sdist) as archive:
                for name in archive.namelist():
                    _check_member(name, sdist)
                _check_total(sum(i.file_size for i in archive.infolist()), limit, sdist)
                archive.extractall(into)
        else:
            with tarfile.open(sdist) as archive:
                members = archive.getmembers()
                for member in members:
                    _check_member(member.name, sdist)
                    if member.issym():
                        _check_member(posixpath.join(posixpath.dirname(member.name), member.linkname), sdist)
                    elif member.islnk():
                        _check_member(member.linkname, sdist)  # relative to the archive's root
                    elif not (member.isfile() or member.isdir()):
                        raise BuildError(f"{sdist.name}: {member.name!r} is a device or pipe, not a file")
                _check_total(sum(m.size for m in members if m.isfile()), limit, sdist)
                if hasattr(tarfile, "data_filter"):
                    archive.extractall(into, filter="data")
                else:  # pragma: no cover - Python < 3.10.12
                    archive.extractall(into)
    except (OSError, tarfile.TarError, zipfile.BadZipFile) as error:
        raise BuildError(f"{sdist.name}: cannot unpack: {error}") from None
    entries = list(into.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return into


def _check_member(name: str, sdist: Path) -> None:
    try:
        validate.relative_path(name.rstrip("/") or ".", "archive member")
    except validate.UnsafeInput as error:
        raise BuildError(f"{sdist.name}: unsafe path in archive: {error}") from None


def _check_total(total: int, limit: int, sdist: Path) -> None:
    if total > limit:
        raise BuildError(
            f"{sdist.name}: unpacks to {total:,} bytes, over the limit of {limit:,} "
            "(ENVLOCK_MAX_UNPACKED_BYTES)"
        )


def read_build_system(source: Path, label: str) -> BuildSystem:
    pyproject = source / "pyproject.toml"
    if not pyproject.is_file():
        return BuildSystem((*DEFAULT_REQUIRES, "wheel"), DEFAULT_BACKEND, None)
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise BuildError(f"{label}: unreadable pyproject.toml: {error}") from None
    table = data.get("build-system")
    if not isinstance(table, Mapping):
        return BuildSystem((*DEFAULT_REQUIRES, "wheel"), DEFAULT_BACKEND, None)
    requires = table.get("requires", [])
    backend = table.get("build-backend") or DEFAULT_BACKEND
    backend_path = table.get("backend-path")
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise BuildError(f"{label}: [build-system] requires must be a list of strings")
    if backend_path is not None and (
        not isinstance(backend_path, list) or not all(isinstance(p, str) for p in backend_path)
    ):
        raise BuildError(f"{label}: [build-system] backend-path must be a list of strings")
    for entry in backend_path or ():
        try:  # PEP 517: inside the source tree; a symbolic link out of it counts as outside
            joined = validate.join(str(source), entry, "backend-path")
            validate.no_symlink_escape(joined, str(source), "backend-path")
        except validate.UnsafeInput as error:
            raise BuildError(f"{label}: pyproject.toml [build-system] {error}") from None
    return BuildSystem(
        tuple(requires), str(backend), tuple(backend_path) if backend_path is not None else None
    )


def create_build_venv(env_dir: Path, python: Path | None) -> Path:
    """A fresh venv without pip; returns its interpreter."""
    if python is None or Path(python).resolve() == Path(sys.executable).resolve():
        venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt", clear=True).create(env_dir)
    else:
        result = subprocess.run(
            [str(python), "-I", "-S", "-m", "venv", "--without-pip", str(env_dir)],  # no .pth runs
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BuildError(f"cannot create a build environment with {python}: {result.stderr.strip()}")
    return Path(venv_python(env_dir))


def _runner(env_dir: Path) -> Callable[..., None]:
    def run(
        cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
        env.update(extra_environ or {})
        env["VIRTUAL_ENV"] = str(env_dir)
        env["PIP_CONFIG_FILE"] = os.devnull
        result = subprocess.run(
            list(cmd), cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=BUILD_TIMEOUT
        )
        if result.returncode != 0:
            raise _HookFailed(result.stdout + result.stderr)

    return run


class _HookFailed(Exception):
    """The backend subprocess failed; carries its output."""


def _build_error(label: str, what: str, error: Exception, backend: str) -> BuildError:
    output = str(error) if isinstance(error, _HookFailed) else f"{type(error).__name__}: {error}"
    if isinstance(error, HookMissing):
        output = f"the backend {backend} has no hook {error.hook_name!r}"
    tail = "\n".join(output.strip().splitlines()[-15:])
    sdist = label.endswith((".tar.gz", ".zip"))
    return BuildError(
        f"{label}: the build backend ({backend}) failed while {what}" + (f":\n{tail}" if tail else ""),
        hint="use --only-binary for this project if a wheel exists, or fix the sdist's build"
        if sdist
        else "fix the project's build ([build-system] of its pyproject.toml, or setup.py)",
    )
