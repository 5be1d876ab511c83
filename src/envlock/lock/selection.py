"""PEP 751 selection: a lock + a target environment + extras/groups -> the packages to install and the
one artifact each comes from (``packaging.pylock.Pylock.select``), with errors that name what failed."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.markers import UndefinedComparison, UndefinedEnvironmentName
from packaging.pylock import (
    Package,
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
    Pylock,
    PylockSelectError,
    PylockValidationError,
)
from packaging.tags import parse_tag
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

from envlock import validate
from envlock.env.interpreter import TargetEnvironment, describe_target
from envlock.errors import InputError, LockFileError, TargetEnvironmentError
from envlock.inputs import ALL
from envlock.lock.sourced import identity, sourced
from envlock.models.artifacts import Artifact, ArtifactKind, SelectedPackage, Selection
from envlock.models.source import VCS


@dataclass(frozen=True)
class SelectionOptions:
    """What to select beyond the environment."""

    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] | None = None
    """Dependency groups; None means the lock's ``default-groups``."""
    only_binary: frozenset[str] = frozenset()
    """Normalized names (or ``:all:``) that must come from a wheel."""


def select(
    lock: Pylock, target: TargetEnvironment, options: SelectionOptions, *, lock_path: Path
) -> Selection:
    """The packages to install, sorted by name. Raises:

    - TargetEnvironmentError when the lock's ``requires-python`` / ``environments`` exclude the target;
    - InputError for undeclared extras/groups;
    - LockFileError for two applicable entries of one name, or a package without a usable artifact;
    - TargetEnvironmentError naming the package and the target's best tags when no wheel fits
      and there is no sdist (or binaries are required).
    """
    _check_lock_fits(lock, target, lock_path)
    tags = [tag for text in target.tags for tag in parse_tag(text)]
    try:
        chosen = list(
            lock.select(
                environment=dict(target.markers),  # type: ignore[arg-type]
                tags=tags,
                extras=options.extras,
                dependency_groups=options.groups,
            )
        )
    except PylockSelectError as error:
        _raise_for(lock, target, error, lock_path)
        raise AssertionError("unreachable") from None  # pragma: no cover
    except PylockValidationError as error:
        raise LockFileError(f"{lock_path}: invalid lock: {error}") from None
    except (UndefinedEnvironmentName, UndefinedComparison) as error:  # a marker naming what no target has
        raise LockFileError(f"{lock_path}: a marker cannot be evaluated: {error}") from None
    selected = [_selected(package, source, target, options, lock_path) for package, source in chosen]
    return Selection(tuple(sorted(selected, key=lambda p: p.name)))


def _check_lock_fits(lock: Pylock, target: TargetEnvironment, lock_path: Path) -> None:
    if lock.environments is not None:
        markers = dict(target.markers)
        try:
            fits = any(marker.evaluate(markers) for marker in lock.environments)
        except (UndefinedEnvironmentName, UndefinedComparison) as error:
            raise LockFileError(f"{lock_path}: 'environments' cannot be evaluated: {error}") from None
        if not fits:
            raise _uncovered(lock, target, lock_path)  # first: it names the targets and the fix
    full = Version(target.python_full_version.rstrip("+"))
    if lock.requires_python is not None and not lock.requires_python.contains(full, prereleases=True):
        raise TargetEnvironmentError(
            f"{lock_path}: requires-python {str(lock.requires_python)!r} excludes the target's "
            f"Python {target.python_full_version} ({target.description})",
            hint="pick a matching interpreter: envlock sync --python X.Y",
        )


def _uncovered(lock: Pylock, target: TargetEnvironment, lock_path: Path) -> TargetEnvironmentError:
    """This machine is none of the lock's targets: name them, and the target that adds this one."""
    # lazy: the targets' tables are needed for this hint only, not by a sync that selects
    from envlock.env.targets import spec_for

    covered = "; ".join(_covered(str(m)) for m in lock.environments or ())
    here = spec_for(target)
    add = f"add it: envlock compile --target {here} (and every target the lock already has)"
    return TargetEnvironmentError(
        f"{lock_path}: {describe_target(target)} ({target.description}) is not one of the "
        f"lock's targets: {covered}",
        hint=(f"{add}, or list it in [tool.envlock] targets; " if here else "")
        + "or sync with a covered interpreter (envlock sync --python X.Y)",
    )


def _covered(marker: str) -> str:
    """``implementation_name == 'cpython' and python_version == '3.12' and ...`` -> ``cpython 3.12 on
    win32/AMD64`` (the marker compile writes per target), else the marker itself."""
    values = dict(re.findall(r"(\w+) == [\"']([^\"']*)[\"']", marker))
    if {"implementation_name", "python_version", "sys_platform", "platform_machine"} <= set(values):
        return (
            f"{values['implementation_name']} {values['python_version']} on "
            f"{values['sys_platform']}/{values['platform_machine']}"
        )
    return marker


def _raise_for(lock: Pylock, target: TargetEnvironment, error: PylockSelectError, lock_path: Path) -> None:
    text = str(error)
    if text.startswith(("Undeclared extras", "Undeclared dependency groups")):
        declared_extras = ", ".join(lock.extras or ()) or "none"
        declared_groups = ", ".join([*(lock.dependency_groups or ()), *(lock.default_groups or ())]) or "none"
        raise InputError(
            f"{lock_path}: {text} (the lock declares extras: {declared_extras}; groups: {declared_groups})"
        )
    if text.startswith("Multiple packages"):
        raise LockFileError(f"{lock_path}: invalid lock: {text} (two applicable entries for one name)")
    if text.startswith("No wheel found"):
        name = _package_in(text) or "?"
        raise TargetEnvironmentError(
            f"no wheel of {name} in {lock_path} fits the target and it has no sdist; "
            f"the target's best tags: {', '.join(target.tags[:5])}",
            hint="recompile the lock for this platform, or sync with an interpreter it was compiled for",
        )
    raise TargetEnvironmentError(f"{lock_path}: {text}")


def _package_in(text: str) -> str | None:
    start = text.find("package '")
    if start < 0:
        return None
    rest = text[start + len("package '") :]
    return rest.split("'", 1)[0]


def _selected(
    package: Package,
    source: PackageVcs | PackageDirectory | PackageArchive | PackageWheel | PackageSdist,
    target: TargetEnvironment,
    options: SelectionOptions,
    lock_path: Path,
) -> SelectedPackage:
    name = str(package.name)
    if isinstance(source, (PackageVcs, PackageDirectory)):
        origin = sourced(source, name, lock_path)
        locked = str(package.version) if package.version is not None and origin.kind == VCS else ""
        artifact = Artifact(filename=name, sha256=identity(origin), origin=origin)
        return SelectedPackage(name=name, version=locked, artifact=artifact, direct=True)
    filename = _filename(source, name, lock_path)
    _check_url(source.url, name, lock_path)
    artifact = Artifact(
        filename=filename,
        sha256=_sha256(source.hashes, name, lock_path),
        url=source.url,
        path=(lock_path.parent / source.path).absolute() if source.path else None,
        size=source.size,
    )
    if artifact.kind is ArtifactKind.SDIST and (ALL in options.only_binary or name in options.only_binary):
        raise TargetEnvironmentError(
            f"{name}: binaries are required (--only-binary) but no wheel in {lock_path} fits the target; "
            f"its best tags: {', '.join(target.tags[:5])}"
        )
    try:
        if artifact.kind is ArtifactKind.WHEEL:
            file_project, file_version = parse_wheel_filename(filename)[:2]
        else:
            file_project, file_version = parse_sdist_filename(filename)
    except ValueError:
        file_project, file_version = None, None
    if file_project is not None and file_project != canonicalize_name(name):
        # An entry must not install another project under its name (its files would replace that
        # project's, and the entry's own project would never be installed).
        raise LockFileError(
            f"{lock_path}: package {name!r}: its file {filename!r} is a distribution of {file_project!r}"
        )
    version = str(package.version) if package.version is not None else None
    if version is None:
        if file_version is None:
            raise LockFileError(
                f"{lock_path}: package {name!r} has no 'version' and its file name {filename!r} names none"
            )
        version = str(file_version)
    elif file_version is not None and file_version != package.version:
        raise LockFileError(
            f"{lock_path}: package {name!r} {version}: its file {filename!r} is version {file_version}"
        )
    return SelectedPackage(
        name=name,
        version=version,
        artifact=artifact,
        direct=isinstance(source, PackageArchive) or source.path is not None,
    )


def _filename(source: PackageArchive | PackageWheel | PackageSdist, name: str, lock_path: Path) -> str:
    if isinstance(source, PackageArchive):
        location = source.path or source.url or ""
        filename = (
            location.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0].split("#", 1)[0]
        )
    else:
        try:
            filename = source.filename
        except PylockValidationError:
            filename = ""
    if not filename.endswith((".whl", ".tar.gz", ".zip")):
        raise LockFileError(f"{lock_path}: package {name!r}: cannot tell the file name of its artifact")
    try:
        return validate.file_name(unquote(filename), "artifact file name")
    except validate.UnsafeInput as error:
        raise LockFileError(f"{lock_path}: package {name!r}: {error}") from None


def _sha256(hashes: Mapping[str, str], name: str, lock_path: Path) -> str:
    value = hashes.get("sha256")
    if value is None:
        raise LockFileError(
            f"{lock_path}: package {name!r}: 'hashes' has no sha256 (envlock verifies and caches by sha256)"
        )
    try:
        return validate.sha256(value)
    except validate.UnsafeInput as error:
        raise LockFileError(f"{lock_path}: package {name!r}: 'hashes': {error}") from None


def _check_url(url: str | None, name: str, lock_path: Path) -> None:
    """A lock's ``url`` is fetched over HTTP(S); a local file is named by ``path`` instead."""
    if url is None:
        return
    scheme = urlsplit(url).scheme.lower()
    if scheme not in validate.REMOTE_SCHEMES:
        raise LockFileError(
            f"{lock_path}: package {name!r}: url scheme {scheme + ':' if scheme else '(none)'} is not "
            "http or https (a local file is given with 'path')"
        )


def parse_only_binary(values: Sequence[str]) -> frozenset[str]:
    """``--only-binary`` values (comma-separated allowed) -> normalized names or ``:all:``."""
    names: set[str] = set()
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part:
                names.add(ALL if part == ALL else str(canonicalize_name(part)))
    return frozenset(names)


def declared(values: Collection[str]) -> tuple[str, ...]:
    """Normalized, de-duplicated, sorted extras or group names."""
    return tuple(sorted({str(canonicalize_name(v)) for v in values}))
