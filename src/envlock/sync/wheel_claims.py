"""Checks a wheel's own METADATA against what the lock claims before the wheel is installed.

The resolver chose versions from metadata it was told about (an index's PEP 658 file, a lock from a
pull request); only the wheel's bytes are verified by hash. So before anything lands in the venv, each
unpacked wheel must be the project and version its lock entry names, accept the target's Python, and
have every dependency it declares (for the target, without extras) satisfied by the selection. A
mismatch means the index (or the lock) lied about the file: sync refuses, naming the file. A project
folder or git entry has no version in the lock (PEP 751): a requirement on it is checked against the
version its build reports (``selected_versions``), and a mismatch there is the source tree's, not the
index's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from envlock.env.site_packages import metadata_fields
from envlock.errors import HashMismatchError
from envlock.memo import Memo
from envlock.memo import key as memo_key
from envlock.models.artifacts import ArtifactKind, SelectedPackage
from envlock.runtime import sha256_text
from envlock.sync.plan import SyncPlan
from envlock.sync.wheel_store import FILES, UnpackedWheel

CLAIMS_AREA = "claims"
"""The memo area of the passed checks."""


@dataclass(frozen=True)
class WheelClaims:
    """What a wheel says about itself in its METADATA."""

    name: str
    version: str
    requires_dist: tuple[str, ...]
    requires_python: str | None


class ClaimMismatchError(HashMismatchError):
    """A wheel's METADATA disagrees with its lock entry or its index's metadata (exit 1)."""


def read_claims(wheel: UnpackedWheel) -> WheelClaims:
    """The METADATA of an unpacked wheel (the stored copy: its hash was checked against RECORD)."""
    path = Path(wheel.root, FILES, wheel.root_scheme, wheel.dist_info_dir, "METADATA")
    try:
        headers = metadata_fields(path.read_bytes().decode("utf-8", errors="replace"))
    except OSError as error:
        raise ClaimMismatchError(f"{wheel.wheel}: cannot read its METADATA: {error.strerror}") from None
    first = {key: values[0] for key, values in headers.items()}
    return WheelClaims(
        name=first.get("name", ""),
        version=first.get("version", ""),
        requires_dist=tuple(headers.get("requires-dist", ())),
        requires_python=first.get("requires-python"),
    )


@dataclass(frozen=True)
class SelectedVersions:
    """The version of every package the venv will hold after a sync."""

    versions: Mapping[str, str]
    """Normalized name -> version: the lock's, or for a source tree the one its build reports."""
    built: Mapping[str, str]
    """The source trees among them (name -> where from): the lock has no version for them."""


def selected_versions(plan: SyncPlan, wheels: Mapping[str, UnpackedWheel]) -> SelectedVersions:
    """What the venv will hold; a source tree's version is its new wheel's METADATA when the plan
    installs it, else the installed copy's (kept: built from the same tree)."""
    versions: dict[str, str] = {}
    built: dict[str, str] = {}
    for item in plan.items:
        package = item.wanted
        if package is None:
            continue
        versions[package.name] = package.version
        if package.version:
            continue
        built[package.name] = package.artifact.source
        wheel = wheels.get(package.artifact.sha256)
        if wheel is not None:
            versions[package.name] = read_claims(wheel).version
        elif item.old_version is not None:
            versions[package.name] = item.old_version
    return SelectedVersions(versions, built)


def verify(
    packages: Sequence[SelectedPackage],
    wheels: Mapping[str, UnpackedWheel],
    selected: SelectedVersions,
    environment: Mapping[str, str],
    *,
    verdicts: Memo | None = None,
) -> None:
    """Raise ClaimMismatchError for the first package (by name) whose wheel is not what it claims.

    ``wheels``: locked artifact sha256 -> unpacked wheel; ``selected``: every package the venv will hold
    (``selected_versions``); ``environment``: the target's marker values. ``verdicts``: the memo (area
    ``CLAIMS_AREA``) where each wheel's passed check is remembered under a key of all of that (a wheel's
    METADATA is fixed by its sha256), so the same check passes again without reading METADATA or importing
    packaging's requirements and markers (~15 ms); a wheel built by sync (from an sdist or a source) is never
    remembered."""
    remembered = _verdicts(selected.versions, environment) if verdicts is not None else None
    for package in sorted(packages, key=lambda p: p.name):
        wheel = wheels.get(package.artifact.sha256)
        if wheel is None:
            continue
        key = _verdict_key(remembered, package)

        def check(package: SelectedPackage = package, wheel: UnpackedWheel = wheel) -> bool:
            _verify_one(package, read_claims(wheel), selected, environment)
            return True

        if verdicts is None or key is None:
            check()
        else:
            verdicts.through(key, check, lambda _passed: PASSED, _passed)


PASSED = b"passed"
"""The body of a remembered passed check."""


def _passed(body: bytes) -> bool:
    if body != PASSED:
        raise ValueError("not a passed check")
    return True


def _verdicts(selected: Mapping[str, str], environment: Mapping[str, str]) -> str:
    """The part of a verdict's key for this selection and target (everything a check reads besides the
    wheel)."""
    # lazy: packaging's own version only (its __init__ defines constants and imports nothing)
    import packaging

    return sha256_text(
        repr([1, packaging.__version__, sorted(selected.items()), sorted(environment.items())])
    )


def _verdict_key(remembered: str | None, package: SelectedPackage) -> str | None:
    """The key of ``package``'s wheel's verdict; None when it was built here (not fixed by a hash)."""
    if remembered is None or package.artifact.kind is not ArtifactKind.WHEEL:
        return None
    artifact = package.artifact
    return memo_key(
        CLAIMS_AREA, remembered, package.name, package.version, artifact.sha256, artifact.filename
    )


def _verify_one(
    package: SelectedPackage, claims: WheelClaims, selected: SelectedVersions, environment: Mapping[str, str]
) -> None:
    # lazy: packaging's specifiers and markers only when a check is not remembered (see verify)
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.utils import canonicalize_name

    where = f"{package.artifact.filename} (from {package.artifact.source})"
    if canonicalize_name(claims.name) != canonicalize_name(package.name):
        raise ClaimMismatchError(
            f"{where} is a build of {claims.name or '?'!r}, not of {package.name!r} as its lock entry says",
            hint="the lock or the index is not to be trusted; review the lock entry before syncing",
        )
    if package.version and not _same_version(claims.version, package.version):
        raise ClaimMismatchError(
            f"{where} is version {claims.version or '?'} of {package.name}, not {package.version} "
            "as its lock entry says",
            hint="the lock or the index is not to be trusted; review the lock entry before syncing",
        )
    python = environment.get("python_full_version", "")
    if claims.requires_python and python:
        try:
            accepted = SpecifierSet(claims.requires_python).contains(python, prereleases=True)
        except InvalidSpecifier:
            accepted = True  # a malformed field restricts nothing we can check
        if not accepted:
            raise ClaimMismatchError(
                f"{where} requires Python {claims.requires_python}, the target has {python}; the "
                "metadata the lock was resolved from did not say so",
                hint="recompile the lock (envlock compile --upgrade-package "
                f"{package.name}) and review the index",
            )
    for text in claims.requires_dist:
        problem = _unsatisfied(text, selected, environment)
        if problem and problem.source is not None:
            raise ClaimMismatchError(
                f"{where} requires {problem.text}: its version changed since the lock was compiled",
                hint=f"make {problem.source} build a version that satisfies {package.name}'s requirement, "
                "or run: envlock compile",
            )
        if problem and package.artifact.origin is not None:
            raise ClaimMismatchError(
                f"{package.name} ({package.artifact.source}) now requires {problem.text}: its dependencies "
                "changed since the lock was compiled",
                hint="run: envlock compile",
            )
        if problem:
            raise ClaimMismatchError(
                f"{where} requires {problem.text}; the metadata the lock was resolved from (the index's "
                "metadata file) did not declare it",
                hint="the index served metadata that disagrees with the wheel; recompile the lock "
                "and report the index",
            )


def _same_version(claimed: str, locked: str) -> bool:
    from packaging.version import InvalidVersion, Version  # lazy: see _verify_one

    try:
        return Version(claimed) == Version(locked)
    except InvalidVersion:
        return claimed == locked


@dataclass(frozen=True)
class _Unmet:
    """A Requires-Dist the selection does not satisfy."""

    text: str
    """The requirement and what the venv would have instead."""
    source: str | None = None
    """Where the unmet package is built from, when it is a source tree (its version is the build's)."""


def _unsatisfied(text: str, selected: SelectedVersions, environment: Mapping[str, str]) -> _Unmet | None:
    """``text`` (a Requires-Dist) when it applies to the target without extras and the selection
    does not satisfy it; else None."""
    # lazy: see _verify_one
    from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion

    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return None  # installers ignore what they cannot parse; so does the resolver
    if requirement.marker is not None:
        try:
            if not requirement.marker.evaluate({**environment, "extra": ""}):
                return None
        except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
            return None
    name = canonicalize_name(requirement.name)
    version = selected.versions.get(name)
    if version is None:
        return _Unmet(f"{text} (not in the lock)")
    if requirement.url:
        return None  # a direct reference: what satisfies it is decided by the lock's own entry
    try:
        if requirement.specifier.contains(version, prereleases=True):
            return None
    except InvalidVersion:
        return None
    source = selected.built.get(name)
    if source is not None:
        return _Unmet(f"{text} ({source} builds {requirement.name} {version or '?'})", source)
    return _Unmet(f"{text} (the lock has {version})")
