"""The probe cache answers as the probe would, or not at all: a changed interpreter, ``pyvenv.cfg``,
standard library or probe script runs the probe again, and an entry that cannot be read is a miss."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from envlock.env import probe_cache
from envlock.env.interpreter import probe, run_subprocess
from envlock.errors import TargetEnvironmentError
from envlock.memo import Memo
from tests.kit.plugin import PythonMap, VenvFactory
from tests.kit.venvs import create_venv, venv_python

Completed = subprocess.CompletedProcess[str]


class CountingRunner:
    """Runs the real probe, counting the runs; ``rewrite`` may change its answer."""

    def __init__(self, rewrite: Callable[[dict[str, object]], None] | None = None) -> None:
        self.runs = 0
        self.rewrite = rewrite

    def __call__(self, command: Sequence[str]) -> Completed:
        self.runs += 1
        result = run_subprocess(command)
        if self.rewrite is None:
            return result
        answer = json.loads(result.stdout)
        self.rewrite(answer)
        return subprocess.CompletedProcess(command, result.returncode, json.dumps(answer), result.stderr)


def _memo(tmp_path: Path) -> Memo:
    return Memo(probe_cache.AREA, tmp_path / "cache")


def _entries(memo: Memo) -> list[Path]:
    area = memo.area()
    return [] if area is None else sorted(Path(area).iterdir())


def _body(path: Path) -> bytes:
    """An entry's body (after the memo's header line)."""
    return path.read_bytes().partition(b"\n")[2]


def test_an_unchanged_venv_is_probed_once(venv_factory: VenvFactory, tmp_path: Path) -> None:
    python, area, runner = venv_python(venv_factory()), _memo(tmp_path), CountingRunner()
    first = probe_cache.cached_probe(python, runner, area)
    second = probe_cache.cached_probe(python, runner, area)
    assert runner.runs == 1
    assert first == second == probe(python)
    assert len(_entries(area)) == 1


def test_without_an_area_the_probe_always_runs(venv_factory: VenvFactory) -> None:
    python, runner = venv_python(venv_factory()), CountingRunner()
    probe_cache.cached_probe(python, runner, None)
    probe_cache.cached_probe(python, runner, None)
    assert runner.runs == 2


@pytest.mark.parametrize("change", ["pyvenv.cfg", "interpreter link", "probe script", "kernel"])
def test_a_change_runs_the_probe_again(
    change: str, venv_factory: VenvFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = venv_factory()
    python, area, runner = venv_python(venv), _memo(tmp_path), CountingRunner()
    probe_cache.cached_probe(python, runner, area)
    if change == "pyvenv.cfg":
        config = venv / "pyvenv.cfg"
        config.write_text(config.read_text() + "# edited\n")
    elif change == "interpreter link":  # the venv's python replaced (a new venv at the same place)
        target = python.readlink() if python.is_symlink() else None
        if target is None:
            pytest.skip("the venv's python is not a symlink here")
        python.unlink()
        python.symlink_to(target)
    elif change == "probe script":
        script = tmp_path / "_probe.py"
        script.write_bytes(probe_cache.PROBE_SCRIPT.read_bytes() + b"\n# another envlock version\n")
        monkeypatch.setattr(probe_cache, "PROBE_SCRIPT", script)
    else:
        upgraded = ["Linux", "host", "6.99.0-upgraded", "#1", "x86_64"]
        monkeypatch.setattr(probe_cache, "_system", lambda: upgraded)
    assert probe_cache.cached_probe(python, runner, area) == probe(python)
    assert runner.runs == 2
    probe_cache.cached_probe(python, runner, area)
    assert runner.runs == 2  # the new answer is kept
    assert len(_entries(area)) == 1


def test_a_standard_library_replaced_in_place_runs_the_probe_again(
    venv_factory: VenvFactory, tmp_path: Path
) -> None:
    """A shared libpython or a Windows venv launcher stays the same file when its Python is upgraded;
    the standard library does not."""
    stdlib = tmp_path / "os.py"
    stdlib.write_text("# 3.11.7\n")

    def rewrite(answer: dict[str, object]) -> None:
        answer["stdlib_file"] = str(stdlib)

    python, area, runner = venv_python(venv_factory()), _memo(tmp_path), CountingRunner(rewrite)
    probe_cache.cached_probe(python, runner, area)
    probe_cache.cached_probe(python, runner, area)
    assert runner.runs == 1
    stdlib.unlink()
    stdlib.write_text("# 3.11.9, upgraded\n")
    probe_cache.cached_probe(python, runner, area)
    assert runner.runs == 2


@pytest.mark.parametrize(
    "entry",
    [
        b"",
        b"{not json",
        b"[]",
        b'{"identity": null}',
        b"\xff\xfe",
    ],
)
def test_an_unreadable_entry_is_a_miss(entry: bytes, venv_factory: VenvFactory, tmp_path: Path) -> None:
    python, area, runner = venv_python(venv_factory()), _memo(tmp_path), CountingRunner()
    probe_cache.cached_probe(python, runner, area)
    (path,) = _entries(area)
    area.remember(path.name, entry)  # a sound entry (header, checksum) whose body is not an answer
    assert probe_cache.cached_probe(python, runner, area) == probe(python)
    assert runner.runs == 2
    assert json.loads(_body(path))["answer"]["executable"]  # rewritten whole


def test_an_entry_with_a_broken_answer_is_a_miss(venv_factory: VenvFactory, tmp_path: Path) -> None:
    """The identity still matches, but the answer no longer parses: probe again, never a wrong answer."""
    python, area, runner = venv_python(venv_factory()), _memo(tmp_path), CountingRunner()
    probe_cache.cached_probe(python, runner, area)
    (path,) = _entries(area)
    record = json.loads(_body(path))
    for broken in ({"paths": "nowhere"}, {"version": ["three"]}, {"markers": []}):
        area.remember(path.name, json.dumps({**record, "answer": {**record["answer"], **broken}}).encode())
        assert probe_cache.cached_probe(python, runner, area) == probe(python)
    assert runner.runs == 4


def test_each_interpreter_has_its_own_entry(venv_factory: VenvFactory, tmp_path: Path) -> None:
    first, second = venv_python(venv_factory()), venv_python(venv_factory())
    area, runner = _memo(tmp_path), CountingRunner()
    assert (
        probe_cache.cached_probe(first, runner, area).prefix
        != probe_cache.cached_probe(second, runner, area).prefix
    )
    assert probe_cache.cached_probe(second, runner, area) == probe(second)
    assert runner.runs == 2 and len(_entries(area)) == 2


def test_a_venv_made_again_by_another_python_is_probed_again(
    available_pythons: PythonMap, tmp_path: Path
) -> None:
    versions = sorted(
        (v for v in available_pythons if tuple(map(int, v.split("."))) >= (3, 8)),
        key=lambda v: tuple(map(int, v.split("."))),
    )
    if len(versions) < 2:
        pytest.skip("needs two Pythons on this machine")
    place, area, runner = tmp_path / "venv", _memo(tmp_path), CountingRunner()
    create_venv(place, available_pythons[versions[0]])
    old = probe_cache.cached_probe(venv_python(place), runner, area)
    shutil.rmtree(place)
    create_venv(place, available_pythons[versions[-1]])
    new = probe_cache.cached_probe(venv_python(place), runner, area)
    assert runner.runs == 2
    assert new.version != old.version and new == probe(venv_python(place))


def test_a_missing_interpreter_is_reported_as_the_probe_reports_it(tmp_path: Path) -> None:
    area = _memo(tmp_path)
    with pytest.raises(TargetEnvironmentError, match="cannot run Python at"):
        probe_cache.cached_probe(tmp_path / "missing-python", run_subprocess, area)
    assert _entries(area) == []
