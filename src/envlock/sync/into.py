"""``envlock sync --target SPEC --into DIR``: lay out one target's selection of a lock in a folder without
running that target's interpreter: what people build for an AWS Lambda layer, a Docker image of another
architecture or a Windows bundle made on Linux. Every artifact is a wheel verified against the lock's
sha256 (an sdist cannot be built for another machine: refused, naming the package and the target), and
each wheel is installed by the ``installer`` library into the target's own layout: ``Lib/site-packages``
and ``Scripts/NAME.exe`` launchers for Windows, ``lib/pythonX.Y/site-packages`` and ``bin/`` elsewhere.
The folder is made beside DIR and renamed into place at the end, so a failure leaves no half folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile

from envlock.env.targets import TargetSpec, target_environment
from envlock.errors import InputError
from envlock.index.cache import Cache
from envlock.index.fetch import ArtifactClient, FetchOptions, fetch_all
from envlock.lock.selection import SelectionOptions, select
from envlock.models.artifacts import ArtifactKind, Selection
from envlock.sync import placement
from envlock.sync.executor import prepare_wheels
from envlock.sync.lock_input import parse_lock, read_lock_bytes
from envlock.sync.wheel_store import UnpackedWheel

INSTALLER = b"envlock\n"
LauncherKind = Literal["posix", "win-amd64", "win-arm64"]
"""The ``installer`` script kinds a target may need (its own alias is only defined for type checkers)."""


@dataclass(frozen=True)
class IntoRequest:
    """One cross-target install: which lock, for which target, into which folder."""

    lock_path: Path
    spec: TargetSpec
    into: Path
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] | None = None
    offline: bool = False
    find_links: tuple[Path, ...] = ()
    python: str | None = None
    """The target's interpreter as console-script launchers name it; None: ``python.exe`` (Windows,
    found next to the launcher's folder by the launcher) or ``/usr/bin/python3.X`` elsewhere."""


def layout(spec: TargetSpec, root: Path, dist: str = "") -> dict[str, str]:
    """The install scheme of ``spec``'s layout under ``root`` (as ``sysconfig`` names it there)."""
    if spec.family == "windows":
        site, scripts, include = root / "Lib" / "site-packages", root / "Scripts", root / "Include" / dist
    else:
        version = f"python3.{spec.minor}"
        site, scripts, include = (
            root / "lib" / version / "site-packages",
            root / "bin",
            root / "include" / version / dist,
        )
    paths = {"purelib": site, "platlib": site, "scripts": scripts, "data": root, "headers": include}
    return {key: os.fspath(value) for key, value in paths.items()}


def install_into(request: IntoRequest, cache: Cache, http: Callable[[], ArtifactClient]) -> Selection:
    """Select, verify and install ``request``'s target; returns what was installed."""
    _check_folder(request.into)
    target = target_environment(request.spec)
    lock = parse_lock(request.lock_path, read_lock_bytes(request.lock_path), cache, http)
    options = SelectionOptions(extras=request.extras, groups=request.groups, only_binary=frozenset({":all:"}))
    selection = select(lock, target, options, lock_path=request.lock_path)
    sdists = [p for p in selection.packages if p.artifact.kind is not ArtifactKind.WHEEL]
    if sdists:  # an sdist is refused by select() already; project folders and git sources end here
        names = ", ".join(p.name for p in sdists)
        raise InputError(
            f"{names}: needs a build (it is not a wheel), which cannot be done for {request.spec.text} "
            "on this machine"
        )
    artifacts = [p.artifact for p in selection.packages]
    client = None if request.offline else http()
    fetching = FetchOptions(offline=request.offline, find_links=request.find_links)
    paths = fetch_all(artifacts, cache, client, fetching)
    # The same checked unpack a venv sync does (paths that climb out, RECORD hashes and sizes, entry-point
    # names, zip bombs): a hostile wheel is refused here, naming it, before anything is written to DIR.
    # (a cache others could write unpacks into this process's own area: Cache.unchecked_area)
    unpacked = prepare_wheels(selection.packages, dict(paths), cache.unchecked_area("unpacked"))
    clash = placement.collisions(
        _claims(request.spec, [unpacked[p.artifact.sha256] for p in selection.packages])
    )
    if clash:
        raise InputError(f"--into {request.into}: {clash[0].message()}")
    _write_folder(request, {p.artifact.sha256: paths[p.artifact.sha256] for p in selection.packages})
    return selection


def _check_folder(into: Path) -> None:
    """DIR must be new or an empty folder (not a symbolic link: the folder is made beside it and renamed
    into its place), under a folder (not a file)."""
    problem = None
    if into.is_symlink():
        problem = "is a symbolic link"
    elif into.exists() and (not into.is_dir() or any(into.iterdir())):
        problem = "exists and is not an empty folder"
    else:
        parent = into.absolute().parent
        for folder in (parent, *parent.parents):
            if folder.exists() or folder.is_symlink():
                if not folder.is_dir():
                    problem = f"cannot be made: {folder} is not a folder"
                break
    if problem is not None:
        raise InputError(f"--into {into}: {problem}", hint="name a new folder")


def _claims(spec: TargetSpec, wheels: Sequence[UnpackedWheel]) -> Iterator[tuple[str, str, str]]:
    """What each wheel writes in the folder (path relative to it, normalised: a ``.data/data`` file may
    land where another wheel's ``purelib`` file does) and the digest of those bytes."""
    for wheel in wheels:
        scheme = layout(spec, Path(), wheel.wheel.split("-", 1)[0])
        for file in wheel.files:
            yield os.path.normpath(os.path.join(scheme[file.scheme], file.path)), wheel.wheel, file.hash  # noqa: PTH118
        for script in wheel.scripts:
            target = os.path.normpath(os.path.join(scheme["scripts"], script.name))  # noqa: PTH118
            yield target, wheel.wheel, f"{script.section}:{script.module}:{script.attr}"


def _write_folder(request: IntoRequest, wheels: Mapping[str, Path]) -> None:
    parent = request.into.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{request.into.name}.", dir=parent))
    except OSError as error:
        raise InputError(f"--into {request.into}: cannot make a folder there: {error.strerror}") from None
    try:
        for sha256 in sorted(wheels, key=lambda s: wheels[s].name):
            _install_wheel(request, wheels[sha256], staging)
        if request.into.exists():
            request.into.rmdir()  # empty (checked above): replaced by the finished folder
        staging.rename(request.into)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _install_wheel(request: IntoRequest, wheel: Path, staging: Path) -> None:
    spec = request.spec
    kind: LauncherKind = "posix"
    if spec.family == "windows":
        kind = "win-arm64" if spec.arch == "arm64" else "win-amd64"
    python = request.python or ("python.exe" if kind != "posix" else f"/usr/bin/python3.{spec.minor}")
    with WheelFile.open(wheel) as source:
        scheme = layout(spec, staging, source.distribution)
        destination = SchemeDictionaryDestination(
            scheme,
            interpreter=python,
            script_kind=kind,
            bytecode_optimization_levels=(),
            overwrite_existing=True,  # only by the same bytes: _claims refused different ones
        )
        install(source, destination, {"INSTALLER": INSTALLER})
