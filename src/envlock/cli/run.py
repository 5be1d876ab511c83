"""``envlock run``: check the venv (or sync it first, in-process), then exec a command inside it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from envlock.cli._options import table_options
from envlock.cli.check import drift_error
from envlock.env.venv_env import venv_environment, which_in
from envlock.errors import InputError
from envlock.guard.launch_check import run_check
from envlock.runtime import drift

if TYPE_CHECKING:
    from envlock.sync.syncer import SyncOptions

DEFAULT_LOCK = Path("pylock.toml")


@dataclass(frozen=True)
class RunSettings:
    """What ``envlock run`` was asked to do."""

    venv: Path
    """The venv to run in."""
    lock: Path | None
    """The lock the venv must match; ``None``: the one its stamp names (``pylock.toml`` for --sync)."""
    sync: bool
    """Sync first when the check finds drift."""
    command: tuple[str, ...]
    """The command and its arguments."""


def sync_options(settings: RunSettings, drifted: drift.CheckResult) -> SyncOptions:
    """The sync that repairs ``drifted``: the given lock, else the stamp's; the extras and groups of the
    last sync, so that ``run --sync`` never drops an extra the venv was synced with."""
    from envlock.sync.syncer import SyncOptions

    recorded = drifted.stamp or {}
    lock = settings.lock or (Path(drifted.lock) if drifted.lock else DEFAULT_LOCK)
    groups = recorded.get("groups")
    return SyncOptions(
        lock_path=lock,
        venv=settings.venv,
        extras=tuple(recorded.get("extras") or ()),
        groups=tuple(groups) if isinstance(groups, list) else None,
    )


def sync_first(options: SyncOptions) -> str:
    """Sync in this process (envlock.sync.syncer); returns the one-line summary for stderr."""
    from envlock.sync.syncer import SyncEdges, sync

    result = sync(options, SyncEdges())
    counts = result.counts
    return (
        f"synced {options.venv}: +{counts['installed']} installed, ~{counts['replaced']} replaced, "
        f"-{counts['removed']} removed in {result.elapsed:.2f}s"
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
@table_options("run")
def command(venv: Path, lock: Path | None, sync: bool, command: tuple[str, ...]) -> None:
    """Check the venv (or with --sync, sync it), then run COMMAND in it: envlock run -- CMD [ARGS...]."""
    settings = RunSettings(venv=venv, lock=lock, sync=sync, command=command)
    result = run_check(settings.venv, settings.lock)
    if not result.ok and settings.sync:
        click.echo(sync_first(sync_options(settings, result)), err=True)
        result = run_check(settings.venv, settings.lock)
    if not result.ok:
        raise drift_error(result, str(settings.venv))
    exec_in_venv(settings.venv, settings.command)
