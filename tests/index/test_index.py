"""The index client against the kit index: JSON and HTML pages, metadata files, cache, priority."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from packaging.utils import NormalizedName
from packaging.version import Version

from envlock.errors import HashMismatchError, NetworkError, ResolutionError
from envlock.index.cache import Cache, key_for
from envlock.index.client import IndexClient, IndexSettings, LazyHttp
from envlock.index.http import HttpClient, HttpSettings, Response
from envlock.index.metadata import _content_range, _RangeFile, _zip_metadata, parse_core_metadata
from envlock.index.pages import _parse_html_page
from tests.kit.dists import DistSpec, build_wheel
from tests.kit.index import IndexFeatures, KitIndex

Factory = Callable[..., KitIndex]


def client_for(tmp_path: Path, *indexes: str, find_links: tuple[str, ...] = (), **kw: object) -> IndexClient:
    http = HttpClient(HttpSettings(retries=1, backoff=0.01))
    return IndexClient(http, Cache(tmp_path / "cache"), IndexSettings(indexes, find_links, **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["json", "html"])
def test_project_page_fields(mode: str, kit_index_factory: Factory, tmp_path: Path) -> None:
    index = kit_index_factory(IndexFeatures(json=mode == "json", html=mode == "html"))
    index.publish(DistSpec("alpha", "1.0", requires_python=">=3.8", sdist=True))
    index.publish(DistSpec("alpha", "2.0"), yanked="bad build")
    page = client_for(tmp_path, index.url).project("Alpha")
    assert page.name == "alpha" and page.index == index.url
    assert page.versions() == [Version("2.0"), Version("1.0")]
    by_name = {f.filename: f for f in page.files}
    wheel = by_name["alpha-1.0-py3-none-any.whl"]
    assert wheel.sha256 == index.sha256(wheel.filename)
    assert wheel.requires_python == ">=3.8"
    assert wheel.metadata_hashes is not None
    assert by_name["alpha-2.0-py3-none-any.whl"].yanked == "bad build"
    assert not by_name["alpha-1.0.tar.gz"].is_wheel
    if mode == "json":
        assert wheel.size and wheel.upload_time is not None
    else:
        assert wheel.size is None


def test_metadata_from_file_then_cache(kit_index: KitIndex, tmp_path: Path) -> None:
    kit_index.publish(DistSpec("alpha", "1.0", requires=("beta>=1", "gamma; extra == 'x'"), extras=("x",)))
    client = client_for(tmp_path, kit_index.url)
    file = client.project("alpha").files[0]
    meta = client.metadata(file)
    assert meta.requires_dist == ("beta>=1", 'gamma; extra == "x"') or "beta>=1" in meta.requires_dist
    assert meta.provides_extra == ("x",)
    assert any(p.endswith(".metadata") for p in kit_index.requested_paths())
    before = len(kit_index.requested_paths())
    again = client_for(tmp_path, kit_index.url)  # new process, same cache: parsed metadata reused
    again.metadata(again.project("alpha").files[0])
    new_paths = kit_index.requested_paths()[before:]
    assert not any(p.endswith((".metadata", ".whl")) for p in new_paths)


def test_metadata_from_wheel_without_metadata_files(kit_index_factory: Factory, tmp_path: Path) -> None:
    index = kit_index_factory(IndexFeatures(metadata_files=False))
    index.publish(DistSpec("alpha", "1.0", requires=("beta",)))
    client = client_for(tmp_path, index.url)
    file = client.project("alpha").files[0]
    assert file.metadata_hashes is None
    assert client.metadata(file).requires_dist == ("beta",)
    assert client.download(file).is_file()


def test_wrong_bytes_are_refused(kit_index_factory: Factory, tmp_path: Path) -> None:
    index = kit_index_factory(IndexFeatures(metadata_files=False))
    index.publish(DistSpec("alpha", "1.0"))
    index.fault("/files/*.whl", "wrong_bytes")
    client = client_for(tmp_path, index.url)
    with pytest.raises(HashMismatchError):
        client.download(client.project("alpha").files[0])


def test_page_revalidation_uses_etag(kit_index: KitIndex, tmp_path: Path) -> None:
    kit_index.publish(DistSpec("alpha", "1.0"))
    client_for(tmp_path, kit_index.url).project("alpha")
    before = len(kit_index.requested_paths())
    page = client_for(tmp_path, kit_index.url).project("alpha")
    assert len(page.files) == 1
    last = [r for r in kit_index.requests if r.path.startswith("/simple/alpha")][-1]
    assert any(k.lower() == "if-none-match" for k in last.headers)
    kit_index.publish(DistSpec("alpha", "2.0"))
    assert len(client_for(tmp_path, kit_index.url).project("alpha").files) == 2
    assert len(kit_index.requested_paths()) > before


def test_first_index_with_project_supplies_all_versions(kit_index_factory: Factory, tmp_path: Path) -> None:
    private, public = kit_index_factory(), kit_index_factory()
    private.publish(DistSpec("corp", "1.0"))
    public.publish(DistSpec("corp", "9.0"), DistSpec("other", "1.0"))
    client = client_for(tmp_path, private.url, public.url)
    assert client.project("corp").versions() == [Version("1.0")]
    assert client.project("other").index == public.url


def test_find_links_folder_added(kit_index: KitIndex, tmp_path: Path) -> None:
    kit_index.publish(DistSpec("alpha", "1.0"))
    folder = tmp_path / "wheels"
    build_wheel(DistSpec("alpha", "1.5"), folder)
    build_wheel(DistSpec("solo", "0.1"), folder)
    client = client_for(tmp_path, kit_index.url, find_links=(str(folder),))
    assert client.project("alpha").versions() == [Version("1.5"), Version("1.0")]
    solo = client.project("solo")
    assert solo.index is None and solo.files[0].is_local and solo.files[0].sha256


def test_unknown_project_names_indexes_without_credentials(kit_index: KitIndex, tmp_path: Path) -> None:
    kit_index.auth = ("u", "pw-secret")
    client = client_for(tmp_path, kit_index.url_with_auth())
    with pytest.raises(ResolutionError) as info:
        client.project("missing")
    assert "missing" in info.value.message and "pw-secret" not in info.value.message
    assert "127.0.0.1" in info.value.message


def test_server_error_names_url(kit_index: KitIndex, tmp_path: Path) -> None:
    kit_index.fault("/simple/alpha/*", "500")
    with pytest.raises(NetworkError, match=r"/simple/alpha/"):
        client_for(tmp_path, kit_index.url).project("alpha")


def test_html_parser_details() -> None:
    body = (
        b'<html><head><base href="https://files.example/base/"></head><body>'
        b'<a href="../f/a-1.0-py3-none-any.whl#sha256=' + b"AB" * 32 + b'" data-requires-python="&gt;=3.8"'
        b' data-dist-info-metadata="true" data-yanked="">a-1.0-py3-none-any.whl</a>'
        b'<a href="a-1.0.tar.gz">a-1.0.tar.gz</a><a href="b-1.0.tar.gz">other</a><a href="x.exe">x</a>'
        b"</body></html>"
    )
    files = _parse_html_page(body, "https://idx/simple/a/", "a", "https://idx/simple/")  # type: ignore[arg-type]
    assert [f.filename for f in files] == ["a-1.0-py3-none-any.whl", "a-1.0.tar.gz"]
    wheel = files[0]
    assert wheel.url == "https://files.example/f/a-1.0-py3-none-any.whl"
    assert wheel.sha256 == "ab" * 32 and wheel.requires_python == ">=3.8"
    assert wheel.metadata_hashes == {} and wheel.yanked == ""


def test_parse_core_metadata() -> None:
    data = b"Metadata-Version: 2.1\nName: Foo\nVersion: 1.0\nRequires-Dist: bar>=1\nProvides-Extra: X_Y\n"
    meta = parse_core_metadata(data, "foo")
    assert meta.requires_dist == ("bar>=1",) and meta.provides_extra == ("x-y",)


def _wheel_requests(index: KitIndex) -> list[dict[str, str]]:
    return [r.headers for r in index.requests if urlsplit(r.path).path.endswith(".whl")]


def _range_header(headers: dict[str, str]) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == "range"), None)


def test_metadata_by_range_requests_without_downloading_the_wheel(
    kit_index_factory: Factory, tmp_path: Path
) -> None:
    index = kit_index_factory(IndexFeatures(metadata_files=False))
    blob = os.urandom(200_000)  # incompressible: the wheel is far larger than one range
    index.publish(DistSpec("alpha", "1.0", requires=("beta>=2",), files={"alpha/blob.bin": blob}))
    client = client_for(tmp_path, index.url, range_chunk=4096)
    file = client.project("alpha").files[0]
    assert client.metadata(file).requires_dist == ("beta>=2",)
    requests = _wheel_requests(index)
    assert requests and all(_range_header(h) for h in requests)  # never the whole file
    assert len(requests) <= 3
    assert Cache(tmp_path / "cache").get_artifact(file.sha256 or "", file.filename) is None


def test_metadata_by_range_falls_back_when_the_server_ignores_range(
    kit_index_factory: Factory, tmp_path: Path
) -> None:
    index = kit_index_factory(IndexFeatures(metadata_files=False, range_requests=False))
    index.publish(DistSpec("alpha", "1.0", requires=("beta",), files={"alpha/blob.bin": os.urandom(50_000)}))
    client = client_for(tmp_path, index.url, range_chunk=4096)
    file = client.project("alpha").files[0]
    assert client.metadata(file).requires_dist == ("beta",)
    assert len(_wheel_requests(index)) == 1  # the 200 answer is kept as the download
    assert Cache(tmp_path / "cache").get_artifact(file.sha256 or "", file.filename) is not None
    client.download(file)
    assert len(_wheel_requests(index)) == 1


def test_metadata_by_range_of_a_small_wheel_keeps_it_as_the_download(
    kit_index_factory: Factory, tmp_path: Path
) -> None:
    index = kit_index_factory(IndexFeatures(metadata_files=False))
    index.publish(DistSpec("alpha", "1.0", requires=("beta",)))
    client = client_for(tmp_path, index.url)
    file = client.project("alpha").files[0]
    assert client.metadata(file).requires_dist == ("beta",)
    assert len(_wheel_requests(index)) == 1
    assert Cache(tmp_path / "cache").get_artifact(file.sha256 or "", file.filename) is not None


def test_metadata_by_range_hash_checked_when_the_whole_file_arrives(
    kit_index_factory: Factory, tmp_path: Path
) -> None:
    index = kit_index_factory(IndexFeatures(metadata_files=False, range_requests=False))
    index.publish(DistSpec("alpha", "1.0"))
    index.fault("/files/*.whl", "wrong_bytes")
    client = client_for(tmp_path, index.url)
    with pytest.raises(HashMismatchError):
        client.metadata(client.project("alpha").files[0])


def test_lazy_http_creates_the_client_on_the_first_request_with_credentials() -> None:
    made: list[FakeHttp] = []

    def factory() -> FakeHttp:
        made.append(FakeHttp())
        return made[-1]

    lazy = LazyHttp(factory)
    assert lazy.add_credentials_from("https://user:pw@idx.example/simple/") == "https://idx.example/simple/"
    assert lazy.created is None and not made
    assert lazy.get("https://idx.example/simple/a/").status == 200
    assert lazy.created is made[0] and made[0].credentials == ["https://user:pw@idx.example/simple/"]
    lazy.get("https://idx.example/simple/b/")
    assert len(made) == 1


class FakeHttp:
    """Records credentials and answers every GET with an empty 200."""

    def __init__(self) -> None:
        self.credentials: list[str] = []

    def add_credentials_from(self, url: str) -> str:
        self.credentials.append(url)
        return url

    def get(self, url: str, headers: object = None, *, ok: tuple[int, ...] = (200,)) -> Response:
        return Response(200, {}, b"", url)

    def stream(self, url: str, headers: object = None, *, ok: tuple[int, ...] = (200,)) -> object:
        raise NotImplementedError


def make_fresh(cache: Cache, url: str) -> None:
    """Mark the cached page of ``url`` fresh for 10 minutes, as if the server had sent max-age=600 (the
    kit index always asks for revalidation)."""
    stored = cache.read_entry("http", key_for(url))
    assert stored is not None
    meta, _, body = stored.partition(b"\n")
    fresh = {**json.loads(meta), "max_age": 600, "stored_at": time.time()}
    cache.write_entry("http", key_for(url), json.dumps(fresh).encode() + b"\n" + body)


def test_cached_project_needs_no_request_while_the_page_is_fresh(kit_index: KitIndex, tmp_path: Path) -> None:
    kit_index.publish(DistSpec("alpha", "1.0"))
    client = client_for(tmp_path, kit_index.url)
    assert client.cached_project("alpha") is None  # nothing cached yet
    page = client.project("alpha")
    assert client_for(tmp_path, kit_index.url).cached_project("alpha") is None  # no max-age: revalidate
    make_fresh(Cache(tmp_path / "cache"), f"{kit_index.url}alpha/")
    before = len(kit_index.requests)
    again = client_for(tmp_path, kit_index.url)
    cached = again.cached_project("Alpha")
    assert cached is not None and cached.files == page.files
    assert again.project("alpha") is cached and len(kit_index.requests) == before
    assert client_for(tmp_path, kit_index.url, refresh=True).cached_project("alpha") is None


def test_range_file_reads_a_zip_member_with_few_fetches(tmp_path: Path) -> None:
    spec = DistSpec("alpha", "1.0", requires=("beta",), files={"alpha/blob.bin": os.urandom(100_000)})
    data = build_wheel(spec, tmp_path).read_bytes()
    fetches: list[tuple[int, int]] = []

    def fetch(first: int, last: int) -> bytes:
        fetches.append((first, last))
        return data[first : last + 1]

    tail_start = len(data) - 1024
    remote = _RangeFile(fetch, len(data), tail_start, data[tail_start:], 1024)
    metadata = _zip_metadata(zipfile.ZipFile(remote), "alpha-1.0-py3-none-any.whl")
    assert b"Requires-Dist: beta" in metadata
    assert len(fetches) <= 2 and sum(b - a + 1 for a, b in fetches) < 10_000
    assert _content_range("bytes 10-19/100") == (10, 19, 100)
    assert _content_range("bytes */100") is None and _content_range("") is None
    assert _content_range("bytes 10-200/100") is None


@pytest.mark.parametrize("kind", ["truncate", "reset", "wrong_bytes"])
@pytest.mark.parametrize("ranges", [True, False], ids=["range-ignored", "no-range"])
def test_a_broken_wheel_body_is_fetched_again(
    kind: str, ranges: bool, kit_index_factory: Factory, tmp_path: Path
) -> None:
    """Compile downloads through the same verified download as sync (``index.download``): a body that
    breaks off or arrives wrong once is fetched again, also when it was the whole-file answer to a
    range request."""
    index = kit_index_factory(IndexFeatures(metadata_files=False, range_requests=False))
    index.publish(DistSpec("alpha", "1.0", requires=("beta",)))
    index.fault("/files/*.whl", kind, times=1)
    client = client_for(tmp_path, index.url, range_requests=ranges)
    file = client.project("alpha").files[0]
    assert client.metadata(file).requires_dist == ("beta",)
    assert len(_wheel_requests(index)) == 2
    assert Cache(tmp_path / "cache").get_artifact(file.sha256 or "", file.filename) is not None


WARM_PROBE = """
import sys
from pathlib import Path

from packaging.requirements import Requirement

from envlock.env.interpreter import current_environment
from envlock.index.cache import Cache
from envlock.index.client import IndexClient, IndexSettings, LazyHttp
from envlock.index.http import HttpClient
from envlock.inputs.config import InputRequirement
from envlock.resolve.models import ResolveRequest
from envlock.resolve.resolver import resolve

http = LazyHttp(HttpClient)
client = IndexClient(http, Cache(Path(sys.argv[1])), IndexSettings((sys.argv[2],)))
wanted = (InputRequirement(Requirement("alpha"), "requirements.in:1"),)
resolution = resolve(client, ResolveRequest(wanted, current_environment()))
print(" ".join(f"{pin.name}=={pin.version}" for pin in resolution.pins))
print(http.created is None)
heavy = ("urllib3", "ssl", "http.client", "zipfile", "packaging.metadata", "email.utils", "html.parser",
         "envlock.index.transport", "envlock.index.metadata")
print(sorted(name for name in heavy if name in sys.modules))
"""


def test_a_warm_resolution_imports_no_network_or_metadata_reading_code(
    kit_index: KitIndex, tmp_path: Path
) -> None:
    """The benchmark's warm compile: every page fresh and every metadata parsed in the cache. It makes no
    request, so it must not pay for importing urllib3 (``HttpClient`` imports ``index.transport`` when it
    is made) nor the metadata reading code (``index.metadata``, loaded on a metadata-cache miss)."""
    kit_index.publish(DistSpec("alpha", "1.0", requires=("beta>=1",)), DistSpec("beta", "1.0"))
    client = client_for(tmp_path, kit_index.url)
    for name in ("alpha", "beta"):
        client.metadata(client.project(name).files[0])
        make_fresh(Cache(tmp_path / "cache"), f"{kit_index.url}{name}/")
    before = len(kit_index.requests)
    probe = subprocess.run(
        [sys.executable, "-c", WARM_PROBE, str(tmp_path / "cache"), kit_index.url],
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines() == ["alpha==1.0 beta==1.0", "True", "[]"]
    assert len(kit_index.requests) == before


def test_pages_that_spell_the_same_versions_share_them() -> None:
    """A version text is parsed once per process, so its sort key is computed once for every page that
    lists it (at 500 projects of three releases each, 1,500 parses and sort keys become three)."""
    from envlock.index.pages import ProjectPage, parse_page

    def page(name: str) -> ProjectPage:
        files = [
            {"filename": f"{name}-{v}-py3-none-any.whl", "url": f"{name}-{v}-py3-none-any.whl", "hashes": {}}
            for v in ("1.0", "1.1", "2.0")
        ]
        body = json.dumps({"meta": {"api-version": "1.0"}, "name": name, "files": files}).encode()
        url = f"https://index.example/simple/{name}/"
        return parse_page(body, "application/vnd.pypi.simple.v1+json", url, NormalizedName(name), url)

    first, second = page("alpha"), page("beta")
    assert [str(v) for v in first.newest_first] == ["2.0", "1.1", "1.0"]
    assert all(a is b for a, b in zip(first.newest_first, second.newest_first, strict=True))


def test_a_page_asked_again_is_answered_without_the_lock() -> None:
    """A resolution asks for each page and metadata entry several times: after the first computation
    the answer is read back directly; a caller that comes while it is computed waits for it; an error is
    not computed again but raised again to each caller."""
    import threading

    from envlock.index.client import _Once

    class CountingLock:
        def __init__(self) -> None:
            self.entered = 0
            self.lock = threading.Lock()

        def __enter__(self) -> None:
            self.entered += 1
            self.lock.acquire()

        def __exit__(self, *exc: object) -> None:
            self.lock.release()

    once: _Once[str, int] = _Once()
    counting = once._lock = CountingLock()  # type: ignore[assignment]
    computed: list[str] = []
    started, go = threading.Event(), threading.Event()

    def slow() -> int:
        computed.append("alpha")
        started.set()
        go.wait(10)
        return 1

    first = threading.Thread(target=once.get, args=("alpha", slow))
    first.start()
    started.wait(10)
    waiting: list[int] = []
    second = threading.Thread(target=lambda: waiting.append(once.get("alpha", slow)))
    second.start()
    go.set()
    first.join(10)
    second.join(10)
    assert waiting == [1] and computed == ["alpha"]
    entered = counting.entered
    for _ in range(10):
        assert once.get("alpha", slow) == 1
    assert counting.entered == entered and computed == ["alpha"]

    def fails() -> int:
        computed.append("beta")
        raise ValueError("no page")

    for _ in range(2):
        with pytest.raises(ValueError, match="no page"):
            once.get("beta", fails)
    assert computed == ["alpha", "beta"]
