"""A lock read before is answered from its remembered read (``sync/selection_cache.py``) and a wheel
checked before from its claims verdict (``sync/wheel_claims.py``) only when everything either depends on is
unchanged; an edited entry is a miss."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

from envlock.env.interpreter import environment_for, probe, tags_basis
from envlock.memo import Memo
from envlock.sync import selection_cache
from tests.cli.test_quick import RUN_MAIN
from tests.cli.test_sync_cli import installed, sync_json, write
from tests.kit.dists import DistSpec
from tests.kit.imports import modules_loaded
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sync_locks import lock_for, write_lock_dict


def _area() -> Path:
    return Path(os.environ["ENVLOCK_CACHE_DIR"], "v1", selection_cache.AREA)


def _body(entry: Path) -> bytes:
    """A memo entry's body (after its header line)."""
    return entry.read_bytes().partition(b"\n")[2]


def _reads() -> list[Path]:
    """The remembered reads (the area also holds the marks that a lock's bytes were read in full)."""
    return sorted(p for p in _area().iterdir() if _body(p).startswith(b"{"))


def test_a_changed_lock_is_read_in_full(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    """Another lock (here: one byte different and invalid) is never answered from a remembered read."""
    lock = write(kit_index, DistSpec("a", "1.0"))
    sync_json(run_envlock)
    lock.write_text("requires-python = 3\n" + lock.read_text())
    result = run_envlock("sync", "--venv", "other")
    assert result.returncode == 2 and "invalid lock" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not Path("other").exists()


def test_an_edited_remembered_read_is_not_trusted(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    """An entry edited to name another artifact, a local URL scheme or garbage is a miss: the lock is read
    in full and the venv is exactly the lock."""
    write(kit_index, DistSpec("a", "1.0"), DistSpec("b", "2.0"))
    sync_json(run_envlock)
    entries = _reads()
    assert len(entries) == 1
    entry = entries[0]
    original = json.loads(_body(entry))
    memo = Memo(selection_cache.AREA, os.environ["ENVLOCK_CACHE_DIR"])
    for edit in ("file-url", "bad-sha", "garbage"):
        data = json.loads(json.dumps(original))
        if edit == "file-url":
            data["packages"][0]["url"] = "file:///etc/passwd"
        elif edit == "bad-sha":
            data["packages"][0]["sha256"] = "../../x"
        memo.remember(entry.name, json.dumps(data).encode() if edit != "garbage" else b"{not json")
        assert run_envlock("sync", "--rebuild").returncode == 0
        assert json.loads(_body(entry)) == original  # a miss: the full read wrote it again
    assert installed() == {"a": "1.0", "b": "2.0"}
    assert run_envlock("check", "--deep").returncode == 0


def test_each_choice_is_remembered_apart(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    """Extras (and groups, --only-binary, the interpreter) are part of the key: a sync with another choice
    selects again."""
    data = lock_for(kit_index, [DistSpec("a", "1.0"), DistSpec("b", "2.0")])
    data["packages"][1]["marker"] = "'x' in extras"
    data["extras"] = ["x"]
    write_lock_dict(Path("pylock.toml"), data)
    sync_json(run_envlock)
    assert installed() == {"a": "1.0"}
    sync_json(run_envlock, "--extra", "x")
    assert installed() == {"a": "1.0", "b": "2.0"}
    sync_json(run_envlock)
    assert installed() == {"a": "1.0"}
    assert len(_reads()) == 2


def test_a_claims_verdict_holds_for_its_selection_only(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    """A wheel whose check passed beside its dependency is checked again in a lock without it."""
    write(kit_index, DistSpec("app", "1.0", requires=("leaf",)), DistSpec("leaf", "1.0"))
    sync_json(run_envlock)
    write(kit_index, DistSpec("app", "1.0", requires=("leaf",)))
    result = run_envlock("sync", "--venv", "other")
    assert result.returncode != 0 and "leaf (not in the lock)" in result.stderr, result.stderr
    assert not Path("other").exists()


def test_the_tags_basis_follows_what_the_tags_are_computed_from() -> None:
    info = probe(sys.executable)
    assert tags_basis(info) == tags_basis(probe(sys.executable))
    others = [
        dataclasses.replace(info, debug=not info.debug),
        dataclasses.replace(info, free_threaded=not info.free_threaded),
        dataclasses.replace(info, version=(info.version[0], info.version[1] + 1, 0)),
        dataclasses.replace(info, platform="win-amd64" if info.platform != "win-amd64" else "linux-x86_64"),
        dataclasses.replace(info, implementation="pypy"),
    ]
    for other in others:
        assert environment_for(other).tags != environment_for(info).tags
        assert tags_basis(other) != tags_basis(info)


def test_the_sync_after_a_compile_answers_from_the_read_compile_remembered(
    kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    """``envlock compile`` remembers the read the plain sync that follows makes: that first sync of the new
    lock loads no lock model; a sync given the lock otherwise (its absolute path) reads it in full."""
    kit_index.publish(DistSpec("a", "1.0", requires=("b",)), DistSpec("b", "2.0"))
    Path("requirements.in").write_text("a\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    entries = _reads()
    assert len(entries) == 1, entries
    loaded = modules_loaded([sys.executable], RUN_MAIN, ["-q", "sync"])
    # (packaging.markers checks the new wheels' METADATA, remembered from then on; tomllib reads the
    # lock's fingerprint for its freshness, which the stamp records)
    unread = {"packaging.pylock", "envlock.lock.selection", "envlock.lock.lockfile"}
    assert unread & loaded == set()
    assert installed() == {"a": "1.0", "b": "2.0"}
    assert run_envlock("check", "--deep").returncode == 0
    absolute = str(Path("pylock.toml").absolute())
    other = modules_loaded([sys.executable], RUN_MAIN, ["-q", "sync", absolute, "--venv", "other"])
    assert "packaging.pylock" in other
