"""``envlock sync`` says what it is doing, honestly and quietly: one stderr line per phase and per build
off a terminal (a CI log), a download line with its totals on a terminal, nothing with ``-q``, and a
build backend's own chatter (setuptools' editable-install banner) only with ``-v``."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sources import backend_calls, make_counted_project
from tests.kit.terminal import run_on_terminal

WHEELS = (DistSpec("alpha", "1.0"), DistSpec("beta", "2.0", requires=("alpha",)))
SDIST = DistSpec("gamma", "1.0", wheel=False, sdist=True)


def _project(index: KitIndex, work: Path, run_envlock: RunEnvlock) -> Path:
    """A lock with two wheels, an sdist and an editable project folder whose backend warns when it builds."""
    index.publish(*WHEELS, SDIST)
    lib = make_counted_project(work / "lib", DistSpec("lib", "1.0"))
    (work / "requirements.in").write_text("beta\ngamma\n-e ./lib\n", encoding="utf-8")
    run_envlock("compile", "--index-url", index.url, check=True)
    return lib


def test_off_a_terminal_each_phase_and_build_is_one_line(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    lib = _project(kit_index, isolated, run_envlock)
    synced = run_envlock("sync", env={"ENVLOCK_INDEX_URL": kit_index.url}, check=True)
    lines = synced.stderr.splitlines()
    # The sdist is in the cache already (compile built its metadata): only the wheels are downloaded.
    size = sum(kit_index.files_of(name)[0].size for name in ("alpha", "beta"))
    assert lines[0] == f"downloading 2 files ({size / 1e3:.1f} kB)", synced.stderr
    assert "building gamma 1.0 (sdist)…" in lines
    assert any(re.fullmatch(r"built gamma 1\.0 \(sdist\) in \d+\.\ds", line) for line in lines), lines
    assert "building lib (project folder, editable)…" in lines
    assert any(line.startswith("built lib (project folder, editable) in ") for line in lines), lines
    assert lines[-1] == "installing 4 packages"
    assert "\r" not in synced.stderr and "banner" not in synced.stderr  # no status line, no backend chatter
    assert backend_calls(lib) == ["prepare_metadata_for_build_editable", "build_editable"]

    # Removing one: the phase says so; nothing to download or build, so no such lines.
    (isolated / "requirements.in").write_text("gamma\n-e ./lib\n", encoding="utf-8")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    again = run_envlock("sync", env={"ENVLOCK_INDEX_URL": kit_index.url}, check=True)
    assert again.stderr.splitlines() == ["removing 2 packages"], again.stderr


def test_quiet_prints_nothing_and_verbose_shows_the_backend(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    lib = _project(kit_index, isolated, run_envlock)
    env = {"ENVLOCK_INDEX_URL": kit_index.url}
    quiet = run_envlock("-q", "sync", env=env, check=True)
    assert quiet.stderr == "" and quiet.stdout == ""
    # The click path (--python) prints the same; -v adds the backend's warning (a rebuilt venv, and a
    # changed editable project, build again).
    (lib / "pyproject.toml").write_text((lib / "pyproject.toml").read_text() + "# edited\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    verbose = run_envlock("-v", "sync", "--python", sys.executable, env=env, check=True)
    assert "kit backend banner: build_editable" in verbose.stderr
    assert "building lib (project folder, editable)…" in verbose.stderr
    assert len([c for c in backend_calls(lib) if c == "build_editable"]) == 2


def test_a_terminal_gets_download_totals(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(*WHEELS)
    (isolated / "requirements.in").write_text("beta\n", encoding="utf-8")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    env = {"ENVLOCK_INDEX_URL": kit_index.url}
    code, _stdout, seen = run_on_terminal([sys.executable, "-m", "envlock", "sync"], env)
    assert code == 0, seen
    total = sum(kit_index.files_of(name)[0].size for name in ("alpha", "beta")) / 1e6
    assert re.search(rb"downloading [012]/2 files, \d+\.\d/" + f"{total:.1f}".encode() + b" MB", seen), seen
    assert b"downloading 2/2 files" in seen and b"installing 2 packages" in seen
