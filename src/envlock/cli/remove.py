"""``envlock remove NAME...``: take requirements out of the project's input, then compile and sync."""

from __future__ import annotations

import click

from envlock.cli._options import table_options
from envlock.errors import InputError


@click.command("remove")
@table_options("remove")
@click.pass_context
def command(
    ctx: click.Context, names: tuple[str, ...], extra: str | None, group: str | None, no_sync: bool
) -> None:
    """Remove the requirements on NAMEs from the input and update the lock and venv.

    \b
    Exit codes: 0 done; 1 resolution or network failure (the input is left as it was);
                2 a NAME the input does not list (the file is named), or bad input.
    """
    from packaging.utils import InvalidName, canonicalize_name

    from envlock.cli._edit import Editors, run_edit
    from envlock.inputs.edit_pyproject import remove_pyproject
    from envlock.inputs.edit_requirements import remove_requirements

    try:
        wanted = tuple(dict.fromkeys(canonicalize_name(name, validate=True) for name in names))
    except InvalidName as error:
        raise InputError(f"invalid project name: {error}") from None
    editors = Editors(
        requirements=lambda text, shown: remove_requirements(text, wanted, shown),
        pyproject=lambda text, place, shown: remove_pyproject(text, wanted, place, shown),
    )
    run_edit(ctx, editors, extra, group, sync=not no_sync)
