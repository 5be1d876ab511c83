"""The memo layer (``envlock.memo``): owner-only atomic entries, ``ENVLOCK_NO_MEMO``, the trust rule."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from envlock import memo


def test_an_answer_is_computed_once_and_stored_owner_only(tmp_path: Path) -> None:
    calls: list[int] = []
    remembered = memo.Memo("kind", tmp_path / "cache")

    def compute() -> bytes:
        calls.append(1)
        return b"answer"

    key = memo.key("kind", "what it depends on")
    assert remembered.through(key, compute, bytes, bytes) == b"answer"
    assert remembered.through(key, compute, bytes, bytes) == b"answer"
    assert len(calls) == 1
    area = tmp_path / "cache" / memo.LAYOUT / "kind"
    folders = (tmp_path / "cache", area.parent, area)
    assert [stat.S_IMODE(f.stat().st_mode) for f in folders] == [0o700] * 3
    assert [stat.S_IMODE(e.stat().st_mode) for e in area.iterdir()] == [0o600]


def test_no_memo_reads_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remembered = memo.Memo("kind", tmp_path / "cache")
    remembered.remember("k", b"old")
    monkeypatch.setenv("ENVLOCK_NO_MEMO", "1")
    assert memo.Memo("kind", tmp_path / "cache").recall("k", bytes) is None
    memo.Memo("kind", tmp_path / "cache").remember("k", b"new")
    monkeypatch.setenv("ENVLOCK_NO_MEMO", "0")
    assert memo.Memo("kind", tmp_path / "cache").recall("k", bytes) == b"old"


@pytest.mark.skipif(os.name == "nt", reason="folder modes are POSIX")
@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777, 0o1777])
def test_a_cache_others_can_write_is_not_believed(mode: int, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    memo.Memo("kind", root).remember("k", b"v")
    assert memo.distrusted(root) is None
    root.chmod(mode)
    assert "writable by others" in (memo.distrusted(root) or "")
    assert memo.Memo("kind", root).recall("k", bytes) is None
    root.chmod(0o700)
    (root / memo.LAYOUT / "kind").chmod(mode)
    assert memo.Memo("kind", root).recall("k", bytes) is None  # the area itself too


def test_the_code_is_part_of_every_key() -> None:
    assert memo.key("kind", 1) == memo.key("kind", 1) != memo.key("kind", 2) != memo.key("other", 2)
    assert any(path.endswith("memo.py") for path, _mtime, _size in memo.code_identity())
