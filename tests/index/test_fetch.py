"""fetch: parallel, verified downloads into the content-addressed store; faults and offline mode."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from envlock.errors import HashMismatchError, NetworkError
from envlock.index.cache import Cache
from envlock.index.fetch import FetchOptions, fetch_all
from envlock.index.http import HttpClient, HttpSettings
from envlock.models.artifacts import Artifact
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex

FAST = HttpSettings(retries=2, backoff=0.01)


class FakeClient:
    """Serves bodies from a dict; counts requests."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies
        self.requests: list[str] = []

    @contextmanager
    def stream(self, url: str) -> Iterator[io.BytesIO]:
        self.requests.append(url)
        if url not in self.bodies:
            raise NetworkError(f"cannot fetch {url}: HTTP 404")
        yield io.BytesIO(self.bodies[url])


def artifact(data: bytes, name: str = "a-1-py3-none-any.whl", **kw: object) -> Artifact:
    sha = hashlib.sha256(data).hexdigest()
    return Artifact(name, sha, url=f"https://files.example/{name}", size=len(data), **kw)  # type: ignore[arg-type]


def store_files(cache: Cache) -> list[str]:
    root = cache.root
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_downloads_verifies_and_reuses_the_store(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    one, two = artifact(b"one", "a-1-py3-none-any.whl"), artifact(b"two", "b-1-py3-none-any.whl")
    client = FakeClient({one.url: b"one", two.url: b"two"})  # type: ignore[dict-item]
    seen: list[tuple[str, int]] = []
    paths = fetch_all([one, two, one], cache, client, progress=lambda a, n: seen.append((a.filename, n)))
    assert paths[one.sha256].read_bytes() == b"one"
    assert paths[two.sha256].read_bytes() == b"two"
    assert sorted(client.requests) == sorted([one.url, two.url])
    assert ("a-1-py3-none-any.whl", 3) in seen
    again = fetch_all([one, two], cache, None)  # cached: no client needed
    assert again == paths


def test_hash_mismatch_names_file_and_hashes_and_stores_nothing(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    wanted = artifact(b"good")
    client = FakeClient({wanted.url: b"evil"})  # type: ignore[dict-item]
    with pytest.raises(HashMismatchError) as info:
        fetch_all([wanted], cache, client)
    message = info.value.message
    assert message.startswith(f"hash mismatch for {wanted.filename}: expected sha256 {wanted.sha256}, got ")
    assert hashlib.sha256(b"evil").hexdigest() in message
    assert store_files(cache) == []
    assert len(client.requests) == FetchOptions().attempts  # retried, then reported


def test_size_mismatch(tmp_path: Path) -> None:
    data = b"data"
    wanted = Artifact("a-1-py3-none-any.whl", hashlib.sha256(data).hexdigest(), url="https://x/a", size=99)
    with pytest.raises(
        HashMismatchError, match=r"size mismatch for a-1-py3-none-any\.whl: expected 99 bytes, got 4"
    ):
        fetch_all([wanted], Cache(tmp_path), FakeClient({"https://x/a": data}))


def test_offline_uses_only_the_cache(tmp_path: Path) -> None:
    wanted = artifact(b"x")
    with pytest.raises(NetworkError, match=r"offline: not in the cache: a-1-py3-none-any\.whl"):
        fetch_all([wanted], Cache(tmp_path), None, FetchOptions(offline=True))


def test_local_path_is_verified_and_stored(tmp_path: Path) -> None:
    source = tmp_path / "a-1-py3-none-any.whl"
    source.write_bytes(b"local")
    good = Artifact(source.name, hashlib.sha256(b"local").hexdigest(), path=source)
    cache = Cache(tmp_path / "cache")
    assert fetch_all([good], cache, None, FetchOptions(offline=True))[good.sha256].read_bytes() == b"local"
    bad = Artifact(source.name, "0" * 64, path=source)
    with pytest.raises(HashMismatchError):
        fetch_all([bad], cache, None)


def test_first_failure_by_name_is_reported(tmp_path: Path) -> None:
    arts = [artifact(bytes([i]) * 10, f"p{i}-1-py3-none-any.whl") for i in range(6)]
    bodies = {a.url: bytes([i]) * 10 for i, a in enumerate(arts)}
    del bodies[arts[2].url], bodies[arts[4].url]
    with pytest.raises(NetworkError, match="p2-1"):
        fetch_all(arts, Cache(tmp_path), FakeClient(bodies), FetchOptions(max_workers=3))  # type: ignore[arg-type]


# --- against the kit index (real HTTP) ---


def kit_artifact(index: KitIndex, name: str = "kitpkg") -> Artifact:
    (path,) = index.publish(DistSpec(name, "1.0"))
    return Artifact(
        path.name, index.sha256(path.name), url=index.file_url(path.name), size=path.stat().st_size
    )


def test_kit_download(kit_index: KitIndex, tmp_path: Path) -> None:
    wanted = kit_artifact(kit_index)
    client = HttpClient(FAST)
    path = fetch_all([wanted], Cache(tmp_path), client)[wanted.sha256]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == wanted.sha256


@pytest.mark.parametrize("kind", ["truncate", "short", "reset", "500", "wrong_bytes"])
def test_transient_faults_are_retried(kit_index: KitIndex, tmp_path: Path, kind: str) -> None:
    wanted = kit_artifact(kit_index)
    kit_index.fault(f"/files/{wanted.filename}", kind, times=1)
    path = fetch_all([wanted], Cache(tmp_path), HttpClient(FAST))[wanted.sha256]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == wanted.sha256


@pytest.mark.parametrize("kind", ["truncate", "short", "reset", "500", "wrong_bytes"])
def test_persistent_faults_fail_naming_the_url_and_leave_no_partial_file(
    kit_index: KitIndex, tmp_path: Path, kind: str
) -> None:
    wanted = kit_artifact(kit_index)
    kit_index.fault(f"/files/{wanted.filename}", kind)
    cache = Cache(tmp_path / "cache")
    with pytest.raises((NetworkError, HashMismatchError)) as info:
        fetch_all([wanted], cache, HttpClient(FAST))
    assert wanted.filename in str(info.value)
    assert [f for f in store_files(cache) if not f.endswith(os.sep + "lock")] == []


def test_credentials_never_in_errors(kit_index: KitIndex, tmp_path: Path) -> None:
    wanted = kit_artifact(kit_index)
    secret_url = wanted.url.replace("http://", "http://user:s3cret@")  # type: ignore[union-attr]
    kit_index.fault(f"/files/{wanted.filename}", "500")
    with pytest.raises(NetworkError) as info:
        fetch_all(
            [Artifact(wanted.filename, wanted.sha256, url=secret_url)], Cache(tmp_path), HttpClient(FAST)
        )
    assert "s3cret" not in str(info.value)
    assert "***@" in str(info.value)
