"""Concurrency campaign (issue 7, promise 3; docs/safety.md): syncs of one venv started at once serialize
and leave it exactly at one lock, which ``envlock check`` agrees with; processes sharing one cache never
read a partial entry; a sync killed while others wait for its lock is repaired by the next holder."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.kit.crash_kit import NEW, OLD, Scenario, envlock, expected, make_scenario, siblings, verify_venv
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.sync_locks import lock_for, write_lock_dict

N = 4


@pytest.fixture
def scenario(kit_index: KitIndex, tmp_path: Path) -> Scenario:
    return make_scenario(kit_index, tmp_path / "project")


def _start(scenario: Scenario, *args: str, cache: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "ENVLOCK_CACHE_DIR": str(cache)}
    return subprocess.Popen(
        [sys.executable, "-m", "envlock", "sync", *args],
        cwd=scenario.work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _stamped_lock(venv: Path) -> str:
    data = json.loads((venv / ".envlock" / "stamp.json").read_text())
    name: str = data["lock"]["name"]
    return name


def test_same_lock_at_once(scenario: Scenario) -> None:
    scenario.fresh_venv()
    processes = [_start(scenario, cache=scenario.warm_cache) for _ in range(N)]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in processes]
    assert [code for code, _ in results] == [0] * N, results
    assert verify_venv(scenario.venv, expected(NEW), scenario.baseline) == []
    assert envlock("check", cwd=scenario.work, cache=scenario.warm_cache).returncode == 0


def test_different_locks_at_once(scenario: Scenario) -> None:
    scenario.fresh_venv()
    shutil.copyfile(scenario.old_lock, scenario.work / "pylock.old.toml")
    shutil.copyfile(scenario.new_lock, scenario.work / "pylock.new.toml")
    locks = ["pylock.old.toml", "pylock.new.toml"] * (N // 2)
    processes = [_start(scenario, lock, cache=scenario.warm_cache) for lock in locks]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in processes]
    assert [code for code, _ in results] == [0] * N, results
    winner = _stamped_lock(scenario.venv)
    want = expected(OLD if winner == "pylock.old.toml" else NEW)
    assert verify_venv(scenario.venv, want, scenario.baseline) == []
    assert envlock("check", cwd=scenario.work, cache=scenario.warm_cache).returncode == 0
    check = envlock("check", "--lock", winner, cwd=scenario.work, cache=scenario.warm_cache)
    assert check.returncode == 0, check.stderr
    loser = "pylock.new.toml" if winner == "pylock.old.toml" else "pylock.old.toml"
    assert envlock("check", "--lock", loser, cwd=scenario.work, cache=scenario.warm_cache).returncode == 1


def test_create_with_different_locks_at_once(scenario: Scenario) -> None:
    shutil.copyfile(scenario.old_lock, scenario.work / "pylock.old.toml")
    shutil.copyfile(scenario.new_lock, scenario.work / "pylock.new.toml")
    locks = ["pylock.old.toml", "pylock.new.toml"] * (N // 2)
    processes = [_start(scenario, lock, "--venv", "fresh", cache=scenario.warm_cache) for lock in locks]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in processes]
    assert [code for code, _ in results] == [0] * N, results
    venv = scenario.work / "fresh"
    want = expected(OLD if _stamped_lock(venv) == "pylock.old.toml" else NEW)
    assert verify_venv(venv, want, scenario.baseline) == []
    assert envlock("check", "--venv", "fresh", cwd=scenario.work, cache=scenario.warm_cache).returncode == 0
    assert not list(scenario.work.glob(".fresh.envlock-*"))


def test_shared_cold_cache_never_reads_a_partial_entry(scenario: Scenario, tmp_path: Path) -> None:
    cache = tmp_path / "shared-cold-cache"
    processes = [_start(scenario, "--venv", f"v{i}", cache=cache) for i in range(N)]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in processes]
    assert [code for code, _ in results] == [0] * N, results
    for i in range(N):
        assert verify_venv(scenario.work / f"v{i}", expected(NEW), scenario.baseline) == []
    # Independent check of the store: every entry's bytes hash to the name of its folder; no temp files.
    artifacts = list((cache / "v1" / "artifacts").glob("*/*/*"))
    assert len(artifacts) == len(NEW)
    for path in artifacts:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == path.parent.parent.name + path.parent.name, path
    assert not list(cache.rglob(".tmp-*"))


def test_killed_lock_holder_is_repaired_by_a_waiting_sync(scenario: Scenario) -> None:
    """One sync is killed mid-apply while three wait on its lock: the kernel frees the lock, the next
    holder sees the marker and journal, repairs, and all end at the lock."""
    venv = scenario.fresh_venv()
    first = _start(scenario, cache=scenario.warm_cache)
    deadline = time.monotonic() + 30
    while not (venv / ".envlock" / "journal").exists() and first.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    waiting = [_start(scenario, cache=scenario.warm_cache) for _ in range(N - 1)]
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=60)
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in waiting]
    assert [code for code, _ in results] == [0] * (N - 1), results
    assert verify_venv(venv, expected(NEW), scenario.baseline) == []
    assert envlock("check", cwd=scenario.work, cache=scenario.warm_cache).returncode == 0
    assert siblings(scenario.work) == []


def test_concurrent_rebuilds_and_patches(scenario: Scenario, kit_index: KitIndex) -> None:
    """--rebuild and plain syncs of one venv at once: the swap never interleaves with a patch."""
    scenario.fresh_venv()
    extra = write_lock_dict(
        scenario.work / "pylock.extra.toml", lock_for(kit_index, [*NEW, DistSpec("extra", "1.0")])
    )
    commands = [("--rebuild",), (), ("--rebuild", extra.name), (extra.name,)]
    processes = [_start(scenario, *args, cache=scenario.warm_cache) for args in commands]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in processes]
    assert [code for code, _ in results] == [0] * len(commands), results
    winner = _stamped_lock(scenario.venv)
    want = expected([*NEW, DistSpec("extra", "1.0")] if winner == extra.name else NEW)
    assert verify_venv(scenario.venv, want, scenario.baseline) == []
    assert envlock("check", "--lock", winner, cwd=scenario.work, cache=scenario.warm_cache).returncode == 0
    assert siblings(scenario.work) == []
