"""Tests of the kit's package index: both simple-API formats, every feature switch, auth and every fault."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec, wheel_filename
from tests.kit.index import HTML_V1, JSON_V1, IndexFeatures, KitIndex
from tests.kit.plugin import KitIndexFactory

FOO = DistSpec("Foo.Bar", "1.0", requires=("dep>=2",), requires_python=">=3.8", sdist=True)
FOO_11 = DistSpec("Foo.Bar", "1.1", requires_python=">=3.9")
DEP = DistSpec("dep", "2.0")
FOO_WHEEL = wheel_filename(FOO)
JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"


Response = tuple[int, dict[str, str], bytes]


def fetch(index: KitIndex, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Response:
    """One raw request; header names lower-cased."""
    connection = http.client.HTTPConnection("127.0.0.1", index.port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def project_json(index: KitIndex, project: str = "foo-bar") -> dict[str, object]:
    status, headers, body = fetch(index, f"/simple/{project}/", {"Accept": JSON_ACCEPT})
    assert status == 200
    assert headers["content-type"] == JSON_V1
    document = json.loads(body)
    assert isinstance(document, dict)
    return document


def project_html(index: KitIndex, project: str = "foo-bar") -> str:
    status, headers, body = fetch(index, f"/simple/{project}/", {"Accept": "text/html"})
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    return body.decode()


def files_by_name(document: dict[str, object]) -> dict[str, dict[str, object]]:
    files = document["files"]
    assert isinstance(files, list)
    return {f["filename"]: f for f in files}


@pytest.fixture
def index(kit_index: KitIndex) -> KitIndex:
    kit_index.publish(FOO, DEP)
    kit_index.publish(FOO_11, yanked="broken build", upload_time=datetime(2024, 6, 1, 12, 30))
    return kit_index


# --- formats and routes ---


def test_json_project_page_has_every_field(index: KitIndex) -> None:
    document = project_json(index)
    assert document["meta"] == {"api-version": "1.1"}
    assert document["name"] == "foo-bar"
    assert document["versions"] == ["1.0", "1.1"]
    files = files_by_name(document)
    assert sorted(files) == [FOO_WHEEL, "foo_bar-1.0.tar.gz", "foo_bar-1.1-py3-none-any.whl"]
    wheel = files[FOO_WHEEL]
    assert wheel["url"] == index.file_url(FOO_WHEEL)
    assert wheel["hashes"] == {"sha256": index.sha256(FOO_WHEEL)}
    assert wheel["requires-python"] == ">=3.8"
    assert wheel["upload-time"] == "2024-01-01T00:00:00.000000Z"
    assert wheel["size"] == (index.files_dir / FOO_WHEEL).stat().st_size
    assert "yanked" not in wheel
    metadata = fetch(index, f"/files/{FOO_WHEEL}.metadata")[2]
    assert wheel["core-metadata"] == {"sha256": hashlib.sha256(metadata).hexdigest()}
    assert "dist-info-metadata" not in wheel, "PEP 714: the old JSON key only on request"
    index.features.legacy_json_metadata_key = True
    legacy = files_by_name(project_json(index))[FOO_WHEEL]
    assert legacy["dist-info-metadata"] == legacy["core-metadata"]
    assert "core-metadata" not in files["foo_bar-1.0.tar.gz"]
    newer = files["foo_bar-1.1-py3-none-any.whl"]
    assert newer["yanked"] == "broken build"
    assert newer["upload-time"] == "2024-06-01T12:30:00.000000Z"


def test_html_project_page_has_every_attribute(index: KitIndex) -> None:
    page = project_html(index)
    sha = index.sha256(FOO_WHEEL)
    metadata_sha = hashlib.sha256(fetch(index, f"/files/{FOO_WHEEL}.metadata")[2]).hexdigest()
    assert f'href="{index.file_url(FOO_WHEEL)}#sha256={sha}"' in page
    assert 'data-requires-python="&gt;=3.8"' in page
    assert f'data-dist-info-metadata="sha256={metadata_sha}"' in page
    assert f'data-core-metadata="sha256={metadata_sha}"' in page
    assert 'data-yanked="broken build"' in page
    assert page.count("data-yanked") == 1
    assert '<meta name="pypi:repository-version" content="1.0">' in page


def test_project_list_in_both_formats(index: KitIndex) -> None:
    status, headers, body = fetch(index, "/simple/", {"Accept": JSON_ACCEPT})
    assert (status, headers["content-type"]) == (200, JSON_V1)
    assert json.loads(body)["projects"] == [{"name": "dep"}, {"name": "foo-bar"}]
    status, _, body = fetch(index, "/simple/")
    assert status == 200
    assert '<a href="dep/">dep</a>' in body.decode()
    assert fetch(index, "/simple")[0] == 301


@pytest.mark.parametrize(
    ("accept", "features", "expected"),
    [
        (None, IndexFeatures(), "text/html"),
        ("*/*", IndexFeatures(), "text/html"),
        ("text/html", IndexFeatures(), "text/html"),
        ("application/vnd.pypi.simple.v1+html", IndexFeatures(), HTML_V1),
        ("application/vnd.pypi.simple.latest+json", IndexFeatures(), JSON_V1),
        (
            f"{JSON_ACCEPT}, application/vnd.pypi.simple.v1+html;q=0.1, text/html;q=0.01",
            IndexFeatures(),
            JSON_V1,
        ),
        ("application/vnd.pypi.simple.v1+json;q=0.2, text/html", IndexFeatures(), "text/html"),
        ("application/vnd.pypi.simple.v1+json, text/html;q=0.01", IndexFeatures(json=False), "text/html"),
        ("application/vnd.pypi.simple.v1+json, text/html;q=0.01", IndexFeatures(html=False), JSON_V1),
        (None, IndexFeatures(html=False), JSON_V1),
        ("*/*", IndexFeatures(html=False), JSON_V1),
        ("text/html", IndexFeatures(html=False), None),
        (JSON_ACCEPT, IndexFeatures(json=False), None),
        ("application/vnd.pypi.simple.v1+json;q=0", IndexFeatures(), None),
    ],
)
def test_content_negotiation(
    kit_index_factory: KitIndexFactory, accept: str | None, features: IndexFeatures, expected: str | None
) -> None:
    index = kit_index_factory(features)
    index.publish(DEP)
    status, headers, _ = fetch(index, "/simple/dep/", {"Accept": accept} if accept else {})
    if expected is None:
        assert status == 406
    else:
        assert status == 200
        assert headers["content-type"].split(";")[0] == expected
        assert headers["vary"] == "Accept"


def test_features_can_be_switched_while_running(index: KitIndex) -> None:
    project_json(index)
    index.features.json = False
    assert fetch(index, "/simple/foo-bar/", {"Accept": JSON_ACCEPT})[0] == 406
    index.features.json = True
    project_json(index)


def test_non_normalized_names_redirect_and_unknown_projects_404(index: KitIndex) -> None:
    status, headers, _ = fetch(index, "/simple/Foo.Bar/")
    assert (status, headers["location"]) == (301, "/simple/foo-bar/")
    status, headers, _ = fetch(index, "/simple/foo_bar")
    assert (status, headers["location"]) == (301, "/simple/foo-bar/")
    assert fetch(index, "/simple/nothing-here/")[0] == 404
    assert fetch(index, "/files/nothing-1.0.tar.gz")[0] == 404
    assert fetch(index, "/elsewhere")[0] == 404


def test_files_are_served_with_their_hash(index: KitIndex) -> None:
    status, headers, body = fetch(index, f"/files/{FOO_WHEEL}")
    assert status == 200
    assert hashlib.sha256(body).hexdigest() == index.sha256(FOO_WHEEL)
    assert headers["content-length"] == str(len(body))
    status, headers, body = fetch(index, f"/files/{FOO_WHEEL}", method="HEAD")
    assert (status, body) == (200, b"")
    assert int(headers["content-length"]) > 0


def test_simple_pages_revalidate_with_etag(index: KitIndex) -> None:
    status, headers, _ = fetch(index, "/simple/foo-bar/", {"Accept": JSON_ACCEPT})
    etag = headers["etag"]
    status, _, body = fetch(index, "/simple/foo-bar/", {"Accept": JSON_ACCEPT, "If-None-Match": etag})
    assert (status, body) == (304, b"")
    status, html_headers, _ = fetch(index, "/simple/foo-bar/", {"Accept": "text/html", "If-None-Match": etag})
    assert status == 200, "the HTML page has its own ETag"
    assert html_headers["etag"] != etag
    index.publish(DistSpec("foo-bar", "2.0"))
    status, _, _ = fetch(index, "/simple/foo-bar/", {"Accept": JSON_ACCEPT, "If-None-Match": etag})
    assert status == 200, "a new file changes the page"
    since = headers["last-modified"]
    assert fetch(index, "/simple/dep/", {"If-Modified-Since": "Sat, 01 Jan 2050 00:00:00 GMT"})[0] == 304
    assert since


# --- feature switches ---


def test_metadata_files_switch(index: KitIndex) -> None:
    status, _, metadata = fetch(index, f"/files/{FOO_WHEEL}.metadata")
    assert status == 200
    assert b"Name: Foo.Bar" in metadata
    assert b"Requires-Dist: dep>=2" in metadata
    assert fetch(index, "/files/foo_bar-1.0.tar.gz.metadata")[0] == 404
    index.features.metadata_files = False
    assert fetch(index, f"/files/{FOO_WHEEL}.metadata")[0] == 404
    assert "core-metadata" not in files_by_name(project_json(index))[FOO_WHEEL]
    assert "dist-info-metadata" not in files_by_name(project_json(index))[FOO_WHEEL]
    assert "metadata" not in project_html(index)


def test_requires_python_switch(index: KitIndex) -> None:
    index.features.requires_python = False
    assert "requires-python" not in files_by_name(project_json(index))[FOO_WHEEL]
    assert "data-requires-python" not in project_html(index)


def test_yanked_switch_and_forms(index: KitIndex) -> None:
    index.publish(DistSpec("foo-bar", "0.9"), yanked=True)
    files = files_by_name(project_json(index))
    assert files["foo_bar-0.9-py3-none-any.whl"]["yanked"] is True
    assert ">foo_bar-0.9-py3-none-any.whl<" in project_html(index)
    assert 'data-yanked="">foo_bar-0.9' in project_html(index)
    index.features.yanked = False
    assert all("yanked" not in f for f in files_by_name(project_json(index)).values())
    assert "data-yanked" not in project_html(index)


def test_upload_time_switch_is_api_version_1_0(index: KitIndex) -> None:
    index.features.upload_time = False
    document = project_json(index)
    assert document["meta"] == {"api-version": "1.0"}
    assert "versions" not in document
    assert all("upload-time" not in f and "size" not in f for f in files_by_name(document).values())


def test_range_requests(index: KitIndex) -> None:
    whole = fetch(index, f"/files/{FOO_WHEEL}")[2]
    status, headers, body = fetch(index, f"/files/{FOO_WHEEL}", {"Range": "bytes=10-19"})
    assert (status, body) == (206, whole[10:20])
    assert headers["content-range"] == f"bytes 10-19/{len(whole)}"
    assert headers["accept-ranges"] == "bytes"
    assert fetch(index, f"/files/{FOO_WHEEL}", {"Range": "bytes=-22"})[2] == whole[-22:]
    assert fetch(index, f"/files/{FOO_WHEEL}", {"Range": "bytes=100-"})[2] == whole[100:]
    assert fetch(index, f"/files/{FOO_WHEEL}", {"Range": f"bytes={len(whole)}-"})[0] == 416
    assert fetch(index, f"/files/{FOO_WHEEL}", {"Range": "bytes=0-1,5-6"})[0] == 200
    index.features.range_requests = False
    status, headers, body = fetch(index, f"/files/{FOO_WHEEL}", {"Range": "bytes=10-19"})
    assert (status, body) == (200, whole)
    assert headers["accept-ranges"] == "none"


# --- auth ---


def test_basic_auth(index: KitIndex) -> None:
    index.auth = ("alice", "s3cret")
    for path in ("/simple/", "/simple/foo-bar/", f"/files/{FOO_WHEEL}", f"/files/{FOO_WHEEL}.metadata"):
        status, headers, _ = fetch(index, path)
        assert status == 401
        assert headers["www-authenticate"].startswith("Basic ")
    wrong = "Basic " + base64.b64encode(b"alice:nope").decode()
    assert fetch(index, "/simple/", {"Authorization": wrong})[0] == 401
    right = "Basic " + base64.b64encode(b"alice:s3cret").decode()
    assert fetch(index, "/simple/foo-bar/", {"Authorization": right})[0] == 200
    assert index.url_with_auth().startswith("http://alice:s3cret@127.0.0.1:")
    index.auth = None
    assert fetch(index, "/simple/")[0] == 200


# --- faults ---


@pytest.mark.parametrize("status", ["500", "503"])
def test_status_faults_for_a_number_of_requests(index: KitIndex, status: str) -> None:
    index.fault("/files/*.whl", status, times=2)
    assert fetch(index, f"/files/{FOO_WHEEL}")[0] == int(status)
    assert fetch(index, "/simple/foo-bar/")[0] == 200, "other paths are not affected"
    assert fetch(index, f"/files/{FOO_WHEEL}")[0] == int(status)
    assert fetch(index, f"/files/{FOO_WHEEL}")[0] == 200


def test_fault_without_times_stays_until_cleared(index: KitIndex) -> None:
    index.fault("/simple/*", "503")
    for _ in range(3):
        assert fetch(index, "/simple/foo-bar/")[0] == 503
    index.clear_faults()
    assert fetch(index, "/simple/foo-bar/")[0] == 200


def test_reset_fault_closes_without_response(index: KitIndex) -> None:
    index.fault(f"/files/{FOO_WHEEL}", "reset", times=1)
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        fetch(index, f"/files/{FOO_WHEEL}")
    assert fetch(index, f"/files/{FOO_WHEEL}")[0] == 200


def test_slow_fault_delays_the_response(index: KitIndex) -> None:
    index.fault("/simple/foo-bar/", "slow", times=1, delay=0.3)
    started = time.monotonic()
    assert fetch(index, "/simple/foo-bar/")[0] == 200
    assert time.monotonic() - started >= 0.3
    connection = http.client.HTTPConnection("127.0.0.1", index.port, timeout=0.2)
    index.fault("/simple/foo-bar/", "slow", times=1, delay=1.0)
    with pytest.raises(TimeoutError):
        connection.request("GET", "/simple/foo-bar/")
        connection.getresponse().read()
    connection.close()


def test_truncate_fault_sends_half_the_promised_body(index: KitIndex) -> None:
    size = (index.files_dir / FOO_WHEEL).stat().st_size
    index.fault(f"/files/{FOO_WHEEL}", "truncate", times=1)
    connection = http.client.HTTPConnection("127.0.0.1", index.port, timeout=10)
    connection.request("GET", f"/files/{FOO_WHEEL}")
    response = connection.getresponse()
    assert response.getheader("Content-Length") == str(size)
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    assert len(caught.value.partial) == size // 2
    connection.close()


def test_short_fault_is_a_consistent_but_shorter_body(index: KitIndex) -> None:
    index.fault(f"/files/{FOO_WHEEL}", "short", times=1)
    status, headers, body = fetch(index, f"/files/{FOO_WHEEL}")
    size = (index.files_dir / FOO_WHEEL).stat().st_size
    assert status == 200
    assert len(body) == int(headers["content-length"]) == size // 2
    assert hashlib.sha256(body).hexdigest() != index.sha256(FOO_WHEEL)


def test_wrong_bytes_fault_keeps_length_breaks_hash(index: KitIndex) -> None:
    index.fault("/files/*", "wrong_bytes", times=1)
    status, _, body = fetch(index, f"/files/{FOO_WHEEL}")
    assert status == 200
    assert len(body) == (index.files_dir / FOO_WHEEL).stat().st_size
    assert hashlib.sha256(body).hexdigest() != index.sha256(FOO_WHEEL)
    assert hashlib.sha256(fetch(index, f"/files/{FOO_WHEEL}")[2]).hexdigest() == index.sha256(FOO_WHEEL)


def test_unknown_fault_kind_is_refused(index: KitIndex) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        index.fault("/files/*", "explode")


# --- records, concurrency, keep-alive ---


def test_requests_are_recorded(index: KitIndex) -> None:
    fetch(index, "/simple/foo-bar/?x=1", {"Accept": JSON_ACCEPT})
    record = index.requests[-1]
    assert (record.method, record.path) == ("GET", "/simple/foo-bar/?x=1")
    assert record.headers["Accept"] == JSON_ACCEPT
    assert index.requested_paths()[-1] == "/simple/foo-bar/"


def test_parallel_clients_and_keep_alive(index: KitIndex) -> None:
    def download(_: int) -> str:
        return hashlib.sha256(fetch(index, f"/files/{FOO_WHEEL}")[2]).hexdigest()

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert set(pool.map(download, range(64))) == {index.sha256(FOO_WHEEL)}
    connection = http.client.HTTPConnection("127.0.0.1", index.port, timeout=10)
    for _ in range(3):  # one connection, several requests
        connection.request("GET", "/simple/foo-bar/")
        assert connection.getresponse().read()
    connection.close()


def test_add_file_serves_an_existing_artifact(kit_index: KitIndex, tmp_path: Path) -> None:
    from tests.kit.dists import build_sdist

    sdist = build_sdist(DistSpec("Other_Thing", "3.0", requires_python=">=3.10"), tmp_path / "out")
    kit_index.add_file(sdist, upload_time=datetime(2023, 5, 1, tzinfo=timezone.utc))
    files = files_by_name(project_json(kit_index, "other-thing"))
    assert files["other_thing-3.0.tar.gz"]["requires-python"] == ">=3.10"
    assert files["other_thing-3.0.tar.gz"]["upload-time"] == "2023-05-01T00:00:00.000000Z"


# --- pip as a client ---


def pip_download(index_url: str, dest: Path, *requirements: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--index-url", index_url]
    command += ["--dest", str(dest)]
    return subprocess.run([*command, *requirements], capture_output=True, text=True, check=True, timeout=120)


@pytest.mark.parametrize("mode", ["json", "html"])
def test_pip_download_uses_metadata_files(index: KitIndex, tmp_path: Path, mode: str) -> None:
    index.features.json = mode == "json"
    index.features.html = mode == "html"
    pip_download(index.url, tmp_path / "dl", "foo-bar")
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == [FOO_WHEEL], "1.1 is yanked"
    # pip read the PEP 658 file (its wording about it differs between pip versions, the server log does not)
    assert f"/files/{FOO_WHEEL}.metadata" in index.requested_paths()


def test_pip_download_without_metadata_files_and_with_auth(index: KitIndex, tmp_path: Path) -> None:
    index.features.metadata_files = False
    index.auth = ("bob", "pw")
    pip_download(index.url_with_auth(), tmp_path / "dl", "foo-bar==1.0", "dep")
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == ["dep-2.0-py3-none-any.whl", FOO_WHEEL]
    assert not [p for p in index.requested_paths() if p.endswith(".metadata")]
    assert any("Authorization" in r.headers for r in index.requests)


def test_pip_recovers_from_a_transient_503(index: KitIndex, tmp_path: Path) -> None:
    index.fault(f"/files/{FOO_WHEEL}", "503", times=1)
    pip_download(index.url, tmp_path / "dl", "foo-bar==1.0")
    assert (tmp_path / "dl" / FOO_WHEEL).is_file()
    assert index.requested_paths().count(f"/files/{FOO_WHEEL}") == 2


# --- other resolvers as clients (oracles elsewhere rely on this) ---


def tool(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        pytest.skip(f"{name} is not installed in the dev environment")
    return str(path)


@pytest.mark.oracle
@pytest.mark.parametrize("resolver", ["uv", "pip-compile"])
def test_resolvers_compile_against_the_kit_index(kit_index: KitIndex, resolver: str) -> None:
    kit_index.publish(
        DistSpec("app", "1.0", requires=("leaf>=2",)),
        DistSpec("leaf", "1.0"),
        DistSpec("leaf", "2.0", wheel=False, sdist=True),  # only an sdist: built with the in-tree backend
    )
    Path("requirements.in").write_text("app\n")
    if resolver == "uv":
        command = [tool("uv"), "pip", "compile", "--index-url", kit_index.url, "requirements.in"]
    else:
        command = [tool("pip-compile"), "--index-url", kit_index.url, "requirements.in", "-o", "-"]
        command += ["--strip-extras", "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    pins = [line for line in result.stdout.splitlines() if "==" in line]
    assert pins == ["app==1.0", "leaf==2.0"]
