"""Fetches the artifacts a plan needs into the cache's content-addressed store, in parallel, each through
the one verified download (``index.download``); only verified bytes ever become visible in the store.

Runs entirely before the venv is touched, so a network or hash failure leaves the venv unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from envlock import validate
from envlock.errors import HashMismatchError, NetworkError
from envlock.index import download
from envlock.index.cache import Cache
from envlock.index.download import Body, Expected
from envlock.models.artifacts import Artifact

if TYPE_CHECKING:
    from concurrent.futures import Future


class ArtifactClient(Protocol):
    """What fetch needs from an HTTP client (``envlock.index.http.HttpClient``; tests pass fakes)."""

    def stream(self, url: str) -> AbstractContextManager[Body]: ...


ProgressCallback = Callable[[Artifact, int], None]
"""Called with (artifact, bytes received so far) while downloading; must be thread-safe."""


@dataclass(frozen=True)
class FetchOptions:
    """How to fetch."""

    offline: bool = False
    """Use only the cache (and ``find_links``); a missing artifact is an error."""
    find_links: tuple[Path, ...] = ()
    """Local folders of artifacts (``envlock bundle``'s), looked in before any download: a file of the
    artifact's name is copied into the store, verified like a download (``find_local``)."""
    max_workers: int = 8
    attempts: int = download.ATTEMPTS
    """Tries per artifact for failures while reading a body (the client retries the request itself)."""


def cached(artifacts: Sequence[Artifact], cache: Cache) -> dict[str, Path]:
    """sha256 -> verified path of the artifacts already in the store."""
    found: dict[str, Path] = {}
    for artifact in artifacts:
        if artifact.origin is not None:  # built by sync, never fetched
            continue
        path = cache.get_artifact(artifact.sha256, artifact.filename)
        if path is not None:
            found[artifact.sha256] = path
    return found


def fetch_all(
    artifacts: Sequence[Artifact],
    cache: Cache,
    client: ArtifactClient | None,
    options: FetchOptions = FetchOptions(),
    progress: ProgressCallback | None = None,
) -> dict[str, Path]:
    """Every artifact's verified path in the store (sha256 -> path). ``client`` may be None when all
    artifacts are cached or local. The first failure (sorted by file name) is raised after the other
    transfers were cancelled or finished; nothing unverified is left in the store."""
    unique = {artifact.sha256: artifact for artifact in artifacts if artifact.origin is None}
    result = cached(list(unique.values()), cache)
    todo = sorted((a for sha, a in unique.items() if sha not in result), key=lambda a: a.filename)
    if not todo:
        return result
    if options.offline:
        missing = [a for a in todo if a.path is None and find_local(a, options.find_links) is None]
        if missing:
            names = ", ".join(a.filename for a in missing)
            if options.find_links:
                folders = ", ".join(str(folder) for folder in options.find_links)
                raise NetworkError(
                    f"offline: not in the cache nor in --find-links {folders}: {names}",
                    hint="bundle them again: envlock bundle -o DIR (with --target for this machine)",
                )
            raise NetworkError(
                f"offline: not in the cache: {names}", hint="sync once without --offline to fill the cache"
            )
    # lazy: a sync served from the cache downloads nothing (concurrent.futures loads logging)
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max_workers=max(1, min(options.max_workers, len(todo)))) as pool:
        futures: dict[Future[Path], Artifact] = {
            pool.submit(fetch_one, artifact, cache, client, options, progress): artifact for artifact in todo
        }
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in done if f.exception() is not None]
        if failed:
            for future in pending:
                future.cancel()
            wait(pending)
            failed = [f for f in futures if f.done() and not f.cancelled() and f.exception() is not None]
            first = min(failed, key=lambda f: futures[f].filename)
            error = first.exception()
            assert error is not None
            raise error
    for future, artifact in futures.items():
        result[artifact.sha256] = future.result()
    return result


def find_local(artifact: Artifact, folders: Sequence[Path]) -> Path | None:
    """The first of ``folders`` holding a file named as ``artifact`` (a name validated where the lock was
    read, checked again here before it is joined): a candidate only, its bytes are verified when copied."""
    if not folders or artifact.origin is not None:
        return None
    try:
        name = validate.file_name(artifact.filename, "artifact file name")
    except validate.UnsafeInput:
        return None
    for folder in folders:
        candidate = folder / name
        if candidate.exists():
            return candidate
    return None


def fetch_one(
    artifact: Artifact,
    cache: Cache,
    client: ArtifactClient | None,
    options: FetchOptions = FetchOptions(),
    progress: ProgressCallback | None = None,
) -> Path:
    """One artifact into the store (from its local path or URL), verified."""
    existing = cache.get_artifact(artifact.sha256, artifact.filename)
    if existing is not None:
        return existing
    expected = Expected(artifact.filename, artifact.source, artifact.sha256, artifact.size)
    local = find_local(artifact, options.find_links)
    # A lock's local file where it is, else the bundle's copy (a bundle carries those files too).
    if artifact.path is not None and (local is None or artifact.path.exists()):
        return download.copy_local(artifact.path, expected, cache)
    if local is not None:
        try:
            return download.copy_local(local, replace(expected, source=str(local)), cache)
        except HashMismatchError as error:  # the lock is right; the folder's file is not its file
            raise HashMismatchError(
                error.message, hint=f"bundle it again: envlock bundle -o {local.parent}"
            ) from None
    url = artifact.url
    if url is None:  # pragma: no cover - selection guarantees one of them
        raise NetworkError(f"{artifact.filename}: the lock gives neither url nor path")
    if client is None or options.offline:
        raise NetworkError(
            f"offline: {artifact.filename} is not in the cache",
            hint="sync once without --offline to fill the cache",
        )
    return download.download(
        lambda: client.stream(url),
        expected,
        cache,
        attempts=options.attempts,
        progress=None if progress is None else partial(progress, artifact),
    )
