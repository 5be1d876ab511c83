"""``envlock add SPEC...``: write requirements into the project's input, then compile (minimal change)
and sync."""

from __future__ import annotations

import click

from envlock.cli._options import table_options


@click.command("add")
@table_options("add")
@click.pass_context
def command(
    ctx: click.Context, specs: tuple[str, ...], extra: str | None, group: str | None, no_sync: bool
) -> None:
    """Add SPECs (PEP 508: name, version range, extras, marker) to the input and update the lock and venv.

    \b
    A project already listed is updated in place. Only what the new requirements need moves in the lock.
    Exit codes: 0 done; 1 resolution or network failure (the input is left as it was);
                2 bad SPEC or input.
    """
    from envlock.cli._edit import Editors, run_edit
    from envlock.inputs.edit_pyproject import add_pyproject
    from envlock.inputs.edit_requirements import add_requirements
    from envlock.inputs.edits import parse_specs

    added = parse_specs(specs)
    editors = Editors(
        requirements=lambda text, shown: add_requirements(text, added, shown),
        pyproject=lambda text, place, shown: add_pyproject(text, added, place, shown),
    )
    run_edit(ctx, editors, extra, group, sync=not no_sync)
