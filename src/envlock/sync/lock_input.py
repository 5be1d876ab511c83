"""The lock a sync reads: its bytes (a regular file, size-capped), parsed as a PEP 751 lock, or as a
pip-tools hashed requirements file whose pins are looked up on its index."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from envlock import validate
from envlock.errors import LockFileError

if TYPE_CHECKING:
    from packaging.pylock import Pylock

    from envlock.index.cache import Cache
    from envlock.index.fetch import ArtifactClient


def read_lock_bytes(path: Path) -> bytes:
    try:
        return validate.read_regular(path, validate.MAX_LOCK_BYTES)
    except FileNotFoundError:
        raise LockFileError(f"{path}: lock file not found", hint="run: envlock compile") from None
    except validate.UnsafeInput as error:
        raise LockFileError(f"{path}: {error}") from None
    except OSError as error:
        raise LockFileError(f"{path}: cannot read lock file: {error.strerror or error}") from None


def parse_lock(path: Path, data: bytes, cache: Cache, http: Callable[[], ArtifactClient]) -> Pylock:
    """``data`` (read from ``path``) as a lock; a hashed requirements file needs the index (``http``)."""
    # lazy: packaging.pylock and its markers cost ~35 ms; a lock read before is answered without them
    # (sync/selection_cache.py)
    from envlock.lock.lockfile import loads_lock

    if is_requirements_file(path, data):
        return _requirements_lock(path, data, cache, http)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LockFileError(f"{path}: cannot read lock file: {error}") from None
    return loads_lock(text, source=str(path))


def _requirements_lock(path: Path, data: bytes, cache: Cache, http: Callable[[], ArtifactClient]) -> Pylock:
    """A hashed requirements file as a lock: its pins looked up on its index (or ENVLOCK_INDEX_URL)."""
    # lazy: a sync of a pylock.toml loads neither the index client nor the requirements reader
    from envlock.index.client import DEFAULT_INDEX, IndexClient, IndexSettings
    from envlock.lock import requirements_lock

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LockFileError(f"{path}: cannot read: {error}") from None
    parsed = requirements_lock.parse(path, text)
    primary = parsed.index_url or os.environ.get("ENVLOCK_INDEX_URL") or DEFAULT_INDEX
    client = IndexClient(
        http(),  # type: ignore[arg-type]
        cache,
        IndexSettings(
            indexes=tuple(dict.fromkeys((primary, *parsed.extra_index_urls))), find_links=parsed.find_links
        ),
    )
    return requirements_lock.to_pylock(
        path, parsed, lambda _parsed, name, version: client.files(name, version)
    )


def is_requirements_file(path: Path, data: bytes) -> bool:
    """A pip-tools hashed requirements file rather than a PEP 751 lock."""
    if path.suffix == ".toml":
        return False
    if path.suffix in (".txt", ".in") or path.name.startswith("requirements"):
        return True
    return b"--hash" in data and b"lock-version" not in data


def recorded_indexes(lock: Pylock) -> tuple[str, ...]:
    """The http(s) indexes the lock says it was compiled against (``[tool.envlock.options] indexes``),
    where a sync's builds take their build requirements; anything else recorded there is ignored."""
    from envlock.lock.lockfile import lock_metadata  # lazy: as parse_lock (only a build asks for them)

    found = lock_metadata(lock).options.get("indexes")
    urls: list[str] = []
    for url in found if isinstance(found, list) else ():
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            continue
        try:
            validate.split_url(url)
        except validate.UnsafeInput:
            continue
        urls.append(url)
    return tuple(urls)
