"""Inputs that ended in a traceback (issue 26.8): a PEP 517 ``backend-path`` outside the project folder
(directly or through a symbolic link), a TOML array nested 50,000 deep (sync, export, compile, check), a
lock string written with a TOML-only escape (``\\U0000006F``) that a fast path read as JSON. Each is one
line naming the input, or the sync simply works; no backend outside the tree ever runs."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec, build_sdist
from tests.kit.hostile import refused_cleanly
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock

VENV = Path(".venv")


def project_folder(tmp_path: Path, name: str = "proj") -> Path:
    """A project folder with the kit's in-tree backend (``backend-path = ["_kit_backend"]``, no build
    requirements): the kit's sdist of ``name`` 1.0, unpacked into ``./name``."""
    sdist = build_sdist(DistSpec(name, "1.0", sdist=True), tmp_path / "sdists")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    return unpacked.rename(Path(name).absolute())


@pytest.mark.parametrize("how", ["climbs", "absolute", "symlink"])
def test_backend_path_outside_the_project_is_refused_before_any_backend_runs(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path, how: str
) -> None:
    project = project_folder(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    sentinel = tmp_path / "backend-ran"
    (outside / "kit_backend.py").write_text(f"open({str(sentinel)!r}, 'w').close()\n")
    entry = {"climbs": "../outside", "absolute": str(outside), "symlink": "linked"}[how]
    if how == "symlink":
        (project / "linked").symlink_to(outside)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('["_kit_backend"]', f"[{entry!r}]".replace("'", '"')))
    Path("requirements.in").write_text("./proj#egg=proj\n")
    result = run_envlock("compile", "--index-url", kit_index.url)
    refused_cleanly(result, "proj", "backend-path")
    assert not sentinel.exists()
    assert not Path("pylock.toml").exists()


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("command", ["sync", "export", "compile", "check"])
def test_a_lock_nested_fifty_thousand_deep_is_one_line(run_envlock: RunEnvlock, command: str) -> None:
    Path("pylock.toml").write_text(
        f'lock-version = "1.0"\ncreated-by = "x"\npackages = []\nx = {_deep(50_000)}\n'
    )
    Path("requirements.in").write_text("")
    args = {
        "sync": ["sync", "--venv", VENV],
        "export": ["export"],
        "compile": ["compile", "--index-url", "http://127.0.0.1:9/simple/"],
        "check": ["check", "--venv", VENV, "--lock", "pylock.toml"],
    }[command]
    result = run_envlock(*args)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    if command in ("sync", "export"):
        refused_cleanly(result, "pylock.toml", "nested too deeply")
        assert not VENV.exists()


def test_a_toml_only_escape_in_a_lock_path_syncs_every_time(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    project_folder(tmp_path)
    Path("requirements.in").write_text("./proj#egg=proj\n")
    compiled = run_envlock("compile", "--index-url", kit_index.url)
    assert compiled.returncode == 0, compiled.stderr
    lock = Path("pylock.toml")
    text = lock.read_text()
    assert 'directory = {path = "proj"}' in text, text
    lock.write_text(text.replace('path = "proj"', 'path = "pr\\U0000006Fj"'))
    for _ in range(3):  # the first sync installs; the later ones take the no-op path's look at folders
        result = run_envlock("sync", "--venv", VENV, env={"ENVLOCK_INDEX_URL": kit_index.url})
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    assert run_envlock("check", "--venv", VENV).returncode == 0
    assert VENV.is_dir()
