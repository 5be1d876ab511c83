"""Launchers whose paths are hostile (issue 26.3): a venv folder named with ``$(...)`` or backticks runs
nothing when the sh launcher starts (and the launcher still works); a path cmd.exe cannot hold inside
quotes (``"``, ``%``, ``!``, a control character) is refused when the launcher is written; the fix
command a refusal suggests is quoted for the shell (docs/safety.md, "Threat model")."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from envlock.guard import launchers
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sync_locks import lock_for, write_lock_dict

posix_only = pytest.mark.skipif(os.name == "nt", reason="runs the POSIX sh launcher")
HOSTILE = "v$(touch pwned-dollar)`touch pwned-backtick`'q x"
"""A venv folder name: command substitution both ways, a single quote and a space (a double quote is
refused for the .cmd launcher: ``test_a_path_cmd_cannot_quote_is_refused_naming_it``)."""


def _pwned(root: Path) -> list[Path]:
    return list(root.rglob("pwned-*"))


@posix_only
def test_a_venv_named_with_command_substitutions_runs_nothing(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    write_lock_dict(Path("pylock.toml"), lock_for(kit_index, [DistSpec("tinyweb", "1.0")]))
    synced = run_envlock("sync", "--venv", HOSTILE)
    assert synced.returncode == 0, synced.stderr
    written = run_envlock("launcher", "hello", "--venv", HOSTILE, "--", "python", "-c", "print('launched')")
    assert written.returncode == 0, written.stderr
    ran = subprocess.run(["sh", "bin/hello"], capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "launched\n"
    assert _pwned(tmp_path) == []

    Path("pylock.toml").write_text(Path("pylock.toml").read_text() + "\n")  # the check sees drift
    ran = subprocess.run(["sh", "bin/hello"], capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 1, ran.stdout
    fix = "envlock sync --venv 'v$(touch pwned-dollar)`touch pwned-backtick`'\"'\"'q x'"
    assert fix in ran.stderr, ran.stderr
    assert _pwned(tmp_path) == []


@pytest.mark.parametrize("name", ['a"b', "a%PATH%b", "a!b", "a\nb", "a\u2028b"])
def test_a_path_cmd_cannot_quote_is_refused_naming_it(run_envlock: RunEnvlock, name: str) -> None:
    Path(name).mkdir()
    result = run_envlock("launcher", "hello", "--venv", name, "--", "python", "-c", "pass")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert repr(name)[1:-1] in result.stderr, result.stderr
    assert not Path("bin").exists()


def test_every_value_is_quoted_for_its_shell() -> None:
    spec = launchers.LauncherSpec(
        name="api",
        command=("python", "-c", "print(1)"),
        venv="../v$(x)`y`'z",
        lock="../l $HOME.toml",
        chdir="../c`d`",
        label="v$(x)`y`'z",
        sync_command="envlock sync --venv 'v$(x)`y`'\"'\"'z'",
    )
    posix = launchers.render_posix(spec)
    assert "venv=\"$here/\"'../v$(x)`y`'\"'\"'z'\n" in posix
    assert "--lock \"$here/\"'../l $HOME.toml'" in posix
    assert "cd \"$here/\"'../c`d`' || exit" in posix
    ps1 = launchers.render_ps1(
        launchers.LauncherSpec(**{**spec.__dict__, "venv": "../v\u2019; calc; \u2018"})  # type: ignore[arg-type]
    )
    assert "Join-Path $PSScriptRoot '..\\v\u2019\u2019; calc; \u2018\u2018'" in ps1
