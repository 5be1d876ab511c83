"""Click commands: options -> a frozen settings object -> the modules below -> exit codes.

The only module that prints. Imports of heavy modules (resolver, network, installer) happen inside
the command callbacks so that ``envlock --help`` and ``envlock check`` start fast.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from envlock import __version__
from envlock.cli._options import table_options
from envlock.errors import EXIT_USAGE, EnvlockError, render


class Output:
    """How much the user wants to read: -1 quiet, 0 normal, 1+ verbose.

    A plain class, not a dataclass: importing ``dataclasses`` costs more than ``envlock check`` itself.
    """

    __slots__ = ("verbosity",)

    def __init__(self, verbosity: int = 0) -> None:
        self.verbosity = verbosity

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
    """Every error a command raises, rendered as the quick answers render theirs (``errors.render``)."""
    click.echo(render(error), nl=False, err=True)


class EnvlockGroup(click.Group):
    """Loads subcommands lazily and turns every EnvlockError into a message and its documented exit
    code, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return super().get_command(ctx, cmd_name)
        command: click.Command = importlib.import_module(module).command
        return command

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
@table_options("envlock")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """envlock: compile requirements into a hashed lock, sync a venv to it exactly, and refuse to
    launch a venv that drifted.

    \b
    Exit codes: 0 ok; 1 a problem was found (drift, conflict, hash mismatch, network);
                2 usage or input error.
    """
    ctx.obj = Output(verbosity=-1 if quiet else verbose)


# Subcommands: one module each under envlock/commands/, imported only when that command runs (or for
# --help), so `envlock check` never pays for the resolver, the network code or the installer.
# -- command registrations (name -> module with a `command` attribute; keep sorted) --
COMMANDS: dict[str, str] = {
    "add": "envlock.cli.add",
    "bundle": "envlock.cli.bundle",
    "check": "envlock.cli.check",
    "compile": "envlock.cli.compile",
    "diff": "envlock.cli.diff",
    "doctor": "envlock.cli.doctor",
    "export": "envlock.cli.export",
    "import": "envlock.cli.import_lock",
    "launcher": "envlock.cli.launcher",
    "outdated": "envlock.cli.outdated",
    "remove": "envlock.cli.remove",
    "run": "envlock.cli.run",
    "sync": "envlock.cli.sync",
    "tree": "envlock.cli.tree",
    "upgrade": "envlock.cli.upgrade",
    "why": "envlock.cli.why",
}
# -- end of command registrations --


def main() -> None:
    try:
        cli(prog_name="envlock")
    except click.exceptions.Exit as exit_:  # pragma: no cover - click handles this itself
        sys.exit(exit_.exit_code)


__all__ = ["EXIT_USAGE", "Output", "cli", "main"]
