"""Launcher scripts: what they contain, and that they check the venv, then pass arguments, exit codes,
the working folder and the venv's environment through — with envlock absent from the venv."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from envlock.errors import InputError
from envlock.guard import launchers
from tests.kit.dists import DistSpec
from tests.kit.plugin import RunEnvlock
from tests.kit.synced import Project, make_project

SPECS = (DistSpec("tinyweb", "1.0", console_scripts={"tinyweb": "tinyweb:main"}),)
posix_only = pytest.mark.skipif(os.name == "nt", reason="runs the POSIX sh launcher")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "proj", SPECS)


def make_launcher(
    project: Project, run_envlock: RunEnvlock, *command: str, extra: tuple[str, ...] = ()
) -> Path:
    result = run_envlock("launcher", "api", *extra, "--", *command, cwd=project.root)
    assert result.returncode == 0, result.stderr
    return project.root / "bin" / "api"


def spec(**overrides: object) -> launchers.LauncherSpec:
    values: dict[str, object] = {
        "name": "api",
        "command": ("uvicorn", "app:app", "--port", "8000"),
        "venv": "../.venv",
        "lock": "../pylock.toml",
        "chdir": "..",
        "label": ".venv",
        "sync_command": "envlock sync",
    }
    values.update(overrides)
    return launchers.LauncherSpec(**values)  # type: ignore[arg-type]


# --- what is written ---


def test_writes_three_launchers_the_checker_and_the_runner(project: Project, run_envlock: RunEnvlock) -> None:
    make_launcher(project, run_envlock, "python", "-c", "pass")
    written = sorted(p.name for p in (project.root / "bin").iterdir())
    assert written == ["_envlock_check.py", "_envlock_run.py", "api", "api.cmd", "api.ps1"]
    assert os.access(project.root / "bin" / "api", os.X_OK)
    assert (project.root / "bin" / launchers.RUN_SCRIPT).read_text() == launchers.runner_source()


def test_no_absolute_paths_of_this_machine(project: Project, run_envlock: RunEnvlock) -> None:
    make_launcher(
        project, run_envlock, "python", "-c", "pass", extra=("--lock", "pylock.toml", "--chdir", ".")
    )
    for name in ("api", "api.cmd", "api.ps1"):
        text = (project.root / "bin" / name).read_text()
        assert str(project.root) not in text
        assert str(project.root.parent) not in text


def test_posix_launcher_is_short_and_readable() -> None:
    text = launchers.render_posix(spec())  # uvicorn: a console script of the venv, or another command
    assert text.startswith("#!/bin/sh\n")
    assert len(text.splitlines()) <= 22
    assert 'venv="$here/../.venv"' in text
    assert '--lock "$here/../pylock.toml"' in text
    assert 'cd "$here/.." || exit' in text
    assert '-- uvicorn app:app --port 8000 "$@" ;; esac\n' in text  # #! this python: checked and run
    assert text.rstrip().endswith('exec uvicorn app:app --port 8000 "$@"')  # else checked, then exec'd


def test_posix_launcher_of_a_python_program_starts_python_once() -> None:
    text = launchers.render_posix(spec(command=("python", "-m", "app")))
    assert len(text.splitlines()) <= 18
    assert text.count(" -c ") == 1  # one interpreter start: checks, then runs the program
    assert 'exec python -c "$run" "$here"' in text  # looked up on PATH, as `exec python` would be
    assert text.rstrip().endswith("--sync-command 'envlock sync' -- python -m app \"$@\"")
    assert " -I " not in text  # the program gets python's flags and environment as usual
    other = launchers.render_posix(spec(command=("./serve", "--port", "80")))
    assert "run=" not in other
    assert other.rstrip().endswith('exec ./serve --port 80 "$@"')


def test_windows_launchers() -> None:
    cmd = launchers.render_cmd(spec(command=("python", "-c", "print('100%')")))
    assert "\r\n" in cmd
    assert 'set "venv=%here%..\\.venv"' in cmd
    assert f'python.exe" -c "{launchers.RUN_CODE}" "%here%." --name api' in cmd  # checked and run at once
    assert "-- python -c \"print('100%%')\" %*" in cmd
    assert cmd.rstrip().endswith("exit /b %ERRORLEVEL%")
    ps1 = launchers.render_ps1(spec(command=("python", "-c", "print('x')")))
    assert "$venv = Join-Path $PSScriptRoot '..\\.venv'" in ps1
    assert "& $python -c 'import sys;" in ps1
    assert "-- 'python' '-c' 'print(''x'')' @args" in ps1
    assert ps1.rstrip().endswith("exit $code")
    for other in (launchers.render_cmd(spec()), launchers.render_ps1(spec())):  # not python: check, then run
        assert launchers.RUN_CODE.split(";")[0] not in other
        assert launchers.CHECK_SCRIPT in other
    assert "& 'uvicorn' 'app:app' '--port' '8000' @args" in launchers.render_ps1(spec())
    # the caller's PowerShell session gets its PATH and VIRTUAL_ENV back, whatever the command did
    order = ["try {", "@args", "} finally {", "$env:PATH = $saved.PATH"]
    assert [ps1.index(text) for text in order] == sorted(ps1.index(text) for text in order)


def test_words_are_quoted_for_sh() -> None:
    text = launchers.render_posix(spec(command=("echo", "it's $HOME", "a b")))
    assert """exec echo 'it'"'"'s $HOME' 'a b' "$@\"""" in text


def test_bad_names_and_empty_commands_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        launchers.plan_launcher("../x", ["a"], out_dir=tmp_path, venv=tmp_path / ".venv")
    with pytest.raises(InputError):
        launchers.plan_launcher("x", [], out_dir=tmp_path, venv=tmp_path / ".venv")


def test_fix_names_a_non_default_venv(tmp_path: Path) -> None:
    planned = launchers.plan_launcher(
        "api", ["x"], out_dir=tmp_path / "bin", venv=tmp_path / "envs" / "api", project=tmp_path
    )
    assert planned.venv == "../envs/api"
    assert planned.sync_command == "envlock sync --venv envs/api"


# --- running them ---


@posix_only
def test_arguments_exit_code_and_environment_pass_through(project: Project, run_envlock: RunEnvlock) -> None:
    code = "import os, sys; print(sys.argv[1:]); print(sys.prefix); print(os.environ['VIRTUAL_ENV'])"
    code += "; sys.exit(9)"
    launcher = make_launcher(project, run_envlock, "python", "-c", code)
    result = subprocess.run(
        [str(launcher), "a b", "--x", "$HOME"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 9, result.stderr
    args, prefix, virtual_env = result.stdout.splitlines()
    assert args == "['a b', '--x', '$HOME']"
    assert Path(prefix).resolve() == project.venv.resolve()
    assert Path(virtual_env).resolve() == project.venv.resolve()


@posix_only
def test_console_script_of_the_venv(project: Project, run_envlock: RunEnvlock) -> None:
    launcher = make_launcher(project, run_envlock, "tinyweb")
    result = subprocess.run([str(launcher)], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout.strip()) == (0, "tinyweb 1.0")


@posix_only
def test_chdir_and_launching_from_elsewhere(
    project: Project, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    launcher = make_launcher(
        project, run_envlock, "python", "-c", "import os; print(os.getcwd())", extra=("--chdir", ".")
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run([str(launcher)], capture_output=True, text=True, check=False, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).resolve() == project.root.resolve()


@posix_only
def test_refuses_to_start_a_drifted_venv(project: Project, run_envlock: RunEnvlock) -> None:
    launcher = make_launcher(project, run_envlock, "python", "-c", "print('started')")
    shutil.rmtree(Path(project.site_packages()) / "tinyweb-1.0.dist-info")
    result = subprocess.run([str(launcher)], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "started" not in result.stdout
    assert result.stderr.splitlines() == [
        "api: .venv does not match its lock (1 problem):",
        "api:   tinyweb 1.0 is locked but missing — run: envlock sync",
        "api: refusing to start; run: envlock sync",
    ]


@posix_only
def test_missing_venv(project: Project, run_envlock: RunEnvlock) -> None:
    launcher = make_launcher(project, run_envlock, "python", "-c", "pass")
    shutil.rmtree(project.venv)
    result = subprocess.run([str(launcher)], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == "api: no usable virtual environment at .venv — run: envlock sync"


@posix_only
def test_project_moved_elsewhere_still_works(
    project: Project, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    make_launcher(project, run_envlock, "python", "-c", "print('ok')")
    moved = tmp_path / "moved"
    shutil.copytree(project.root / "bin", moved / "bin")
    result = subprocess.run([str(moved / "bin" / "api")], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "no usable virtual environment at .venv" in result.stderr
