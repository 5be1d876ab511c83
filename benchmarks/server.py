"""A fast local package index for the benchmark: PEP 691 JSON, PEP 503 HTML, PEP 658 metadata, keep-alive."""

from __future__ import annotations

import hashlib
import html
import json
import shutil
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from corpus import CorpusFile
from packaging.utils import canonicalize_name
from packaging.version import Version

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
_OFFERED = (
    JSON_V1,
    "application/vnd.pypi.simple.latest+json",
    HTML_V1,
    "application/vnd.pypi.simple.latest+html",
)
PAGE_CACHE_CONTROL = "max-age=600, public"
"""What PyPI sends for simple pages, so each tool's HTTP cache behaves as it does against PyPI."""
FILE_CACHE_CONTROL = "max-age=365000000, immutable, public"


@dataclass(frozen=True)
class Page:
    """A precomputed response body with its headers."""

    body: bytes
    content_type: str
    etag: str


@dataclass
class Stats:
    """Requests served since the last reset (for the report: how chatty each tool is)."""

    requests: int = 0
    bytes_sent: int = 0


def _negotiate(accept: str | None) -> str:
    """Pick JSON or HTML by the Accept header's q-values (PEP 691); HTML when nothing specific is asked."""
    best, best_q = "text/html", -1.0
    for position, item in enumerate((accept or "").split(",")):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        q = 1.0
        for param in parts[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        q -= position * 1e-6  # earlier wins ties
        if media in _OFFERED or media == "text/html":
            chosen = JSON_V1 if media.endswith("json") else (HTML_V1 if "pypi" in media else "text/html")
            if q > best_q and q > 0:
                best, best_q = chosen, q
    return best


class IndexPages:
    """Every page of the index, rendered once."""

    def __init__(self, files: Iterable[CorpusFile]) -> None:
        self.files: dict[str, CorpusFile] = {}
        by_project: dict[str, list[CorpusFile]] = {}
        for f in files:
            self.files[f.filename] = f
            by_project.setdefault(f.project, []).append(f)
        self.projects = sorted(by_project)
        self.by_project = by_project
        self.pages: dict[tuple[str | None, str], Page] = {}
        for is_json in (True, False):
            self._store(None, is_json, self._root(is_json))
            for project, entries in by_project.items():
                entries.sort(key=lambda f: (Version(f.version), f.filename))
                self._store(project, is_json, self._project(project, entries, is_json))

    def _store(self, project: str | None, is_json: bool, body: bytes) -> None:
        content_type = JSON_V1 if is_json else "text/html; charset=utf-8"
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        self.pages[(project, "json" if is_json else "html")] = Page(body, content_type, etag)

    def _root(self, is_json: bool) -> bytes:
        if is_json:
            doc = {"meta": {"api-version": "1.1"}, "projects": [{"name": p} for p in self.projects]}
            return json.dumps(doc).encode()
        links = "".join(f'<a href="/simple/{p}/">{p}</a>\n' for p in self.projects)
        return _html("Simple index", links)

    def _project(self, project: str, entries: list[CorpusFile], is_json: bool) -> bytes:
        if is_json:
            doc = {
                "meta": {"api-version": "1.1"},
                "name": project,
                "versions": sorted({f.version for f in entries}, key=Version),
                "files": [
                    {
                        "filename": f.filename,
                        "url": f"/files/{f.filename}",
                        "hashes": {"sha256": f.sha256},
                        "requires-python": f.requires_python,
                        "core-metadata": {"sha256": f.metadata_sha256} if f.metadata_sha256 else False,
                        "dist-info-metadata": {"sha256": f.metadata_sha256} if f.metadata_sha256 else False,
                        "size": f.size,
                        "upload-time": f.upload_time,
                        "yanked": False,
                    }
                    for f in entries
                ],
            }
            return json.dumps(doc).encode()
        links = []
        for f in entries:
            attrs = f'href="/files/{f.filename}#sha256={f.sha256}"'
            if f.requires_python:
                attrs += f' data-requires-python="{html.escape(f.requires_python)}"'
            if f.metadata_sha256:
                attrs += f' data-core-metadata="sha256={f.metadata_sha256}"'
                attrs += f' data-dist-info-metadata="sha256={f.metadata_sha256}"'
            links.append(f"<a {attrs}>{f.filename}</a><br/>\n")
        return _html(f"Links for {project}", "".join(links))


def _html(title: str, body: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.1">'
        f"<title>{title}</title></head><body><h1>{title}</h1>\n{body}</body></html>\n"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "envlock-bench-index/1.0"
    timeout = 60
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, *, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        pages = self.server.pages
        if path == "/simple/" or path == "/simple":
            self._page(None, head)
        elif path.startswith("/simple/"):
            name = path[len("/simple/") :].strip("/")
            normalized = canonicalize_name(name)
            if name != normalized or not path.endswith("/"):
                self._reply(301, [("Location", f"/simple/{normalized}/")], b"", head)
            elif normalized in pages.projects:
                self._page(normalized, head)
            else:
                self._reply(404, [("Content-Type", "text/plain")], b"not found\n", head)
        elif path.startswith("/files/"):
            self._file(path[len("/files/") :], head)
        elif path.endswith("/json") and canonicalize_name(path.split("/")[-2]) in pages.projects:
            self._legacy_json(canonicalize_name(path.split("/")[-2]), head)
        else:
            self._reply(404, [("Content-Type", "text/plain")], b"not found\n", head)

    def _page(self, project: str | None, head: bool) -> None:
        kind = _negotiate(self.headers.get("Accept"))
        page = self.server.pages.pages[(project, "json" if kind == JSON_V1 else "html")]
        content_type = page.content_type if kind != HTML_V1 else HTML_V1
        headers = [("Vary", "Accept"), ("ETag", page.etag), ("Cache-Control", PAGE_CACHE_CONTROL)]
        if page.etag in (self.headers.get("If-None-Match") or ""):
            self._reply(304, headers, b"", head)
        else:
            self._reply(200, [("Content-Type", content_type), *headers], page.body, head)

    def _legacy_json(self, project: str, head: bool) -> None:
        """Warehouse's per-project JSON API (``/pypi/<name>/json``, and ``/<name>/json`` where pip-tools 7
        looks for it): pip-compile takes hashes from it instead of downloading every file, as on PyPI."""
        base = f"http://{self.headers.get('Host', '127.0.0.1')}/files/"
        releases: dict[str, list[dict[str, object]]] = {}
        for f in self.server.pages.by_project[project]:
            releases.setdefault(f.version, []).append(
                {
                    "filename": f.filename,
                    "url": base + f.filename,
                    "digests": {"sha256": f.sha256},
                    "packagetype": "bdist_wheel" if f.filename.endswith(".whl") else "sdist",
                    "requires_python": f.requires_python,
                    "size": f.size,
                }
            )
        latest = max(releases, key=Version)
        doc = {"info": {"name": project, "version": latest}, "releases": releases, "urls": releases[latest]}
        self._reply(200, [("Content-Type", "application/json")], json.dumps(doc).encode(), head)

    def _file(self, filename: str, head: bool) -> None:
        pages = self.server.pages
        headers = [("Cache-Control", FILE_CACHE_CONTROL)]
        if filename.endswith(".metadata") and filename[: -len(".metadata")] in pages.files:
            entry = pages.files[filename[: -len(".metadata")]]
            if entry.metadata_sha256 is None:
                self._reply(404, [("Content-Type", "text/plain")], b"not found\n", head)
                return
            body = entry.metadata_path.read_bytes()
            headers += [("Content-Type", "text/plain; charset=utf-8"), ("ETag", f'"{entry.metadata_sha256}"')]
            self._reply(200, headers, body, head)
            return
        entry_or_none = pages.files.get(filename)
        if entry_or_none is None:
            self._reply(404, [("Content-Type", "text/plain")], b"not found\n", head)
            return
        entry = entry_or_none
        headers += [("Content-Type", "application/octet-stream"), ("ETag", f'"{entry.sha256}"')]
        self._start(200, [*headers, ("Content-Length", str(entry.size))])
        if not head:
            with entry.path.open("rb") as f:
                shutil.copyfileobj(f, self.wfile, 1 << 20)
        self.server.count(entry.size)

    def _start(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()

    def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes, head: bool) -> None:
        """Headers and body in one write: no Nagle/delayed-ACK stall on keep-alive connections."""
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n")
        if not head:
            self._headers_buffer.append(body)
        self.wfile.write(b"".join(self._headers_buffer))
        self._headers_buffer = []
        self.server.count(len(body))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], pages: IndexPages) -> None:
        super().__init__(address, _Handler)
        self.pages = pages
        self.stats = Stats()
        self._lock = threading.Lock()

    def count(self, size: int) -> None:
        with self._lock:
            self.stats.requests += 1
            self.stats.bytes_sent += size


class BenchIndex:
    """Serves the corpus on 127.0.0.1 in a background thread; a context manager."""

    def __init__(self, files: Iterable[CorpusFile], port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), IndexPages(files))
        self._thread = threading.Thread(target=self._server.serve_forever, name="bench-index", daemon=True)

    @property
    def url(self) -> str:
        """The simple API root, e.g. ``http://127.0.0.1:PORT/simple/``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/simple/"

    def take_stats(self) -> Stats:
        """Requests served since the previous call."""
        with self._server._lock:
            stats, self._server.stats = self._server.stats, Stats()
        return stats

    def __enter__(self) -> BenchIndex:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


if __name__ == "__main__":  # pragma: no cover - manual use: python benchmarks/server.py
    import corpus

    with BenchIndex(corpus.build(), port=0) as index:
        print(f"serving {index.url} (Ctrl-C to stop)", flush=True)
        threading.Event().wait()
