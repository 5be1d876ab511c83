"""The HTTP cache of simple-API project pages: a page is reused without asking the server while its
``Cache-Control: max-age`` lasts (capped, never on refresh), else revalidated with ETag / Last-Modified,
where a 304 costs no body. An entry is one JSON header line and the body, in the cache's ``http`` area.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from envlock.index.cache import Cache, key_for

if TYPE_CHECKING:
    from envlock.index.http import HttpGetter

ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
MAX_FRESHNESS = 600.0
"""Upper bound (seconds) on reusing a cached project page without asking the server: the server's
``Cache-Control: max-age`` is honoured up to this; without one, every page is revalidated."""
_CACHE_FORMAT = 1

Page = tuple[bytes, str]
"""A page's body and its content type."""


class PageCache:
    """Project pages fetched through the cache (thread-safe: entries are written atomically)."""

    def __init__(
        self,
        http: HttpGetter,
        cache: Cache,
        *,
        refresh: bool,
        max_freshness: float,
        clock: Callable[[], float],
    ) -> None:
        self._http = http
        self._cache = cache
        self._refresh = refresh
        self._max_freshness = max_freshness
        self._clock = clock

    def get(self, url: str) -> Page | None:
        """GET a simple page: fresh entries are reused, stale ones revalidated. 404 / 410 -> None."""
        key = key_for(url)
        cached = self._read(key)
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
            self._write(key, meta, body)
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
        self._write(key, meta, response.body)
        return response.body, content_type

    def fresh(self, url: str) -> Page | None:
        """The page when it may be used without asking the server; None otherwise (no request made)."""
        cached = self._read(key_for(url))
        if cached is None or not self._fresh(cached[0], self._clock()):
            return None
        meta, body = cached
        return body, str(meta["content_type"])

    def _fresh(self, meta: Mapping[str, Any], now: float) -> bool:
        """May a cached page be used without asking the server (its max-age, capped; never on refresh)?"""
        fresh_for = min(float(meta.get("max_age") or 0.0), self._max_freshness)
        return not self._refresh and now - float(meta["stored_at"]) < fresh_for

    def _read(self, key: str) -> tuple[dict[str, Any], bytes] | None:
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

    def _write(self, key: str, meta: Mapping[str, Any], body: bytes) -> None:
        header = json.dumps(meta, sort_keys=True).encode("utf-8")
        with suppress(OSError):  # a read-only or full cache slows us down but must not fail the compile
            self._cache.write_entry("http", key, header + b"\n" + body)


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
