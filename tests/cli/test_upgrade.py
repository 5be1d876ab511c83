"""``envlock upgrade`` end to end, and compile's change summary (+ / - / ~ lines, silenced by -q)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from envlock.lock.lockfile import read_lock
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.venvs import site_packages


def pins() -> dict[str, str]:
    return {p.name: str(p.version) for p in read_lock(Path("pylock.toml")).packages}


def installed() -> dict[str, str]:
    found = {}
    for dist_info in site_packages(Path(".venv")).glob("*.dist-info"):
        name, _, version = dist_info.name[: -len(".dist-info")].partition("-")
        found[name.lower()] = version
    return found


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def old_world(index: KitIndex, run_envlock: RunEnvlock) -> None:
    index.publish(
        DistSpec("app", "1.0", requires=("lib>=1",)),
        DistSpec("lib", "1.0"),
        DistSpec("other", "1.0"),
        DistSpec("dropped", "1.0"),
    )
    Path("requirements.in").write_text("app\nother\ndropped\n")
    ok(run_envlock("compile", "--index-url", index.url))
    ok(run_envlock("sync"))
    index.publish(
        DistSpec("app", "2.0", requires=("lib>=2", "helper")),
        DistSpec("lib", "2.0"),
        DistSpec("helper", "1.0"),
        DistSpec("other", "2.0"),
    )


def test_upgrade_one_name_moves_only_it_and_what_it_needs(
    kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    old_world(kit_index, run_envlock)
    result = ok(run_envlock("upgrade", "app"))
    assert pins() == {"app": "2.0", "lib": "2.0", "helper": "1.0", "other": "1.0", "dropped": "1.0"}
    assert installed() == pins()
    lines = result.stdout.splitlines()
    assert "~ app 1.0 -> 2.0" in lines and "~ lib 1.0 -> 2.0" in lines and "+ helper 1.0" in lines
    assert not any(line.startswith(("~ other", "- ", "+ other")) for line in lines)


def test_upgrade_of_a_name_not_locked_is_refused(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    old_world(kit_index, run_envlock)
    lock = Path("pylock.toml").read_bytes()
    result = run_envlock("upgrade", "helper")
    assert result.returncode == 2
    assert "error: pylock.toml has no package named helper" in result.stderr
    assert Path("pylock.toml").read_bytes() == lock


def test_upgrade_all_and_quiet(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    old_world(kit_index, run_envlock)
    Path("requirements.in").write_text("app\nother\n")
    result = ok(run_envlock("-q", "upgrade", "--no-sync"))
    assert result.stdout == ""
    assert pins() == {"app": "2.0", "lib": "2.0", "helper": "1.0", "other": "2.0"}
    assert installed()["app"] == "1.0"  # --no-sync


def test_compile_prints_the_change_summary_by_default(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    old_world(kit_index, run_envlock)
    Path("requirements.in").write_text("app\nother\n")
    lines = ok(run_envlock("compile", "-P", "app")).stdout.splitlines()
    assert lines[:4] == ["~ app 1.0 -> 2.0", "- dropped 1.0", "+ helper 1.0", "~ lib 1.0 -> 2.0"]
    Path("requirements.in").write_text("app\n")
    assert ok(run_envlock("-q", "compile")).stdout == ""
    assert "other" not in pins()


def test_shell_completion_offers_the_commands(run_envlock: RunEnvlock) -> None:
    env = {"_ENVLOCK_COMPLETE": "bash_complete", "COMP_WORDS": "envlock up", "COMP_CWORD": "1"}
    assert ok(run_envlock(env=env)).stdout.split() == ["plain,upgrade"]
    env["COMP_WORDS"] = "envlock a"
    assert ok(run_envlock(env=env)).stdout.split() == ["plain,add"]
