"""``envlock compile`` with nothing changed keeps the lock from its recorded settings and fingerprint: no
request to the index, no resolver. A changed input file, option, index or target takes the full path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.cli.test_compile_cli import basic
from tests.kit.imports import modules_loaded
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock

KEPT = "inputs unchanged)"


def _compile(run_envlock: RunEnvlock, kit_index: KitIndex, *extra: str) -> tuple[str, int]:
    """What compile said, and how many requests the index served meanwhile."""
    before = len(kit_index.requests)
    result = run_envlock("compile", "--index-url", kit_index.url, *extra, check=True)
    return result.stdout, len(kit_index.requests) - before


@pytest.fixture
def compiled(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> Path:
    basic(kit_index)
    (isolated / "requirements.in").write_text("alpha\n")
    said, requests = _compile(run_envlock, kit_index)
    assert "wrote pylock.toml" in said and requests > 0
    return isolated / "pylock.toml"


def test_unchanged_inputs_keep_the_lock_without_the_index(
    compiled: Path, kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    before = compiled.read_bytes()
    said, requests = _compile(run_envlock, kit_index)
    assert KEPT in said and requests == 0
    assert compiled.read_bytes() == before
    loaded = modules_loaded(
        [sys.executable],
        "import runpy\nsys.argv = ['envlock', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('envlock', run_name='__main__')\nexcept SystemExit as exit_:\n"
        "    assert not exit_.code, exit_.code\n",
        ["compile", "--index-url", kit_index.url],
    )
    heavy = {"resolvelib", "urllib3", "packaging.pylock", "envlock.resolve.compiler", "envlock.index.client"}
    assert heavy & loaded == set()


@pytest.mark.parametrize(
    ("change", "extra"),
    [
        ("input file", ()),
        ("option", ("--pre",)),
        ("index", ("--extra-index-url", "INDEX")),
        ("target", ("--python-version", "3.9")),
        ("upgrade", ("-P", "beta")),
    ],
)
def test_any_change_takes_the_full_path(
    change: str, extra: tuple[str, ...], compiled: Path, kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    if change == "input file":
        (compiled.parent / "requirements.in").write_text("alpha\nbeta\n")
    args = tuple(kit_index.url + "extra/" if arg == "INDEX" else arg for arg in extra)
    said, requests = _compile(run_envlock, kit_index, *args)
    assert KEPT not in said and requests > 0, said


def test_a_kept_lock_judged_without_a_remembered_verdict_loads_no_resolver(
    compiled: Path, kit_index: KitIndex, tmp_path: Path
) -> None:
    """Through click (the verdict is remembered under another cache folder, so the quick answer misses):
    the lock is judged kept from its one read, with neither the resolver nor its progress reporter."""
    code = (
        "from envlock.cli import main\nsys.argv[0] = 'envlock'\n"
        "try:\n    main()\nexcept SystemExit as exit_:\n    assert not exit_.code, exit_.code\n"
    )
    args = ["compile", "--index-url", kit_index.url, "--cache-dir", str(tmp_path / "other-cache")]
    loaded = modules_loaded([sys.executable], code, args)
    assert "envlock.resolve.job_kept" in loaded
    heavy = {"resolvelib", "urllib3", "packaging.pylock", "envlock.resolve.compiler", "envlock.index.client"}
    assert heavy & loaded == set()
