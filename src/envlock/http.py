"""The HTTP session every network call goes through: pooled connections, retries with backoff,
credentials from URLs kept out of every message.

Only ``index.py`` (simple API, metadata) and ``fetch.py`` (artifacts) use it.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from envlock import __version__
from envlock.errors import NetworkError

if TYPE_CHECKING:
    import urllib3

USER_AGENT = f"envlock/{__version__}"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def redact(url: str) -> str:
    """``https://user:secret@host/x`` -> ``https://***@host/x``: safe for locks, logs and errors."""
    return _replace_userinfo(url, "***@")


def strip_credentials(url: str) -> str:
    """The URL without any userinfo: what may be written to a lock."""
    return _replace_userinfo(url, "")


def _replace_userinfo(url: str, replacement: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, replacement + host, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class HttpSettings:
    """Network knobs; defaults suit a public index."""

    retries: int = 4
    backoff: float = 0.25
    """First retry waits this long; each next one twice as long."""
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_connections: int = 16
    credentials: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """netloc (host[:port]) -> (user, password), collected from index URLs given with credentials."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


class HttpClient:
    """Thread-safe: one pool for the whole process, shared by parallel metadata and artifact fetches."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        import urllib3

        self.settings = settings or HttpSettings()
        self._pool = urllib3.PoolManager(
            num_pools=32,
            maxsize=self.settings.max_connections,
            block=False,
            headers={"User-Agent": USER_AGENT},
            timeout=urllib3.Timeout(connect=self.settings.connect_timeout, read=self.settings.read_timeout),
            retries=False,
            ca_certs=os.environ.get("SSL_CERT_FILE") or _default_ca_file(),
        )
        self._credentials = dict(self.settings.credentials)

    def add_credentials_from(self, url: str) -> str:
        """Remember user:password of ``url`` for its host; returns the URL without them."""
        parts = urlsplit(url)
        if parts.username is not None:
            netloc = parts.hostname or ""
            if parts.port:
                netloc = f"{netloc}:{parts.port}"
            self._credentials[netloc] = (parts.username, parts.password or "")
        return strip_credentials(url)

    def _headers(self, url: str, headers: Mapping[str, str] | None) -> dict[str, str]:
        result = dict(headers or {})
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        creds = self._credentials.get(netloc)
        if parts.username is not None:
            creds = (parts.username, parts.password or "")
        if creds:
            token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode("ascii")
            result["Authorization"] = f"Basic {token}"
        return result

    def get(
        self, url: str, headers: Mapping[str, str] | None = None, *, ok: tuple[int, ...] = (200,)
    ) -> Response:
        """GET with retries on connection errors and 429/5xx; statuses in ``ok`` (and 304, 404
        when listed) are returned, anything else raises NetworkError naming the URL."""
        with self.stream(url, headers, ok=ok) as response:
            body = response.read()
            return Response(response.status, _header_dict(response), body, url)

    @contextmanager
    def stream(
        self, url: str, headers: Mapping[str, str] | None = None, *, ok: tuple[int, ...] = (200,)
    ) -> Iterator[urllib3.BaseHTTPResponse]:
        """A streaming response (read in chunks); retried while nothing was yielded yet."""
        import urllib3

        clean = strip_credentials(url)
        request_headers = self._headers(url, headers)
        attempt = 0
        while True:
            try:
                response = self._pool.request(
                    "GET", clean, headers=request_headers, preload_content=False, redirect=True
                )
            except (urllib3.exceptions.HTTPError, OSError) as error:
                if attempt < self.settings.retries:
                    attempt = self._sleep(attempt)
                    continue
                raise NetworkError(
                    f"cannot fetch {redact(url)}: {_reason(error)} (after {attempt + 1} attempts)"
                ) from None
            if response.status in RETRY_STATUSES and attempt < self.settings.retries:
                response.drain_conn()
                response.release_conn()
                attempt = self._sleep(attempt)
                continue
            if response.status not in ok:
                response.drain_conn()
                response.release_conn()
                raise NetworkError(
                    f"cannot fetch {redact(url)}: HTTP {response.status}"
                    + (f" (after {attempt + 1} attempts)" if attempt else ""),
                    hint="check the index URL and credentials" if response.status in (401, 403) else None,
                )
            try:
                yield response
            finally:
                response.release_conn()
            return

    def _sleep(self, attempt: int) -> int:
        time.sleep(self.settings.backoff * (2**attempt))
        return attempt + 1

    def close(self) -> None:
        self._pool.clear()


def _header_dict(response: urllib3.BaseHTTPResponse) -> dict[str, str]:
    return {key.lower(): value for key, value in response.headers.items()}


def _reason(error: BaseException) -> str:
    """The root cause in a few words ("connection refused"), not urllib3's wrapper text."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return str(seen.strerror).lower()
        seen = seen.__cause__ or seen.__context__
    reason = getattr(error, "reason", None)
    return str(reason or error) or type(error).__name__


def _default_ca_file() -> str | None:
    import ssl

    paths = ssl.get_default_verify_paths()
    return paths.cafile or None
