"""urllib3 under the request deadline: a connection pool whose connections report to the deadline of the
request using them (TLS handshakes included), one GET sent as asked (no redirects followed, no retries),
and a failed send told apart as worth another try or not. The policy on top is ``index.http``'s.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions as x

from envlock import __version__
from envlock.index.deadline import Deadline, GuardedResponse, attach_current, requesting

USER_AGENT = f"envlock/{__version__}"


def _watched(base: type[Any]) -> type[Any]:
    """``base`` (HTTP or HTTPS connection) reporting to the current request's deadline, both when it
    connects and when a pooled connection is reused for a request."""

    class Watched(base):  # type: ignore[misc]
        def connect(self) -> None:
            attach_current(self)
            super().connect()

        def request(self, *args: Any, **kwargs: Any) -> None:
            attach_current(self)
            super().request(*args, **kwargs)
            self.envlock_sock = self.sock

    return Watched


class _WatchedHTTPConnectionPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _watched(urllib3.connection.HTTPConnection)


class _WatchedHTTPSConnectionPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _watched(urllib3.connection.HTTPSConnection)


_POOL_CLASSES: dict[str, Any] = {"http": _WatchedHTTPConnectionPool, "https": _WatchedHTTPSConnectionPool}


@dataclass(frozen=True)
class SendFailure:
    """A GET that got no response."""

    error: BaseException

    @property
    def transient(self) -> bool:
        """Another try may help."""
        return _is_transient(self.error)

    @property
    def reason(self) -> str:
        """Why, in a few words."""
        return _reason(self.error)


class Transport:
    """Thread-safe: one pool for the whole process, shared by parallel metadata and artifact fetches."""

    def __init__(self, *, connect_timeout: float, read_timeout: float, max_connections: int) -> None:
        self._pool = urllib3.PoolManager(
            num_pools=32,
            maxsize=max_connections,
            block=False,
            headers={"User-Agent": USER_AGENT},
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            retries=False,
            ca_certs=os.environ.get("SSL_CERT_FILE") or _default_ca_file(),
        )
        # Public attribute of PoolManager: which pool class serves a scheme (ours watch the deadline).
        self._pool.pool_classes_by_scheme = _POOL_CLASSES

    def send(
        self, url: str, headers: Mapping[str, str], deadline: Deadline, shown_url: str
    ) -> GuardedResponse | SendFailure:
        """GET ``url`` under ``deadline``; the body is left unread (its reads name ``shown_url``)."""
        deadline.awaiting_headers()
        try:
            with requesting(deadline):
                raw = self._pool.request("GET", url, headers=headers, preload_content=False, redirect=False)
        except (x.HTTPError, OSError, ValueError) as error:
            return SendFailure(error)
        finally:
            deadline.headers_arrived()
        return GuardedResponse(raw, deadline, shown_url)

    def close(self) -> None:
        self._pool.clear()


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
    paths = ssl.get_default_verify_paths()
    return paths.cafile or None
