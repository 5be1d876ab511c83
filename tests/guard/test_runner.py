"""A launcher's Python command runs in the interpreter that checked the venv (``guard/runner.py``): the
program sees what it sees when the launcher execs it with the venv's python — ``sys.argv``, ``sys.path``,
``__main__``, ``sys.executable``, ``sys.flags``, stdin and stdout, the exit status, the traceback, the
process — and a drifted venv is refused before any of its code runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from envlock.guard import launchers, runner
from tests.kit.dists import DistSpec
from tests.kit.imports import LAUNCH_PATH_MODULES, non_stdlib_imports
from tests.kit.plugin import RunEnvlock
from tests.kit.synced import Project, make_project

pytestmark = pytest.mark.skipif(os.name == "nt", reason="runs the POSIX sh launcher")

PROBE = b"""\
import json, os, sys

def state():
    main = sys.modules["__main__"]
    simple = (str, int, type(None), dict)
    return {
        "argv": sys.argv,
        "path": sys.path,
        "executable": sys.executable,
        "main": {k: v if isinstance(v, simple) else type(v).__name__ for k, v in vars(main).items()},
        "main_spec": getattr(main.__spec__, "name", None),
        "loader": getattr(main.__loader__, "path", None),
        "flags": list(sys.flags),
        "dont_write_bytecode": sys.dont_write_bytecode,
        "modules": sorted(sys.modules),
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "stdin": sys.stdin.read(),
        "env": [os.environ.get(k) for k in ("VIRTUAL_ENV", "PYTHONHOME", "PATH")],
    }

def main():
    print(json.dumps(state()))
    return int(os.environ.get("PROBE_EXIT", "0"))

if __name__ == "__main__":
    sys.exit(main())
"""
SPECS = (
    DistSpec("tinyweb", "1.0", console_scripts={"tinyweb": "tinyweb:main"}),
    DistSpec("probe", "1.0", files={"probe.py": PROBE}, console_scripts={"probe": "probe:main"}),
)
STARTED = "import pathlib; pathlib.Path('started').write_text('yes')\n"
"""A program's first line: it leaves a file behind if any of its code ran."""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = make_project(tmp_path / "proj", SPECS)
    (made.root / "app.py").write_bytes(PROBE)
    return made


def launcher_for(project: Project, run_envlock: RunEnvlock, name: str, *command: str) -> Path:
    result = run_envlock("launcher", name, "--chdir", ".", "--", *command, cwd=project.root)
    assert result.returncode == 0, result.stderr
    return project.root / "bin" / name


def app_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without the test run's PYTHONPATH: envlock is not in the app's venv."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra or {})
    return env


def direct(project: Project, command: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """``command`` exec'd with the venv's scripts first on PATH, spelled as the launcher spells them: what
    a launcher did before it ran Python programs itself."""
    venv = f"{project.root / 'bin'}/../.venv"
    env = app_env(kwargs.pop("env", None))  # type: ignore[arg-type]
    env.update(VIRTUAL_ENV=venv, PATH=f"{venv}/bin:{env['PATH']}")
    return subprocess.run(
        list(command), cwd=project.root, env=env, capture_output=True, text=True, check=False, **kwargs
    )  # type: ignore[call-overload]


def launched(launcher: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = app_env(kwargs.pop("env", None))  # type: ignore[arg-type]
    return subprocess.run(
        [str(launcher), *args],
        cwd=launcher.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )  # type: ignore[call-overload]


COMMANDS = {
    "file": ("python", "app.py"),
    "python3 file": ("python3", "app.py"),
    "module": ("python", "-m", "probe"),
    "code": ("python", "-c", PROBE.decode()),
    "console script": ("probe",),
}


def assert_runs_as_direct(
    project: Project, launcher: Path, command: Sequence[str], env: Mapping[str, str] | None = None
) -> dict[str, object]:
    """The launcher and the direct start give the program the same state (the check's modules aside)."""
    args = ("a b", "--x", "$HOME")
    env = {**(env or {}), "PROBE_EXIT": "3"}
    want = direct(project, [*command, *args], input="from stdin", env=env)
    got = launched(launcher, *args, input="from stdin", env=env)
    assert (got.returncode, got.stderr) == (want.returncode, want.stderr) == (3, "")
    state, reference = json.loads(got.stdout), json.loads(want.stdout)
    extra = set(state.pop("modules")) - set(reference.pop("modules"))
    assert extra <= LAUNCH_PATH_MODULES, sorted(extra - LAUNCH_PATH_MODULES)  # the check's, nothing more
    del state["pid"], reference["pid"]
    assert state == reference
    assert state["stdin"] == "from stdin"
    assert state["argv"][1:] == list(args)
    return state


@pytest.mark.parametrize("kind", sorted(COMMANDS))
@pytest.mark.parametrize(
    "env", [{}, {"PYTHONSAFEPATH": "1", "PYTHONDONTWRITEBYTECODE": "1"}], ids=["", "env"]
)
def test_program_sees_what_the_venv_python_gives_it(
    project: Project, run_envlock: RunEnvlock, kind: str, env: dict[str, str]
) -> None:
    command = COMMANDS[kind]
    assert launchers.launch_kind(command) in (launchers.PYTHON, launchers.SCRIPT)
    launcher = launcher_for(project, run_envlock, "api", *command)
    state = assert_runs_as_direct(project, launcher, command, env)
    # normpath: Python < 3.11 keeps the launcher's spelling ("bin/../.venv/bin/python") unnormalized
    assert Path(os.path.normpath(str(state["executable"]))).parent == project.python.parent


@pytest.mark.parametrize("version", ["3.8", "3.9", "3.10", "3.12", "3.13"])
def test_older_and_newer_pythons(
    tmp_path: Path, run_envlock: RunEnvlock, version: str, available_pythons: dict[str, Path]
) -> None:
    python = available_pythons.get(version)
    if python is None:
        pytest.skip(f"no Python {version} here")
    project = make_project(tmp_path / "old", SPECS, python=python)
    (project.root / "app.py").write_bytes(PROBE)
    for command in (("python", "app.py"), ("python", "-m", "probe"), ("probe",)):
        assert_runs_as_direct(project, launcher_for(project, run_envlock, "api", *command), command)
    boom = "def inner():\n    raise ValueError('boom')\ninner()\n"
    (project.root / "boom.py").write_text(boom)
    for command in (("python", "boom.py"), ("python", "-c", boom)):  # the traceback, source lines included
        launcher = launcher_for(project, run_envlock, "boom", *command)
        want, got = direct(project, command), launched(launcher)
        assert (got.returncode, got.stderr) == (want.returncode, want.stderr)
        assert "_envlock" not in got.stderr


def test_the_program_is_the_launcher_process(project: Project, run_envlock: RunEnvlock) -> None:
    """One process from the launcher to the program (exec, then in-process): signals reach the program."""
    for name, command in (("py", ("python", "app.py")), ("sh", ("sh", "-c", 'echo "{\\"pid\\": $$}"'))):
        launcher = launcher_for(project, run_envlock, name, *command)
        process = subprocess.Popen(
            [str(launcher)], env=app_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
        )
        output, _ = process.communicate(timeout=60)
        assert json.loads(output)["pid"] == process.pid


@pytest.fixture
def sigint_not_ignored() -> Iterator[None]:
    """SIGINT as an interactive shell hands it on: a caller that ignores it (nohup, some CI runners) passes
    SIG_IGN to every child, where ``os.kill(pid, SIGINT)`` then does nothing. Python's own handler here
    becomes SIG_DFL in the children (exec resets caught signals)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("sigint_not_ignored")
def test_uncaught_exception_and_interrupt_end_as_with_python(
    project: Project, run_envlock: RunEnvlock
) -> None:
    (project.root / "boom.py").write_text(
        "import atexit, os, signal, sys\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "def inner():\n"
        "    if sys.argv[1] == 'interrupt':\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    raise ValueError('boom')\n"
        "inner()\n"
    )
    launcher = launcher_for(project, run_envlock, "boom", "python", "boom.py")
    for how in ("raise", "interrupt"):
        want = direct(project, ["python", "boom.py", how])
        got = launched(launcher, how)
        assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr)
        assert got.stdout == "atexit ran\n"
    assert got.returncode == -signal.SIGINT  # killed by SIGINT after atexit, as python does
    assert got.stderr.startswith("Traceback (most recent call last):\n  File ")
    assert "_envlock" not in got.stderr


def test_errors_python_reports_itself(project: Project, run_envlock: RunEnvlock) -> None:
    (project.root / "bad.py").write_text("def (:\n")
    for command in (("python", "bad.py"), ("python", "missing.py"), ("python", "-m", "no_such_module")):
        launcher = launcher_for(project, run_envlock, "err", *command)
        want, got = direct(project, command), launched(launcher)
        assert (got.returncode, got.stderr) == (want.returncode, want.stderr)
        assert got.returncode != 0


def test_multiprocessing_spawn_finds_the_main_module(project: Project, run_envlock: RunEnvlock) -> None:
    (project.root / "pool.py").write_text(
        "import multiprocessing, sys\n"
        "def square(x):\n"
        "    return x * x\n"
        "if __name__ == '__main__':\n"
        "    with multiprocessing.get_context('spawn').Pool(1) as pool:\n"
        "        print(pool.map(square, [1, 2, 3]), sys.flags.no_site)\n"
    )
    launcher = launcher_for(project, run_envlock, "pool", "python", "pool.py")
    result = launched(launcher, timeout=120)
    assert (result.returncode, result.stdout) == (0, "[1, 4, 9] 0\n"), result.stderr


def test_drifted_venv_refused_before_any_program_code(project: Project, run_envlock: RunEnvlock) -> None:
    (project.root / "app.py").write_text(STARTED)
    launchers_ = [
        launcher_for(project, run_envlock, "file", "python", "app.py"),
        launcher_for(project, run_envlock, "script", "tinyweb"),
    ]
    shutil.rmtree(project.site_packages() / "probe-1.0.dist-info")
    for launcher in launchers_:
        result = launched(launcher)
        assert result.returncode == 1
        assert result.stdout == ""
        assert result.stderr.splitlines() == [
            f"{launcher.name}: .venv does not match its lock (1 problem):",
            f"{launcher.name}:   probe 1.0 is locked but missing — run: envlock sync",
            f"{launcher.name}: refusing to start; run: envlock sync",
        ]
    assert not (project.root / "started").exists()


def test_a_script_of_another_python_is_execd(project: Project, run_envlock: RunEnvlock) -> None:
    """A venv script whose #! line names another interpreter is not run in the checking one."""
    other = project.venv / "bin" / "other-tool"
    other.write_text("#!/usr/bin/env python3\nimport sys\nprint(sys.argv)\n")
    other.chmod(0o755)
    launcher = launcher_for(project, run_envlock, "other", "other-tool", "fixed")
    assert launchers.launch_kind(["other-tool"]) == launchers.SCRIPT
    want, got = direct(project, ["other-tool", "fixed", "more"]), launched(launcher, "more")
    assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr)
    assert got.stdout.endswith("'fixed', 'more']\n")


def test_an_edited_program_runs_its_new_code(project: Project, run_envlock: RunEnvlock) -> None:
    """The program's bytecode the launcher keeps is checked against the file, as an import's is."""
    app = project.root / "app.py"
    launcher = launcher_for(project, run_envlock, "edit", "python", "app.py")
    for text in ("print('one')\n", "print('two')\n"):  # same size: the time stamp tells them apart
        app.write_text(text)
        stamp = app.stat().st_mtime_ns + (2_000_000_000 if text.endswith("'two')\n") else 0)
        os.utime(app, ns=(stamp, stamp))
        assert launched(launcher).stdout == text[7:10] + "\n"
    cached = list((project.root / "bin" / "__pycache__" / "programs").rglob("app.*.pyc"))
    assert len(cached) == 1


def test_runner_imports_only_the_standard_library() -> None:
    assert non_stdlib_imports(Path(runner.__file__)) == set()


def test_plan() -> None:
    python = sys.executable
    assert runner.plan(["python", "app.py", "x"]) == ("file", "app.py", ["app.py", "x"], python)
    assert runner.plan(["python3", "-m", "http.server", "80"]) == (
        "module",
        "http.server",
        ["-m", "80"],
        python,
    )
    assert runner.plan(["python", "-c", "pass", "x"]) == ("code", "pass", ["-c", "x"], python)
    for command in (["python"], ["python", "-u", "app.py"], ["python", "-"], ["./app.py"], ["/usr/bin/env"]):
        assert runner.plan(command) is None, command


def test_launch_kinds() -> None:
    assert launchers.launch_kind(["python", "backend/run_api.py"]) == launchers.PYTHON
    assert launchers.launch_kind(["python", "-X", "dev", "app.py"]) == launchers.OTHER
    assert launchers.launch_kind(["uvicorn", "app:app"]) == launchers.SCRIPT
    assert launchers.launch_kind(["./serve"]) == launchers.OTHER
    assert launchers.launch_kind(["na me"]) == launchers.OTHER
