"""A raw HTTP server for hostile-network tests: on 127.0.0.1 only, in threads, and every byte of every
response is the test's choice (trickled headers, endless bodies, malformed redirects...), which
``http.server`` and the kit index cannot produce."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType


@dataclass
class RawRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    """Lower-case names."""


class Reply:
    """What a handler writes with: the client socket, plus helpers that stop when the server stops or
    the client hangs up."""

    def __init__(self, conn: socket.socket, stopping: threading.Event) -> None:
        self.conn = conn
        self.stopping = stopping
        self.sent = 0

    def send(self, data: bytes) -> bool:
        """False once the client is gone (or the server stops)."""
        if self.stopping.is_set():
            return False
        try:
            self.conn.sendall(data)
        except OSError:
            return False
        self.sent += len(data)
        return True

    def head(self, status: str = "200 OK", *headers: str) -> bool:
        lines = [f"HTTP/1.1 {status}", *headers, "Connection: close", "", ""]
        return self.send("\r\n".join(lines).encode("latin-1"))

    def trickle(self, byte: bytes = b"a", every: float = 0.3) -> None:
        """One byte every ``every`` seconds until the client or the server gives up."""
        while self.send(byte):
            self.stopping.wait(every)

    def endless(self, chunk: bytes = b"\0" * 65536) -> None:
        while self.send(chunk):
            pass


Handler = Callable[[RawRequest, Reply], None]


class RawServer:
    """``RawServer(handler)``: each request (one per connection) is recorded, then answered by
    ``handler``; the connection is closed when it returns. ``tls`` makes it an https server."""

    def __init__(self, handler: Handler, *, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.requests: list[RawRequest] = []
        self.connections = 0
        self.replies: list[Reply] = []
        self._stopping = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(32)
        self._listener.settimeout(0.2)
        self._open: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        port: int = self._listener.getsockname()[1]
        return port

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def start(self) -> RawServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> RawServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
                with self._lock:
                    self._open.append(conn)
            request = _read_request(conn)
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
            reply = Reply(conn, self._stopping)
            self.replies.append(reply)
            self.handler(request, reply)
        except (OSError, ssl.SSLError):
            pass  # the client hung up or refused our certificate: normal here
        finally:
            with contextlib.suppress(OSError):
                conn.close()


def _read_request(conn: socket.socket) -> RawRequest | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, path, _version = head[0].split(" ", 2)
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawRequest(method, path, headers)


def self_signed_tls(folder: str) -> tuple[ssl.SSLContext, str] | None:
    """A server context with a fresh self-signed certificate for 127.0.0.1, and the certificate's path
    (to trust it through ``SSL_CERT_FILE``); None when the ``openssl`` command is missing."""
    import shutil
    import subprocess
    from pathlib import Path

    if shutil.which("openssl") is None:
        return None
    key, cert = Path(folder) / "key.pem", Path(folder) / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, str(cert)
