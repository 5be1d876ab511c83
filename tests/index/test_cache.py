"""The content-addressed cache: only verified bytes become visible, nothing half-written is ever read."""

from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path

import pytest

from envlock.index.cache import CACHE_LAYOUT_VERSION, Cache, default_cache_dir, key_for

DATA = b"wheel bytes" * 1000
SHA = hashlib.sha256(DATA).hexdigest()


def write(cache: Cache, data: bytes, sha256: str) -> None:
    with cache.artifact_writer(sha256, "demo-1.0-py3-none-any.whl") as (handle, digest):
        handle.write(data)
        digest.update(data)


def test_verified_artifact_becomes_visible(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    assert cache.get_artifact(SHA, "demo-1.0-py3-none-any.whl") is None
    write(cache, DATA, SHA)
    found = cache.get_artifact(SHA, "demo-1.0-py3-none-any.whl")
    assert found is not None and found.read_bytes() == DATA


def test_wrong_bytes_leave_nothing_behind(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    with pytest.raises(ValueError, match="does not match"):
        write(cache, b"other bytes", SHA)
    assert cache.get_artifact(SHA, "demo-1.0-py3-none-any.whl") is None
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [], "no temporary file is left"


def test_an_error_while_writing_leaves_nothing_behind(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    with pytest.raises(OSError), cache.artifact_writer(SHA, "x.whl") as (handle, _digest):
        handle.write(b"partial")
        raise OSError("disk full")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def _writer(root: str) -> None:
    for _ in range(20):
        write(Cache(Path(root)), DATA, SHA)


def test_concurrent_writers_of_one_entry(tmp_path: Path) -> None:
    processes = [multiprocessing.Process(target=_writer, args=(str(tmp_path),)) for _ in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    found = Cache(tmp_path).get_artifact(SHA, "demo-1.0-py3-none-any.whl")
    assert found is not None and found.read_bytes() == DATA
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_entries_and_keys(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    key = key_for("https://index.example/simple/demo/")
    assert "/" in key and ":" not in key
    assert cache.read_entry("http", key) is None
    cache.write_entry("http", key, b"page")
    assert cache.read_entry("http", key) == b"page"
    assert cache.size() == 4


def test_default_cache_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVLOCK_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("ENVLOCK_CACHE_DIR")
    assert "envlock" in str(default_cache_dir())


def test_areas_are_made_owner_only_and_memos_need_a_private_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A umask that lets the group write (002, common with per-user groups) still makes owner-only cache
    folders; a cache folder others can write is not trusted: its memos are off, and that is said once."""
    import os

    cache = Cache(tmp_path / "cache")
    old = os.umask(0o002)
    try:
        http = cache.area("http")
    finally:
        os.umask(old)
    assert all(p.stat().st_mode & 0o777 == 0o700 for p in (cache.root, http.parent, http))
    assert cache.memo("memo").area(make=True) == str(http.parent / "memo")
    cache.root.chmod(0o770)
    assert Cache(cache.root).memo("memo").area() is None
    assert Cache(cache.root).memo("memo").area() is None
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 1 and str(cache.root) in said[0] and "writable by others" in said[0], said
    cache.root.chmod(0o700)
    (http.parent / "memo").chmod(0o702)
    assert Cache(cache.root).memo("memo").area() is None


def test_a_read_is_a_miss_or_the_entry_and_makes_no_folder(tmp_path: Path) -> None:
    """Reading is a lookup (a compile reads one entry per package): a missing area is a miss, not a
    folder to make; writing makes it."""
    cache = Cache(tmp_path / "cache")
    assert cache.read_entry("metadata", "ab/cdef") is None
    assert not (tmp_path / "cache").exists()
    cache.write_entry("metadata", "ab/cdef", b"{}")
    assert cache.read_entry("metadata", "ab/cdef") == b"{}"
    assert cache.read_entry("http", "ab/cdef") is None
    assert not (tmp_path / "cache" / CACHE_LAYOUT_VERSION / "http").exists()


def test_a_read_joins_no_path_objects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm compile reads a thousand entries at 500 packages: the entry's path is joined as text (three
    ``Path`` joins a read cost more than the read), still checked as a key that stays in its area."""
    from pathlib import PurePath

    from envlock.validate import UnsafeInput
    from tests.kit.counting import count_calls

    cache = Cache(tmp_path / "cache")
    cache.write_entry("metadata", "ab/cdef", b"{}")
    counted = count_calls(monkeypatch, PurePath, "__truediv__")
    assert cache.read_entry("metadata", "ab/cdef") == b"{}"
    assert cache.read_entry("metadata", "ab/missing") is None
    assert counted["__truediv__"] == 0
    with pytest.raises(UnsafeInput):
        cache.read_entry("metadata", "../escape")
