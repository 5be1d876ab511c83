"""Reading a distribution file's core metadata, the cheapest way there is: the index's PEP 658/714
metadata file (hash-checked), a remote wheel's METADATA read with HTTP range requests, the whole wheel,
or the sdist's build; then parsed, leniently, into ``CoreMetadata``.

Imported by the index client only when a metadata is not in its cache yet (zipfile and
packaging.metadata are no cost of a warm compile).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.metadata import parse_email
from packaging.utils import canonicalize_name

from envlock.errors import HashMismatchError, ResolutionError
from envlock.index import download
from envlock.index.cache import Cache
from envlock.index.core_metadata import CoreMetadata
from envlock.index.http import HttpGetter, redact
from envlock.index.limits import MAX_METADATA_ENV, max_metadata_size, read_limited

if TYPE_CHECKING:
    from envlock.index.pages import DistFile

MetadataBuilder = Callable[[Path], bytes]
"""Builds core metadata (METADATA bytes) from a downloaded sdist (``envlock.sources.builder``)."""


def parse_core_metadata(data: bytes, source: str) -> CoreMetadata:
    """METADATA / PKG-INFO bytes -> CoreMetadata (lenient: only the fields the resolver needs)."""
    raw, _unparsed = parse_email(data)
    name = raw.get("name")
    version = raw.get("version")
    if not name or not version:
        raise ResolutionError(f"metadata of {source} has no Name or Version")
    return CoreMetadata(
        name=name,
        version=version,
        requires_dist=tuple(raw.get("requires_dist", [])),
        requires_python=raw.get("requires_python"),
        provides_extra=tuple(canonicalize_name(e) for e in raw.get("provides_extra", [])),
    )


def metadata_bytes(
    file: DistFile,
    http: HttpGetter,
    cache: Cache,
    *,
    range_chunk: int | None,
    download_file: Callable[[DistFile], Path],
    build: MetadataBuilder | None,
) -> bytes:
    """METADATA of ``file``: its PEP 658 file, else (a wheel) read with range requests of ``range_chunk``
    bytes (None: never) unless the wheel is cached already, else from the wheel ``download_file`` gives;
    an sdist's is built by ``build`` (None: refused)."""
    if file.metadata_hashes is not None and not file.is_local:
        found = _metadata_file(file, http)
        if found is not None:
            return found
    if file.is_wheel:
        cached = cache.get_artifact(file.sha256, file.filename) if file.sha256 else None
        if cached is None and not file.is_local and range_chunk is not None:
            found = wheel_metadata_by_range(file, http, cache, range_chunk)
            if found is not None:
                return found
        return wheel_metadata(download_file(file), file.filename)
    path = download_file(file)
    if build is None:
        raise ResolutionError(f"{file.filename}: metadata of an sdist needs a build, which is disabled")
    return build(path)


def _metadata_file(file: DistFile, http: HttpGetter) -> bytes | None:
    """The PEP 658 file, checked against the sha256 the index lists; None when the index has none."""
    url = file.url + ".metadata"
    with http.stream(url, ok=(200, 404)) as response:
        # Capped: core metadata is small, a hostile index's "metadata file" may be endless.
        body = (
            read_limited(response, max_metadata_size(), url, "metadata file", MAX_METADATA_ENV)
            if response.status == 200
            else None
        )
    if body is not None:
        expected = (file.metadata_hashes or {}).get("sha256")
        if expected and hashlib.sha256(body).hexdigest() != expected.lower():
            raise HashMismatchError(
                f"metadata file of {file.filename} does not match the sha256 the index "
                f"lists ({redact(file.url)}.metadata)",
                hint="the index is inconsistent; try again later or report it to the index",
            )
    return body


def wheel_metadata(path: Path, filename: str) -> bytes:
    """METADATA of a wheel file (the ``*.dist-info/METADATA`` at the archive's top level)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _zip_metadata(archive, filename)
    except (zipfile.BadZipFile, OSError) as error:
        raise ResolutionError(f"{filename}: not a readable wheel: {error}") from None


def _zip_metadata(archive: zipfile.ZipFile, filename: str) -> bytes:
    candidates = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
    if len(candidates) != 1:
        raise ResolutionError(f"{filename}: expected one .dist-info/METADATA, found {len(candidates)}")
    return archive.read(candidates[0])


# ------------------------------------------------------------------------------ range requests


def wheel_metadata_by_range(file: DistFile, http: HttpGetter, cache: Cache, chunk: int) -> bytes | None:
    """METADATA of a remote wheel read with HTTP range requests: the tail (end of central directory
    and, usually, the central directory), then the METADATA member — two or three small GETs
    instead of the whole wheel. None when the server cannot serve ranges (the caller downloads).

    A server that ignores ``Range`` answers 200 with the whole file: that body is kept as the
    download (hash-checked into the artifact cache), so nothing is fetched twice. As with pip's
    lazy wheels, metadata read this way cannot be checked against the wheel's sha256 (only whole
    files can); it steers the resolution only — every artifact is verified before it is installed."""
    expected = download.expected_from_index(file)
    with http.stream(file.url, {"Range": f"bytes=-{chunk}"}, ok=(200, 206, 416)) as response:
        if response.status == 200:
            # The whole file: kept as the download. This body is the first attempt; a retry
            # (the body broke off, or arrived wrong) asks again without the range.
            opened: list[AbstractContextManager[Any]] = [nullcontext(response)]
            again = http.stream
            path = download.download(lambda: opened.pop() if opened else again(file.url), expected, cache)
            return wheel_metadata(path, file.filename)
        if response.status != 206:
            response.drain_conn()  # leave the pooled connection clean for the next request
            return None
        parsed = _content_range(response.headers.get("content-range", ""))
        if parsed is None or parsed[1] - parsed[0] + 1 > chunk:
            return None  # not the suffix asked for: not read (the connection is closed, not reused)
        tail = read_limited(response, parsed[1] - parsed[0] + 1, file.url, "range response")
    if len(tail) != parsed[1] - parsed[0] + 1:
        return None
    first, _last, total = parsed
    if first == 0:  # the whole (small) wheel arrived: keep it as the download
        return wheel_metadata(download.store([tail], expected, cache), file.filename)
    remote = _RangeFile(lambda a, b: _fetch_range(http, file.url, a, b), total, first, tail, chunk)
    try:
        return _zip_metadata(zipfile.ZipFile(remote), file.filename)
    except (zipfile.BadZipFile, _RangeUnsupported, EOFError, ValueError):
        return None


def _fetch_range(http: HttpGetter, url: str, first: int, last: int) -> bytes:
    with http.stream(url, {"Range": f"bytes={first}-{last}"}, ok=(200, 206)) as response:
        parsed = _content_range(response.headers.get("content-range", ""))
        if response.status != 206 or parsed is None or parsed[0] != first or parsed[1] > last:
            raise _RangeUnsupported(url)  # the body (maybe the whole file) is not read
        return read_limited(response, parsed[1] - first + 1, url, "range response")


class _RangeUnsupported(Exception):
    """The server stopped honouring ``Range`` midway: fall back to the whole file."""


class _RangeFile(io.RawIOBase):
    """A read-only, seekable view of a remote file that fetches the byte ranges ``zipfile`` reads
    (at least ``chunk`` bytes at a time), starting from an already fetched tail."""

    def __init__(
        self, fetch: Callable[[int, int], bytes], size: int, tail_start: int, tail: bytes, chunk: int
    ) -> None:
        super().__init__()
        self._fetch = fetch
        self._size = size
        self._chunk = chunk
        self._segments: list[tuple[int, bytes]] = [(tail_start, tail)]
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        start = self._position
        end = self._size if size is None or size < 0 else min(self._size, start + size)
        if start >= end:
            return b""
        data = self._cached(start, end)
        if data is None:
            stop = min(self._size, max(end, start + self._chunk))
            self._segments.append((start, self._fetch(start, stop - 1)))
            data = self._cached(start, end)
            if data is None:
                raise _RangeUnsupported("short range response")
        self._position = end
        return data

    def _cached(self, start: int, end: int) -> bytes | None:
        for first, data in self._segments:
            if first <= start and end <= first + len(data):
                return data[start - first : end - first]
        return None


def _content_range(value: str) -> tuple[int, int, int] | None:
    """``bytes 100-199/1000`` -> (100, 199, 1000); None when absent or not of that form."""
    unit, _, rest = value.strip().partition(" ")
    span, _, total = rest.partition("/")
    first, _, last = span.partition("-")
    try:
        parsed = int(first), int(last), int(total)
    except ValueError:
        return None
    return parsed if unit == "bytes" and parsed[0] <= parsed[1] < parsed[2] else None
