"""Compile orchestration: inputs + target(s) + previous lock -> resolution(s) -> a PEP 751 ``Pylock``.

``build_lock`` is pure (resolutions in, lock out). It already merges several resolutions, each for
one target environment, so a multi-platform lock is a loop over targets, not a rewrite: a package
present in every resolution with the same version gets no environment marker, otherwise its entry
carries ``(environment marker) and (group marker)`` per target it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.markers import Marker
from packaging.pylock import Package, PackageArchive, PackageSdist, PackageWheel, Pylock
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from envlock.env.interpreter import TargetEnvironment, describe_target, target_identity
from envlock.errors import ResolutionError
from envlock.index.pages import DistFile
from envlock.inputs.config import DEFAULT_GROUP, CompileInputs, InputRequirement, ResolverOptions
from envlock.lock.lockfile import TOOL_KEY, VIA_REQUIREMENTS, LockMetadata, metadata_to_tool
from envlock.lock.sourced import local_path, locked_entry
from envlock.models.source import VCS, Source, commit_key
from envlock.resolve.models import (
    IndexLike,
    Pin,
    Resolution,
    ResolveRequest,
    SourcesLike,
    marker_applies,
)
from envlock.resolve.progress import OnEvent, ignore
from envlock.resolve.resolver import resolve
from envlock.validate import strip_credentials

LOCK_VERSION = "1.0"
CREATED_BY = "envlock"


def environment_marker(target: TargetEnvironment) -> str:
    return _identity_marker(target_identity(target))


def _identity_marker(identity: Mapping[str, str]) -> str:
    return " and ".join(f"{key} == {_quote(value)}" for key, value in identity.items())


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class UpgradePolicy:
    """What may move away from the previous lock's pins."""

    all: bool = False
    """``--upgrade``: ignore every previous pin."""
    packages: tuple[str, ...] = ()
    """``-P NAME[==VER]``: canonical NAME free to move; with ``==VER`` it becomes a constraint."""

    def names(self) -> set[str]:
        return {canonicalize_name(Requirement(p).name) for p in self.packages}

    def constraints(self) -> tuple[InputRequirement, ...]:
        result = []
        for text in self.packages:
            requirement = Requirement(text)
            if requirement.specifier:
                result.append(InputRequirement(requirement, f"--upgrade-package {text}"))
        return tuple(result)


def kept_commits(lock: Pylock | None, upgrade: UpgradePolicy) -> dict[str, str]:
    """``resolve.sources.commit_key`` -> commit of each git package of an earlier lock that may keep
    its commit (not freed by ``--upgrade`` or ``-P NAME``): a moved tag or branch moves nothing."""
    if lock is None or upgrade.all:
        return {}
    freed = upgrade.names()
    kept = {}
    for package in lock.packages:
        vcs = package.vcs
        if vcs is None or package.name in freed or vcs.commit_id is None:
            continue
        source = Source(VCS, url=vcs.url, revision=vcs.requested_revision, subdirectory=vcs.subdirectory)
        kept[commit_key(source)] = vcs.commit_id
    return kept


def _outside(resolutions: Sequence[Resolution], lock_dir: Path) -> set[str]:
    """A warning for each project folder outside the lock's folder: the lock names it by a ``..`` path,
    which holds only where the checkout keeps the same neighbours."""
    warnings = set()
    for pin in (p for r in resolutions for p in r.pins):
        if pin.origin is not None and pin.origin.path is not None:
            relative = local_path(pin.origin.path, lock_dir)
            if relative.startswith("../"):
                warnings.add(
                    f"{pin.name}: {relative} is outside the lock's folder; the lock names it by that path"
                )
    return warnings


def previous_pins(lock: Pylock | None, target: TargetEnvironment | None = None) -> dict[str, Version]:
    """name -> version of every package an earlier lock gives ``target`` one version of (minimal-diff
    preferences; a package with per-target entries is preferred at the version that target had)."""
    if lock is None:
        return {}
    environment = (
        {**target.markers, "extras": frozenset(), "dependency_groups": frozenset()} if target else None
    )
    seen: dict[str, set[Version]] = {}
    for package in lock.packages:
        if package.version is None:
            continue
        if environment is not None and package.marker is not None:
            try:
                if not package.marker.evaluate(environment):  # type: ignore[arg-type]
                    continue
            except Exception:  # a marker this target cannot evaluate: the package may apply to it
                pass
        seen.setdefault(package.name, set()).add(package.version)
    return {name: next(iter(versions)) for name, versions in seen.items() if len(versions) == 1}


@dataclass(frozen=True)
class CompileJob:
    """One compile: what to resolve, for which targets, starting from which lock."""

    inputs: CompileInputs
    targets: tuple[TargetEnvironment, ...]
    options: ResolverOptions
    metadata: LockMetadata
    lock_dir: Path
    """Folder of the lock: find-links files are written as paths relative to it."""
    previous: Pylock | None = None
    upgrade: UpgradePolicy = field(default_factory=UpgradePolicy)
    prefetch_workers: int = 16
    sources: SourcesLike | None = None
    """Metadata of project folders and git sources (None: refused)."""
    failure_hint: str | None = None
    """Added to the hint of a target that cannot be resolved (how the command line could leave it out)."""


def compile_lock(
    client: IndexLike,
    job: CompileJob,
    hash_of: Callable[[DistFile], str],
    warn: Callable[[str], None] = lambda _message: None,
    on_event: OnEvent = ignore,
) -> Pylock:
    """Resolve for every target and build the lock (network only through ``client`` / ``hash_of``);
    ``warn`` receives each resolution warning once (e.g. an extra a package does not provide);
    ``on_event`` hears the resolutions' progress."""
    _check_markers(job, warn)
    freed = job.upgrade.names()
    resolutions = []
    for target in job.targets:
        preferences: dict[str, Version] = {}
        if not job.upgrade.all:
            preferences = {k: v for k, v in previous_pins(job.previous, target).items() if k not in freed}
        request = ResolveRequest(
            requirements=job.inputs.requirements,
            target=target,
            constraints=job.inputs.constraints + job.upgrade.constraints(),
            options=job.options,
            preferences=preferences,
            prefetch_workers=job.prefetch_workers,
            sources=job.sources,
        )
        # Each target on its own (sharing the index client, so pages and metadata are fetched once),
        # all preferring the previous lock's pins: the targets agree wherever they can take the same
        # version, and a target that cannot gets its own entry with a marker; the same answer as uv's
        # per-target resolution, and independent of the order the targets are listed in.
        try:
            resolutions.append(resolve(client, request, on_event))
        except ResolutionError as error:
            if len(job.targets) == 1 and job.failure_hint is None:
                raise
            # Several targets: say which one could not be resolved (the others may well have been).
            several = len(job.targets) > 1
            message = f"for {describe_target(target)}: {error.message}" if several else error.message
            hints = [h for h in (error.hint, job.failure_hint) if h]
            raise ResolutionError(message, hint="; ".join(hints) or None) from None
    for message in sorted({w for r in resolutions for w in r.warnings} | _outside(resolutions, job.lock_dir)):
        warn(message)
    return build_lock(
        resolutions,
        extras=job.inputs.extras,
        groups=job.inputs.groups,
        metadata=job.metadata,
        lock_dir=job.lock_dir,
        hash_of=hash_of,
    )


def _check_markers(job: CompileJob, warn: Callable[[str], None]) -> None:
    """A requirement whose marker matches none of the targets is never locked: when that is every
    requirement the lock would be empty, which is refused (saying why); with several targets, each such
    requirement is a warning (with one target, ``; sys_platform == 'win32'`` on Linux is routine)."""
    requirements = job.inputs.requirements
    unmatched = [
        item
        for item in requirements
        if not any(marker_applies(item.requirement.marker, target) for target in job.targets)
    ]
    if not unmatched:
        return
    targets = job.targets
    named = ", ".join(describe_target(t) for t in targets) if len(targets) <= 3 else f"{len(targets)} targets"
    if len(unmatched) == len(requirements):
        lines = [f"  {item.source}: {item.requirement}" for item in unmatched]
        raise ResolutionError(
            "\n".join(
                [f"nothing to lock: no requirement's marker matches the lock's targets ({named}):", *lines]
            ),
            hint="add a target the markers match (--target, [tool.envlock] targets) or correct the markers",
        )
    if len(targets) > 1:
        for item in unmatched:
            warn(
                f"{item.source}: {item.requirement} matches none of the lock's targets ({named}): not locked"
            )


def build_lock(
    resolutions: Sequence[Resolution],
    *,
    extras: Sequence[str],
    groups: Sequence[str],
    metadata: LockMetadata,
    lock_dir: Path,
    hash_of: Callable[[DistFile], str],
) -> Pylock:
    """Pure: resolutions (one per target) -> a Pylock with sorted packages (valid by construction)."""
    env_markers = [environment_marker(r.target) for r in resolutions]
    identities = [target_identity(r.target) for r in resolutions]
    entries: dict[tuple[str, Version], list[tuple[int, Pin]]] = {}
    for position, resolution in enumerate(resolutions):
        for pin in resolution.pins:
            entries.setdefault((pin.name, pin.version), []).append((position, pin))
    packages = []
    for _key, found in sorted(entries.items(), key=lambda item: (item[0][0], item[0][1])):
        pin = found[0][1]
        marker = _package_marker(found, identities, len(resolutions))
        packages.append(_package(_merged(p for _, p in found), marker, lock_dir, hash_of))
    requires_python = lock_requires_python(resolutions)
    # Built from typed values, so it is valid by construction; ``Pylock.validate()`` (a to_dict +
    # from_dict round trip, ~15 ms on 38 packages) is left to the tests, which run it on every shape.
    return Pylock(
        lock_version=Version(LOCK_VERSION),
        environments=[Marker(m) for m in sorted(set(env_markers))],
        requires_python=requires_python,
        extras=[NormalizedName(e) for e in sorted(extras)] or None,
        dependency_groups=sorted(groups) or None,
        default_groups=sorted(groups) or None,
        created_by=CREATED_BY,
        packages=packages,
        tool={TOOL_KEY: metadata_to_tool(metadata)},
    )


def lock_requires_python(resolutions: Sequence[Resolution]) -> SpecifierSet:
    """The Pythons the lock is true for: each target's minor from the first patch release every pin
    accepts (``_patch_floor``). One minor: ``==X.Y.*`` (with ``,>=X.Y.Z`` when a pin needs a later
    patch than X.Y.0); several: ``>=`` the oldest, with the patches a newer minor's pins refuse excluded."""
    floors: dict[tuple[int, int], int] = {}
    for resolution in resolutions:
        major, minor, floor = _patch_floor(resolution)
        # Targets of one minor on several platforms: the range must hold for every one of them.
        floors[major, minor] = max(floor, floors.get((major, minor), 0))
    (major, minor), *newer = sorted(floors)
    lowest = f"{major}.{minor}"
    floor = floors[major, minor]
    if not newer:
        return SpecifierSet(f"=={lowest}.*" + (f",>={lowest}.{floor}" if floor else ""))
    excluded = [f"!={a}.{b}.{patch}" for a, b in newer for patch in range(floors[a, b])]
    return SpecifierSet(",".join([f">={lowest}" + (f".{floor}" if floor else ""), *excluded]))


def _patch_floor(resolution: Resolution) -> tuple[int, int, int]:
    """(major, minor, patch): the target's Python and the lowest patch release from which every pin's
    Requires-Python holds up to the target's own version. A target given as X.Y resolves for X.Y.0 (the
    floor is 0); an interpreter resolves for its own version, and a pin that needs a later patch than
    X.Y.0 (``>=3.11.5``) raises the floor to it, so the lock never claims a Python its pins refuse."""
    version = Version(resolution.target.python_full_version.rstrip("+"))
    specifiers = []
    for text in sorted({pin.requires_python for pin in resolution.pins if pin.requires_python}):
        try:
            specifiers.append(SpecifierSet(text))
        except InvalidSpecifier:
            continue  # the resolver ignored it too
    floor = version.micro
    while floor > 0 and all(
        s.contains(f"{version.major}.{version.minor}.{floor - 1}", prereleases=True) for s in specifiers
    ):
        floor -= 1
    return version.major, version.minor, floor


def _group_marker(groups: Iterable[str]) -> str | None:
    """None when the plain requirements reach the package; else which extras/groups do."""
    chosen = set(groups)
    if DEFAULT_GROUP in chosen or not chosen:
        return None
    parts = []
    for group in sorted(chosen):
        kind, _, value = group.partition(":")
        parts.append(f"{_quote(value)} in {'extras' if kind == 'extra' else 'dependency_groups'}")
    return " or ".join(parts)


def _package_marker(
    found: Sequence[tuple[int, Pin]], identities: Sequence[Mapping[str, str]], total: int
) -> str | None:
    """The marker of a package entry that ``found`` targets (positions) resolved to: none when every
    target has it alike; else, per group marker, the shortest description of those targets among the
    lock's targets (``sys_platform == 'win32'``, ``python_version == '3.10'``), else each target's."""
    group_markers = [_group_marker(pin.groups) for _, pin in found]
    if len(found) == total and len(set(group_markers)) == 1:
        return group_markers[0]
    by_group: dict[str | None, list[int]] = {}
    for (position, _pin), group in zip(found, group_markers, strict=True):
        by_group.setdefault(group, []).append(position)
    alternatives = []
    for group, positions in sorted(by_group.items(), key=lambda item: item[1]):
        env = _targets_marker(set(positions), identities)
        alternatives.append(env if group is None else f"({env}) and ({group})")
    return " or ".join(f"({a})" if len(alternatives) > 1 else a for a in alternatives)


_NARROWING_KEYS = ("sys_platform", "python_version", "platform_machine")
"""The identity keys a marker may name alone, tried in this order (the most readable first)."""


def _targets_marker(chosen: set[int], identities: Sequence[Mapping[str, str]]) -> str:
    """A marker true for exactly the ``chosen`` targets among ``identities`` (the lock's targets; the
    lock's ``environments`` already rule out every other machine): one key's values when they single
    those targets out, else two keys' pairs, else each target's full identity."""
    everyone = range(len(identities))
    for key in _NARROWING_KEYS:
        values = {identities[i][key] for i in chosen}
        if {i for i in everyone if identities[i][key] in values} == chosen:
            return " or ".join(f"{key} == {_quote(v)}" for v in sorted(values))
    for first, second in ((k, m) for n, k in enumerate(_NARROWING_KEYS) for m in _NARROWING_KEYS[n + 1 :]):
        pairs = {(identities[i][first], identities[i][second]) for i in chosen}
        if {i for i in everyone if (identities[i][first], identities[i][second]) in pairs} == chosen:
            return " or ".join(
                f"({first} == {_quote(a)} and {second} == {_quote(b)})" for a, b in sorted(pairs)
            )
    return " or ".join(f"({_identity_marker(identities[i])})" for i in sorted(chosen))


def _merged(pins: Iterable[Pin]) -> Pin:
    """One entry for the targets that resolved to the same version: what any of them depends on, what
    required it and how (a dependency one target's markers select belongs to the entry too)."""
    first, *others = pins
    if not others:
        return first
    every = (first, *others)
    return replace(
        first,
        dependencies=tuple(sorted({d for pin in every for d in pin.dependencies})),
        via=tuple(sorted({v for pin in every for v in pin.via})),
        requested=tuple(sorted({r for pin in every for r in pin.requested})),
    )


def _package(
    pin: Pin,
    marker: str | None,
    lock_dir: Path,
    hash_of: Callable[[DistFile], str],
) -> Package:
    requires_python = None
    if pin.requires_python:
        try:
            requires_python = SpecifierSet(pin.requires_python)
        except InvalidSpecifier:
            requires_python = None
    table: dict[str, Any] = {}
    if pin.via:
        table["via"] = list(pin.via)
    if pin.requested:
        table[VIA_REQUIREMENTS] = list(pin.requested)
    tool: dict[str, Any] = {TOOL_KEY: table} if table else {}
    common: dict[str, Any] = {
        "name": pin.name,
        "version": pin.version,
        "marker": Marker(marker) if marker else None,
        "requires_python": requires_python,
        "dependencies": [{"name": d} for d in pin.dependencies] or None,
        "tool": tool or None,
    }
    if pin.origin is not None:
        if pin.origin.kind != VCS:  # PEP 751: no version for a source tree, it can change
            common = {**common, "version": None}
        return Package(**common, **locked_entry(pin.origin, lock_dir))
    if pin.url is not None:
        file = pin.files[0]
        hashes = {"sha256": hash_of(file)}
        if file.is_local:  # a local archive: by its path relative to the lock
            archive = PackageArchive(path=local_path(file.local_path, lock_dir), hashes=hashes)
        else:
            archive = PackageArchive(url=strip_credentials(file.url), hashes=hashes)
        return Package(**common, archive=archive)
    wheels = [_wheel(f, lock_dir, hash_of) for f in sorted(pin.files, key=lambda f: f.filename) if f.is_wheel]
    sdists = sorted(
        (f for f in pin.files if not f.is_wheel),
        key=lambda f: (not f.filename.endswith(".tar.gz"), f.filename),
    )
    return Package(
        **common,
        index=strip_credentials(pin.index) if pin.index else None,
        wheels=wheels or None,
        sdist=_sdist(sdists[0], lock_dir, hash_of) if sdists else None,
    )


def _location(file: DistFile, lock_dir: Path) -> dict[str, str]:
    if file.is_local:
        path = Path(unquote(urlsplit(file.url).path))
        try:
            relative = path.relative_to(lock_dir.resolve())
            return {"path": relative.as_posix()}
        except ValueError:
            return {"path": path.as_posix()}
    return {"url": strip_credentials(file.url)}


def _wheel(file: DistFile, lock_dir: Path, hash_of: Callable[[DistFile], str]) -> PackageWheel:
    return PackageWheel(
        name=file.filename,
        upload_time=file.upload_time,
        size=file.size,
        hashes={"sha256": hash_of(file)},
        **_location(file, lock_dir),
    )


def _sdist(file: DistFile, lock_dir: Path, hash_of: Callable[[DistFile], str]) -> PackageSdist:
    return PackageSdist(
        name=file.filename,
        upload_time=file.upload_time,
        size=file.size,
        hashes={"sha256": hash_of(file)},
        **_location(file, lock_dir),
    )


def lock_options(indexes: Sequence[str], targets: Sequence[TargetEnvironment]) -> dict[str, Any]:
    """``[tool.envlock.options]``: what the lock was resolved against that no setting records (the
    effective indexes, for sync and export; the targets described, for ``--check``'s messages). The
    resolver options are not repeated here: ``[tool.envlock.settings]`` records those asked for."""
    return {
        "indexes": [strip_credentials(i) for i in indexes],
        "targets": [describe_target(t) for t in targets],
    }


def versions_of(lock: Pylock) -> Mapping[str, tuple[str, ...]]:
    """name -> every version a lock pins for it (one per target group; "direct" for an archive), in
    version order: a multi-target lock may pin two versions of one project."""
    found: dict[str, set[str]] = {}
    for package in lock.packages:
        version = str(package.version) if package.version is not None else "direct"
        found.setdefault(package.name, set()).add(version)
    return {name: tuple(sorted(versions, key=_version_order)) for name, versions in found.items()}


def _version_order(version: str) -> tuple[int, Version | str]:
    try:
        return 0, Version(version)
    except InvalidVersion:
        return 1, version


def pins_of(lock: Pylock) -> Mapping[str, str]:
    """name -> version (or archive URL) of a lock, for messages and tests."""
    return {p.name: str(p.version) if p.version is not None else "direct" for p in lock.packages}
