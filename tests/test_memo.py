"""The memo layer (``envlock.memo``): owner-only atomic entries, ``ENVLOCK_NO_MEMO``, the trust rule."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from envlock import code_closure, memo


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


CARRIED = """
import os, sys
from envlock import memo
root, step = sys.argv[1], sys.argv[2]
remembered = memo.Memo("kind", root, code="envlock.inputs.fresh_cache")
key = remembered.key("parts")
if step == "write":
    remembered.remember(key, b"answer")
print(remembered.recall(key, bytes))
"""


def _carried(src: Path, root: Path, step: str = "read") -> str:
    """What a memo naming its code recalls, run from the envlock at ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    run = subprocess.run(
        [sys.executable, "-c", CARRIED, str(root), step], capture_output=True, text=True, check=True, env=env
    )
    return run.stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of envlock's source tree, to edit (run from it, as a checkout runs)."""
    src = tmp_path / "src"
    shutil.copytree(Path(memo.__file__).parent, src / "envlock", ignore=shutil.ignore_patterns("__pycache__"))
    return src


def test_an_answer_keyed_by_its_code_closure_misses_after_any_edit_of_that_code(
    checkout: Path, tmp_path: Path
) -> None:
    root = tmp_path / "cache"
    package = checkout / "envlock"
    assert _carried(checkout, root, "write") == "b'answer'"
    assert _carried(checkout, root) == "b'answer'"
    # a module it imports, edited in place (the same size: only its mtime tells)
    judge = package / "inputs" / "freshness.py"
    judge.write_text(judge.read_text().replace("Read back", "read back"))
    assert _carried(checkout, root) == "None"
    assert _carried(checkout, root, "write") == "b'answer'"
    # a module that would shadow one it imports (a package is imported before a module of the same name)
    (package / "inputs" / "freshness").mkdir()
    assert _carried(checkout, root) == "None"
    (package / "inputs" / "freshness").rmdir()
    assert _carried(checkout, root, "write") == "b'answer'"
    # one of its modules gone; then another checkout (another folder) with the same files
    (package / "tomlshim.py").rename(tmp_path / "tomlshim.py")
    assert _carried(checkout, root) == "None"
    (tmp_path / "tomlshim.py").rename(package / "tomlshim.py")
    assert _carried(checkout, root, "write") == "b'answer'"
    other = tmp_path / "other"
    shutil.copytree(checkout, other)
    assert _carried(other, root) == "None"


def test_a_code_closure_names_every_module_imported_and_their_folders() -> None:
    found = code_closure.closure("envlock.inputs.fresh_cache")
    assert found is not None
    # lazily imported (inside a function), through a package, and the base
    assert {"inputs/freshness.py", "inputs/__init__.py", "runtime/drift.py", "__init__.py"} <= set(found)
    assert {"./", "inputs/", "runtime/"} <= set(found)
    assert not any(rel.startswith(("cli/", "sync/", "resolve/", "guard/")) for rel in found)
    assert code_closure.closure("envlock.cli") is None  # it imports its commands by computed name


def test_a_key_named_by_its_code_closure_lists_no_folder_of_envlock(tmp_path: Path) -> None:
    """Once the closure is remembered, a key looks at its files one by one: no listing of envlock's every
    folder and module (``memo.key``'s code identity), and no module's text read again."""
    root = tmp_path / "cache"
    remembered = memo.Memo("kind", root, code="envlock.inputs.fresh_cache")
    remembered.remember(remembered.key("parts"), b"answer")
    spy = (
        "import builtins, os\n"
        "listed, read = [], []\n"
        "real_scandir, real_open = os.scandir, builtins.open\n"
        "os.scandir = lambda path='.': listed.append(path) or real_scandir(path)\n"
        "builtins.open = lambda path, *a, **k: read.append(str(path)) or real_open(path, *a, **k)\n"
        "from envlock import memo\n"
        f"carried = memo.Memo('kind', {str(root)!r}, code='envlock.inputs.fresh_cache')\n"
        "found = carried.recall(carried.key('parts'), bytes)\n"
        "print(found, len(listed), sum(path.endswith('.py') for path in read))\n"
    )
    run = subprocess.run([sys.executable, "-c", spy], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["b'answer'", "0", "0"]
