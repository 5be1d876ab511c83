"""``envlock launcher``: write launcher scripts that check the venv, then run a command in it."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

from envlock.cli._options import table_options
from envlock.guard import launchers

if TYPE_CHECKING:
    from envlock.cli import Output


@click.command("launcher", context_settings={"ignore_unknown_options": True})
@table_options("launcher")
@click.pass_obj
def command(
    output: Output,
    name: str,
    venv: Path,
    lock: Path | None,
    out_dir: Path,
    chdir: Path | None,
    guard_dir: Path | None,
    command: tuple[str, ...],
) -> None:
    """Write launchers NAME (sh), NAME.cmd, NAME.ps1 into -o DIR: envlock launcher NAME -- CMD [ARGS...]."""
    spec = launchers.plan_launcher(name, command, out_dir=out_dir, venv=venv, lock=lock, chdir=chdir)
    written = launchers.write_launchers(spec, out_dir)
    if guard_dir is not None:
        written.append(launchers.write_guard(guard_dir))
    for path in written:
        output.detail(f"wrote {path}")
    output.info(f"launcher {out_dir / name} runs: {shlex.join(command)}")
