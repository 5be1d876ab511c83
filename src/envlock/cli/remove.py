"""``envlock remove NAME...``: take requirements out of the project's input, then compile and sync."""

from __future__ import annotations

from pathlib import Path

import click

from envlock.errors import InputError


@click.command("remove")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@click.option("--extra", metavar="NAME", help="Remove from this pyproject extra.")
@click.option("--group", metavar="NAME", help="Remove from this PEP 735 dependency group.")
@click.option("--no-sync", is_flag=True, help="Edit and compile; leave the venv alone.")
@click.pass_context
def command(ctx: click.Context, names: tuple[str, ...], extra: str | None, group: str | None, no_sync: bool) -> None:
    """Remove the requirements on NAMEs from the input and update the lock and venv.

    \b
    Exit codes: 0 done; 1 resolution or network failure (the input is left as it was);
                2 a NAME the input does not list (the file is named), or bad input.
    """
    from packaging.utils import InvalidName, canonicalize_name

    from envlock.cli._edit import apply, edit_target

    if extra is not None and group is not None:
        raise InputError("--extra and --group are different tables: give one")
    try:
        wanted = tuple(dict.fromkeys(canonicalize_name(name, validate=True) for name in names))
    except InvalidName as error:
        raise InputError(f"invalid project name: {error}") from None
    target = edit_target(Path.cwd(), extra, group)
    if target.pyproject:
        from envlock.inputs.edit_pyproject import place_for, remove_pyproject

        place = place_for(extra, group)
        apply(ctx, target, lambda text: remove_pyproject(text, wanted, place, target.shown), sync=not no_sync)
    else:
        from envlock.inputs.edit_requirements import remove_requirements

        apply(ctx, target, lambda text: remove_requirements(text, wanted, target.shown), sync=not no_sync)
