"""The answers before click (``envlock.quick``): a no-op sync and ``check`` load neither click nor anything
heavy, say exactly what the click commands say, and every other command line falls through to click."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.quick import link_modes
from envlock.sync.link import LinkMode
from tests.cli.test_sync_cli import installed, write
from tests.kit.dists import DistSpec
from tests.kit.imports import modules_loaded
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock

HEAVY = {
    "click",
    "dataclasses",
    "packaging",
    "resolvelib",
    "installer",
    "urllib3",
    "filelock",
    "platformdirs",
    "subprocess",
    "tomlkit",
    "envlock.cli",
    "envlock.sync.syncer",
    "envlock.inputs.config",
    *("pathlib", "urllib", "hashlib", "typing"),  # milliseconds each, on answers of ~40 ms
}
SLOW_STDLIB = {"pathlib", "typing", "typing.io", "typing.re", "urllib", "urllib.parse"}
"""What ``check`` loads to judge a lock whose fresh verdict is not cached (the kit's lock records no
fingerprint: its verdict is "unknown", never cached); tests/cli/test_check_cli.py covers a cached one."""
RUN_MAIN = (
    "import runpy\n"
    "sys.argv = ['envlock', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('envlock', run_name='__main__')\n"
    "except SystemExit as exit_:\n    assert not exit_.code, exit_.code\n"
)
CLICK_MAIN = "import sys; from envlock.cli import main; sys.argv[0] = 'envlock'; main()"


@pytest.fixture
def synced(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    write(kit_index, DistSpec("a", "1.0"), DistSpec("b", "2.0"))
    assert run_envlock("sync").returncode == 0


def click_path(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CLICK_MAIN, *args], capture_output=True, text=True)


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (("sync",), set()),
        (("-q", "sync", "pylock.toml", "--venv", ".venv"), set()),
        (("check",), SLOW_STDLIB),
    ],
)
def test_answers_load_nothing_heavy(args: tuple[str, ...], allowed: set[str]) -> None:
    loaded = modules_loaded([sys.executable], RUN_MAIN, args)
    assert "envlock.quick" in loaded
    heavy = {m for m in loaded if _within(m, HEAVY) and not _within(m, allowed)}
    assert heavy == set(), sorted(heavy)


def _within(module: str, names: set[str]) -> bool:
    """``module`` is one of ``names`` or inside one of them (3.13's ``pathlib`` is a package)."""
    parts = module.split(".")
    return any(".".join(parts[:end]) in names for end in range(1, len(parts) + 1))


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    "args",
    [
        ("check",),
        ("-v", "check"),
        ("check", "--json"),
        ("check", "--deep"),
        ("-q", "sync"),
        ("check", "--lock", "other.toml"),
    ],
)
def test_same_answers_as_click(args: tuple[str, ...], run_envlock: RunEnvlock) -> None:
    Path("other.toml").write_bytes(Path("pylock.toml").read_bytes() + b"\n")
    quick, slow = run_envlock(*args), click_path(*args)
    assert (quick.returncode, quick.stdout, quick.stderr) == (slow.returncode, slow.stdout, slow.stderr)


@pytest.mark.usefixtures("synced")
def test_no_op_sync_says_what_click_says(run_envlock: RunEnvlock) -> None:
    quick, slow = run_envlock("sync", "--link-mode", "copy"), click_path("sync", "--link-mode", "copy")
    assert quick.returncode == slow.returncode == 0
    for result in (quick, slow):
        assert result.stdout.startswith("+0 installed, ~0 replaced, -0 removed in ")
        assert result.stdout.endswith("s (already in sync)\n")


@pytest.mark.usefixtures("synced")
def test_drift_is_reported_with_its_fix(run_envlock: RunEnvlock) -> None:
    lock = Path("pylock.toml")
    lock.write_text(lock.read_text().replace('version = "2.0"', 'version = "2.1"'))
    quick, slow = run_envlock("check"), click_path("check")
    assert (
        quick.returncode == 1
        and quick.stderr.startswith("error: ")
        and "hint: run: envlock sync" in quick.stderr
    )
    assert (quick.stdout, quick.stderr) == (slow.stdout, slow.stderr)


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("sync", "--help"), 0, "Make the venv exactly match the lock"),
        (("check", "--venv"), 2, "requires an argument"),
        (("sync", "--link-mode", "symlink"), 2, "'symlink' is not one of"),
        (("check", "--bogus"), 2, "No such option '--bogus'"),
        (("sync", "a.toml", "b.toml"), 2, "unexpected extra argument"),
        (("sync", "--json"), 0, '"up_to_date": true'),
    ],
)
def test_anything_else_goes_to_click(
    args: tuple[str, ...], code: int, says: str, run_envlock: RunEnvlock
) -> None:
    result = run_envlock(*args)
    assert result.returncode == code, result.stderr
    assert says in result.stdout + result.stderr


def test_link_mode_choices_match() -> None:
    assert tuple(mode.value for mode in LinkMode) == link_modes()


def _masked(text: str) -> str:
    """Output with the elapsed time of the summary line masked."""
    return re.sub(r" in \d+\.\d\ds", " in <t>s", text)


@pytest.mark.usefixtures("synced")
def test_sync_with_work_to_do_runs_without_click(kit_index: KitIndex) -> None:
    write(kit_index, DistSpec("a", "1.0"), DistSpec("b", "2.1"))
    loaded = modules_loaded([sys.executable], RUN_MAIN, ("-v", "sync"))
    assert "envlock.sync.syncer" in loaded and "envlock.quick_sync" in loaded
    assert {m for m in loaded if m.split(".")[0] == "click" or m.startswith("envlock.cli")} == set()
    assert installed() == {"a": "1.0", "b": "2.1"}


@pytest.mark.parametrize("verbosity", [(), ("-v",), ("-q",)])
def test_sync_says_what_click_says(
    verbosity: tuple[str, ...], kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    write(kit_index, DistSpec("a", "1.0"), DistSpec("b", "2.0"))
    for venv in (".venv-quick", ".venv-click"):
        assert run_envlock("sync", "--venv", venv).returncode == 0
    write(kit_index, DistSpec("a", "1.1"), DistSpec("c", "3.0"))
    # Each with a cache of its own: both download (and say so), neither finds the other's files.
    quick = run_envlock(*verbosity, "sync", "--venv", ".venv-quick", "--cache-dir", "cache-quick")
    slow = click_path(*verbosity, "sync", "--venv", ".venv-click", "--cache-dir", "cache-click")
    assert quick.returncode == slow.returncode == 0, quick.stderr + slow.stderr
    assert (_masked(quick.stdout), quick.stderr) == (_masked(slow.stdout), slow.stderr)
    if verbosity != ("-q",):
        assert "+1 installed, ~1 replaced, -1 removed in " in quick.stdout
        assert quick.stderr.startswith("downloading 2 files (")
    assert installed(Path(".venv-quick")) == installed(Path(".venv-click")) == {"a": "1.1", "c": "3.0"}


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"lock-version = '1.0'\ncreated-by = 'x'\npackages = 'nope'\n", 2),
        (b"not = [valid toml\n", 2),
    ],
)
def test_sync_errors_read_as_click_reports_them(content: bytes, code: int, run_envlock: RunEnvlock) -> None:
    Path("pylock.toml").write_bytes(content)
    quick, slow = run_envlock("sync"), click_path("sync")
    assert (quick.returncode, quick.stdout, quick.stderr) == (code, slow.stdout, slow.stderr)
    assert quick.stderr.startswith("error: pylock.toml") and quick.stderr.count("error:") == 1


@pytest.mark.usefixtures("synced")
def test_the_no_op_answer_loads_no_regular_expressions_json_or_drift_check() -> None:
    """Each is milliseconds on an answer of ~20 ms: the lock is read by ``regular_file`` (validate's reader,
    without its patterns), the stamp by the runtime's JSON reader, names compared as PEP 503 names."""
    loaded = modules_loaded([sys.executable], RUN_MAIN, ("sync",))
    assert "envlock.sync.noop" in loaded
    assert {"re", "json", "envlock.validate", "envlock.runtime.drift"} & loaded == set()
