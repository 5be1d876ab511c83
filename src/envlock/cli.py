"""Click commands: options -> a frozen settings object -> the modules below -> exit codes.

The only module that prints. Imports of heavy modules (resolver, network, installer) happen inside
the command callbacks so that ``envlock --help`` and ``envlock check`` start fast.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import click

from envlock import __version__
from envlock.errors import EXIT_USAGE, EnvlockError


@dataclass(frozen=True)
class Output:
    """How much the user wants to read: -1 quiet, 0 normal, 1+ verbose."""

    verbosity: int = 0

    def info(self, message: str) -> None:
        if self.verbosity >= 0:
            click.echo(message)

    def detail(self, message: str) -> None:
        if self.verbosity >= 1:
            click.echo(message)

    def warn(self, message: str) -> None:
        if self.verbosity >= 0:
            click.echo(f"warning: {message}", err=True)


def report_error(error: EnvlockError) -> None:
    click.echo(f"error: {error.message}", err=True)
    if error.hint:
        click.echo(f"hint: {error.hint}", err=True)


class EnvlockGroup(click.Group):
    """Turns every EnvlockError into a message and its documented exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EnvlockError as error:
            report_error(error)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


@click.group(cls=EnvlockGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="envlock")
@click.option("-v", "--verbose", count=True, help="Say more (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """envlock: compile requirements into a hashed lock, sync a venv to it exactly, and refuse to
    launch a venv that drifted.

    \b
    Exit codes: 0 ok; 1 a problem was found (drift, conflict, hash mismatch, network);
                2 usage or input error.
    """
    ctx.obj = Output(verbosity=-1 if quiet else verbose)


# Subcommands: one module each under envlock/commands/ (each imports heavy modules lazily).
# -- command registrations (one line per command, keep sorted) --
from envlock.commands import check as _check  # noqa: E402

cli.add_command(_check.command)
from envlock.commands import compile as _compile  # noqa: E402

cli.add_command(_compile.command)
from envlock.commands import doctor as _doctor  # noqa: E402

cli.add_command(_doctor.command)
from envlock.commands import export as _export  # noqa: E402

cli.add_command(_export.command)
from envlock.commands import import_lock as _import_lock  # noqa: E402

cli.add_command(_import_lock.command)
from envlock.commands import launcher as _launcher  # noqa: E402

cli.add_command(_launcher.command)
from envlock.commands import run as _run  # noqa: E402

cli.add_command(_run.command)
from envlock.commands import sync as _sync  # noqa: E402

cli.add_command(_sync.command)
# -- end of command registrations --


def main() -> None:
    try:
        cli(prog_name="envlock")
    except click.exceptions.Exit as exit_:  # pragma: no cover - click handles this itself
        sys.exit(exit_.exit_code)


__all__ = ["EXIT_USAGE", "Output", "cli", "main"]
