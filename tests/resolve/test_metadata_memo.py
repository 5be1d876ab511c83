"""The memo of a source tree's built metadata (``resolve.metadata_memo``): a second compile runs no
build backend, a change of the files that define the metadata does, a damaged entry is a miss, an
untrusted cache is never read, and a compile with the memo writes the very lock one without it does."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from envlock.index.cache import Cache
from envlock.index.core_metadata import CoreMetadata
from envlock.resolve.metadata_memo import AREA, MetadataMemo, folder_key
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sources import backend_calls, commit_all, make_counted_project, write_counted_spec

LIB = DistSpec("lib", "1.0", requires=("beta",))


@pytest.fixture
def index(kit_index: KitIndex) -> KitIndex:
    kit_index.publish(DistSpec("beta", "1.0"), DistSpec("beta", "2.0"))
    return kit_index


def _compile(run_envlock: RunEnvlock, index: KitIndex, work: Path, *args: str) -> bytes:
    """A compile that resolves (no lock to keep): the lock's bytes."""
    (work / "pylock.toml").unlink(missing_ok=True)
    run_envlock("compile", "--index-url", index.url, *args, check=True)
    return (work / "pylock.toml").read_bytes()


def _packages(lock: bytes) -> bytes:
    """The lock's packages, without its input fingerprint."""
    return lock[lock.index(b"[[packages]]") : lock.index(b"\n[tool.envlock]\n")]


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "v1" / AREA).glob("*"))


def test_a_second_compile_runs_no_backend_until_a_defining_file_changes(
    index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    lib = make_counted_project(
        isolated / "lib", LIB, pyproject_extra='\n[tool.envlock]\ncache-keys = ["*.json"]\n'
    )
    (isolated / "requirements.in").write_text("-e ./lib\n", encoding="utf-8")
    first = _compile(run_envlock, index, isolated)
    assert backend_calls(lib) == ["prepare_metadata_for_build_editable"]
    assert b'name = "beta"\nversion = "2.0"' in first

    # Remembered: no backend, the same lock; code outside the keys changes nothing either.
    (lib / "notes.txt").write_text("not a key\n", encoding="utf-8")
    assert _compile(run_envlock, index, isolated) == first
    assert len(backend_calls(lib)) == 1

    # A listed cache-key file (the spec the backend reads) changes the metadata: built again.
    write_counted_spec(lib, DistSpec("lib", "1.0", requires=("beta<2",)))
    second = _compile(run_envlock, index, isolated)
    assert len(backend_calls(lib)) == 2 and b'version = "1.0"' in second

    # pyproject.toml changed (a comment is a change), then a setup.cfg appears: built each time (the
    # lock's input fingerprint moves with them, its packages do not).
    pyproject = lib / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    assert _packages(_compile(run_envlock, index, isolated)) == _packages(second)
    (lib / "setup.cfg").write_text("[metadata]\n", encoding="utf-8")
    assert _packages(_compile(run_envlock, index, isolated)) == _packages(second)
    assert len(backend_calls(lib)) == 4

    # Not editable is another build (another hook); --upgrade builds again whatever is remembered.
    (isolated / "requirements.in").write_text("./lib\n", encoding="utf-8")
    _compile(run_envlock, index, isolated)
    _compile(run_envlock, index, isolated)
    assert backend_calls(lib)[4:] == ["prepare_metadata_for_build_wheel"]
    _compile(run_envlock, index, isolated, "--upgrade")
    assert len(backend_calls(lib)) == 6


def test_the_lock_with_the_memo_is_the_lock_without_it(
    index: KitIndex, run_envlock: RunEnvlock, isolated: Path, tmp_path: Path
) -> None:
    # The project itself, whose [tool.envlock] (read by every compile here) lists its cache-keys.
    extra = '\n[tool.envlock]\ncache-keys = ["kit-spec.json"]\n'
    lib = make_counted_project(
        isolated, DistSpec("app", "1.0", requires=("beta<2", "lib")), pyproject_extra=extra
    )
    make_counted_project(isolated / "libs" / "lib", LIB)
    (isolated / "requirements.in").write_text("-e .\n./libs/lib\n", encoding="utf-8")
    remembered = _compile(run_envlock, index, isolated)
    assert _compile(run_envlock, index, isolated) == remembered
    assert len(backend_calls(lib)) == 1 and len(backend_calls(isolated / "libs" / "lib")) == 1
    fresh_cache = {"ENVLOCK_CACHE_DIR": str(tmp_path / "other-cache")}
    (isolated / "pylock.toml").unlink()
    run_envlock("compile", "--index-url", index.url, env=fresh_cache, check=True)
    assert (isolated / "pylock.toml").read_bytes() == remembered
    assert len(backend_calls(lib)) == 2


def _compiled_lib(run_envlock: RunEnvlock, index: KitIndex, work: Path) -> tuple[Path, Path, bytes]:
    """``-e ./lib`` compiled once: the cache folder, the project and the lock."""
    lib = make_counted_project(work / "lib", LIB)
    (work / "requirements.in").write_text("-e ./lib\n", encoding="utf-8")
    return Path(os.environ["ENVLOCK_CACHE_DIR"]), lib, _compile(run_envlock, index, work)


def test_a_damaged_entry_is_a_miss_never_an_error(
    index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    cache, lib, lock = _compiled_lib(run_envlock, index, isolated)
    (entry,) = _entries(cache)
    good = entry.read_bytes()
    checksum, _, body = good.partition(b"\n")
    damages = {
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "a byte changed": good.replace(b'"beta"', b'"bet4"'),
        "garbage": b"\xff\xfe not json",
        "no checksum": body,
    }
    for damage, data in damages.items():
        entry.write_bytes(data)
        calls = len(backend_calls(lib))
        assert _compile(run_envlock, index, isolated) == lock, damage
        assert len(backend_calls(lib)) == calls + 1, damage
        assert entry.read_bytes() == good, damage  # written again whole
    entry.unlink()
    entry.mkdir()  # not even a file
    assert _compile(run_envlock, index, isolated) == lock
    assert checksum  # the entry had one


def test_a_cache_others_can_write_is_not_trusted(
    index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    cache, lib, lock = _compiled_lib(run_envlock, index, isolated)
    assert (cache / "v1" / AREA).stat().st_mode & 0o777 == 0o700
    assert all(entry.stat().st_mode & 0o777 == 0o600 for entry in _entries(cache))
    for folder, mode in ((cache, 0o775), (cache / "v1", 0o757), (cache / "v1" / AREA, 0o720)):
        original = folder.stat().st_mode & 0o777
        folder.chmod(mode)
        try:
            calls = len(backend_calls(lib))
            assert _compile(run_envlock, index, isolated) == lock
            assert len(backend_calls(lib)) == calls + 1, folder
        finally:
            folder.chmod(original)
    _compile(run_envlock, index, isolated)
    assert len(backend_calls(lib)) == 4  # trusted again: remembered


def test_a_git_commit_is_remembered_by_its_commit(
    index: KitIndex, run_envlock: RunEnvlock, isolated: Path, tmp_path: Path
) -> None:
    repo = make_counted_project(tmp_path / "repo", LIB)
    commit = commit_all(repo, "one")
    (isolated / "requirements.in").write_text(f"lib @ git+{repo.as_uri()}@{commit}\n", encoding="utf-8")
    cache = Path(os.environ["ENVLOCK_CACHE_DIR"])
    first = _compile(run_envlock, index, isolated)
    (log,) = (cache / "v1" / "git").rglob("calls.log")  # the backend ran in the checkout in the cache
    assert log.read_text(encoding="utf-8").split() == ["prepare_metadata_for_build_wheel"]
    shutil.rmtree(cache / "v1" / "git")
    # Remembered by commit: no checkout is even made again, and the lock is the same.
    assert _compile(run_envlock, index, isolated) == first
    assert not (cache / "v1" / "git").exists()


# ------------------------------------------------------------------ the memo itself, without a build


def test_recall_answers_only_its_own_key(tmp_path: Path) -> None:
    make_counted_project(tmp_path / "lib", LIB)
    memo = MetadataMemo.open(Cache(tmp_path / "cache"))
    key = folder_key(tmp_path / "lib", editable=True)
    other = folder_key(tmp_path / "lib", editable=False)
    metadata = CoreMetadata("lib", "1.0", ("beta",))
    assert memo.through(key, lambda: metadata) == metadata
    assert memo.recall(key) == metadata
    assert memo.recall(other) is None
    assert MetadataMemo.open(Cache(tmp_path / "cache"), refresh=True).recall(key) is None
    # An entry copied into another key's place (its name) is not that key's answer.
    (entry,) = (tmp_path / "cache" / "v1" / AREA).glob("*")
    assert memo.through(other, lambda: CoreMetadata("lib", "2.0")).version == "2.0"
    (moved,) = {*(tmp_path / "cache" / "v1" / AREA).glob("*")} - {entry}
    moved.write_bytes(entry.read_bytes())
    assert memo.recall(other) is None


def test_cache_keys_must_stay_inside_the_project(
    index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    make_counted_project(isolated / "lib", LIB, pyproject_extra='\n[tool.envlock]\ncache-keys = ["../x"]\n')
    (isolated / "requirements.in").write_text("-e ./lib\n", encoding="utf-8")
    refused = run_envlock("compile", "--index-url", index.url)
    assert refused.returncode == 2, refused.stderr
    assert "cache-keys: '../x' is not inside the project folder" in refused.stderr
    assert "Traceback" not in refused.stderr
