"""The wall-clock deadline of one request: the watchdog thread that enforces it by shutting down the
sockets the request uses, and the response whose reads report the deadline instead of a cut-off body.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from envlock.errors import NetworkError
from envlock.index.limits import DEADLINE_ENV, DRAIN, HEADER_TIMEOUT_ENV, human_size
from envlock.validate import redact

if TYPE_CHECKING:
    import urllib3


class Deadline:
    """The wall-clock budget of one request. When it passes, the watchdog shuts down the socket of every
    connection the request is using, so a read blocked on a trickling server returns at once; the
    reader then sees ``expired`` and reports the deadline instead of whatever the shutdown caused."""

    def __init__(self, seconds: float, min_rate: int, header_seconds: float | None = None) -> None:
        self.seconds = seconds
        self._min_rate = min_rate
        self._started = time.monotonic()
        self.received = 0
        self.expired = False
        self.header_seconds = header_seconds
        """Seconds each response's headers may take to arrive after its request was sent."""
        self._headers_due: float | None = None
        self.headers_missed = False
        """It expired while waiting for a response's headers (their own, shorter deadline)."""
        self._connections: list[Any] = []
        self._lock = threading.Lock()

    def due(self) -> float:
        whole = self._started + self.seconds + self.received / self._min_rate
        headers = self._headers_due
        return whole if headers is None else min(whole, headers)

    def awaiting_headers(self) -> None:
        """A request is being sent: its response's headers are due within ``header_seconds``."""
        if self.header_seconds is not None:
            self._headers_due = time.monotonic() + self.header_seconds
            WATCHDOG.recheck()

    def headers_arrived(self) -> None:
        self._headers_due = None

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
            headers = self._headers_due
            self.headers_missed = headers is not None and time.monotonic() >= headers
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            # A connection handed back to the pool and taken by another request is no longer ours.
            if getattr(connection, "envlock_deadline", None) is self:
                _shutdown(connection)

    def error(self, url: str) -> NetworkError:
        """What the request for ``url`` fails with once this deadline passed."""
        if self.headers_missed:
            return NetworkError(
                f"cannot fetch {redact(url)}: the deadline passed: no response headers within"
                f" {self.header_seconds:g} s",
                hint=f"the server is too slow to answer; if it is just slow, raise {HEADER_TIMEOUT_ENV}",
            )
        return NetworkError(
            f"cannot fetch {redact(url)}: the deadline passed ({self.seconds:g} s, plus 1 s per"
            f" {human_size(self._min_rate)} received) before the response was complete",
            hint=f"the server is too slow or never finishes; if the network is just slow, raise"
            f" {DEADLINE_ENV} (seconds)",
        )


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
        self._active: set[Deadline] = set()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: Deadline) -> None:
        with self._wake:
            self._active.add(deadline)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="envlock-http-deadline", daemon=True)
                self._thread.start()
            self._wake.notify()

    def recheck(self) -> None:
        """A watched deadline came nearer: sleep again until the earliest one."""
        with self._wake:
            self._wake.notify()

    def unwatch(self, deadline: Deadline) -> None:
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


WATCHDOG = _Watchdog()
_current = threading.local()
"""The deadline of the request the current thread is making (read by the connection classes)."""


@contextmanager
def requesting(deadline: Deadline) -> Iterator[None]:
    """While the current thread sends a request under ``deadline``: connections it uses attach to it."""
    _current.deadline = deadline
    try:
        yield
    finally:
        _current.deadline = None


def attach_current(connection: Any) -> None:
    """``connection`` works for the request the current thread is making, if any."""
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.attach(connection)


class GuardedResponse:
    """A streaming response (what ``HttpClient.stream`` yields): reads raise NetworkError naming the URL
    once the deadline passed (a shut-down socket must not pass for a complete body). Offers what envlock
    uses of urllib3's response: status, headers, read, stream, drain_conn."""

    def __init__(self, raw: urllib3.BaseHTTPResponse, deadline: Deadline, url: str) -> None:
        self._raw = raw
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
            raise self._deadline.error(self._url)
        try:
            data = self._raw.read(amt)
        except Exception:
            if self._deadline.expired:
                raise self._deadline.error(self._url) from None
            raise
        if self._deadline.expired:
            raise self._deadline.error(self._url)
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
            while drained <= DRAIN and not self._deadline.expired:
                chunk = self._raw.read(DRAIN)
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
