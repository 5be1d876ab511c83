"""The HTTP session every network call goes through: retries of transient failures with backoff,
redirects followed by hand (credentials never cross to another origin, https never downgrades),
credentials from URLs kept out of every message, and bounded work against hostile servers: a wall-clock
deadline per request (``index.deadline``) and a size cap on every body read into memory
(``index.limits``). Connections are ``index.transport``'s.

Compile's index client, sync's artifact fetches and ``-r`` URLs use it. The limits are documented in
docs/safety.md ("Network limits").
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit

from envlock.errors import NetworkError
from envlock.index.credentials import CredentialLookup
from envlock.index.credentials import netloc as _netloc
from envlock.index.credentials import origin as _origin
from envlock.index.deadline import WATCHDOG, Deadline, GuardedResponse
from envlock.index.limits import (
    DEADLINE_ENV,
    DEFAULT_DEADLINE,
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_MAX_PAGE_SIZE,
    DEFAULT_MIN_RATE,
    HEADER_TIMEOUT_ENV,
    MAX_PAGE_ENV,
    MIN_RATE_ENV,
    env_seconds,
    env_size,
)
from envlock.index.limits import read_limited as read_limited
from envlock.validate import redact as redact
from envlock.validate import strip_credentials as strip_credentials

if TYPE_CHECKING:
    from envlock.index.transport import SendFailure

RETRY_STATUSES = frozenset({429, *range(500, 600)})
"""Statuses worth another try: rate limiting and server errors. Anything else fails at once."""
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10


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
    lookup: CredentialLookup | None = None
    """Where a login is looked up when the URL has none (named indexes' variables, netrc, keyring).
    None: netrc, and the keyring when ``ENVLOCK_KEYRING`` is set."""
    deadline: float | None = None
    """Seconds one request (connect, headers, body, retries and redirects) may take, plus one second
    per ``min_rate`` body bytes received. None: ``ENVLOCK_HTTP_DEADLINE``, else 300."""
    header_timeout: float | None = None
    """Seconds each response's headers may take after its request was sent (within the deadline).
    None: ``ENVLOCK_HTTP_HEADER_TIMEOUT``, else 30."""
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


class HttpGetter(Protocol):
    """The part of ``HttpClient`` the index client uses (tests may pass a fake)."""

    def get(
        self, url: str, headers: Mapping[str, str] | None = None, *, ok: tuple[int, ...] = (200,)
    ) -> Response: ...

    def stream(
        self, url: str, headers: Mapping[str, str] | None = None, *, ok: tuple[int, ...] = (200,)
    ) -> AbstractContextManager[Any]: ...

    def add_credentials_from(self, url: str) -> str: ...


class HttpClient:
    """Thread-safe: one pool for the whole process, shared by parallel metadata and artifact fetches."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        # lazy: urllib3 (with ssl and http.client) takes ~100 ms to import. A warm compile, whose pages
        # are all fresh in the cache, imports this module but never makes a client (``LazyHttp``).
        from envlock.index.transport import Transport

        self.settings = settings or HttpSettings()
        self._deadline = self.settings.deadline or env_seconds(DEADLINE_ENV, DEFAULT_DEADLINE)
        self._header_timeout = self.settings.header_timeout or env_seconds(
            HEADER_TIMEOUT_ENV, DEFAULT_HEADER_TIMEOUT
        )
        self._min_rate = self.settings.min_rate or env_size(MIN_RATE_ENV, DEFAULT_MIN_RATE)
        self._max_page = self.settings.max_page_size or env_size(MAX_PAGE_ENV, DEFAULT_MAX_PAGE_SIZE)
        self._transport = Transport(
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout,
            max_connections=self.settings.max_connections,
        )
        self._credentials = dict(self.settings.credentials)
        self._lookup = self.settings.lookup or CredentialLookup()

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
        creds = own if own is not None else self._credentials.get(_netloc(url))
        if creds is None or not creds[1]:
            # No password in the URL: the named index's variables, netrc, keyring (a username given
            # in the URL picks the login).
            creds = self._lookup.find(url, creds[0] if creds else None) or creds
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
        deadline = Deadline(self._deadline, self._min_rate, self._header_timeout)
        WATCHDOG.watch(deadline)
        try:
            response = self._request(url, headers, ok, deadline)
            try:
                yield response
            finally:
                response.release()
        finally:
            WATCHDOG.unwatch(deadline)

    def _request(
        self, url: str, headers: Mapping[str, str] | None, ok: tuple[int, ...], deadline: Deadline
    ) -> GuardedResponse:
        """The first response with a final status (redirects followed, transient failures retried)."""
        parts = urlsplit(url)
        own = (parts.username, parts.password or "") if parts.username is not None else None
        origin = _origin(url)
        current = strip_credentials(url)
        attempt = 0
        redirects = 0
        while True:
            if deadline.expired:
                raise deadline.error(url)
            # Credentials (given in the URL, or an Authorization header) go to the URL's own origin only.
            same_origin = _origin(current) == origin
            request_headers = self._headers(
                current,
                headers if same_origin else _without_authorization(headers),
                own if same_origin else None,
            )
            response = self._transport.send(current, request_headers, deadline, url)
            if not isinstance(response, GuardedResponse):
                if deadline.expired:
                    raise deadline.error(url)
                if response.transient and attempt < self.settings.retries:
                    attempt = self._sleep(attempt)
                    continue
                raise _send_error(url, current, response, attempt)
            if response.status in REDIRECT_STATUSES and response.status not in ok:
                target = _redirect_target(url, current, response.headers.get("location"))
                _discard(response)
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise NetworkError(f"cannot fetch {redact(url)}: more than {MAX_REDIRECTS} redirects")
                current = target
                continue
            if response.status in RETRY_STATUSES and attempt < self.settings.retries:
                _discard(response)
                attempt = self._sleep(attempt)
                continue
            if response.status not in ok:
                _discard(response)
                about = self._lookup.describe(current) if response.status in (401, 403) else None
                raise _status_error(url, current, response.status, attempt, about)
            return response

    def _sleep(self, attempt: int) -> int:
        time.sleep(self.settings.backoff * (2**attempt))
        return attempt + 1

    def close(self) -> None:
        self._transport.close()


def _discard(response: GuardedResponse) -> None:
    """Done with an unwanted response: its connection goes back to the pool if the rest is short."""
    response.drain_conn()
    response.release()


def _send_error(url: str, current: str, failure: SendFailure, attempt: int) -> NetworkError:
    return NetworkError(
        f"cannot fetch {_where(url, current)}: {failure.reason}"
        + (f" (after {attempt + 1} attempts)" if attempt or failure.transient else "")
    )


def _status_error(
    url: str, current: str, status: int, attempt: int, about: str | None = None
) -> NetworkError:
    """One line; for a 401/403 ``about`` names the index and where its login was looked up."""
    return NetworkError(
        f"cannot fetch {_where(url, current)}: HTTP {status}"
        + (f" ({about})" if about else "")
        + (f" (after {attempt + 1} attempts)" if attempt else "")
    )


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


def _header_dict(response: GuardedResponse) -> dict[str, str]:
    return {key.lower(): value for key, value in response.headers.items()}
