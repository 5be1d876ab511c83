"""``envlock bundle``: every file a lock selects for one or more targets, downloaded and verified into a
folder under the lock's own file names, so that ``envlock sync --find-links DIR --offline`` installs the
lock where there is no network (an air-gapped machine, a Docker build stage without credentials).

The folder holds those files and nothing else (no index URL, no credentials, no manifest). Each file is
taken from the cache's verified store (``index.fetch``: the one verified download), copied beside its
final name, hashed again while copied, and renamed into place; a file already there with the locked
sha256 is kept, so a bundle is made again (or for one more target) by running the command again. A
project folder or git source is no file: it is not bundled, and the result names it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from envlock import validate
from envlock.env.interpreter import TargetEnvironment
from envlock.errors import HashMismatchError, InputError, LockFileError
from envlock.index import fetch
from envlock.index.cache import Cache
from envlock.index.fetch import ArtifactClient, FetchOptions
from envlock.lock.selection import SelectionOptions, select
from envlock.models.artifacts import Artifact, ArtifactKind
from envlock.sync.lock_input import parse_lock, read_lock_bytes

CHUNK = 1 << 20


@dataclass(frozen=True)
class BundleRequest:
    """Which lock, for which targets, into which folder."""

    lock_path: Path
    output: Path
    targets: tuple[TargetEnvironment, ...]
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] | None = None
    """None: the lock's ``default-groups``."""
    offline: bool = False
    """Take the files from the cache only."""


@dataclass(frozen=True)
class BundleResult:
    """What the folder now holds for the request."""

    files: tuple[str, ...]
    """The file names bundled (sorted)."""
    written: int
    """How many of them were copied now (the others were there already, verified)."""
    sources: tuple[str, ...]
    """Project folders and git sources the targets install, which no file can carry: ``name (where)``."""
    sdists: tuple[str, ...]
    """Bundled sdists, which the installing machine must build (their build requirements come from an
    index, or that machine's cache)."""


def bundle(request: BundleRequest, cache: Cache, http: Callable[[], ArtifactClient]) -> BundleResult:
    """Select the lock for every target, fetch and verify the union of their files, place them in the
    folder. Raises EnvlockError subclasses; a failure leaves no partial file in the folder."""
    if request.output.exists() and not request.output.is_dir():
        raise InputError(f"-o {request.output}: exists and is not a folder")
    lock = parse_lock(request.lock_path, read_lock_bytes(request.lock_path), cache, http)
    options = SelectionOptions(extras=request.extras, groups=request.groups)
    by_name: dict[str, Artifact] = {}
    sources: dict[str, None] = {}
    sdists: dict[str, None] = {}
    for target in request.targets:
        for package in select(lock, target, options, lock_path=request.lock_path).packages:
            artifact = package.artifact
            if artifact.kind is ArtifactKind.SOURCE:
                sources[f"{package.name} ({artifact.source})"] = None
                continue
            if artifact.kind is ArtifactKind.SDIST:
                sdists[f"{package.name} {package.version}"] = None
            other = by_name.setdefault(artifact.filename, artifact)
            if other.sha256 != artifact.sha256:
                raise LockFileError(
                    f"{request.lock_path}: two files named {artifact.filename} with different sha256 "
                    "(one folder cannot hold both)"
                )
    artifacts = sorted(by_name.values(), key=lambda a: a.filename)
    missing = len(fetch.cached(artifacts, cache)) < len(artifacts)
    client = http() if missing and not request.offline else None
    paths = fetch.fetch_all(artifacts, cache, client, FetchOptions(offline=request.offline))
    request.output.mkdir(parents=True, exist_ok=True)
    written = sum(place(paths[a.sha256], request.output, a) for a in artifacts)
    return BundleResult(tuple(by_name), written, tuple(sources), tuple(sdists))


def place(source: Path, folder: Path, artifact: Artifact) -> bool:
    """``source`` (the verified store's copy of ``artifact``) as ``folder/<its file name>``: kept when a
    regular file with the locked sha256 is there already (False), else copied beside it, checked against
    the sha256 while copied, and renamed over it (True)."""
    final = folder / validate.file_name(artifact.filename, "artifact file name")
    if _sha256_of(final) == artifact.sha256:
        return False
    descriptor, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        digest = hashlib.sha256()
        with os.fdopen(descriptor, "wb") as out, validate.open_regular(source) as data:
            for chunk in iter(lambda: data.read(CHUNK), b""):
                out.write(chunk)
                digest.update(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != artifact.sha256:
            raise HashMismatchError(
                f"hash mismatch for {artifact.filename} in the cache ({source}): expected sha256 "
                f"{artifact.sha256}, got {digest.hexdigest()}",
                hint="the cache was changed by hand; delete it and bundle again",
            )
        os.chmod(tmp, 0o644)  # noqa: PTH101 - a bundle is copied to other machines and users
        try:
            os.replace(tmp, final)
        except IsADirectoryError:
            raise InputError(f"{final}: is a folder, not the lock's file") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def _sha256_of(path: Path) -> str | None:
    """The sha256 of ``path`` when it is a regular file (None: missing, unreadable, or not one)."""
    try:
        with validate.open_regular(path) as handle:
            digest = hashlib.sha256()
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
    except (OSError, validate.UnsafeInput):
        return None
    return digest.hexdigest()
