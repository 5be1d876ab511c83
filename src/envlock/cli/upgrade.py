"""``envlock upgrade [NAME...]``: ``compile -P NAME`` (``--upgrade`` without names), then sync."""

from __future__ import annotations

import click


@click.command("upgrade")
@click.argument("names", nargs=-1, metavar="[NAME[==VER]]...")
@click.option("--no-sync", is_flag=True, help="Update the lock; leave the venv alone.")
@click.pass_context
def command(ctx: click.Context, names: tuple[str, ...], no_sync: bool) -> None:
    """Move NAMEs (default: everything) to the newest versions the inputs allow, then sync.

    \b
    Only NAMEs and what they need move; the change summary lists each package that did.
    Exit codes: 0 done; 1 conflict or network failure (lock and venv unchanged); 2 bad input.
    """
    from envlock.cli._chain import compile_then_sync

    args = [part for name in names for part in ("-P", name)] if names else ["--upgrade"]
    compile_then_sync(ctx, args, sync=not no_sync)
