"""The entry-point guard: one import line that refuses to run in a drifted venv, silent otherwise, with
envlock absent from the app's venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.guard import launchers
from envlock.runtime import launch
from tests.kit.dists import DistSpec
from tests.kit.imports import LAUNCH_PATH_MODULES, modules_loaded
from tests.kit.plugin import RunEnvlock
from tests.kit.synced import Project, make_project

SPECS = (DistSpec("prometheus-client", "0.23.1"),)
ENTRY = (
    "import envlock_guard  # noqa: F401  (refuses to start in a venv that drifted from its lock)\n"
    "import prometheus_client\n"
    "print('started', prometheus_client.__version__)\n"
)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = make_project(tmp_path / "proj", SPECS)
    backend = project.root / "backend"
    launchers.write_guard(backend)
    (backend / "run_api.py").write_text(ENTRY)
    return project


def run_app(python: Path, project: Project, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), str(project.root / "backend" / "run_api.py")],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def test_silent_when_in_sync(project: Project) -> None:
    result = run_app(project.python, project)
    assert (result.returncode, result.stdout, result.stderr) == (0, "started 0.23.1\n", "")


def test_envlock_is_not_installed_in_the_app_venv(project: Project) -> None:
    code = "import importlib.util, sys; sys.exit(importlib.util.find_spec('envlock') is not None)"
    # PYTHONPATH is how the test run itself reaches envlock's source; an app's venv has none of it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    assert subprocess.run([str(project.python), "-c", code], check=False, env=env).returncode == 0


def test_raises_on_drift_before_the_app_imports_anything(project: Project) -> None:
    shutil.rmtree(project.site_packages() / "prometheus_client-0.23.1.dist-info")
    shutil.rmtree(project.site_packages() / "prometheus_client")
    result = run_app(project.python, project)
    assert (result.returncode, result.stdout) == (1, "")
    assert "ModuleNotFoundError" not in result.stderr
    assert result.stderr.splitlines() == [
        f"envlock: {project.venv} does not match its lock (1 problem):",
        "envlock:   prometheus-client 0.23.1 is locked but missing — run: envlock sync",
        "envlock: refusing to start; run: envlock sync",
    ]


def test_no_traceback_by_default_and_an_exception_on_request(project: Project) -> None:
    shutil.rmtree(project.site_packages() / "prometheus_client-0.23.1.dist-info")
    clean = run_app(project.python, project)
    assert clean.returncode == 1
    assert "Traceback" not in clean.stderr
    raised = run_app(project.python, project, ENVLOCK_GUARD="raise")
    assert raised.returncode == 1
    assert "Traceback" in raised.stderr
    assert "VenvDriftError: envlock: " in raised.stderr
    assert "is locked but missing" in raised.stderr


def test_an_app_can_catch_the_error_itself(project: Project) -> None:
    entry = (
        "import os\n"
        "os.environ['ENVLOCK_GUARD'] = 'raise'\n"
        "try:\n    import envlock_guard  # noqa: F401\n"
        "except RuntimeError as error:  # envlock_guard.VenvDriftError\n"
        "    print('caught:', type(error).__name__, str(error).splitlines()[-1])\n"
    )
    (project.root / "backend" / "run_api.py").write_text(entry)
    assert run_app(project.python, project).stdout == ""
    shutil.rmtree(project.site_packages() / "prometheus_client-0.23.1.dist-info")
    result = run_app(project.python, project)
    assert result.returncode == 0
    assert result.stdout == "caught: VenvDriftError envlock: refusing to start; run: envlock sync\n"


def test_raises_on_a_lock_changed_since_sync(project: Project) -> None:
    project.lock.write_text(project.lock.read_text() + "\n")
    result = run_app(project.python, project)
    assert result.returncode == 1
    assert "pylock.toml changed since" in result.stderr


def test_raises_outside_a_venv(project: Project) -> None:
    result = run_app(Path(sys.base_prefix) / "bin" / "python3", project)
    assert result.returncode == 1
    assert "is not running in a virtual environment" in result.stderr


def test_can_be_switched_off(project: Project) -> None:
    project.lock.write_text(project.lock.read_text() + "\n")
    result = run_app(project.python, project, ENVLOCK_GUARD="off")
    assert result.returncode == 0
    assert result.stdout == "started 0.23.1\n"


def test_guard_function_in_process(project: Project) -> None:
    launch.guard(project.venv)
    project.lock.write_text(project.lock.read_text() + "\n")
    with pytest.raises(launch.VenvDriftError, match="changed since"):
        launch.guard(project.venv)


def test_launcher_can_write_the_guard(project: Project, run_envlock: RunEnvlock) -> None:
    (project.root / "backend" / launchers.GUARD_MODULE).unlink()
    result = run_envlock(
        "launcher", "api", "--guard", "backend", "--", "python", "backend/run_api.py", cwd=project.root
    )
    assert result.returncode == 0, result.stderr
    assert (project.root / "backend" / launchers.GUARD_MODULE).is_file()
    assert run_app(project.python, project).returncode == 0


def test_guard_import_loads_only_a_few_standard_modules(project: Project) -> None:
    code = "sys.path.insert(0, sys.argv[1]); import envlock_guard"
    loaded = modules_loaded(
        [str(project.python)], code, [str(project.root / "backend")], {"PATH": "/usr/bin:/bin"}
    )
    assert "envlock_guard" in loaded
    assert loaded - {"envlock_guard"} <= LAUNCH_PATH_MODULES, sorted(loaded - LAUNCH_PATH_MODULES)
