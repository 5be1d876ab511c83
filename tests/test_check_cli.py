"""``envlock check``: exit codes, the human report, --json, --deep, --lock/--venv, and start-up imports."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kit.dists import DistSpec
from tests.kit.plugin import RunEnvlock
from tests.synced import Project, make_project

SPECS = (DistSpec("prometheus-client", "0.23.1"), DistSpec("tinyweb", "1.0"))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "proj", SPECS)


def test_in_sync_is_silent(project: Project, run_envlock: RunEnvlock) -> None:
    result = run_envlock("check", cwd=project.root)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_verbose_says_one_line(project: Project, run_envlock: RunEnvlock) -> None:
    result = run_envlock("-v", "check", cwd=project.root)
    assert result.returncode == 0
    assert result.stdout == ".venv matches pylock.toml\n"


def test_drift_names_every_problem_and_the_fix(project: Project, run_envlock: RunEnvlock) -> None:
    project.lock.write_text(project.lock.read_text() + "\n")
    shutil.rmtree(project.site_packages() / "prometheus_client-0.23.1.dist-info")
    result = run_envlock("check", cwd=project.root)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: .venv does not match its lock (2 problems):",
        "  pylock.toml changed since .venv was synced — run: envlock sync",
        "  prometheus-client 0.23.1 is locked but missing — run: envlock sync",
        "hint: run: envlock sync",
    ]


def test_stale_lock_fix_is_compile_then_sync(project: Project, run_envlock: RunEnvlock) -> None:
    project.requirements.write_text("prometheus-client\ntinyweb\nfastapi\n")
    result = run_envlock("check", cwd=project.root)
    assert result.returncode == 1
    assert "requirements.in changed since pylock.toml was compiled" in result.stderr
    assert result.stderr.splitlines()[-1] == "hint: run: envlock compile && envlock sync"


def test_json_document(project: Project, run_envlock: RunEnvlock) -> None:
    clean = run_envlock("check", "--json", cwd=project.root)
    assert clean.returncode == 0
    assert json.loads(clean.stdout) == {
        "ok": True,
        "venv": ".venv",
        "lock": "pylock.toml",
        "drifts": [],
    }
    shutil.rmtree(project.site_packages() / "tinyweb-1.0.dist-info")
    drifted = run_envlock("check", "--json", cwd=project.root)
    assert drifted.returncode == 1
    document = json.loads(drifted.stdout)
    assert document["ok"] is False
    assert [d["kind"] for d in document["drifts"]] == ["dist-removed"]
    assert set(document["drifts"][0]) == {"kind", "subject", "message", "fix", "text"}


def test_deep_finds_edited_files(project: Project, run_envlock: RunEnvlock) -> None:
    (project.site_packages() / "tinyweb" / "__init__.py").write_text("patched = True\n")
    assert run_envlock("check", cwd=project.root).returncode == 0
    result = run_envlock("check", "--deep", cwd=project.root)
    assert result.returncode == 1
    assert "tinyweb 1.0: tinyweb/__init__.py was modified — run: envlock sync --verify" in result.stderr
    assert result.stderr.splitlines()[-1] == "hint: run: envlock sync --verify"


def test_other_venv_and_lock_appear_in_the_fix(
    project: Project, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    shutil.rmtree(project.site_packages() / "tinyweb-1.0.dist-info")
    result = run_envlock("check", "--venv", project.venv, "--lock", project.lock, cwd=tmp_path)
    assert result.returncode == 1
    assert f"hint: run: envlock sync {project.lock} --venv {project.venv}" in result.stderr


def test_no_venv(run_envlock: RunEnvlock, tmp_path: Path) -> None:
    result = run_envlock("check", cwd=tmp_path)
    assert result.returncode == 1
    assert "no virtual environment at .venv — run: envlock sync" in result.stderr


def test_check_imports_no_heavy_modules(project: Project) -> None:
    code = (
        "import sys\n"
        "sys.argv = ['envlock', 'check']\n"
        "from envlock.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exit_:\n    assert exit_.code in (0, None), exit_.code\n"
        "heavy = ('resolvelib', 'urllib3', 'installer', 'tomlkit',"
        " 'packaging.requirements', 'packaging.pylock')\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=project.root
    )
    assert result.stdout.strip() == ""
