"""A lock older than its inputs stays visible after `envlock sync`: the stamp records the verdict, so the
launch-time check (standard library only) refuses until compile && sync; a compile-neutral edit does not
keep refusing once synced."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec
from tests.kit.imports import launch_checker
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.venvs import venv_python


@pytest.fixture
def project(isolated: Path, kit_index: KitIndex, run_envlock: RunEnvlock) -> Path:
    kit_index.publish(DistSpec("prometheus-client", "0.23.1"), DistSpec("fastapi", "1.0"))
    (isolated / "requirements.in").write_text("fastapi\n")
    (isolated / "pyproject.toml").write_text(f'[tool.envlock]\nindex-url = "{kit_index.url}"\n')
    run_envlock("compile", check=True)
    run_envlock("sync", check=True)
    return isolated


def launch_check(project: Path) -> subprocess.CompletedProcess[str]:
    """What a launcher runs: the one-file launch runtime with the venv's Python, standard library only."""
    python = venv_python(project / ".venv")
    command = [str(python), "-I", "-S", str(launch_checker(project)), "--venv", ".venv"]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)


def test_sync_of_a_stale_lock_is_recorded_and_refused_at_launch(
    project: Path, run_envlock: RunEnvlock
) -> None:
    # The seed's failure: a requirement added, the lock never recompiled, the venv "re-installed".
    (project / "requirements.in").write_text("fastapi\nprometheus-client\n")
    synced = run_envlock("sync", cwd=project)
    assert synced.returncode == 0
    assert "pylock.toml is older than its inputs" in synced.stdout + synced.stderr
    assert "run: envlock compile && envlock sync" in synced.stdout + synced.stderr

    checked = run_envlock("check", cwd=project)
    assert checked.returncode == 1
    assert "prometheus-client" in checked.stderr
    launched = launch_check(project)
    assert launched.returncode == 1
    assert "pylock.toml was older than requirements.in when .venv was synced" in launched.stderr

    run_envlock("compile", check=True, cwd=project)
    run_envlock("sync", check=True, cwd=project)
    assert run_envlock("check", cwd=project).returncode == 0
    assert launch_check(project).returncode == 0


def test_a_compile_neutral_edit_is_cleared_by_sync(project: Path, run_envlock: RunEnvlock) -> None:
    (project / "requirements.in").write_text("# the web framework\nfastapi\n")
    assert launch_check(project).returncode == 1, "the launcher cannot parse requirements: it sees an edit"
    synced = run_envlock("sync", cwd=project)
    assert synced.returncode == 0
    assert "older than its inputs" not in synced.stdout + synced.stderr
    assert launch_check(project).returncode == 0
    assert run_envlock("check", cwd=project).returncode == 0
    again = run_envlock("sync", cwd=project)
    assert "already in sync" in again.stdout


def _hint(result: subprocess.CompletedProcess[str]) -> str:
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("hint: run: ")]
    return line.removeprefix("hint: run: ")


def test_the_fixes_name_a_lock_that_is_not_the_default(project: Path, run_envlock: RunEnvlock) -> None:
    """A venv synced from prod.toml (compiled from prod.in): check without --lock, run, sync's note and a
    launcher name prod.toml in their fixes, and running the fix as printed clears the drift (a compile into
    an existing lock takes its recorded sources)."""
    (project / "prod.in").write_text("fastapi\n")
    run_envlock("compile", "prod.in", "-o", "prod.toml", check=True, cwd=project)
    run_envlock("sync", "prod.toml", check=True, cwd=project)
    run_envlock(
        "launcher", "api", "--lock", "prod.toml", "-o", "bin", "--", "python", check=True, cwd=project
    )
    (project / "prod.in").write_text("fastapi\nprometheus-client\n")

    fix = "envlock compile -o prod.toml && envlock sync prod.toml"
    checked = run_envlock("check", cwd=project)
    assert checked.returncode == 1 and _hint(checked) == fix, checked.stderr
    assert _hint(run_envlock("run", "--", "python", "-c", "pass", cwd=project)) == fix
    launched = subprocess.run([str(project / "bin" / "api")], cwd=project, capture_output=True, text=True)
    assert launched.returncode != 0 and fix in launched.stderr, launched.stderr
    synced = run_envlock("sync", "prod.toml", cwd=project)
    note = f"prod.toml is older than its inputs (prometheus-client is not in the lock): run: {fix}"
    assert note in synced.stdout + synced.stderr

    for command in fix.split(" && "):
        run_envlock(*command.split()[1:], check=True, cwd=project)
    assert run_envlock("check", cwd=project).returncode == 0
    assert "prometheus-client" in (project / "prod.toml").read_text()
