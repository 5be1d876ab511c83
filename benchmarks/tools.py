"""The tools under test: isolated environments, timed subprocess runs, and the command line of each tool."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DEV_BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin"
DEV_PYTHON = DEV_BIN / "python"
SRC = Path(__file__).resolve().parent.parent / "src"
TIMEOUT = 900.0
"""Seconds one tool invocation may take before it is killed and reported as a timeout."""

_DROPPED_PREFIXES = ("PIP_", "UV_", "ENVLOCK_", "PYTHON", "VIRTUAL_ENV", "CONDA", "XDG_", "PIPTOOLS")


@dataclass(frozen=True)
class RunResult:
    """One timed invocation."""

    seconds: float
    ok: bool
    detail: str
    """Why it failed (exit code and the tail of its output), empty when it succeeded."""


@dataclass(frozen=True)
class Sandbox:
    """Where one run keeps its home, caches and config: fresh for a cold run, reused for a warm one."""

    root: Path
    src: Path = SRC
    """The envlock source tree its runs import (another checkout's for a before → after comparison)."""

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def env(self) -> dict[str, str]:
        """The machine's environment minus pip/uv/envlock/Python settings; HOME and caches in the sandbox."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
        self.home.mkdir(parents=True, exist_ok=True)
        self.cache.mkdir(parents=True, exist_ok=True)
        env.update(
            HOME=str(self.home),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
            PIP_CONFIG_FILE=os.devnull,
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PIP_NO_INPUT="1",
            UV_NO_CONFIG="1",
            UV_PYTHON_DOWNLOADS="never",
            UV_NO_PROGRESS="1",
            ENVLOCK_CACHE_DIR=str(self.cache / "envlock"),
            # envlock runs from this checkout (the dev venv holds exactly the dev lock, not envlock);
            # the other tools never import it
            PYTHONPATH=str(self.src),
        )
        return env


def timed(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float = TIMEOUT) -> RunResult:
    """Run cmd in its own process group; kill the group on timeout."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return RunResult(time.perf_counter() - start, False, f"timed out after {timeout:.0f}s: {cmd[0]}")
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = output.decode(errors="replace").strip().splitlines()[-12:]
        return RunResult(seconds, False, f"exit {proc.returncode}: " + "\n".join(tail))
    return RunResult(seconds, True, "")


def envlock_has(command: str) -> bool:
    """Whether ``envlock COMMAND`` exists yet in the dev venv."""
    try:
        proc = subprocess.run(
            [str(DEV_PYTHON), "-m", "envlock", command, "--help"],
            capture_output=True,
            timeout=60,
            check=False,
            env={**os.environ, "PYTHONPATH": str(SRC)},
        )
    except subprocess.TimeoutExpired:
        return False
    return proc.returncode == 0


def version_of(cmd: list[str]) -> str:
    try:
        env = {**os.environ, "PYTHONPATH": str(SRC)}  # envlock from this checkout, as it is measured
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    return (proc.stdout or proc.stderr).strip().splitlines()[0] if proc.returncode == 0 else "unavailable"


# -- compile --------------------------------------------------------------------------------------------


def envlock_compile(src: Path, out: Path, index_url: str, box: Sandbox) -> list[str]:
    return [
        str(DEV_PYTHON),
        "-m",
        "envlock",
        "compile",
        str(src),
        "-o",
        str(out),
        "--index-url",
        index_url,
        "--cache-dir",
        str(box.cache / "envlock"),
    ]


def pip_compile(src: Path, out: Path, index_url: str, box: Sandbox) -> list[str]:
    return [
        str(DEV_BIN / "pip-compile"),
        "--no-config",
        "--quiet",
        "--generate-hashes",
        "--allow-unsafe",
        "--strip-extras",
        "--index-url",
        index_url,
        "--trusted-host",  # pip caches plain-http responses only for trusted hosts (as it would https)
        "127.0.0.1",
        "--cache-dir",
        str(box.cache / "pip-tools"),
        "-o",
        str(out),
        str(src),
    ]


def uv_compile(src: Path, out: Path, index_url: str, box: Sandbox) -> list[str]:
    return [
        str(DEV_BIN / "uv"),
        "pip",
        "compile",
        "--quiet",
        "--generate-hashes",
        "--index-url",
        index_url,
        "--cache-dir",
        str(box.cache / "uv"),
        "--python",
        str(DEV_PYTHON),
        "-o",
        str(out),
        str(src),
    ]


# -- sync -----------------------------------------------------------------------------------------------


def envlock_sync(lock: Path, venv: Path, index_url: str, box: Sandbox) -> list[str]:
    del index_url  # the lock names every file's URL
    return [
        str(DEV_PYTHON),
        "-m",
        "envlock",
        "sync",
        str(lock),
        "--venv",
        str(venv),
        "--cache-dir",
        str(box.cache / "envlock"),
    ]


def pip_sync(lock: Path, venv: Path, index_url: str, box: Sandbox) -> list[str]:
    return [
        str(DEV_BIN / "pip-sync"),
        "--no-config",
        "--quiet",
        "--index-url",
        index_url,
        "--trusted-host",
        "127.0.0.1",
        "--python-executable",
        str(venv / "bin" / "python"),
        "--pip-args",
        f"--no-compile --cache-dir {box.cache / 'pip'}",
        str(lock),
    ]


def pip_new(lock: Path, venv: Path, index_url: str, box: Sandbox) -> list[str]:
    """``python -m venv`` (with pip: pip-sync drives it), then pip-sync."""
    make = [str(DEV_PYTHON), "-m", "venv", str(venv)]
    return ["sh", "-c", f"{shlex.join(make)} && {shlex.join(pip_sync(lock, venv, index_url, box))}"]


def uv_new(lock: Path, venv: Path, index_url: str, box: Sandbox) -> list[str]:
    """``uv venv``, then ``uv pip sync``."""
    make = [
        str(DEV_BIN / "uv"),
        "venv",
        "--quiet",
        "--python",
        str(DEV_PYTHON),
        "--cache-dir",
        str(box.cache / "uv"),
    ]
    return [
        "sh",
        "-c",
        f"{shlex.join([*make, str(venv)])} && {shlex.join(uv_sync(lock, venv, index_url, box))}",
    ]


def uv_sync(lock: Path, venv: Path, index_url: str, box: Sandbox) -> list[str]:
    return [
        str(DEV_BIN / "uv"),
        "pip",
        "sync",
        "--quiet",
        "--index-url",
        index_url,
        "--cache-dir",
        str(box.cache / "uv"),
        "--python",
        str(venv / "bin" / "python"),
        str(lock),
    ]
