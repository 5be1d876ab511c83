"""What a sync served from the caches loads (issue 15): a fresh venv and a one-package change of a lock read
before load none of packaging's lock model, markers, tags or requirements, no lock parser and no HTTP code;
and what is remembered to allow that (``sync/selection_cache.py``) is never trusted beyond what it can vouch
for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from envlock.sync import selection_cache
from tests.cli.test_quick import RUN_MAIN
from tests.cli.test_sync_cli import installed, sync_json, write
from tests.kit.dists import DistSpec
from tests.kit.imports import modules_loaded
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sync_locks import lock_for, write_lock_dict

NOT_LOADED = {
    "packaging.pylock",
    "packaging.markers",
    "packaging.tags",
    "packaging.requirements",
    "packaging.specifiers",
    "envlock.lock.selection",
    "envlock.lock.lockfile",
    "envlock.env.targets",
    "envlock.inputs.config",
    "envlock.index.http",
    "envlock.index.client",
    "urllib3",
    "tomllib",
    "tomli",
}
"""What a store-served sync of a lock read before needs none of (all of it was loaded before issue 15)."""


def _area() -> Path:
    return Path(os.environ["ENVLOCK_CACHE_DIR"], "v1", selection_cache.AREA)


def _new_venv(path: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)


def test_a_fresh_venv_from_the_store_loads_no_lock_model(
    kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    write(kit_index, DistSpec("a", "1.0"), DistSpec("b", "2.0"))
    sync_json(run_envlock)  # fills the artifact cache, the unpacked store and the remembered read
    _new_venv(Path("fresh"))
    loaded = modules_loaded([sys.executable], RUN_MAIN, ["-q", "sync", "--venv", "fresh"])
    assert "envlock.sync.syncer" in loaded
    assert NOT_LOADED & loaded == set(), sorted(NOT_LOADED & loaded)
    assert installed(Path("fresh")) == {"a": "1.0", "b": "2.0"}
    assert run_envlock("check", "--venv", "fresh", "--deep").returncode == 0


def test_a_one_package_change_loads_no_lock_model(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    write(kit_index, DistSpec("a", "1.0"), DistSpec("b", "2.0"))
    sync_json(run_envlock)
    write(kit_index, DistSpec("a", "1.0"), DistSpec("b", "3.0"))
    sync_json(run_envlock)
    write(kit_index, DistSpec("a", "1.0"), DistSpec("b", "2.0"))
    loaded = modules_loaded([sys.executable], RUN_MAIN, ["-q", "sync"])
    assert "envlock.sync.syncer" in loaded
    assert NOT_LOADED & loaded == set(), sorted(NOT_LOADED & loaded)
    assert installed() == {"a": "1.0", "b": "2.0"}
    assert run_envlock("check", "--deep").returncode == 0


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
    entries = sorted(_area().glob("*/*.json"))
    assert len(entries) == 1
    entry = entries[0]
    original = json.loads(entry.read_text())
    for edit in ("file-url", "bad-sha", "garbage"):
        data = json.loads(json.dumps(original))
        if edit == "file-url":
            data["packages"][0]["url"] = "file:///etc/passwd"
        elif edit == "bad-sha":
            data["packages"][0]["sha256"] = "../../x"
        entry.write_text(json.dumps(data) if edit != "garbage" else "{not json")
        assert selection_cache.recall(entry.parent.parent, entry.parent.name, entry.stem) is None
        assert run_envlock("sync", "--rebuild").returncode == 0
        assert json.loads(entry.read_text()) == original  # the full read wrote it again
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
    assert len(list(_area().glob("*/*.json"))) == 2
