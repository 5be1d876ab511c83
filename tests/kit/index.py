"""In-process package index: PEP 503 HTML and PEP 691 JSON simple API, metadata files, switches and faults."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import email.parser
import fnmatch
import hashlib
import html
import json
import re
import shutil
import socket
import struct
import sys
import tarfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

from packaging.version import InvalidVersion, Version

from tests.kit.dists import DistSpec, build_all, normalize

__all__ = ["DEFAULT_UPLOAD_TIME", "FAULT_KINDS", "IndexFeatures", "KitIndex", "RequestRecord"]

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
JSON_TYPES = {JSON_V1, "application/vnd.pypi.simple.latest+json"}
HTML_TYPES = {HTML_V1, "application/vnd.pypi.simple.latest+html", "text/html"}
FAULT_KINDS = frozenset({"500", "503", "reset", "slow", "truncate", "short", "wrong_bytes"})
DEFAULT_UPLOAD_TIME = datetime(2024, 1, 1, tzinfo=timezone.utc)
"""Upload time of files published without one: fixed, so locks built against the kit index are stable."""


@dataclass
class IndexFeatures:
    """What the index offers; each switch can be turned off (also while it runs) to test fallbacks."""

    json: bool = True
    """PEP 691 JSON (``application/vnd.pypi.simple.v1+json``) by content negotiation."""
    html: bool = True
    """PEP 503 HTML (``application/vnd.pypi.simple.v1+html`` and ``text/html``)."""
    metadata_files: bool = True
    """PEP 658/714: ``<file>.metadata`` served and advertised (both attribute/key spellings, with sha256)."""
    requires_python: bool = True
    """``data-requires-python`` / ``"requires-python"``."""
    yanked: bool = True
    """PEP 592 ``data-yanked`` / ``"yanked"``."""
    upload_time: bool = True
    """PEP 700 (api-version 1.1): ``upload-time``, ``size`` and ``versions`` in JSON."""
    range_requests: bool = True
    """Honour ``Range`` on files (206 Partial Content)."""
    legacy_json_metadata_key: bool = False
    """Also the pre-PEP 714 ``dist-info-metadata`` key in JSON (HTML always has both attributes). Off by
    default, as on PyPI: pip < 23.1 crashes on that key in JSON, which is why PEP 714 renamed it."""


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it."""

    method: str
    path: str
    """Path with query, as sent."""
    headers: dict[str, str]


@dataclass(frozen=True)
class IndexedFile:
    """A file the index serves."""

    filename: str
    project: str
    sha256: str
    size: int
    requires_python: str | None
    metadata: bytes | None
    """Core metadata of a wheel (served as ``<file>.metadata``); None for sdists."""
    yanked: str | bool | None
    upload_time: datetime

    @property
    def metadata_sha256(self) -> str | None:
        return None if self.metadata is None else hashlib.sha256(self.metadata).hexdigest()

    @property
    def version(self) -> str:
        if self.filename.endswith(".whl"):
            return self.filename.split("-")[1]
        stem = re.sub(r"\.(tar\.gz|zip|tar\.bz2|tgz)$", "", self.filename)
        return stem.rsplit("-", 1)[1]


@dataclass
class _Fault:
    glob: str
    kind: str
    times: int | None
    delay: float


@dataclass
class _Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def _project_of(filename: str) -> str:
    if filename.endswith(".whl"):
        return normalize(filename.split("-")[0])
    stem = re.sub(r"\.(tar\.gz|zip|tar\.bz2|tgz)$", "", filename)
    if stem == filename:
        raise ValueError(f"not a distribution file name: {filename}")
    return normalize(stem.rsplit("-", 1)[0])


def _read_core_metadata(path: Path) -> tuple[bytes | None, bytes | None]:
    """(wheel METADATA, sdist PKG-INFO) of a distribution file."""
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
            return (archive.read(names[0]) if names else None), None
    if path.name.endswith(".tar.gz"):
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                if member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                    extracted = archive.extractfile(member)
                    return None, extracted.read() if extracted else None
    return None, None


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _negotiate(accept: str | None, features: IndexFeatures) -> str | None:
    """Pick the response content type for an Accept header (PEP 691); None means 406."""
    offered: list[str] = []
    if features.json:
        offered += [JSON_V1, "application/vnd.pypi.simple.latest+json"]
    if features.html:
        offered += [HTML_V1, "application/vnd.pypi.simple.latest+html", "text/html"]
    if not offered:
        return None
    if not accept:
        return "text/html" if features.html else JSON_V1
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(accept.split(",")):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        quality = 1.0
        for param in parts[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if media in ("*/*", "application/*", "text/*"):
            candidates = [t for t in offered if media == "*/*" or t.startswith(media[:-1])]
            # PEP 691: a wildcard gets HTML when available, for old clients.
            candidates.sort(key=lambda t: (t != "text/html", t not in HTML_TYPES))
            chosen = candidates[0] if candidates else None
        else:
            chosen = media if media in offered else None
        if chosen and (best is None or (quality, -position) > (best[0], best[1])):
            best = (quality, -position, chosen)
    if best is None:
        return None
    chosen = best[2]
    if chosen in JSON_TYPES:
        return JSON_V1
    return chosen if chosen == "text/html" else HTML_V1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "envlock-kit-index/1.0"
    timeout = 30
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: requests are recorded in ``KitIndex.requests``."""

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, *, head: bool) -> None:
        index = self.server.kit
        index._record(RequestRecord(self.command, self.path, dict(self.headers.items())))
        fault = index._take_fault(urlsplit(self.path).path)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "reset":
            self._reset()
            return
        if fault is not None and fault.kind in ("500", "503"):
            response = _Response(int(fault.kind), [("Content-Type", "text/plain")], b"injected fault\n")
        else:
            response = index._respond(self.command, self.path, self.headers)
        self._send(response, head=head, fault=fault.kind if fault else None)

    def _reset(self) -> None:
        """Close the connection with a TCP RST and no response."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _send(self, response: _Response, *, head: bool, fault: str | None) -> None:
        body = response.body
        length = len(body)
        if fault == "truncate":
            body = body[: len(body) // 2]
        elif fault == "short":
            body = body[: len(body) // 2]
            length = len(body)
        elif fault == "wrong_bytes":
            body = bytes(b ^ 0xFF for b in body)
        self.send_response(response.status)
        for key, value in response.headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(length))
        if fault in ("truncate", "500", "503"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not head:
            self.wfile.write(body)
        if fault == "truncate":
            self.wfile.flush()
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    kit: KitIndex

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up (and injected faults) are normal here; anything else is printed."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class KitIndex:
    """A simple-API package index on 127.0.0.1 serving files from ``root``; a context manager."""

    def __init__(self, root: Path, features: IndexFeatures | None = None) -> None:
        self.root = Path(root)
        self.files_dir = self.root / "files"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.features = features if features is not None else IndexFeatures()
        self.auth: tuple[str, str] | None = None
        self.requests: list[RequestRecord] = []
        self._files: dict[str, IndexedFile] = {}
        self._faults: list[_Fault] = []
        self._pages: dict[str, tuple[str, bytes]] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._changed = DEFAULT_UPLOAD_TIME

    # --- lifecycle ---

    def start(self) -> None:
        if self._server is not None:
            return
        server = _Server(("127.0.0.1", 0), _Handler)
        server.kit = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="kit-index", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> KitIndex:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the index is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Root of the simple API: ``http://127.0.0.1:<port>/simple/``."""
        return f"{self.base_url}/simple/"

    def url_with_auth(self) -> str:
        """``url`` with the ``auth`` credentials embedded (``http://user:pass@127.0.0.1:<port>/simple/``)."""
        if self.auth is None:
            return self.url
        user, password = self.auth
        return f"http://{user}:{password}@127.0.0.1:{self.port}/simple/"

    # --- content ---

    def publish(
        self,
        *specs: DistSpec,
        yanked: str | bool | None = None,
        upload_time: datetime | None = None,
    ) -> list[Path]:
        """Build every spec (wheels and/or sdist) and serve the results; returns the served paths."""
        paths: list[Path] = []
        for spec in specs:
            for built in build_all(spec, self.root / "build"):
                self.add_file(built, yanked=yanked, upload_time=upload_time)
                paths.append(self.files_dir / built.name)
        return paths

    def add_file(
        self, path: Path, *, yanked: str | bool | None = None, upload_time: datetime | None = None
    ) -> None:
        """Serve an existing distribution file (copied into the index's folder)."""
        path = Path(path)
        target = self.files_dir / path.name
        if path.resolve() != target.resolve():
            shutil.copyfile(path, target)
        data = target.read_bytes()
        metadata, pkg_info = _read_core_metadata(target)
        headers = email.parser.BytesParser().parsebytes(metadata or pkg_info or b"", headersonly=True)
        when = upload_time or DEFAULT_UPLOAD_TIME
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        entry = IndexedFile(
            filename=path.name,
            project=_project_of(path.name),
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            requires_python=headers.get("Requires-Python"),
            metadata=metadata,
            yanked=yanked,
            upload_time=when,
        )
        with self._lock:
            self._files[path.name] = entry
            self._changed = max(self._changed, datetime.now(timezone.utc).replace(microsecond=0))

    def add_bytes(
        self,
        filename: str,
        data: bytes,
        metadata: bytes | None,
        *,
        requires_python: str | None = None,
        upload_time: datetime | None = None,
        yanked: str | bool | None = None,
    ) -> None:
        """Serve ``data`` as ``filename`` whose core metadata (and its Requires-Python) the caller already
        has: no archive is opened, so a page of thousands of files is cheap to publish (kit/big.py)."""
        (self.files_dir / filename).write_bytes(data)
        when = upload_time or DEFAULT_UPLOAD_TIME
        entry = IndexedFile(
            filename=filename,
            project=_project_of(filename),
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            requires_python=requires_python,
            metadata=metadata,
            yanked=yanked,
            upload_time=when if when.tzinfo else when.replace(tzinfo=timezone.utc),
        )
        with self._lock:
            self._files[filename] = entry
            self._changed = max(self._changed, datetime.now(timezone.utc).replace(microsecond=0))

    def serve_page(self, project: str, content_type: str, body: bytes) -> None:
        """Serve ``body`` as ``project``'s page, whatever is asked for (hostile-page tests)."""
        with self._lock:
            self._pages[normalize(project)] = (content_type, body)

    def replace_metadata(self, filename: str, metadata: bytes) -> None:
        """Serve (and advertise the hash of) other PEP 658 metadata for ``filename`` than its own."""
        with self._lock:
            headers = email.parser.BytesParser().parsebytes(metadata, headersonly=True)
            self._files[filename] = dataclasses.replace(
                self._files[filename], metadata=metadata, requires_python=headers.get("Requires-Python")
            )

    def remove_file(self, filename: str) -> None:
        with self._lock:
            del self._files[filename]
            self._changed = datetime.now(timezone.utc).replace(microsecond=0)

    def file_url(self, filename: str) -> str:
        return f"{self.base_url}/files/{filename}"

    def sha256(self, filename: str) -> str:
        return self._files[filename].sha256

    def projects(self) -> list[str]:
        with self._lock:
            return sorted({f.project for f in self._files.values()})

    def files_of(self, project: str) -> list[IndexedFile]:
        with self._lock:
            files = [f for f in self._files.values() if f.project == normalize(project)]
        return sorted(files, key=lambda f: f.filename)

    # --- faults and records ---

    def fault(self, path_glob: str, kind: str, *, times: int | None = None, delay: float = 2.0) -> None:
        """Misbehave on requests whose path matches ``path_glob`` (fnmatch) ``times`` times (None: always).

        kinds: "500", "503", "reset", "slow", "truncate", "short", "wrong_bytes" (see docs/testing.md).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(FAULT_KINDS)}")
        with self._lock:
            self._faults.append(_Fault(path_glob, kind, times, delay))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fnmatch.fnmatchcase(path, fault.glob):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def requested_paths(self) -> list[str]:
        """Paths (without query) of all requests so far, in order."""
        with self._lock:
            return [urlsplit(r.path).path for r in self.requests]

    # --- HTTP ---

    def _authorized(self, header: str | None) -> bool:
        if self.auth is None:
            return True
        if not header or not header.lower().startswith("basic "):
            return False
        try:
            decoded = base64.b64decode(header.split(None, 1)[1]).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        return (user, password) == self.auth

    def _respond(self, method: str, raw_path: str, headers: Message) -> _Response:
        if not self._authorized(headers.get("Authorization")):
            return _Response(
                401,
                [("WWW-Authenticate", 'Basic realm="kit-index"'), ("Content-Type", "text/plain")],
                b"authentication required\n",
            )
        path = unquote(urlsplit(raw_path).path)
        if path in ("/simple", "/simple/"):
            if path == "/simple":
                return self._redirect("/simple/")
            return self._simple_page(headers, None)
        match = re.fullmatch(r"/simple/([^/]+)(/?)", path)
        if match:
            name, slash = match.groups()
            if name != normalize(name) or not slash:
                return self._redirect(f"/simple/{normalize(name)}/")
            with self._lock:
                page = self._pages.get(normalize(name))
            if page is not None:
                return _Response(200, [("Content-Type", page[0])], page[1])
            if not self.files_of(name):
                return _not_found()
            return self._simple_page(headers, name)
        match = re.fullmatch(r"/files/([^/]+)", path)
        if match:
            return self._file(match.group(1), headers)
        return _not_found()

    def _redirect(self, location: str) -> _Response:
        return _Response(301, [("Location", location), ("Content-Type", "text/plain")], b"moved\n")

    def _file(self, filename: str, request_headers: Message) -> _Response:
        with self._lock:
            entry = self._files.get(filename)
            meta_entry = None
            if entry is None and filename.endswith(".metadata"):
                meta_entry = self._files.get(filename[: -len(".metadata")])
        if meta_entry is not None:
            if not self.features.metadata_files or meta_entry.metadata is None:
                return _not_found()
            return _Response(
                200,
                [("Content-Type", "text/plain; charset=utf-8"), ("ETag", f'"{meta_entry.metadata_sha256}"')],
                meta_entry.metadata,
            )
        if entry is None:
            return _not_found()
        data = (self.files_dir / filename).read_bytes()
        content_type = "application/zip" if filename.endswith(".whl") else "application/octet-stream"
        headers = [("Content-Type", content_type), ("ETag", f'"{entry.sha256}"')]
        headers.append(("Last-Modified", format_datetime(entry.upload_time, usegmt=True)))
        if not self.features.range_requests:
            return _Response(200, [*headers, ("Accept-Ranges", "none")], data)
        headers.append(("Accept-Ranges", "bytes"))
        range_header = request_headers.get("Range")
        if not range_header:
            return _Response(200, headers, data)
        byte_range = _parse_range(str(range_header), len(data))
        if byte_range is None:  # malformed or multi-range: ignore it, as RFC 9110 allows
            return _Response(200, headers, data)
        if byte_range == (-1, -1):
            return _Response(416, [("Content-Range", f"bytes */{len(data)}")], b"")
        start, end = byte_range
        return _Response(
            206, [*headers, ("Content-Range", f"bytes {start}-{end}/{len(data)}")], data[start : end + 1]
        )

    def _simple_page(self, request_headers: Message, project: str | None) -> _Response:
        content_type = _negotiate(request_headers.get("Accept"), self.features)
        if content_type is None:
            return _Response(406, [("Content-Type", "text/plain")], b"no acceptable representation\n")
        is_json = content_type == JSON_V1
        if project is None:
            body = self._render_root(is_json)
        else:
            body = self._render_project(normalize(project), is_json)
        etag = '"' + hashlib.sha256(content_type.encode() + b"\0" + body).hexdigest()[:32] + '"'
        last_modified = format_datetime(self._changed, usegmt=True)
        headers = [
            ("Content-Type", content_type + ("" if is_json else "; charset=utf-8")),
            ("Vary", "Accept"),
            ("ETag", etag),
            ("Last-Modified", last_modified),
            ("Cache-Control", "max-age=0, must-revalidate"),
        ]
        if_none_match = request_headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {t.strip() for t in str(if_none_match).split(",")}
            if etag in tags or "*" in tags:
                return _Response(304, [h for h in headers if h[0] != "Content-Type"], b"")
        else:
            since = request_headers.get("If-Modified-Since")
            if since:
                try:
                    if parsedate_to_datetime(str(since)) >= self._changed:
                        return _Response(304, [h for h in headers if h[0] != "Content-Type"], b"")
                except (TypeError, ValueError):
                    pass
        return _Response(200, headers, body)

    def _api_version(self) -> str:
        return "1.1" if self.features.upload_time else "1.0"

    def _render_root(self, is_json: bool) -> bytes:
        projects = self.projects()
        if is_json:
            document = {
                "meta": {"api-version": self._api_version()},
                "projects": [{"name": p} for p in projects],
            }
            return json.dumps(document, indent=1).encode("utf-8")
        links = "".join(f'<a href="{p}/">{p}</a>\n' for p in projects)
        return _html_page("Simple index", links)

    def _render_project(self, project: str, is_json: bool) -> bytes:
        files = self.files_of(project)
        features = self.features
        if is_json:
            rendered = []
            for f in files:
                item: dict[str, object] = {
                    "filename": f.filename,
                    "url": self.file_url(f.filename),
                    "hashes": {"sha256": f.sha256},
                }
                if features.requires_python and f.requires_python:
                    item["requires-python"] = f.requires_python
                if features.metadata_files and f.metadata is not None:
                    item["core-metadata"] = {"sha256": f.metadata_sha256}
                    if features.legacy_json_metadata_key:
                        item["dist-info-metadata"] = {"sha256": f.metadata_sha256}
                if features.yanked and f.yanked:
                    item["yanked"] = f.yanked
                if features.upload_time:
                    item["size"] = f.size
                    item["upload-time"] = _iso(f.upload_time)
                rendered.append(item)
            document: dict[str, object] = {
                "meta": {"api-version": self._api_version()},
                "name": project,
                "files": rendered,
            }
            if features.upload_time:
                document["versions"] = sorted({f.version for f in files}, key=_version_key)
            return json.dumps(document, indent=1).encode("utf-8")
        links = []
        for f in files:
            attrs = [f'href="{html.escape(self.file_url(f.filename))}#sha256={f.sha256}"']
            if features.requires_python and f.requires_python:
                attrs.append(f'data-requires-python="{html.escape(f.requires_python)}"')
            if features.metadata_files and f.metadata is not None:
                attrs.append(f'data-dist-info-metadata="sha256={f.metadata_sha256}"')
                attrs.append(f'data-core-metadata="sha256={f.metadata_sha256}"')
            if features.yanked and f.yanked:
                reason = f.yanked if isinstance(f.yanked, str) else ""
                attrs.append(f'data-yanked="{html.escape(reason)}"')
            links.append(f"<a {' '.join(attrs)}>{html.escape(f.filename)}</a><br/>\n")
        return _html_page(f"Links for {project}", "".join(links))

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"KitIndex({where}, {len(self._files)} files)"


def _version_key(version: str) -> tuple[int, Version | None, str]:
    """PEP 440 order; unparsable versions last, by text."""
    try:
        return (0, Version(version), version)
    except InvalidVersion:
        return (1, None, version)


def _html_page(title: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        '<meta name="pypi:repository-version" content="1.0">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
        f"{body}</body>\n</html>\n"
    ).encode()


def _not_found() -> _Response:
    return _Response(404, [("Content-Type", "text/plain")], b"not found\n")


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Inclusive (start, end) of a single ``bytes=`` range; None to ignore it; (-1, -1) if unsatisfiable."""
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            return (-1, -1)
        return (max(0, size - suffix), size - 1)
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or (last != "" and int(last) < start):
        return (-1, -1)
    return (start, end)
