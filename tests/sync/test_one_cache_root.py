"""One cache root (issue 27): with ``--cache-dir`` every remembered answer and artifact of compile and sync
lands in that folder's one layout (``v1/``, beside the artifacts); the user's cache gets nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock


def test_compile_and_sync_with_a_cache_folder_write_nothing_elsewhere(
    kit_index: KitIndex, run_envlock: RunEnvlock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ENVLOCK_CACHE_DIR")
    user_cache = Path(os.environ["XDG_CACHE_HOME"])
    kit_index.publish(DistSpec("a", "1.0"))
    Path("requirements.in").write_text("a\n")
    given = tmp_path / "given-cache"
    run_envlock("compile", "--index-url", kit_index.url, "--cache-dir", given, check=True)
    run_envlock("compile", "--index-url", kit_index.url, "--cache-dir", given, check=True)  # kept
    run_envlock("sync", "--cache-dir", given, check=True)
    Path("requirements.in").write_text("a\n# a comment: the lock stays fresh\n")
    run_envlock("sync", "--cache-dir", given, "--rebuild", check=True)
    assert not user_cache.exists() or list(user_cache.rglob("*")) == []
    areas = {path.name for path in (given / "v1").iterdir()}
    assert {"interpreters", "selections", "freshness", "compile-kept", "artifacts"} <= areas, areas
    assert sorted(path.name for path in given.iterdir()) == ["v1"]
