"""Fetches the artifacts a plan needs into the cache's content-addressed store, in parallel, verifying
sha256 and size while streaming; only verified bytes ever become visible in the store.

Runs entirely before the venv is touched, so a network or hash failure leaves the venv unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from envlock.errors import EnvlockError, HashMismatchError, NetworkError
from envlock.index.cache import Cache
from envlock.index.http import MAX_DOWNLOAD_ENV, human_size, max_download_size
from envlock.sync.models import Artifact

CHUNK = 1 << 16


class Body(Protocol):
    """A streamed response body (urllib3's response satisfies it)."""

    def read(self, amt: int | None = None) -> bytes: ...


class ArtifactClient(Protocol):
    """What fetch needs from an HTTP client (``envlock.index.http.HttpClient``; tests pass fakes)."""

    def stream(self, url: str) -> AbstractContextManager[Body]: ...


ProgressCallback = Callable[[Artifact, int], None]
"""Called with (artifact, bytes received so far) while downloading; must be thread-safe."""


@dataclass(frozen=True)
class FetchOptions:
    """How to fetch."""

    offline: bool = False
    """Use only the cache; a missing artifact is an error."""
    max_workers: int = 8
    attempts: int = 3
    """Tries per artifact for failures while reading a body (the client retries the request itself)."""


def cached(artifacts: Sequence[Artifact], cache: Cache) -> dict[str, Path]:
    """sha256 -> verified path of the artifacts already in the store."""
    found: dict[str, Path] = {}
    for artifact in artifacts:
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
    unique = {artifact.sha256: artifact for artifact in artifacts}
    result = cached(list(unique.values()), cache)
    todo = sorted((a for sha, a in unique.items() if sha not in result), key=lambda a: a.filename)
    if not todo:
        return result
    if options.offline:
        missing = [a for a in todo if a.path is None]
        if missing:
            names = ", ".join(a.filename for a in missing)
            raise NetworkError(
                f"offline: not in the cache: {names}", hint="sync once without --offline to fill the cache"
            )
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
    if artifact.path is not None:
        return _store_local(artifact, cache)
    if artifact.url is None:  # pragma: no cover - selection guarantees one of them
        raise NetworkError(f"{artifact.filename}: the lock gives neither url nor path")
    if client is None or options.offline:
        raise NetworkError(
            f"offline: {artifact.filename} is not in the cache",
            hint="sync once without --offline to fill the cache",
        )
    last: EnvlockError | None = None
    for _attempt in range(max(1, options.attempts)):
        try:
            return _download(artifact, cache, client, progress)
        except _TransientBodyError as error:
            last = NetworkError(f"cannot fetch {artifact.source}: {error} (after {_attempt + 1} attempts)")
        except HashMismatchError as error:
            last = error  # wrong bytes may come from a flaky proxy: try again, then report
    assert last is not None
    raise last


class _TransientBodyError(Exception):
    """The body broke off (reset, truncated): worth another try."""


def _download(
    artifact: Artifact, cache: Cache, client: ArtifactClient, progress: ProgressCallback | None
) -> Path:
    assert artifact.url is not None
    limit = _limit(artifact)
    try:
        with (
            client.stream(artifact.url) as body,
            cache.artifact_writer(artifact.sha256, artifact.filename) as (
                handle,
                digest,
            ),
        ):
            received = 0
            for chunk in _chunks(body):
                _check_limit(artifact, received + len(chunk), limit)
                handle.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                if progress is not None:
                    progress(artifact, received)
            _verify(artifact, digest.hexdigest(), received)
    except (NetworkError, HashMismatchError):
        raise
    except Exception as error:
        if _is_transient(error):
            raise _TransientBodyError(_reason(error)) from None
        raise
    path = cache.get_artifact(artifact.sha256, artifact.filename)
    assert path is not None
    return path


def _chunks(body: Body) -> Iterator[bytes]:
    while True:
        chunk = body.read(CHUNK)
        if not chunk:
            return
        yield chunk


def _store_local(artifact: Artifact, cache: Cache) -> Path:
    assert artifact.path is not None
    try:
        with (
            artifact.path.open("rb") as source,
            cache.artifact_writer(artifact.sha256, artifact.filename) as (
                handle,
                digest,
            ),
        ):
            received = 0
            limit = _limit(artifact)
            for chunk in iter(lambda: source.read(CHUNK), b""):
                _check_limit(artifact, received + len(chunk), limit)
                handle.write(chunk)
                digest.update(chunk)
                received += len(chunk)
            _verify(artifact, digest.hexdigest(), received)
    except OSError as error:
        raise NetworkError(f"cannot read {artifact.path}: {error.strerror or error}") from None
    path = cache.get_artifact(artifact.sha256, artifact.filename)
    assert path is not None
    return path


def _limit(artifact: Artifact) -> int:
    """Bytes an artifact may have: the size the lock gives, else the download cap."""
    return artifact.size if artifact.size is not None else max_download_size()


def _check_limit(artifact: Artifact, received: int, limit: int) -> None:
    """Stop a transfer as soon as it passes its limit (raised inside the cache writer, so the partial
    file is discarded): a server that sends more than promised, or never stops, costs a bounded amount."""
    if received <= limit:
        return
    if artifact.size is not None:
        raise HashMismatchError(
            f"size mismatch for {artifact.filename}: expected {artifact.size} bytes, got more"
            f" (from {artifact.source})",
            hint="the file changed since the lock was written; if expected, recompile: envlock compile",
        )
    raise NetworkError(
        f"cannot fetch {artifact.source}: {artifact.filename} is larger than the {human_size(limit)}"
        " download limit for files of unknown size",
        hint=f"if this is expected, raise {MAX_DOWNLOAD_ENV}",
    )


def _verify(artifact: Artifact, got: str, size: int) -> None:
    """Raise inside the cache writer so the partial file is discarded."""
    if got != artifact.sha256:
        raise HashMismatchError(
            f"hash mismatch for {artifact.filename}: expected sha256 {artifact.sha256}, got {got}"
            f" ({size} bytes from {artifact.source})",
            hint="the file changed since the lock was written; if expected, recompile: envlock compile",
        )
    if artifact.size is not None and size != artifact.size:
        raise HashMismatchError(
            f"size mismatch for {artifact.filename}: expected {artifact.size} bytes, got {size}"
            f" (from {artifact.source})"
        )


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, OSError):
        return True
    module = type(error).__module__ or ""
    return module.startswith(("urllib3", "http.client"))


def _reason(error: BaseException) -> str:
    return str(getattr(error, "reason", None) or error) or type(error).__name__
