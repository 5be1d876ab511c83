"""What a sync served from the caches loads (issue 15): a fresh venv and a one-package change of a lock read
before load none of packaging's lock model, markers, tags or requirements, no lock parser and no HTTP code;
tests/sync/test_selection_cache.py shows what is remembered to allow that is trusted no further than it can
vouch for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli.test_quick import RUN_MAIN
from tests.cli.test_sync_cli import installed, sync_json, write
from tests.kit.dists import DistSpec
from tests.kit.imports import modules_loaded
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock

NOT_LOADED = {
    "packaging.pylock",
    "packaging.markers",
    "packaging.tags",
    "packaging.requirements",
    "packaging.specifiers",
    "packaging.version",
    "packaging.utils",
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
    # one wheel, nothing to download: no thread pool (concurrent.futures loads logging), no uuid
    assert {"concurrent.futures", "logging", "uuid", "click", "installer"} & loaded == set()
    assert installed() == {"a": "1.0", "b": "2.0"}
    assert run_envlock("check", "--deep").returncode == 0
