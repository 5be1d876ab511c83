"""Fault campaign (issue 7, promise 4; docs/safety.md) against the kit index: every fault kind on an
artifact, once (transient: retried, the sync succeeds) and always (persistent: the sync fails naming the
URL, the venv is byte-for-byte unchanged, nothing is left in the cache or beside the venv, and a later
sync succeeds). Patch, create and rebuild paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.kit.crash_kit import NEW, OLD, Scenario, envlock, expected, make_scenario, siblings, verify_venv
from tests.kit.index import KitIndex
from tests.kit.sync_locks import snapshot

KINDS = ["500", "503", "reset", "truncate", "short", "wrong_bytes"]
TARGET = "many-2.0-py3-none-any.whl"
"""The faulted artifact: the 300-file wheel of the NEW lock."""


@pytest.fixture
def scenario(kit_index: KitIndex, tmp_path: Path) -> Scenario:
    return make_scenario(kit_index, tmp_path / "project")


def _cold(tmp_path: Path, name: str) -> Path:
    return tmp_path / f"cold-{name}"


@pytest.mark.parametrize("kind", KINDS)
def test_transient_fault_is_retried(
    scenario: Scenario, kit_index: KitIndex, kind: str, tmp_path: Path
) -> None:
    scenario.fresh_venv()
    kit_index.fault(f"/files/{TARGET}", kind, times=1)
    result = envlock("sync", "--json", cwd=scenario.work, cache=_cold(tmp_path, kind))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["counts"]["installed"] == 1
    assert verify_venv(scenario.venv, expected(NEW), scenario.baseline) == []
    fetches = [r for r in kit_index.requests if r.path.endswith(TARGET)]
    assert len(fetches) >= 2  # the fault was served, then the retry


@pytest.mark.parametrize("kind", KINDS)
def test_persistent_fault_fails_naming_the_url_and_changes_nothing(
    scenario: Scenario, kit_index: KitIndex, kind: str, tmp_path: Path
) -> None:
    venv = scenario.fresh_venv()
    cache = _cold(tmp_path, kind)
    before = snapshot(venv)
    kit_index.fault(f"/files/{TARGET}", kind)
    result = envlock("sync", cwd=scenario.work, cache=cache)
    assert result.returncode == 1, result.stderr
    assert kit_index.file_url(TARGET) in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(venv) == before  # byte for byte, .envlock included
    assert envlock("check", cwd=scenario.work, cache=cache).returncode == 1  # still the OLD lock's venv
    assert not list((cache / "v1" / "artifacts").glob(f"*/*/{TARGET}"))  # nothing unverified stored
    assert not list(cache.rglob(".tmp-*"))
    kit_index.clear_faults()
    assert envlock("sync", cwd=scenario.work, cache=cache).returncode == 0
    assert verify_venv(venv, expected(NEW), scenario.baseline) == []


@pytest.mark.parametrize("kind", ["reset", "wrong_bytes"])
def test_persistent_fault_on_create_and_rebuild(
    scenario: Scenario, kit_index: KitIndex, kind: str, tmp_path: Path
) -> None:
    cache = _cold(tmp_path, kind)
    kit_index.fault(f"/files/{TARGET}", kind)
    created = envlock("sync", "--venv", "fresh", cwd=scenario.work, cache=cache)
    assert created.returncode == 1 and kit_index.file_url(TARGET) in created.stderr
    assert not (scenario.work / "fresh").exists()
    venv = scenario.fresh_venv()
    before = snapshot(venv)
    rebuilt = envlock("sync", "--rebuild", cwd=scenario.work, cache=cache)
    assert rebuilt.returncode == 1 and kit_index.file_url(TARGET) in rebuilt.stderr
    assert snapshot(venv) == before
    assert siblings(scenario.work) == []
    assert verify_venv(venv, expected(OLD), scenario.baseline) == []
    kit_index.clear_faults()
    assert envlock("sync", "--rebuild", cwd=scenario.work, cache=cache).returncode == 0
    assert verify_venv(venv, expected(NEW), scenario.baseline) == []
