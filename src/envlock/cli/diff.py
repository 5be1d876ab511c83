"""``envlock diff [OLD] [NEW]``: what a lock change does, for review (a pull request's comment, a CI gate).
Reads locks only: the working tree's and git's (``HEAD`` or ``--git REF``), or two files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from envlock.cli._options import project_lock, table_options

if TYPE_CHECKING:
    from packaging.pylock import Pylock


@click.command("diff")
@table_options("diff")
@click.pass_context
def command(ctx: click.Context, old: Path | None, new: Path | None, ref: str | None, format_: str) -> None:
    """Show what changed between two locks: by default the lock at git HEAD and the working tree's;
    with one file, that lock at git HEAD (or --git REF) and now; with two, OLD and NEW.

    \b
    Exit codes: 0 nothing changed; 1 something changed (packages, hashes, inputs, targets);
                2 a missing or invalid lock, a git ref that does not exist.
    """
    from envlock.lock.diff import as_json, as_markdown, as_text, diff_locks
    from envlock.lock.git_ref import lock_text_at
    from envlock.lock.lockfile import loads_lock, read_lock

    if new is not None and ref is not None:
        raise click.UsageError("--git compares a commit with the working tree: give one lock file, not two")
    before: Pylock | None
    after: Pylock | None
    if new is not None:
        assert old is not None
        before, after = read_lock(old), read_lock(new)
        labels = (str(old), str(new))
    else:
        lock = old or project_lock(None)
        commit = ref or "HEAD"
        text = lock_text_at(commit, lock)
        # a lock deleted since the commit: everything removed (with no lock on either side: not found)
        after = read_lock(lock) if lock.exists() or text is None else None
        before = loads_lock(text, source=f"{lock} at {commit}") if text is not None else None
        labels = (f"{lock} at {commit}", f"{lock} (working tree)")
    diff = diff_locks(before, after, old_label=labels[0], new_label=labels[1])
    if format_ == "json":
        click.echo(json.dumps(as_json(diff), indent=2, sort_keys=True))
    else:
        click.echo(as_markdown(diff) if format_ == "markdown" else as_text(diff), nl=False)
    ctx.exit(1 if diff.changed else 0)
