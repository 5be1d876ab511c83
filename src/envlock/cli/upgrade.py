"""``envlock upgrade [NAME...]``: ``compile -P NAME`` (``--upgrade`` without names), then sync."""

from __future__ import annotations

import click

from envlock.cli._options import table_options


@click.command("upgrade")
@table_options("upgrade")
@click.pass_context
def command(ctx: click.Context, names: tuple[str, ...], no_sync: bool) -> None:
    """Move NAMEs (default: everything) to the newest versions the inputs allow, then sync.

    \b
    Only NAMEs and what they need move; the change summary lists each package that did.
    Exit codes: 0 done; 1 conflict or network failure (lock and venv unchanged); 2 bad input, or a NAME
                the lock does not hold (a typo would otherwise upgrade nothing, silently).
    """
    from envlock.cli._chain import compile_then_sync

    if names:
        _check_locked(names)

    args = [part for name in names for part in ("-P", name)] if names else ["--upgrade"]
    compile_then_sync(ctx, args, sync=not no_sync)


def _check_locked(names: tuple[str, ...]) -> None:
    """Every NAME is a package of the lock compile writes (when there is one yet)."""
    from pathlib import Path

    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    from envlock.errors import InputError
    from envlock.inputs.config import display_path
    from envlock.inputs.settings import tool_settings
    from envlock.lock.lockfile import read_lock
    from envlock.resolve.job_inputs import lock_path

    root = Path.cwd()
    out = lock_path(tool_settings(root))
    if not out.is_file():
        return
    locked = {canonicalize_name(package.name) for package in read_lock(out).packages}
    for value in names:
        try:
            name = canonicalize_name(Requirement(value).name)
        except InvalidRequirement:
            continue  # compile's -P check names it
        if name not in locked:
            raise InputError(
                f"{display_path(out, root)} has no package named {name}",
                hint="envlock add NAME puts a new requirement in the input",
            )
