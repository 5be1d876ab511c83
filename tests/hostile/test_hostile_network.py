"""Hostile servers (issue 10, "bounded work"; docs/safety.md "Network limits"): a server that trickles
headers or a body, sends an endless page, metadata file or artifact, answers with malformed or endless
headers, or redirects where it should not, makes compile and sync fail with one line naming the URL,
exit 1, no traceback, bounded work. The CLI runs in a subprocess with a timeout as a guard (a hang
fails the test instead of hanging it); no test asserts a wall-clock time.

The servers are ``tests.kit.raw_server.RawServer``: 127.0.0.1 only, threads, stopped after each test."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from envlock.errors import NetworkError
from envlock.index.http import HttpClient, HttpSettings
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.raw_server import RawRequest, RawServer, Reply, self_signed_tls
from tests.kit.sync_locks import lock_for, write_lock_dict

GUARD = 180
"""Seconds a CLI run may take before the test calls it hung (today's code hangs on most of these)."""
FAST = {"ENVLOCK_HTTP_DEADLINE": "1.5"}
WHEEL = "alpha-1.0-py3-none-any.whl"
JSON_TYPE = "Content-Type: application/vnd.pypi.simple.v1+json"


def envlock(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m envlock ARGS`` like the ``run_envlock`` fixture, with a shorter guard timeout."""
    full = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "envlock", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=GUARD,
        check=False,
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], url: str, *needles: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert url in result.stderr, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


@pytest.fixture
def servers() -> Iterator[list[RawServer]]:
    """Servers a test starts go in here; all are stopped at the end."""
    started: list[RawServer] = []
    yield started
    for server in started:
        server.stop()


def serve(servers: list[RawServer], handler: object, **kw: object) -> RawServer:
    server = RawServer(handler, **kw).start()  # type: ignore[arg-type]
    servers.append(server)
    return server


def compile_alpha(
    work: Path, index_url: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    (work / "requirements.in").write_text("alpha\n")
    return envlock("compile", "--index-url", index_url, cwd=work, env=env)


def json_page(server: RawServer, **entry: object) -> bytes:
    """A PEP 691 page listing alpha's wheel on ``server`` (sha256 of nothing in particular)."""
    file = {
        "filename": WHEEL,
        "url": server.url(f"/files/{WHEEL}"),
        "hashes": {"sha256": hashlib.sha256(b"alpha").hexdigest()},
        **entry,
    }
    document = {"meta": {"api-version": "1.1"}, "name": "alpha", "files": [file], "versions": ["1.0"]}
    return json.dumps(document).encode()


def send_page(reply: Reply, body: bytes) -> None:
    reply.head("200 OK", JSON_TYPE, f"Content-Length: {len(body)}")
    reply.send(body)


# ----------------------------------------------------------------------------------------- deadline


def test_trickled_headers_hit_the_deadline(servers: list[RawServer], isolated: Path) -> None:
    def handler(request: RawRequest, reply: Reply) -> None:
        reply.send(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        reply.trickle()

    server = serve(servers, handler)
    result = compile_alpha(isolated, server.url("/simple/"), FAST)
    assert_clean_failure(result, server.url("/simple/alpha/"), "deadline passed")
    assert len(server.requests) == 1, "a deadline is not retried"


def test_trickled_page_body_hits_the_deadline(servers: list[RawServer], isolated: Path) -> None:
    def handler(request: RawRequest, reply: Reply) -> None:
        reply.head("200 OK", "Content-Type: text/html")
        reply.trickle(b"<")

    server = serve(servers, handler)
    result = compile_alpha(isolated, server.url("/simple/"), FAST)
    assert_clean_failure(result, server.url("/simple/alpha/"), "deadline passed")


def test_deadline_from_http_settings(servers: list[RawServer]) -> None:
    def handler(request: RawRequest, reply: Reply) -> None:
        reply.send(b"HTTP/1.1 200 OK\r\n")
        reply.trickle(b"X")

    server = serve(servers, handler)
    with pytest.raises(
        NetworkError, match=r"cannot fetch http://\*\*\*@127\.0\.0\.1:\d+/x: the deadline passed"
    ):
        HttpClient(HttpSettings(deadline=1.0)).get(server.url("/x").replace("//", "//u:secret@"))


def test_a_bad_deadline_variable_is_an_input_error(servers: list[RawServer], isolated: Path) -> None:
    server = serve(servers, lambda request, reply: reply.head("404 Not Found", "Content-Length: 0"))
    result = compile_alpha(isolated, server.url("/simple/"), {"ENVLOCK_HTTP_DEADLINE": "soon"})
    assert result.returncode == 2, result.stderr
    assert "ENVLOCK_HTTP_DEADLINE='soon' is not a positive number of seconds" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------------------------------- caps


def test_an_endless_page_is_cut_off_at_the_page_cap(servers: list[RawServer], isolated: Path) -> None:
    def handler(request: RawRequest, reply: Reply) -> None:
        reply.head("200 OK", "Content-Type: text/html")
        reply.endless()

    server = serve(servers, handler)
    result = compile_alpha(isolated, server.url("/simple/"))  # the default cap: 128 MiB
    assert_clean_failure(result, server.url("/simple/alpha/"), "larger than the 128 MiB limit")
    assert sum(reply.sent for reply in server.replies) < 256 << 20, "cut off early, not read to 700 MiB"
    assert len(server.requests) == 1


def test_an_endless_metadata_file_is_cut_off(servers: list[RawServer], isolated: Path) -> None:
    def handler(request: RawRequest, reply: Reply) -> None:
        if request.path == "/simple/alpha/":
            send_page(reply, json_page(server, **{"core-metadata": True}))
        elif request.path == f"/files/{WHEEL}.metadata":
            reply.head("200 OK", "Content-Type: text/plain")
            reply.endless(b"Name: alpha\n" * 4096)
        else:
            reply.head("404 Not Found", "Content-Length: 0")

    server = serve(servers, handler)
    result = compile_alpha(isolated, server.url("/simple/"), {"ENVLOCK_MAX_METADATA_SIZE": "1M"})
    assert_clean_failure(result, server.url(f"/files/{WHEEL}.metadata"), "larger than the 1 MiB limit")


def test_an_index_download_is_stopped_at_the_listed_size(servers: list[RawServer], isolated: Path) -> None:
    """No metadata file: compile asks for the wheel's tail; a server that answers with an endless
    200 instead is cut off at the size its page gave (``index.download``)."""

    def handler(request: RawRequest, reply: Reply) -> None:
        if request.path == "/simple/alpha/":
            send_page(reply, json_page(server, size=5000))
        elif request.path == f"/files/{WHEEL}":
            reply.head("200 OK", "Content-Type: application/octet-stream")
            reply.endless()
        else:
            reply.head("404 Not Found", "Content-Length: 0")

    server = serve(servers, handler)
    result = compile_alpha(isolated, server.url("/simple/"))
    assert_clean_failure(result, server.url(f"/files/{WHEEL}"), "larger than the 5000 bytes the index lists")
    assert not list((isolated.parent / "envlock-cache").rglob(WHEEL))
    assert not list((isolated.parent / "envlock-cache").rglob(".tmp-*"))


@pytest.mark.parametrize("kind", ["endless", "endless-unsized", "trickle"])
def test_a_hostile_artifact_server_cannot_hold_sync(
    kind: str, kit_index: KitIndex, servers: list[RawServer], isolated: Path
) -> None:
    """A lock whose artifact URL points at a hostile server: an endless body is stopped at the lock's
    size (or, without one, at the download cap); a trickled one at the deadline. Nothing is cached."""

    def handler(request: RawRequest, reply: Reply) -> None:
        reply.head("200 OK", "Content-Type: application/octet-stream")
        if kind == "trickle":
            reply.trickle(b"P")
        else:
            reply.endless()

    server = serve(servers, handler)
    lock = write_lock_dict(isolated / "pylock.toml", lock_for(kit_index, [DistSpec("alpha", "1.0")]))
    text = lock.read_text().replace(kit_index.base_url, server.url("").rstrip("/"))
    if kind == "endless-unsized":
        text = re.sub(r"(?m)^size = \d+\n", "", text)
        text = re.sub(r", size = \d+", "", text)
    assert server.url("") in text.replace(server.url("").rstrip("/"), server.url(""))
    lock.write_text(text)
    env = {**FAST, "ENVLOCK_MAX_DOWNLOAD_SIZE": "1M"}
    result = envlock("sync", cwd=isolated, env=env)
    expected = {
        "endless": "size mismatch for alpha-1.0-py3-none-any.whl",
        "endless-unsized": "larger than the 1 MiB download limit",
        "trickle": "deadline passed",
    }[kind]
    assert_clean_failure(result, server.url(f"/files/{WHEEL}"), expected)
    cache = isolated.parent / "envlock-cache"
    assert not list(cache.rglob(WHEEL)) and not list(cache.rglob(".tmp-*"))


# ---------------------------------------------------------------------------- retries and headers


def _endless_headers(request: RawRequest, reply: Reply) -> None:
    reply.send(b"HTTP/1.1 200 OK\r\n")
    reply.endless(b"X-Filler: 0123456789\r\n" * 100)


def _endless_header_line(request: RawRequest, reply: Reply) -> None:
    reply.send(b"HTTP/1.1 200 OK\r\nX-Long: ")
    reply.endless(b"a" * 65536)


def _redirect_to(location: str) -> object:
    def handler(request: RawRequest, reply: Reply) -> None:
        reply.head("302 Found", f"Location: {location}", "Content-Length: 0")

    return handler


@pytest.mark.parametrize(
    ("handler", "needle"),
    [
        (_endless_headers, "malformed response"),
        (_endless_header_line, "too long"),
        (_redirect_to("ftp://127.0.0.1/simple/alpha/"), "not an http(s) URL"),
        (_redirect_to("file:///etc/passwd"), "not an http(s) URL"),
        (_redirect_to("http://[::1/simple/"), "malformed location"),
    ],
    ids=["endless-headers", "endless-header-line", "redirect-ftp", "redirect-file", "redirect-malformed"],
)
def test_non_transient_failures_fail_at_once(
    handler: object, needle: str, servers: list[RawServer], isolated: Path
) -> None:
    server = serve(servers, handler)
    result = compile_alpha(isolated, server.url("/simple/"), FAST)
    assert_clean_failure(result, server.url("/simple/alpha/"), needle)
    assert len(server.requests) == 1, f"retried: {server.requests}"


def test_tls_verification_failure_is_not_retried(
    servers: list[RawServer], isolated: Path, tmp_path: Path
) -> None:
    tls = self_signed_tls(str(tmp_path))
    if tls is None:
        pytest.skip("needs the openssl command")
    server = serve(servers, _redirect_to("/never"), tls=tls[0])
    result = compile_alpha(isolated, server.url("/simple/"), FAST)  # the certificate is not trusted
    assert_clean_failure(result, server.url("/simple/alpha/"), "certificate")
    assert server.connections == 1


def test_rate_limits_and_server_errors_are_retried(servers: list[RawServer]) -> None:
    statuses = iter(["429 Too Many Requests", "503 Service Unavailable", "200 OK"])

    def handler(request: RawRequest, reply: Reply) -> None:
        reply.head(next(statuses), "Content-Length: 2")
        reply.send(b"ok")

    server = serve(servers, handler)
    response = HttpClient(HttpSettings(retries=3, backoff=0.01)).get(server.url("/page"))
    assert (response.status, response.body, len(server.requests)) == (200, b"ok", 3)


def test_a_redirect_loop_is_bounded(servers: list[RawServer], isolated: Path) -> None:
    server = serve(servers, _redirect_to("/simple/alpha/"))
    result = compile_alpha(isolated, server.url("/simple/"), FAST)
    assert_clean_failure(result, server.url("/simple/alpha/"), "more than 10 redirects")
    assert len(server.requests) == 11


# ------------------------------------------------------------------------------------ redirects


def test_credentials_do_not_follow_a_redirect_to_another_host(
    servers: list[RawServer], isolated: Path
) -> None:
    other = serve(servers, lambda request, reply: reply.head("404 Not Found", "Content-Length: 0"))

    def index(request: RawRequest, reply: Reply) -> None:
        if request.path.startswith("/simple/"):
            reply.head(
                "302 Found", f"Location: {other.url(request.path, host='localhost')}", "Content-Length: 0"
            )
        else:
            reply.head("404 Not Found", "Content-Length: 0")

    server = serve(servers, index)
    secret = server.url("/simple/").replace("//", "//alice:s3cret@")
    result = compile_alpha(isolated, secret, FAST)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "s3cret" not in result.stderr
    assert server.requests and all("authorization" in r.headers for r in server.requests)
    assert other.requests, "the redirect was followed"
    assert not any("authorization" in r.headers for r in other.requests), other.requests


def test_credentials_follow_a_redirect_on_the_same_origin(servers: list[RawServer]) -> None:
    def index(request: RawRequest, reply: Reply) -> None:
        if request.path == "/simple/alpha/":
            reply.head("301 Moved Permanently", "Location: /other/alpha/", "Content-Length: 0")
        else:
            reply.head("200 OK", "Content-Length: 2")
            reply.send(b"ok")

    server = serve(servers, index)
    client = HttpClient(HttpSettings(retries=0))
    client.add_credentials_from(server.url("/simple/").replace("//", "//alice:s3cret@"))
    assert client.get(server.url("/simple/alpha/")).body == b"ok"
    assert [r.path for r in server.requests] == ["/simple/alpha/", "/other/alpha/"]
    assert all(r.headers.get("authorization", "").startswith("Basic ") for r in server.requests)


def test_a_redirect_from_https_to_http_is_refused(
    servers: list[RawServer], isolated: Path, tmp_path: Path
) -> None:
    tls = self_signed_tls(str(tmp_path))
    if tls is None:
        pytest.skip("needs the openssl command")
    plain = serve(servers, lambda request, reply: reply.head("404 Not Found", "Content-Length: 0"))
    secure = serve(servers, _redirect_to(plain.url("/simple/alpha/")), tls=tls[0])
    result = compile_alpha(isolated, secure.url("/simple/"), {**FAST, "SSL_CERT_FILE": tls[1]})
    assert_clean_failure(result, secure.url("/simple/alpha/"), "redirect from https to http")
    assert plain.requests == []


# ------------------------------------------------------------------------------------ header deadline


@pytest.mark.parametrize("how", ["variable", "settings"])
def test_trickled_headers_hit_their_own_shorter_deadline(
    servers: list[RawServer], isolated: Path, how: str
) -> None:
    """Headers get ``ENVLOCK_HTTP_HEADER_TIMEOUT`` (default 30 s) within the request's deadline (300 s
    here): a server trickling header bytes is cut off by the first, named as such, not retried."""

    def handler(request: RawRequest, reply: Reply) -> None:
        reply.send(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        reply.trickle()

    server = serve(servers, handler)
    if how == "variable":
        result = compile_alpha(isolated, server.url("/simple/"), {"ENVLOCK_HTTP_HEADER_TIMEOUT": "1.5"})
        assert_clean_failure(result, server.url("/simple/alpha/"), "no response headers within 1.5 s")
        assert "ENVLOCK_HTTP_HEADER_TIMEOUT" in result.stderr
    else:
        with pytest.raises(NetworkError, match=r"/x: the deadline passed: no response headers within 1 s"):
            HttpClient(HttpSettings(header_timeout=1.0)).get(server.url("/x"))
    assert len(server.requests) == 1, "a deadline is not retried"


def test_a_bad_header_timeout_variable_is_an_input_error(servers: list[RawServer], isolated: Path) -> None:
    server = serve(servers, lambda request, reply: reply.head("404 Not Found", "Content-Length: 0"))
    result = compile_alpha(isolated, server.url("/simple/"), {"ENVLOCK_HTTP_HEADER_TIMEOUT": "-1"})
    assert result.returncode == 2, result.stderr
    assert "ENVLOCK_HTTP_HEADER_TIMEOUT='-1' is not a positive number of seconds" in result.stderr
