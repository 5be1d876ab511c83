"""``envlock run``: refuses a drifted venv with the check's message, else execs the command in the venv."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec
from tests.kit.plugin import RunEnvlock
from tests.kit.synced import Project, make_project

SPECS = (DistSpec("tinyweb", "1.0", console_scripts={"tinyweb": "tinyweb:main"}),)

SHOW_ENV = (
    "import json, os, sys; print(json.dumps({'prefix': sys.prefix, 'args': sys.argv[1:],"
    " 'virtual_env': os.environ.get('VIRTUAL_ENV'), 'path0': os.environ['PATH'].split(os.pathsep)[0]}))"
)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "proj", SPECS)


def test_runs_the_command_inside_the_venv(project: Project, run_envlock: RunEnvlock) -> None:
    result = run_envlock("run", "--", "python", "-c", SHOW_ENV, "a b", "--flag", cwd=project.root)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert Path(shown["prefix"]).resolve() == project.venv.resolve()
    assert shown["args"] == ["a b", "--flag"]
    assert Path(shown["virtual_env"]).resolve() == project.venv.resolve()
    assert Path(shown["path0"]).resolve() == project.python.parent.resolve()


def test_console_scripts_of_the_venv_are_found(project: Project, run_envlock: RunEnvlock) -> None:
    result = run_envlock("run", "tinyweb", cwd=project.root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "tinyweb 1.0"


def test_exit_code_passes_through(project: Project, run_envlock: RunEnvlock) -> None:
    result = run_envlock("run", "--", "python", "-c", "raise SystemExit(7)", cwd=project.root)
    assert result.returncode == 7


def test_drift_refuses_with_the_check_message(project: Project, run_envlock: RunEnvlock) -> None:
    shutil.rmtree(project.site_packages() / "tinyweb-1.0.dist-info")
    result = run_envlock("run", "--", "python", "-c", "print('ran')", cwd=project.root)
    assert result.returncode == 1
    assert "ran" not in result.stdout
    assert "tinyweb 1.0 is locked but missing — run: envlock sync" in result.stderr


def test_unknown_command(project: Project, run_envlock: RunEnvlock) -> None:
    result = run_envlock("run", "--", "no-such-program-xyz", cwd=project.root)
    assert result.returncode == 2
    assert "command not found: no-such-program-xyz" in result.stderr


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_signals_reach_the_command(project: Project) -> None:
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(42))\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "envlock", "run", "--", "python", "-c", code],
        cwd=project.root,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGTERM)  # the same pid: envlock exec'd the command
    assert process.wait(timeout=30) == 42
