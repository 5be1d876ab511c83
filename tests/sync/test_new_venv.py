"""A new venv costs no more subprocesses than it needs: made in this process when its base is the running
interpreter (as ``python -m venv`` makes it), and stamped with the facts its probe already gave."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from envlock import runtime
from envlock.env import venvs
from envlock.env.interpreter import InterpreterInfo, probe
from envlock.guard import stamp_writer
from envlock.runtime import drift
from envlock.sync.stamp_facts import moved_facts, probed_facts
from envlock.sync.target import _probe_existing
from tests.cli.test_sync_cli import VENV, sync_json, write
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock


def _cfg(venv: Path) -> dict[str, str]:
    return {k: v for k, v in runtime.read_pyvenv_cfg(venv).items() if k != "command"}


def _bin(venv: Path) -> dict[str, str | None]:
    folder = Path(runtime.venv_python(venv)).parent
    return {p.name: str(p.readlink()) if p.is_symlink() else None for p in folder.iterdir()}


def test_made_here_as_python_m_venv_makes_it(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def runner(args: list[str]) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        raise AssertionError("no subprocess for the running interpreter")

    here, there = tmp_path / "here", tmp_path / "there"
    venvs.create(Path(sys.executable), here, runner)  # type: ignore[arg-type]
    # as the base makes it: 3.10's venv module run by a venv's python would link through that venv
    maker = sys.executable if sys.version_info >= (3, 11) else str(venvs.outside_venvs(Path(sys.executable)))
    subprocess.run([maker, "-I", "-S", "-m", "venv", "--without-pip", str(there)], check=True)
    assert calls == []
    assert _cfg(here) == _cfg(there) and _cfg(here)["home"]
    assert _bin(here) == _bin(there)
    assert sorted(p.name for p in here.iterdir()) == sorted(p.name for p in there.iterdir())


def test_a_venvs_python_stands_for_its_base(tmp_path: Path) -> None:
    base = tmp_path / "base" / "bin" / "python3.12"
    base.parent.mkdir(parents=True)
    base.write_text("")
    (base.parent / "python").symlink_to("python3.12")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = {base.parent}\nversion = 3.12.0\n")
    (venv / "bin" / "python").symlink_to(base.parent / "python")
    (venv / "bin" / "python3").symlink_to(base)
    assert venvs.outside_venvs(venv / "bin" / "python") == base.parent / "python"
    (base.parent / "python").unlink()  # no such name in home: the name the link resolves to
    assert venvs.outside_venvs(venv / "bin" / "python3") == base
    assert venvs.outside_venvs(base) == base  # not a venv's
    (venv / "pyvenv.cfg").write_text(f"home = {tmp_path / 'gone'}\n")
    assert venvs.outside_venvs(venv / "bin" / "python3") == venv / "bin" / "python3"


def _home_is_no_venv(venv: Path) -> bool:
    home = Path(runtime.read_pyvenv_cfg(venv)["home"])
    return not (home.parent / "pyvenv.cfg").exists()


def test_a_venv_made_from_a_venvs_python_links_to_the_base(tmp_path: Path) -> None:
    """Made in this process (envlock running from a venv, as the suite does) or by another venv's python:
    the new venv names the base interpreter's folder, never the other venv's (which may be deleted)."""
    here = tmp_path / "here"
    venvs.create(Path(sys.executable), here)
    assert _home_is_no_venv(here), runtime.read_pyvenv_cfg(here)
    other = tmp_path / "other"
    venvs.create(Path(sys.executable), other)
    made = tmp_path / "made"
    venvs.create(Path(runtime.venv_python(other)), made)
    assert _home_is_no_venv(made), runtime.read_pyvenv_cfg(made)
    shutil.rmtree(other)
    version = subprocess.run(
        [runtime.venv_python(made), "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True
    )
    assert version.stdout.strip() == str(made), version.stderr


def test_another_interpreter_is_run(tmp_path: Path) -> None:
    other = tmp_path / "bin" / "python-other"
    other.parent.mkdir()
    other.symlink_to(sys.executable)
    calls: list[list[str]] = []

    def runner(args: list[str]) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return subprocess.run(args, capture_output=True, text=True, check=False)

    venvs.create(other, tmp_path / "venv", runner)
    assert calls == [[str(other), "-I", "-S", "-m", "venv", "--without-pip", str(tmp_path / "venv")]]
    assert venvs.is_venv(tmp_path / "venv")


def test_a_new_venv_is_stamped_with_what_its_interpreter_says(
    kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    write(kit_index, DistSpec("a", "1.0"))
    assert sync_json(run_envlock)["created"] is True
    asked = stamp_writer._ask_interpreter(runtime.venv_python(VENV))
    assert probed_facts(probe(Path(runtime.venv_python(VENV)))) == asked
    recorded = drift.read_stamp(VENV)
    assert recorded is not None
    site = sorted(os.path.relpath(path, VENV.absolute()) for path in asked["paths"])
    assert recorded["site_packages"] == site
    interpreter = recorded["interpreter"]
    assert interpreter["version"] == asked["version"]
    assert interpreter["implementation"] == asked["implementation"]
    assert run_envlock("check").returncode == 0


def test_facts_move_with_the_venv_only_when_its_folders_are_inside_it(tmp_path: Path) -> None:
    staging, final = tmp_path / ".v-new", tmp_path / "v"
    venvs.create(Path(sys.executable), staging)
    info = probe(Path(runtime.venv_python(staging)))
    moved = moved_facts(info, staging, final)
    assert moved is not None
    assert all(str(path).startswith(str(final) + os.sep) for path in moved["paths"])  # type: ignore[attr-defined]
    staging.rename(final)
    assert moved == stamp_writer._ask_interpreter(runtime.venv_python(final))
    assert moved_facts(info, tmp_path / "elsewhere", final) is None


@pytest.mark.parametrize("base", [sys.executable, getattr(sys, "_base_executable", sys.executable)])
def test_a_new_venvs_probe_answer_is_its_bases_moved(base: str, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([base, "-I", "-S", "-m", "venv", "--without-pip", str(venv)], check=True)
    assert venvs.new_venv_info(probe(base), venv) == probe(runtime.venv_python(venv))


def test_a_new_venv_is_probed_when_its_answer_cannot_be_moved(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    venvs.create(Path(sys.executable), venv)
    base = probe(sys.executable)
    outside = dataclasses.replace(base, scheme=dataclasses.replace(base.scheme, headers="/elsewhere/include"))
    assert venvs.new_venv_info(outside, venv) is None
    Path(runtime.venv_python(venv)).unlink()
    assert venvs.new_venv_info(base, venv) is None


COUNT_SUBPROCESSES = (
    "import runpy, sys\n"
    "started = []\n"
    "sys.addaudithook(lambda event, args: started.append(args[1]) if event == 'subprocess.Popen' else None)\n"
    "sys.argv = ['envlock', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('envlock', run_name='__main__')\n"
    "except SystemExit as exit_:\n    assert not exit_.code, exit_.code\n"
    "print('STARTED', started)\n"
)


def test_a_new_venv_from_a_warm_cache_starts_no_process(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    write(kit_index, DistSpec("a", "1.0", console_scripts={"a": "a:main"}), DistSpec("b", "2.0"))
    assert run_envlock("sync").returncode == 0  # fills the store and the probe cache
    shutil.rmtree(VENV)
    result = subprocess.run(
        [sys.executable, "-c", COUNT_SUBPROCESSES, "sync"], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "STARTED []", result.stdout
    assert run_envlock("check").returncode == 0


def _recording(calls: list[Path]) -> Callable[[Path], InterpreterInfo]:
    def prober(python: Path) -> InterpreterInfo:
        calls.append(python)
        return probe(python)

    return prober


BASE = str(Path(sys.executable).resolve())
"""The interpreter the running venv links to: a venv made with it links its python straight there, as
the user's ``python3 -m venv`` does. (Python 3.10's venv, run from a venv's python, links to that python
and names that venv's folder as home; then the venv is probed, not answered as its base's.)"""


def test_a_venv_made_beforehand_is_answered_as_its_bases(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([BASE, "-m", "venv", "--without-pip", str(venv)], check=True)
    calls: list[Path] = []
    found = _probe_existing(venv, _recording(calls))
    assert calls == [Path(runtime.venv_python(venv)).resolve()]
    assert found == probe(runtime.venv_python(venv))


@pytest.mark.skipif(os.name == "nt", reason="POSIX venvs link their python")
def test_a_venv_with_its_own_python_is_probed(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--copies", str(venv)], check=True)
    calls: list[Path] = []
    assert _probe_existing(venv, _recording(calls)) == probe(runtime.venv_python(venv))
    assert calls == [Path(runtime.venv_python(venv))]


def test_a_venv_made_beforehand_from_a_warm_cache_starts_no_process(
    kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    write(kit_index, DistSpec("a", "1.0"))
    for name in ("first", "second"):
        subprocess.run([BASE, "-m", "venv", "--without-pip", name], check=True)
        result = subprocess.run(
            [sys.executable, "-c", COUNT_SUBPROCESSES, "sync", "--venv", name],
            capture_output=True,
            text=True,
            check=True,
        )
    assert result.stdout.splitlines()[-1] == "STARTED []", result.stdout  # the second: the base is known
    assert run_envlock("check", "--venv", "second").returncode == 0
