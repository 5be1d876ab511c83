"""Commands made of other commands (add, remove, upgrade): each step runs the compile or sync command
itself, parsed from an argument list as the user would type it (environment variables included), so
there is one compile path and one sync path."""

from __future__ import annotations

import importlib

import click


def invoke(ctx: click.Context, name: str, args: list[str]) -> None:
    """Run the command ``name`` (``envlock.cli.COMMANDS``) with ``args`` under ``ctx``: the same
    ``Output`` (-v / -q), the same errors and exit codes."""
    from envlock.cli import COMMANDS

    command: click.Command = importlib.import_module(COMMANDS[name]).command
    with command.make_context(name, args, parent=ctx) as sub:
        command.invoke(sub)


def compile_then_sync(ctx: click.Context, compile_args: list[str], *, sync: bool) -> None:
    """``envlock compile ARGS`` (the existing lock's pins kept unless ARGS free them), then a plain
    ``envlock sync`` unless ``sync`` is False (``--no-sync``)."""
    invoke(ctx, "compile", compile_args)
    if sync:
        invoke(ctx, "sync", [])
