"""The HTTP session every network call goes through: pooled connections, retries of transient failures
with backoff, redirects followed by hand (credentials never cross to another origin, https never
downgrades), credentials from URLs kept out of every message, and bounded work against hostile servers:
a wall-clock deadline per request and a size cap on every body read into memory.

Only ``index.py`` (simple API, metadata) and ``fetch.py`` (artifacts) use it. The limits are documented
in docs/safety.md ("Network limits").
"""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit

from envlock import __version__
from envlock.errors import InputError, NetworkError
from envlock.validate import redact as redact
from envlock.validate import strip_credentials as strip_credentials

if TYPE_CHECKING:
    import urllib3

USER_AGENT = f"envlock/{__version__}"
RETRY_STATUSES = frozenset({429, *range(500, 600)})
"""Statuses worth another try: rate limiting and server errors. Anything else fails at once."""
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10

MiB = 1 << 20
DEADLINE_ENV = "ENVLOCK_HTTP_DEADLINE"
MIN_RATE_ENV = "ENVLOCK_HTTP_MIN_RATE"
MAX_PAGE_ENV = "ENVLOCK_MAX_PAGE_SIZE"
MAX_METADATA_ENV = "ENVLOCK_MAX_METADATA_SIZE"
MAX_DOWNLOAD_ENV = "ENVLOCK_MAX_DOWNLOAD_SIZE"
DEFAULT_DEADLINE = 300.0
"""Seconds a request may take, connect to last byte (retries and redirects included)..."""
DEFAULT_MIN_RATE = 32 * 1024
"""...plus one second per this many body bytes received, so a big artifact on a slow but working link
(a 2 GiB wheel at 256 kbit/s or better) always finishes, while a server trickling bytes is cut off."""
DEFAULT_MAX_PAGE_SIZE = 128 * MiB
"""PyPI's largest simple pages are tens of MB."""
DEFAULT_MAX_METADATA_SIZE = 16 * MiB
"""Core metadata is a few KB; the biggest real METADATA files (long READMEs) stay far below this."""
DEFAULT_MAX_DOWNLOAD_SIZE = 8 * 1024 * MiB
"""An artifact whose size neither the lock nor the index gives; the largest wheels are a few GB."""
_DRAIN = 64 * 1024
"""Bytes read from an unwanted body to keep its connection; a longer body closes the connection."""


# ------------------------------------------------------------------------------------------- limits


def env_seconds(name: str, default: float) -> float:
    """A positive number of seconds from the environment variable ``name``, else ``default``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise InputError(f"{name}={raw!r} is not a positive number of seconds")
    return value


_UNITS = {"": 1, "k": 1 << 10, "kib": 1 << 10, "m": MiB, "mib": MiB, "g": 1 << 30, "gib": 1 << 30}


def env_size(name: str, default: int) -> int:
    """A positive byte count from the environment variable ``name`` (``4096``, ``64K``, ``16M``,
    ``2G``: binary units), else ``default``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    number = raw.rstrip("KkMmGgIiBb")
    unit = raw[len(number) :].lower().removesuffix("b") if raw[len(number) :].lower() != "b" else ""
    try:
        value = int(number.strip()) * _UNITS[unit]
    except (ValueError, KeyError):
        value = 0
    if value <= 0:
        raise InputError(f"{name}={raw!r} is not a positive size (bytes, or with K, M or G)")
    return value


def max_metadata_size() -> int:
    """The cap on a PEP 658 metadata file (``ENVLOCK_MAX_METADATA_SIZE``)."""
    return env_size(MAX_METADATA_ENV, DEFAULT_MAX_METADATA_SIZE)


def max_download_size() -> int:
    """The cap on an artifact whose size is not known in advance (``ENVLOCK_MAX_DOWNLOAD_SIZE``)."""
    return env_size(MAX_DOWNLOAD_ENV, DEFAULT_MAX_DOWNLOAD_SIZE)


def human_size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", MiB), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


class Readable(Protocol):
    def read(self, amt: int | None = None) -> bytes: ...


def read_limited(response: Readable, limit: int, url: str, what: str, env: str | None = None) -> bytes:
    """The whole body of ``response``, refused (NetworkError naming the URL) as soon as it grows past
    ``limit`` bytes: a hostile server cannot make us hold more than that in memory."""
    headers = getattr(response, "headers", None)
    declared = headers.get("content-length") if headers is not None else None
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(url, what, limit, env)
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = response.read(min(_DRAIN, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise _too_large(url, what, limit, env)
        chunks.append(chunk)


def _too_large(url: str, what: str, limit: int, env: str | None) -> NetworkError:
    return NetworkError(
        f"cannot fetch {redact(url)}: the {what} is larger than the {human_size(limit)} limit",
        hint=f"if this is expected, raise {env}" if env else None,
    )


# ------------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class HttpSettings:
    """Network knobs; defaults suit a public index."""

    retries: int = 4
    backoff: float = 0.25
    """First retry waits this long; each next one twice as long."""
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    """Per socket read; the deadline below bounds the whole request."""
    max_connections: int = 16
    credentials: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """netloc (host[:port]) -> (user, password), collected from index URLs given with credentials."""
    deadline: float | None = None
    """Seconds one request (connect, headers, body, retries and redirects) may take, plus one second
    per ``min_rate`` body bytes received. None: ``ENVLOCK_HTTP_DEADLINE``, else 300."""
    min_rate: int | None = None
    """Bytes per second a transfer is credited with. None: ``ENVLOCK_HTTP_MIN_RATE``, else 32 KiB."""
    max_page_size: int | None = None
    """Cap on a body read whole by ``get`` (pages). None: ``ENVLOCK_MAX_PAGE_SIZE``, else 128 MiB."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


# ------------------------------------------------------------------------------------------- deadline


class _Deadline:
    """The wall-clock budget of one request. When it passes, the watchdog shuts down the socket of every
    connection the request is using, so a read blocked on a trickling server returns at once; the
    reader then sees ``expired`` and reports the deadline instead of whatever the shutdown caused."""

    def __init__(self, seconds: float, min_rate: int) -> None:
        self.seconds = seconds
        self._min_rate = min_rate
        self._started = time.monotonic()
        self.received = 0
        self.expired = False
        self._connections: list[Any] = []
        self._lock = threading.Lock()

    def due(self) -> float:
        return self._started + self.seconds + self.received / self._min_rate

    def attach(self, connection: Any) -> None:
        """``connection`` now works for this request (it may have worked for another before)."""
        connection.envlock_deadline = self
        with self._lock:
            self._connections.append(connection)
            expired = self.expired
        if expired:
            _shutdown(connection)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            # A connection handed back to the pool and taken by another request is no longer ours.
            if getattr(connection, "envlock_deadline", None) is self:
                _shutdown(connection)


def _shutdown(connection: Any) -> None:
    # ``sock`` while connecting and waiting for headers; once a response says "Connection: close",
    # http.client drops ``sock`` while the body is still read from it, hence the copy taken at request.
    for sock in (getattr(connection, "sock", None), getattr(connection, "envlock_sock", None)):
        if sock is not None:
            # The plain socket's shutdown also works under TLS and wakes a reader blocked in another thread.
            with suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One thread per process (started with the first request) that expires deadlines; it sleeps until
    the earliest one is due, so an idle process pays nothing."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._active: set[_Deadline] = set()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: _Deadline) -> None:
        with self._wake:
            self._active.add(deadline)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="envlock-http-deadline", daemon=True)
                self._thread.start()
            self._wake.notify()

    def unwatch(self, deadline: _Deadline) -> None:
        with self._wake:
            self._active.discard(deadline)

    def _run(self) -> None:
        with self._wake:
            while True:
                now = time.monotonic()
                for deadline in [d for d in self._active if d.due() <= now]:
                    self._active.discard(deadline)
                    deadline.expire()
                if self._active:
                    self._wake.wait(max(0.01, min(d.due() for d in self._active) - now))
                else:
                    self._wake.wait()


_WATCHDOG = _Watchdog()
_current = threading.local()
"""The deadline of the request the current thread is making (read by the connection classes)."""


def _attach_current(connection: Any) -> None:
    deadline: _Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.attach(connection)


@cache
def _pool_classes() -> dict[str, Any]:
    """urllib3's pools with connection classes that report to the current request's deadline, both when
    they connect (TLS handshakes included) and when a pooled connection is reused for a request."""
    import urllib3.connection
    import urllib3.connectionpool

    def watched(base: type[Any]) -> type[Any]:
        """``base`` (HTTP or HTTPS connection) reporting to the current request's deadline."""

        class Watched(base):  # type: ignore[misc]
            def connect(self) -> None:
                _attach_current(self)
                super().connect()

            def request(self, *args: Any, **kwargs: Any) -> None:
                _attach_current(self)
                super().request(*args, **kwargs)
                self.envlock_sock = self.sock

        return Watched

    WatchedHTTPConnection = watched(urllib3.connection.HTTPConnection)
    WatchedHTTPSConnection = watched(urllib3.connection.HTTPSConnection)

    class WatchedHTTPConnectionPool(urllib3.connectionpool.HTTPConnectionPool):
        ConnectionCls = WatchedHTTPConnection

    class WatchedHTTPSConnectionPool(urllib3.connectionpool.HTTPSConnectionPool):
        ConnectionCls = WatchedHTTPSConnection

    return {"http": WatchedHTTPConnectionPool, "https": WatchedHTTPSConnectionPool}


# ------------------------------------------------------------------------------------------- responses


class GuardedResponse:
    """A streaming response (what ``HttpClient.stream`` yields): reads raise NetworkError naming the URL
    once the deadline passed (a shut-down socket must not pass for a complete body). Offers what envlock
    uses of urllib3's response: status, headers, read, stream, drain_conn."""

    def __init__(
        self,
        raw: urllib3.BaseHTTPResponse,
        client: HttpClient,
        deadline: _Deadline,
        url: str,
    ) -> None:
        self._raw = raw
        self._client = client
        self._deadline = deadline
        self._url = url
        self.status = raw.status
        self.headers = raw.headers
        self.url = url
        self.received = 0
        self.complete = False

    def read(self, amt: int | None = None) -> bytes:
        if amt is None:
            chunks = []
            while chunk := self.read(1 << 16):
                chunks.append(chunk)
            return b"".join(chunks)
        if self._deadline.expired:
            raise self._client.deadline_error(self._url, self._deadline)
        try:
            data = self._raw.read(amt)
        except Exception:
            if self._deadline.expired:
                raise self._client.deadline_error(self._url, self._deadline) from None
            raise
        if self._deadline.expired:
            raise self._client.deadline_error(self._url, self._deadline)
        if not data:
            self.complete = True
            return data
        self.received += len(data)
        self._deadline.received = self.received
        return data

    def stream(self, amt: int = 1 << 16) -> Iterator[bytes]:
        while chunk := self.read(amt):
            yield chunk

    def drain_conn(self) -> None:
        """Read what is left of a short body so the connection can be reused; a long (or endless) one
        is not read: its connection is closed instead."""
        with suppress(Exception):
            drained = 0
            while drained <= _DRAIN and not self._deadline.expired:
                chunk = self._raw.read(_DRAIN)
                if not chunk:
                    self.complete = True
                    return
                drained += len(chunk)
        self._raw.close()

    def release(self) -> None:
        """Hand the connection back: reusable only when its body was read to the end."""
        if not self.complete:
            with suppress(Exception):
                self._raw.close()
        self._raw.release_conn()


# ------------------------------------------------------------------------------------------- client


class HttpClient:
    """Thread-safe: one pool for the whole process, shared by parallel metadata and artifact fetches."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        import urllib3

        self.settings = settings or HttpSettings()
        self._deadline = self.settings.deadline or env_seconds(DEADLINE_ENV, DEFAULT_DEADLINE)
        self._min_rate = self.settings.min_rate or env_size(MIN_RATE_ENV, DEFAULT_MIN_RATE)
        self._max_page = self.settings.max_page_size or env_size(MAX_PAGE_ENV, DEFAULT_MAX_PAGE_SIZE)
        self._pool = urllib3.PoolManager(
            num_pools=32,
            maxsize=self.settings.max_connections,
            block=False,
            headers={"User-Agent": USER_AGENT},
            timeout=urllib3.Timeout(connect=self.settings.connect_timeout, read=self.settings.read_timeout),
            retries=False,
            ca_certs=os.environ.get("SSL_CERT_FILE") or _default_ca_file(),
        )
        # Public attribute of PoolManager: which pool class serves a scheme (ours watch the deadline).
        self._pool.pool_classes_by_scheme = _pool_classes()
        self._credentials = dict(self.settings.credentials)

    def add_credentials_from(self, url: str) -> str:
        """Remember user:password of ``url`` for its host; returns the URL without them."""
        parts = urlsplit(url)
        if parts.username is not None:
            self._credentials[_netloc(url)] = (parts.username, parts.password or "")
        return strip_credentials(url)

    def _headers(
        self, url: str, headers: Mapping[str, str] | None, own: tuple[str, str] | None = None
    ) -> dict[str, str]:
        result = dict(headers or {})
        creds = self._credentials.get(_netloc(url))
        if own is not None:
            creds = own
        if creds:
            token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode("ascii")
            result["Authorization"] = f"Basic {token}"
        return result

    def get(
        self, url: str, headers: Mapping[str, str] | None = None, *, ok: tuple[int, ...] = (200,)
    ) -> Response:
        """GET with retries on transient failures (connection reset/refused, timeouts, 429, 5xx);
        statuses in ``ok`` (and 304, 404 when listed) are returned, anything else raises NetworkError
        naming the URL. The body is capped (``max_page_size``) and the whole request has a deadline."""
        with self._open(url, headers, ok) as response:
            body = read_limited(response, self._max_page, url, "response", MAX_PAGE_ENV)
            return Response(response.status, _header_dict(response), body, url)

    @contextmanager
    def stream(
        self, url: str, headers: Mapping[str, str] | None = None, *, ok: tuple[int, ...] = (200,)
    ) -> Iterator[GuardedResponse]:
        """A streaming response (read in chunks) under the request's deadline; retried while nothing
        was yielded yet. Callers cap what they read (``read_limited``, the artifact's size)."""
        with self._open(url, headers, ok) as response:
            yield response

    @contextmanager
    def _open(
        self, url: str, headers: Mapping[str, str] | None, ok: tuple[int, ...]
    ) -> Iterator[GuardedResponse]:
        deadline = _Deadline(self._deadline, self._min_rate)
        _WATCHDOG.watch(deadline)
        try:
            response = GuardedResponse(self._request(url, headers, ok, deadline), self, deadline, url)
            try:
                yield response
            finally:
                response.release()
        finally:
            _WATCHDOG.unwatch(deadline)

    def _request(
        self, url: str, headers: Mapping[str, str] | None, ok: tuple[int, ...], deadline: _Deadline
    ) -> urllib3.BaseHTTPResponse:
        """The first response with a final status (redirects followed, transient failures retried)."""
        import urllib3

        parts = urlsplit(url)
        own = (parts.username, parts.password or "") if parts.username is not None else None
        origin = _origin(url)
        current = strip_credentials(url)
        attempt = 0
        redirects = 0
        while True:
            if deadline.expired:
                raise self.deadline_error(url, deadline)
            same_origin = _origin(current) == origin
            request_headers = self._headers(
                current,
                headers if same_origin else _without_authorization(headers),
                own if same_origin else None,
            )
            _current.deadline = deadline
            try:
                response = self._pool.request(
                    "GET", current, headers=request_headers, preload_content=False, redirect=False
                )
            except (urllib3.exceptions.HTTPError, OSError, ValueError) as error:
                if deadline.expired:
                    raise self.deadline_error(url, deadline) from None
                if _is_transient(error) and attempt < self.settings.retries:
                    attempt = self._sleep(attempt)
                    continue
                raise NetworkError(
                    f"cannot fetch {_where(url, current)}: {_reason(error)}"
                    + (f" (after {attempt + 1} attempts)" if attempt or _is_transient(error) else "")
                ) from None
            finally:
                _current.deadline = None
            guarded = GuardedResponse(response, self, deadline, url)
            if response.status in REDIRECT_STATUSES and response.status not in ok:
                target = _redirect_target(url, current, response.headers.get("location"))
                guarded.drain_conn()
                guarded.release()
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise NetworkError(f"cannot fetch {redact(url)}: more than {MAX_REDIRECTS} redirects")
                current = target
                continue
            if response.status in RETRY_STATUSES and attempt < self.settings.retries:
                guarded.drain_conn()
                guarded.release()
                attempt = self._sleep(attempt)
                continue
            if response.status not in ok:
                guarded.drain_conn()
                guarded.release()
                raise NetworkError(
                    f"cannot fetch {_where(url, current)}: HTTP {response.status}"
                    + (f" (after {attempt + 1} attempts)" if attempt else ""),
                    hint="check the index URL and credentials" if response.status in (401, 403) else None,
                )
            return response

    def deadline_error(self, url: str, deadline: _Deadline) -> NetworkError:
        return NetworkError(
            f"cannot fetch {redact(url)}: the deadline passed ({deadline.seconds:g} s, plus 1 s per"
            f" {human_size(self._min_rate)} received) before the response was complete",
            hint=f"the server is too slow or never finishes; if the network is just slow, raise"
            f" {DEADLINE_ENV} (seconds)",
        )

    def _sleep(self, attempt: int) -> int:
        time.sleep(self.settings.backoff * (2**attempt))
        return attempt + 1

    def close(self) -> None:
        self._pool.clear()


def _netloc(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return netloc


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with default ports filled in: credentials stay within one origin."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def _without_authorization(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {k: v for k, v in (headers or {}).items() if k.lower() != "authorization"}


def _where(url: str, current: str) -> str:
    return (
        redact(url)
        if current == strip_credentials(url)
        else f"{redact(url)} (redirected to {redact(current)})"
    )


def _redirect_target(url: str, current: str, location: str | None) -> str:
    """The absolute URL a redirect points to, or NetworkError when it may not be followed: no or a
    malformed Location, a scheme other than http(s), or a downgrade from https to http (the page would
    arrive unauthenticated; an attacker on the path could then hand us other links and hashes)."""
    if not location:
        raise NetworkError(f"cannot fetch {_where(url, current)}: a redirect without a Location header")
    shown = redact(location if len(location) <= 200 else location[:200] + "...")
    try:
        target = urljoin(current, location.strip())
        parts = urlsplit(target)
        _ = parts.port
    except ValueError:
        raise NetworkError(
            f"cannot fetch {_where(url, current)}: a redirect to a malformed location {shown!r}"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise NetworkError(
            f"cannot fetch {_where(url, current)}: a redirect to {shown!r} refused (not an http(s) URL)"
        )
    if urlsplit(current).scheme.lower() == "https" and scheme == "http":
        raise NetworkError(
            f"cannot fetch {_where(url, current)}: a redirect from https to http ({shown}) refused",
            hint="use the index's https URL, or an http URL if the index really is plain http",
        )
    # Userinfo chosen by the server is never used: credentials come only from the user's URLs.
    return strip_credentials(target)


def _header_dict(response: GuardedResponse | urllib3.BaseHTTPResponse) -> dict[str, str]:
    return {key.lower(): value for key, value in response.headers.items()}


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, its causes and the exceptions wrapped in its args (urllib3 wraps that way)."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        item = todo.pop(0)
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo.extend(e for e in (item.__cause__, item.__context__, *item.args) if isinstance(e, BaseException))


def _is_transient(error: BaseException) -> bool:
    """Worth another try: connection refused/reset/aborted, timeouts, a temporary DNS failure. Not: an
    unknown scheme, a malformed URL, a failed TLS verification, a malformed or oversized response."""
    import http.client
    import ssl

    import urllib3.exceptions as x

    for cause in _chain(error):
        if isinstance(cause, (x.LocationValueError, x.DecodeError, ssl.SSLCertVerificationError, ValueError)):
            return False
        if isinstance(cause, (http.client.LineTooLong, x.HeaderParsingError)):
            return False
        if isinstance(cause, x.NameResolutionError):
            return any(isinstance(c, socket.gaierror) and c.errno == socket.EAI_AGAIN for c in _chain(cause))
        if isinstance(cause, socket.gaierror):
            return cause.errno == socket.EAI_AGAIN
    for cause in _chain(error):
        if isinstance(cause, (x.TimeoutError, x.NewConnectionError, ConnectionError, TimeoutError)):
            return True
        if isinstance(cause, (http.client.IncompleteRead, x.IncompleteRead, ssl.SSLEOFError)):
            return True
    return False


def _reason(error: BaseException) -> str:
    """The root cause in a few words ("connection refused"), not urllib3's wrapper text."""
    import http.client

    import urllib3.exceptions as x

    for cause in _chain(error):
        if isinstance(cause, http.client.LineTooLong):
            return "a response line is too long (malformed or hostile server)"
        if isinstance(cause, http.client.HTTPException) and "headers" in str(cause):
            return f"malformed response: {cause}"
        if isinstance(cause, x.URLSchemeUnknown):
            return f"unsupported URL scheme {cause.scheme!r}"
        if isinstance(cause, x.LocationParseError):
            return "malformed URL"
    for cause in _chain(error):
        if isinstance(cause, OSError) and cause.strerror:
            return str(cause.strerror).lower()
    reason = getattr(error, "reason", None)
    return str(reason or error) or type(error).__name__


def _default_ca_file() -> str | None:
    import ssl

    paths = ssl.get_default_verify_paths()
    return paths.cafile or None
