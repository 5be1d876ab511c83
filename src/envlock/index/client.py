"""The package-index client: PEP 691 JSON / PEP 503 HTML project pages, find-links, core metadata
(PEP 658/714 files, else the wheel, else an sdist build), artifact downloads (through the one verified
download, ``index.download``) and the HTTP cache with revalidation. All network access of compile goes
through here.

Thread-safe: the resolver prefetches pages and metadata from a thread pool; each page and metadata
item is fetched once per process (concurrent callers wait for the first).
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from packaging.utils import (
    NormalizedName,
    canonicalize_name,
)
from packaging.version import Version

from envlock.errors import HashMismatchError, ResolutionError
from envlock.guard.stamp import sha256_file
from envlock.index import download
from envlock.index.cache import Cache, key_for
from envlock.index.http import HttpGetter, Response, redact, strip_credentials
from envlock.index.limits import MAX_METADATA_ENV, max_metadata_size, read_limited
from envlock.index.pages import (
    DistFile,
    InvalidPage,
    ProjectPage,
    _dedupe,
    _dist_file,
    _parse_html_page,
    _parse_page,
    _with,
)

if TYPE_CHECKING:
    import zipfile

# zipfile, packaging.metadata, email.utils and html.parser are imported inside the functions that use
# them: a warm compile (every page fresh, every metadata parsed in the cache) needs none of them, and
# its time is one of the benchmark's figures.

DEFAULT_INDEX = "https://pypi.org/simple/"
ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
MAX_FRESHNESS = 600.0
"""Upper bound (seconds) on reusing a cached project page without asking the server: the server's
``Cache-Control: max-age`` is honoured up to this; without one, every page is revalidated."""
_CACHE_FORMAT = 1
RANGE_CHUNK = 1 << 16
"""64 KiB: the tail of most wheels holds the whole central directory; METADATA fits in one more."""


class LazyHttp:
    """An ``HttpGetter`` that creates the real client (and imports urllib3, ssl, http.client) only on
    the first request: a warm compile whose pages are all fresh in the cache makes none and so skips
    that import cost. Credentials handed over before then are replayed to the client when it is made."""

    def __init__(self, factory: Callable[[], HttpGetter]) -> None:
        self._factory = factory
        self._client: HttpGetter | None = None
        self._credential_urls: list[str] = []
        self._lock = threading.Lock()

    @property
    def created(self) -> HttpGetter | None:
        """The real client, if a request needed it."""
        return self._client

    def _real(self) -> HttpGetter:
        with self._lock:
            if self._client is None:
                client = self._factory()
                for url in self._credential_urls:
                    client.add_credentials_from(url)
                self._client = client
            return self._client

    def add_credentials_from(self, url: str) -> str:
        with self._lock:
            if self._client is not None:
                return self._client.add_credentials_from(url)
            self._credential_urls.append(url)
        return strip_credentials(url)

    def get(
        self, url: str, headers: Mapping[str, str] | None = None, *, ok: tuple[int, ...] = (200,)
    ) -> Response:
        return self._real().get(url, headers, ok=ok)

    def stream(
        self, url: str, headers: Mapping[str, str] | None = None, *, ok: tuple[int, ...] = (200,)
    ) -> AbstractContextManager[Any]:
        return self._real().stream(url, headers, ok=ok)


@dataclass(frozen=True)
class CoreMetadata:
    """The parts of a distribution's core metadata the resolver needs."""

    name: str
    version: str
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extra: tuple[str, ...] = ()

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> CoreMetadata:
        raw = json.loads(data)
        return cls(
            name=raw["name"],
            version=raw["version"],
            requires_dist=tuple(raw["requires_dist"]),
            requires_python=raw["requires_python"],
            provides_extra=tuple(raw["provides_extra"]),
        )


def parse_core_metadata(data: bytes, source: str) -> CoreMetadata:
    """METADATA / PKG-INFO bytes -> CoreMetadata (lenient: only the fields the resolver needs)."""
    from packaging.metadata import parse_email

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


MetadataBuilder = Callable[[Path], bytes]
"""Builds core metadata (METADATA bytes) from a downloaded sdist (``envlock.resolve.builder``)."""

_K = TypeVar("_K")
_V = TypeVar("_V")


class _Once(Generic[_K, _V]):
    """Computes each key once; concurrent callers of the same key wait for the first one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[_K, Future[_V]] = {}

    def get(self, key: _K, compute: Callable[[], _V]) -> _V:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = Future()
                self._futures[key] = future
        if owner:
            try:
                future.set_result(compute())
            except BaseException as error:
                future.set_exception(error)
        return future.result()


@dataclass(frozen=True)
class IndexSettings:
    """Where to look and how fresh cached pages may be."""

    indexes: tuple[str, ...] = (DEFAULT_INDEX,)
    """Index URLs in priority order (credentials allowed; they are kept only in the HTTP client)."""
    find_links: tuple[str, ...] = ()
    """Local folders or URLs of link pages."""
    refresh: bool = False
    """Revalidate every cached page (``--upgrade``): never trust a freshness window."""
    max_freshness: float = MAX_FRESHNESS
    range_requests: bool = True
    """Read a wheel's METADATA with HTTP range requests when the index has no PEP 658 file."""
    range_chunk: int = RANGE_CHUNK
    """Bytes asked for at a time by range requests (the first one: the wheel's last ``range_chunk``)."""


class IndexClient:
    """Looks projects up on the configured indexes; see the module docstring."""

    def __init__(
        self,
        http: HttpGetter,
        cache: Cache,
        settings: IndexSettings,
        *,
        metadata_builder: MetadataBuilder | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._cache = cache
        self._settings = settings
        self._metadata_builder = metadata_builder
        self._clock = clock
        self.indexes = tuple(_slash(http.add_credentials_from(url)) for url in settings.indexes)
        """Credential-free index URLs, in priority order."""
        self._find_links = tuple(
            http.add_credentials_from(f) if "://" in f else f for f in settings.find_links
        )
        self._pages: _Once[str, ProjectPage] = _Once()
        self._metadata: _Once[str, CoreMetadata] = _Once()
        self._downloads: _Once[str, Path] = _Once()
        self._link_pages: _Once[str, tuple[DistFile, ...]] = _Once()

    # ------------------------------------------------------------------------------------ projects

    def project(self, name: str) -> ProjectPage:
        """The project's files: from the first index that has it, plus find-links (never mixed
        across indexes, so a public index cannot shadow a private one). Unknown -> ResolutionError."""
        canonical = canonicalize_name(name)
        return self._pages.get(canonical, lambda: self._find_project(canonical))

    def files(self, name: str, version: str | Version) -> tuple[DistFile, ...]:
        """Every file of ``name==version`` (for importing hashed requirements, sync fallbacks)."""
        wanted = version if isinstance(version, Version) else Version(version)
        return self.project(name).files_for(wanted)

    def _find_project(self, name: NormalizedName) -> ProjectPage:
        extra = self._find_links_files(name)
        for index in self.indexes:
            files = self._index_files(index, name)
            if files is not None:
                return ProjectPage(name, index, _dedupe(files + extra))
        if extra:
            return ProjectPage(name, None, _dedupe(extra))
        where = ", ".join(redact(i) for i in self.indexes)
        if self._find_links:
            where += " and find-links " + ", ".join(redact(f) for f in self._find_links)
        raise ResolutionError(
            f"project {name!r} not found on {where}",
            hint="check the name, or add the index that has it with --extra-index-url / --index-url",
        )

    def _index_files(self, index: str, name: NormalizedName) -> tuple[DistFile, ...] | None:
        url = f"{index}{name}/"
        fetched = self._fetch_page(url)
        if fetched is None:
            return None
        body, content_type = fetched
        return _parse_page(body, content_type, url, name, index)

    def _fetch_page(self, url: str) -> tuple[bytes, str] | None:
        """GET a simple page through the HTTP cache: fresh entries are reused, stale ones revalidated
        with ETag / Last-Modified (a 304 costs no body). 404 -> None."""
        key = key_for(url)
        cached = self._read_cached_page(key)
        now = self._clock()
        if cached is not None and self._fresh(cached[0], now):
            return cached[1], str(cached[0]["content_type"])
        headers = {"Accept": ACCEPT}
        if cached is not None:
            if cached[0].get("etag"):
                headers["If-None-Match"] = str(cached[0]["etag"])
            if cached[0].get("last_modified"):
                headers["If-Modified-Since"] = str(cached[0]["last_modified"])
        response = self._http.get(url, headers, ok=(200, 304, 404, 410))
        if response.status in (404, 410):
            return None
        if response.status == 304 and cached is not None:
            meta, body = cached
            meta = {**meta, "stored_at": now, "max_age": _max_age(response.headers)}
            self._write_cached_page(key, meta, body)
            return body, str(meta["content_type"])
        content_type = response.headers.get("content-type", "text/html")
        meta = {
            "format": _CACHE_FORMAT,
            "content_type": content_type,
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
            "stored_at": now,
            "max_age": _max_age(response.headers),
        }
        self._write_cached_page(key, meta, response.body)
        return response.body, content_type

    def _fresh(self, meta: Mapping[str, Any], now: float) -> bool:
        """May a cached page be used without asking the server (its max-age, capped; never on refresh)?"""
        fresh_for = min(float(meta.get("max_age") or 0.0), self._settings.max_freshness)
        return not self._settings.refresh and now - float(meta["stored_at"]) < fresh_for

    def cached_project(self, name: str) -> ProjectPage | None:
        """The project when it needs no network: its page on the first index is fresh in the HTTP cache
        (and there are no find-links to list). It is then memoized like ``project()``; None otherwise.
        The resolver's prefetcher uses this to skip a thread where there is nothing to wait for."""
        if self._find_links or not self.indexes:
            return None
        canonical = canonicalize_name(name)
        index = self.indexes[0]
        url = f"{index}{canonical}/"
        cached = self._read_cached_page(key_for(url))
        if cached is None or not self._fresh(cached[0], self._clock()):
            return None
        meta, body = cached
        return self._pages.get(
            canonical,
            lambda: ProjectPage(
                canonical, index, _dedupe(_parse_page(body, str(meta["content_type"]), url, canonical, index))
            ),
        )

    def _read_cached_page(self, key: str) -> tuple[dict[str, Any], bytes] | None:
        data = self._cache.read_entry("http", key)
        if data is None:
            return None
        header, sep, body = data.partition(b"\n")
        if not sep:
            return None
        try:
            meta = json.loads(header)
        except ValueError:
            return None
        if not isinstance(meta, dict) or meta.get("format") != _CACHE_FORMAT:
            return None
        return meta, body

    def _write_cached_page(self, key: str, meta: Mapping[str, Any], body: bytes) -> None:
        header = json.dumps(meta, sort_keys=True).encode("utf-8")
        with suppress(OSError):  # a read-only or full cache slows us down but must not fail the compile
            self._cache.write_entry("http", key, header + b"\n" + body)

    def _find_links_files(self, name: NormalizedName) -> tuple[DistFile, ...]:
        found: list[DistFile] = []
        for location in self._find_links:
            files = self._link_pages.get(location, lambda loc=location: self._read_find_links(loc))  # type: ignore[misc]
            found.extend(f for f in files if f.project == name)
        return tuple(found)

    def _read_find_links(self, location: str) -> tuple[DistFile, ...]:
        if "://" not in location:
            folder = Path(location)
            if not folder.is_dir():
                raise ResolutionError(f"find-links folder {location} does not exist")
            files = []
            for path in sorted(folder.iterdir()):
                try:
                    made = _dist_file(path.name, path.resolve().as_uri(), None, index=None, local=True)
                except InvalidPage:
                    continue  # a local file whose name is not a plain file name: not a distribution
                if made is None or not path.is_file():
                    continue
                digest = sha256_file(path)
                files.append(_with(made, hashes={"sha256": digest}, size=path.stat().st_size))
            return tuple(files)
        response = self._http.get(location, {"Accept": "text/html"})
        return _parse_html_page(response.body, location, None, None)

    # ------------------------------------------------------------------------------------ metadata

    def metadata(self, file: DistFile) -> CoreMetadata:
        """Core metadata of a file: PEP 658 file (hash-checked), else from the wheel, else built
        from the sdist. Cached on disk by the file's sha256 (parsed form)."""
        key = file.sha256 or file.url
        return self._metadata.get(key, lambda: self._load_metadata(file))

    def _load_metadata(self, file: DistFile) -> CoreMetadata:
        cache_key = f"{file.sha256}.json" if file.sha256 else None
        if cache_key:
            cached = self._cache.read_entry("metadata", cache_key)
            if cached is not None:
                try:
                    return CoreMetadata.from_json(cached)
                except (ValueError, KeyError, TypeError):
                    pass
        metadata = parse_core_metadata(self._metadata_bytes(file), file.filename)
        if canonicalize_name(metadata.name) != file.project:
            raise ResolutionError(
                f"{file.filename}: its metadata names project {metadata.name!r}, not {file.project!r}"
            )
        if cache_key:
            with suppress(OSError):
                self._cache.write_entry("metadata", cache_key, metadata.to_json())
        return metadata

    def _metadata_bytes(self, file: DistFile) -> bytes:
        if file.metadata_hashes is not None and not file.is_local:
            url = file.url + ".metadata"
            with self._http.stream(url, ok=(200, 404)) as response:
                # Capped: core metadata is small, a hostile index's "metadata file" may be endless.
                body = (
                    read_limited(response, max_metadata_size(), url, "metadata file", MAX_METADATA_ENV)
                    if response.status == 200
                    else None
                )
            if body is not None:
                expected = file.metadata_hashes.get("sha256")
                if expected and hashlib.sha256(body).hexdigest() != expected.lower():
                    raise HashMismatchError(
                        f"metadata file of {file.filename} does not match the sha256 the index "
                        f"lists ({redact(file.url)}.metadata)",
                        hint="the index is inconsistent; try again later or report it to the index",
                    )
                return body
        if file.is_wheel:
            cached = self._cache.get_artifact(file.sha256, file.filename) if file.sha256 else None
            if cached is None and not file.is_local and self._settings.range_requests:
                found = self._wheel_metadata_by_range(file)
                if found is not None:
                    return found
            return wheel_metadata(self.download(file), file.filename)
        path = self.download(file)
        if self._metadata_builder is None:
            raise ResolutionError(f"{file.filename}: metadata of an sdist needs a build, which is disabled")
        return self._metadata_builder(path)

    # ----------------------------------------------------------------------------------- downloads

    def download(self, file: DistFile) -> Path:
        """The file's bytes in the verified artifact cache (local find-links files are used in place)."""
        if file.is_local:
            return file.local_path
        return self._downloads.get(file.url, lambda: self._download(file))

    def _download(self, file: DistFile) -> Path:
        if file.sha256:
            found = self._cache.get_artifact(file.sha256, file.filename)
            if found is not None:
                return found
        return download.download(lambda: self._http.stream(file.url), _expected(file), self._cache)

    # ------------------------------------------------------------------------------ range requests

    def _wheel_metadata_by_range(self, file: DistFile) -> bytes | None:
        """METADATA of a remote wheel read with HTTP range requests: the tail (end of central directory
        and, usually, the central directory), then the METADATA member — two or three small GETs
        instead of the whole wheel. None when the server cannot serve ranges (the caller downloads).

        A server that ignores ``Range`` answers 200 with the whole file: that body is kept as the
        download (hash-checked into the artifact cache), so nothing is fetched twice. As with pip's
        lazy wheels, metadata read this way cannot be checked against the wheel's sha256 (only whole
        files can); it steers the resolution only — every artifact is verified before it is installed."""
        import zipfile

        chunk = self._settings.range_chunk
        with self._http.stream(file.url, {"Range": f"bytes=-{chunk}"}, ok=(200, 206, 416)) as response:
            if response.status == 200:
                # The whole file: kept as the download. This body is the first attempt; a retry
                # (the body broke off, or arrived wrong) asks again without the range.
                opened: list[AbstractContextManager[Any]] = [nullcontext(response)]
                again = self._http.stream
                path = download.download(
                    lambda: opened.pop() if opened else again(file.url), _expected(file), self._cache
                )
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
            return wheel_metadata(download.store([tail], _expected(file), self._cache), file.filename)
        remote = _RangeFile(lambda a, b: self._fetch_range(file.url, a, b), total, first, tail, chunk)
        try:
            return _zip_metadata(zipfile.ZipFile(remote), file.filename)
        except (zipfile.BadZipFile, _RangeUnsupported, EOFError, ValueError):
            return None

    def _fetch_range(self, url: str, first: int, last: int) -> bytes:
        with self._http.stream(url, {"Range": f"bytes={first}-{last}"}, ok=(200, 206)) as response:
            parsed = _content_range(response.headers.get("content-range", ""))
            if response.status != 206 or parsed is None or parsed[0] != first or parsed[1] > last:
                raise _RangeUnsupported(url)  # the body (maybe the whole file) is not read
            return read_limited(response, parsed[1] - first + 1, url, "range response")

    def hash_of(self, file: DistFile) -> str:
        """The file's sha256: from the index, else by downloading it."""
        if file.sha256:
            return file.sha256
        path = self.download(file)
        return sha256_file(path)


def _expected(file: DistFile) -> download.Expected:
    """What a download of ``file`` must be: the hash and size its index page lists."""
    return download.Expected(
        file.filename, redact(file.url), file.sha256, file.size, listed_by=download.ListedBy.INDEX
    )


def wheel_metadata(path: Path, filename: str) -> bytes:
    """METADATA of a wheel file (the ``*.dist-info/METADATA`` at the archive's top level)."""
    import zipfile

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


# ------------------------------------------------------------------------------------------- parsing


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _max_age(headers: Mapping[str, str]) -> float:
    value = headers.get("cache-control", "")
    for part in value.split(","):
        key, _, number = part.strip().partition("=")
        if key.lower() == "max-age":
            try:
                return max(0.0, float(number))
            except ValueError:
                return 0.0
    return 0.0


__all__ = [
    "DEFAULT_INDEX",
    "CoreMetadata",
    "DistFile",
    "HttpGetter",
    "IndexClient",
    "IndexSettings",
    "LazyHttp",
    "ProjectPage",
    "parse_core_metadata",
    "wheel_metadata",
]
