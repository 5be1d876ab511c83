"""Torn venvs (issue 7, bad input; docs/safety.md): what other tools or hands leave behind is repaired by a
plain ``envlock sync`` or refused with a message naming it and ``--rebuild``; plus a test that the
campaigns' independent verifier does see every kind of damage it is trusted to find."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.kit.crash_kit import NEW, OLD, Scenario, envlock, expected, make_scenario, verify_venv
from tests.kit.index import KitIndex
from tests.kit.sync_locks import snapshot


@pytest.fixture
def scenario(kit_index: KitIndex, tmp_path: Path) -> Scenario:
    return make_scenario(kit_index, tmp_path / "project")


def _site(venv: Path) -> Path:
    return next(venv.glob("lib/python*/site-packages"))


def _sync(scenario: Scenario, *args: str) -> None:
    result = envlock("sync", *args, cwd=scenario.work, cache=scenario.warm_cache)
    assert result.returncode == 0, result.stderr
    assert verify_venv(scenario.venv, expected(NEW), scenario.baseline) == []
    assert envlock("check", cwd=scenario.work, cache=scenario.warm_cache).returncode == 0


def test_verifier_sees_every_kind_of_damage(scenario: Scenario) -> None:
    venv = scenario.fresh_venv()
    site = _site(venv)
    assert verify_venv(venv, expected(OLD), scenario.baseline) == []
    assert verify_venv(venv, expected(NEW), scenario.baseline) != []  # other versions
    (site / "many" / "sub1" / "mod1.py").unlink()
    (site / "many" / "sub2" / "mod2.py").write_text("changed\n")
    (site / "many" / "sub3" / "foreign.py").write_text("")
    (site / "halfgone").mkdir()
    (venv / ".envlock" / "journal").write_text("")
    shutil.copytree(site / "keep-1.0.dist-info", site / "keep-0.9.dist-info")
    (site / "up-1.0.dist-info" / "METADATA").unlink()
    problems = "\n".join(verify_venv(venv, expected(OLD), scenario.baseline))
    for expected_text in (
        "many/sub1/mod1.py missing",
        "many/sub2/mod2.py has other bytes",
        "foreign or leftover file: lib/",
        "empty folder: lib/",
        "foreign or leftover file: .envlock/journal",
        "a second dist-info for keep",
        "up-1.0.dist-info: no METADATA",
    ):
        assert expected_text in problems, expected_text


def test_dist_info_without_record_is_refused_with_a_rebuild_hint(scenario: Scenario) -> None:
    venv = scenario.fresh_venv()
    site = _site(venv)
    (site / "gone-1.0.dist-info" / "RECORD").unlink()  # e.g. a tool that crashed while writing it
    before = snapshot(venv)
    result = envlock("sync", cwd=scenario.work, cache=scenario.warm_cache)
    assert result.returncode == 1
    assert "gone 1.0 (lib/python" in result.stderr and "has no RECORD" in result.stderr
    assert "hint: rebuild the venv from the lock: envlock sync --rebuild" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(venv) == before
    _sync(scenario, "--rebuild")


def test_egg_info_installs_are_removed_or_refused(scenario: Scenario) -> None:
    venv = scenario.fresh_venv()
    site = _site(venv)
    egg = site / "legacy-1.0-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: legacy\nVersion: 1.0\n")
    (site / "legacy.py").write_text("x = 1\n")
    (egg / "installed-files.txt").write_text("../legacy.py\nPKG-INFO\ninstalled-files.txt\n")
    _sync(scenario)
    assert not (site / "legacy.py").exists()
    scenario.fresh_venv()
    (site / "bare.egg-info").write_text("Metadata-Version: 1.1\nName: bare\nVersion: 2.0\n")
    result = envlock("sync", cwd=scenario.work, cache=scenario.warm_cache)
    assert result.returncode == 1 and "bare 2.0" in result.stderr and "--rebuild" in result.stderr
    _sync(scenario, "--rebuild")


def test_missing_metadata_two_dist_infos_and_missing_files_are_repaired(scenario: Scenario) -> None:
    venv = scenario.fresh_venv()
    site = _site(venv)
    (site / "keep-1.0.dist-info" / "METADATA").unlink()
    clone = site / "up-0.5.dist-info"
    shutil.copytree(site / "up-1.0.dist-info", clone)
    (clone / "METADATA").write_text("Metadata-Version: 2.1\nName: up\nVersion: 0.5\n")
    (site / "many" / "sub4" / "mod4.py").unlink()
    _sync(scenario)


def test_leftovers_without_a_marker_are_an_interrupted_sync(scenario: Scenario) -> None:
    """A journal or stash (e.g. from an older envlock) makes check fail and sync recover, marker or not."""
    venv = scenario.fresh_venv()
    site = _site(venv)
    (site / "up-1.0.dist-info").rename(venv / ".envlock" / "gone-dist")
    (venv / ".envlock" / "stash").mkdir()
    (venv / ".envlock" / "journal").write_text(f"remove {site / 'up-1.0.dist-info'}\n")
    check = envlock("check", cwd=scenario.work, cache=scenario.warm_cache)
    assert check.returncode == 1 and "was interrupted" in check.stderr
    shutil.rmtree(venv / ".envlock" / "gone-dist")
    _sync(scenario)
