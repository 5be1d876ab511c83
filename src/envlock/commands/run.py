"""``envlock run``: check the venv (or sync it first), then exec a command inside it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from envlock import stamp
from envlock.commands.check import check_options, drift_error
from envlock.errors import DriftError, InputError
from envlock.venv_env import venv_environment, which_in


@dataclass(frozen=True)
class RunSettings:
    """What ``envlock run`` was asked to do."""

    venv: Path
    lock: Path | None
    """The lock the venv must match; ``None``: the one its stamp names (``pylock.toml`` for --sync)."""
    sync: bool
    """Sync first when the check finds drift."""
    command: tuple[str, ...]
    """The command and its arguments."""


def sync_first(settings: RunSettings) -> None:
    """``envlock sync`` in a subprocess (its own CLI is the contract), output passed through."""
    argv = [sys.executable, "-m", "envlock", "sync"]
    if settings.lock is not None:
        argv.append(str(settings.lock))
    argv += ["--venv", str(settings.venv)]
    completed = subprocess.run(argv, check=False)
    if completed.returncode != 0:
        raise DriftError(
            f"envlock sync failed (exit {completed.returncode}); not running {settings.command[0]}"
        )


def exec_in_venv(venv: Path, command: tuple[str, ...]) -> None:
    """Replace this process with ``command`` run in ``venv`` (POSIX); Windows: run it, exit with its code."""
    env = venv_environment(venv, os.environ)
    program = which_in(command[0], env["PATH"])
    if program is None:
        raise InputError(
            f"command not found: {command[0]}", hint=f"is it installed in {venv}? see: envlock check"
        )
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "nt":  # pragma: no cover - no exec on Windows
        sys.exit(subprocess.run([program, *command[1:]], env=env, check=False).returncode)
    os.execve(program, [command[0], *command[1:]], env)


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--venv", type=click.Path(path_type=Path), default=Path(".venv"), show_default=True)
@click.option(
    "--lock",
    type=click.Path(path_type=Path),
    default=None,
    help="Default: the lock the venv was synced from.",
)
@click.option("--sync", "sync", is_flag=True, help="Sync the venv first when it drifted.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def command(venv: Path, lock: Path | None, sync: bool, command: tuple[str, ...]) -> None:
    """Check the venv (or with --sync, sync it), then run COMMAND in it: envlock run -- CMD [ARGS...]."""
    settings = RunSettings(venv=venv, lock=lock, sync=sync, command=command)
    result = stamp.check(settings.venv, check_options(settings.venv, settings.lock))
    if not result.ok and settings.sync:
        sync_first(settings)
        result = stamp.check(settings.venv, check_options(settings.venv, settings.lock))
    if not result.ok:
        raise drift_error(result, str(settings.venv))
    exec_in_venv(settings.venv, settings.command)
