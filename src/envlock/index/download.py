"""The one verified download: bytes from a URL (or a local file) streamed into the cache's verified
artifact store, checked against their sha256 and size while they arrive, capped, and retried when a body
breaks off or arrives wrong. Compile (``index.client``) and sync (``index.fetch``) both download here.

Every check raises inside the cache writer, so a refused or broken transfer leaves nothing in the store.
"""

from __future__ import annotations

import enum
import hashlib
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from envlock import validate
from envlock.errors import EnvlockError, HashMismatchError, InputError, NetworkError
from envlock.index.cache import Cache
from envlock.index.limits import MAX_DOWNLOAD_ENV, human_size, max_download_size
from envlock.validate import redact

if TYPE_CHECKING:
    from envlock.index.pages import DistFile

CHUNK = 1 << 16
ATTEMPTS = 3
"""Tries per download for a body that breaks off or arrives wrong (the HTTP client retries the request
itself before any byte arrived)."""

_LOCK_HINT = "the file changed since the lock was written; if expected, recompile: envlock compile"


class Body(Protocol):
    """A streamed response body (``deadline.GuardedResponse`` and urllib3's response satisfy it)."""

    def read(self, amt: int | None = None) -> bytes: ...


BodyOpener = Callable[[], AbstractContextManager[Body]]
"""Opens the body afresh for each attempt (``lambda: client.stream(url)``)."""

Progress = Callable[[int], None]
"""Called with the bytes received so far; must be thread-safe when downloads run in parallel."""


class ListedBy(enum.Enum):
    """Whose promise the bytes are checked against: it decides the wording of a refusal (compile
    checks what an index page lists, sync what the lock records)."""

    LOCK = "lock"
    INDEX = "index"


@dataclass(frozen=True)
class Expected:
    """What a download must turn out to be."""

    filename: str
    """The name it is stored under (one plain file name, validated where it entered)."""
    source: str
    """A printable location: the URL without credentials, or the local path."""
    sha256: str | None
    """The promised sha256; None (an index that lists none) stores it under the hash of what arrived."""
    size: int | None = None
    """The promised byte size: the transfer stops as soon as it passes it, and a shorter one is refused.
    Without it the transfer is capped at ``ENVLOCK_MAX_DOWNLOAD_SIZE``."""
    listed_by: ListedBy = ListedBy.LOCK


def expected_from_index(file: DistFile) -> Expected:
    """What a download of ``file`` must be: the hash and size its index page lists."""
    return Expected(file.filename, redact(file.url), file.sha256, file.size, listed_by=ListedBy.INDEX)


def download(
    open_body: BodyOpener,
    expected: Expected,
    cache: Cache,
    *,
    attempts: int = ATTEMPTS,
    progress: Progress | None = None,
) -> Path:
    """The verified path of ``expected`` in the store, streamed from the body ``open_body`` opens.
    A body that breaks off (reset, truncated) or arrives with the wrong hash or size is fetched again,
    up to ``attempts`` times (wrong bytes may come from a flaky proxy); errors that another try cannot
    fix (an HTTP error the client already retried, a deadline, the download cap) are raised at once."""
    last: EnvlockError | None = None
    for attempt in range(1, max(1, attempts) + 1):
        try:
            with open_body() as body:
                return store(_chunks(body), expected, cache, progress)
        except HashMismatchError as error:
            last = error
        except NetworkError:
            raise
        except Exception as error:
            if not _is_transient(error):
                raise
            reason = _reason(error)
            last = NetworkError(f"cannot fetch {expected.source}: {reason} (after {attempt} attempts)")
    assert last is not None
    raise last


def copy_local(path: Path, expected: Expected, cache: Cache) -> Path:
    """A local file (a lock's ``path``, a ``--find-links`` folder's file) into the store, verified like a
    download; not retried. Only a regular file is read (a FIFO or device would block or never end)."""
    try:
        with validate.open_regular(path) as source:  # a FIFO would block, /dev/zero never end
            return store(iter(lambda: source.read(CHUNK), b""), expected, cache)
    except validate.UnsafeInput as error:
        raise InputError(f"cannot read {path}: it {error}") from None
    except OSError as error:
        raise NetworkError(f"cannot read {path}: {error.strerror or error}") from None


def store(
    chunks: Iterable[bytes], expected: Expected, cache: Cache, progress: Progress | None = None
) -> Path:
    """One attempt: ``chunks`` into the store, verified (also for bytes already in memory, such as a
    range response that turned out to be the whole file)."""
    chunks = _bounded(chunks, expected, progress)
    if expected.sha256 is None:
        return _store_unhashed(chunks, expected, cache)
    with cache.artifact_writer(expected.sha256, expected.filename) as (handle, digest):
        received = 0
        for chunk in chunks:
            handle.write(chunk)
            digest.update(chunk)
            received += len(chunk)
        _verify(expected, digest.hexdigest(), received)
    return cache.artifact_path(expected.sha256, expected.filename)


def _store_unhashed(chunks: Iterator[bytes], expected: Expected, cache: Cache) -> Path:
    """Without a promised hash the store's entry name is known only at the end: the bytes go to a
    temporary file first, then into the store under the sha256 of what arrived."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / expected.filename
        digest = hashlib.sha256()
        received = 0
        with open(target, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                digest.update(chunk)
                received += len(chunk)
        _verify(expected, digest.hexdigest(), received)
        sha256 = digest.hexdigest()
        with (
            cache.artifact_writer(sha256, expected.filename) as (out, out_digest),
            open(target, "rb") as source,
        ):
            for data in iter(lambda: source.read(1 << 20), b""):  # not whole: it may be GBs
                out.write(data)
                out_digest.update(data)
        return cache.artifact_path(sha256, expected.filename)


def _chunks(body: Body) -> Iterator[bytes]:
    while chunk := body.read(CHUNK):
        yield chunk


def _bounded(chunks: Iterable[bytes], expected: Expected, progress: Progress | None) -> Iterator[bytes]:
    """``chunks``, stopped as soon as they pass the promised size (else the download cap): a server that
    sends more than promised, or never stops, costs a bounded amount."""
    limit = expected.size if expected.size is not None else max_download_size()
    received = 0
    for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise _too_large(expected, limit)
        if progress is not None:
            progress(received)
        yield chunk


def _too_large(expected: Expected, limit: int) -> EnvlockError:
    if expected.size is None:
        return NetworkError(
            f"cannot fetch {expected.source}: {expected.filename} is larger than the {human_size(limit)}"
            " download limit for files of unknown size",
            hint=f"if this is expected, raise {MAX_DOWNLOAD_ENV}",
        )
    return _refusal(
        expected,
        lock=f"size mismatch for {expected.filename}: expected {expected.size} bytes, got more"
        f" (from {expected.source})",
        index=f"{expected.filename} downloaded from {expected.source} is larger than the"
        f" {expected.size} bytes the index lists",
        hint=_LOCK_HINT,
    )


def _verify(expected: Expected, got: str, size: int) -> None:
    """Raise (inside the cache writer, so the partial file is discarded) unless the bytes are the ones
    promised."""
    name, source, hint = expected.filename, expected.source, None
    if expected.sha256 is not None and got != expected.sha256:
        lock = (
            f"hash mismatch for {name}: expected sha256 {expected.sha256}, got {got}"
            f" ({size} bytes from {source})"
        )
        index = (
            f"{name} downloaded from {source} does not match the sha256 the index lists"
            f" (expected {expected.sha256}, got {got})"
        )
        hint = _LOCK_HINT
    elif expected.size is not None and size != expected.size:
        lock = f"size mismatch for {name}: expected {expected.size} bytes, got {size} (from {source})"
        index = (
            f"{name} downloaded from {source} is {size} bytes, not the {expected.size} bytes the index lists"
        )
    else:
        return
    raise _refusal(expected, lock=lock, index=index, hint=hint)


def _refusal(expected: Expected, *, lock: str, index: str, hint: str | None = None) -> HashMismatchError:
    """Bytes that are not the ones promised, in the words of whoever promised them (the hint, about
    recompiling, is for a lock only)."""
    if expected.listed_by is ListedBy.INDEX:
        return HashMismatchError(index)
    return HashMismatchError(lock, hint=hint)


def _is_transient(error: BaseException) -> bool:
    """A failure of the connection while the body was read (an OSError, or one of urllib3's or
    http.client's own), which another try may not meet."""
    if isinstance(error, OSError):
        return True
    module = type(error).__module__ or ""
    return module.startswith(("urllib3", "http.client"))


def _reason(error: BaseException) -> str:
    return str(getattr(error, "reason", None) or error) or type(error).__name__
