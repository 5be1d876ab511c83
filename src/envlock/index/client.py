"""The package-index client: a project's files from the first index that has it plus find-links (project
pages through the HTTP cache, ``index.page_cache``), each file's core metadata (cached parsed, else read
by ``index.metadata``) and artifact downloads (through the one verified download, ``index.download``).
All network access of compile goes through here.

Thread-safe: the resolver prefetches pages and metadata from a thread pool; each page and metadata
item is fetched once per process (concurrent callers wait for the first).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from envlock.errors import ProjectNotFoundError, ResolutionError
from envlock.index.cache import Cache
from envlock.index.core_metadata import CoreMetadata
from envlock.index.page_cache import MAX_FRESHNESS, PageCache
from envlock.index.pages import (
    DistFile,
    InvalidPage,
    ProjectPage,
    _dist_file,
    _parse_html_page,
    _with,
    page_of,
    parse_page,
)
from envlock.runtime import sha256_file
from envlock.validate import redact, strip_credentials

if TYPE_CHECKING:
    from envlock.index.http import HttpGetter, Response
    from envlock.index.metadata import MetadataBuilder

DEFAULT_INDEX = "https://pypi.org/simple/"
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


_K = TypeVar("_K")
_V = TypeVar("_V")


class _Once(Generic[_K, _V]):
    """Computes each key once; concurrent callers of the same key wait for the first one (and get its
    value, or its error raised again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[_K, threading.Lock] = {}
        """A key being computed -> a lock its computer holds until done (what the others wait on)."""
        self._values: dict[_K, _V] = {}
        self._errors: dict[_K, BaseException] = {}

    def get(self, key: _K, compute: Callable[[], _V]) -> _V:
        if key in self._values:  # without the lock: a resolution asks for each page several times
            return self._values[key]
        with self._lock:
            running = self._running.get(key)
            owner = running is None
            if running is None:
                running = self._running[key] = threading.Lock()
                running.acquire()
        if not owner:
            with running:  # the computer is done once it is released
                pass
            if key in self._values:
                return self._values[key]
            raise self._errors[key]
        try:
            value = compute()
        except BaseException as error:
            self._errors[key] = error
            raise
        else:
            self._values[key] = value
            return value
        finally:
            running.release()


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
    pinned: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Canonical project name -> (index name, URL): the one index it comes from ([tool.envlock.sources])."""


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
        self._page_cache = PageCache(
            http, cache, refresh=settings.refresh, max_freshness=settings.max_freshness, clock=clock
        )
        self.indexes = tuple(_slash(http.add_credentials_from(url)) for url in settings.indexes)
        """Credential-free index URLs, in priority order."""
        self._pinned = {
            project: (name, _slash(http.add_credentials_from(url)))
            for project, (name, url) in settings.pinned.items()
        }
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
        across indexes, so a public index cannot shadow a private one). Unknown -> ProjectNotFoundError."""
        canonical = canonicalize_name(name)
        return self._pages.get(canonical, lambda: self._find_project(canonical))

    def files(self, name: str, version: str | Version) -> tuple[DistFile, ...]:
        """Every file of ``name==version`` (for importing hashed requirements, sync fallbacks)."""
        wanted = version if isinstance(version, Version) else Version(version)
        return self.project(name).files_for(wanted)

    def _find_project(self, name: NormalizedName) -> ProjectPage:
        pinned = self._pinned.get(name)
        if pinned is not None:  # from its index alone: no other index nor find-links can shadow it
            index_name, index = pinned
            page = self._index_page(index, name, ())
            if page is None:
                raise ProjectNotFoundError(
                    name, f"index {index_name!r} at {redact(index)}, where [tool.envlock.sources] pins it"
                )
            return page
        extra = self._find_links_files(name)
        for index in self.indexes:
            page = self._index_page(index, name, extra)
            if page is not None:
                return page
        if extra:
            return page_of(name, None, extra)
        where = ", ".join(redact(i) for i in self.indexes)
        if self._find_links:
            where += " and find-links " + ", ".join(redact(f) for f in self._find_links)
        raise ProjectNotFoundError(name, where)

    def _index_page(
        self, index: str, name: NormalizedName, extra: tuple[DistFile, ...]
    ) -> ProjectPage | None:
        url = f"{index}{name}/"
        fetched = self._page_cache.get(url)
        if fetched is None:
            return None
        body, content_type = fetched
        return parse_page(body, content_type, url, name, index, extra)

    def cached_project(self, name: str) -> ProjectPage | None:
        """The project when it needs no network: its page on the first index is fresh in the HTTP cache
        (and there are no find-links to list). It is then memoized like ``project()``; None otherwise.
        The resolver's prefetcher uses this to skip a thread where there is nothing to wait for."""
        canonical = canonicalize_name(name)
        pinned = self._pinned.get(canonical)
        if pinned is None and (self._find_links or not self.indexes):
            return None
        index = pinned[1] if pinned is not None else self.indexes[0]
        url = f"{index}{canonical}/"
        fresh = self._page_cache.fresh(url)
        if fresh is None:
            return None
        body, content_type = fresh
        return self._pages.get(canonical, lambda: parse_page(body, content_type, url, canonical, index))

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
        # lazy: reading metadata needs zipfile and packaging.metadata (~25-35 ms to import); a warm
        # compile finds every metadata parsed in the cache above and never needs them.
        from envlock.index.metadata import metadata_bytes, parse_core_metadata

        data = metadata_bytes(
            file,
            self._http,
            self._cache,
            range_chunk=self._settings.range_chunk if self._settings.range_requests else None,
            download_file=self.download,
            build=self._metadata_builder,
        )
        metadata = parse_core_metadata(data, file.filename)
        if canonicalize_name(metadata.name) != file.project:
            raise ResolutionError(
                f"{file.filename}: its metadata names project {metadata.name!r}, not {file.project!r}"
            )
        if cache_key:
            with suppress(OSError):
                self._cache.write_entry("metadata", cache_key, metadata.to_json())
        return metadata

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
        from envlock.index import download  # lazy: a warm compile downloads nothing

        return download.download(
            lambda: self._http.stream(file.url), download.expected_from_index(file), self._cache
        )

    def hash_of(self, file: DistFile) -> str:
        """The file's sha256: from the index, else by downloading it."""
        if file.sha256:
            return file.sha256
        path = self.download(file)
        return sha256_file(path)


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


__all__ = [
    "DEFAULT_INDEX",
    "IndexClient",
    "IndexSettings",
    "LazyHttp",
]
