"""``envlock add`` / ``remove``: which input file to edit, the edit (``inputs.edit_*``), and the compile
and sync after it; a failed compile puts the file's original bytes back, so nothing is left half-edited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from envlock.cli import Output
from envlock.errors import InputError
from envlock.inputs.edit_pyproject import Place, place_for
from envlock.inputs.edits import Edited


@dataclass(frozen=True)
class Editors:
    """The one edit a command makes, for each kind of input: text and the file as shown in, ``Edited``
    out (``inputs.edit_requirements`` / ``inputs.edit_pyproject``)."""

    requirements: Callable[[str, str], Edited]
    pyproject: Callable[[str, Place, str], Edited]


def run_edit(
    ctx: click.Context, editors: Editors, extra: str | None, group: str | None, *, sync: bool
) -> None:
    """``add`` / ``remove``: the input to edit (``edit_target``), the edit, compile and sync (``apply``)."""
    if extra is not None and group is not None:
        raise InputError("--extra and --group name different tables: give one")
    target = edit_target(Path.cwd(), extra, group)
    if target.pyproject:
        place = place_for(extra, group)
        apply(ctx, target, lambda text: editors.pyproject(text, place, target.shown), sync=sync)
    else:
        apply(ctx, target, lambda text: editors.requirements(text, target.shown), sync=sync)


@dataclass(frozen=True)
class EditTarget:
    """The input an edit goes to, and the compile arguments that make the lock hold it."""

    path: Path
    shown: str
    pyproject: bool
    compile_args: tuple[str, ...]
    """``--extra`` / ``--group`` for a table the lock does not select yet (with those it does)."""


def edit_target(root: Path, extra: str | None, group: str | None) -> EditTarget:
    """The first input compile reads (the lock's recorded sources, else requirements.in, else
    pyproject.toml); ``--extra`` / ``--group`` always mean ./pyproject.toml."""
    from packaging.utils import canonicalize_name

    from envlock.inputs.config import display_path
    from envlock.inputs.settings import tool_settings
    from envlock.resolve.job_inputs import default_source, lock_path, recorded_settings

    out = lock_path(tool_settings(root))
    recorded = recorded_settings(out, root)
    if extra is not None or group is not None:
        path = root / "pyproject.toml"
        if not path.is_file():
            raise InputError("--extra and --group edit pyproject.toml, and there is none in this folder")
    elif recorded is not None and recorded.sources:
        path = (out.absolute().parent / recorded.sources[0]).resolve()
    else:
        path = root / default_source(root)
    args: list[str] = []
    chosen = extra if extra is not None else group
    selected = (recorded.extras if extra is not None else recorded.groups) if recorded else ()
    if chosen is not None and canonicalize_name(chosen) not in {canonicalize_name(n) for n in selected}:
        flag = "--extra" if extra is not None else "--group"
        args = [part for name in (*selected, chosen) for part in (flag, name)]
    return EditTarget(path, display_path(path, root), path.suffix == ".toml", tuple(args))


def apply(
    ctx: click.Context,
    target: EditTarget,
    edit: Callable[[str], Edited],
    *,
    sync: bool,
) -> Edited:
    """Edit ``target`` with ``edit`` (text in, text out), compile, and sync unless ``sync`` is False. The
    compile runs on the written file; if it fails (a conflict, an unknown project, Ctrl-C) the file
    gets its original bytes back before the error is reported, and the lock was never written."""
    import stat

    from envlock.atomic import write_atomic
    from envlock.cli._chain import invoke
    from envlock.output_file import write_output

    try:
        original = target.path.read_bytes()
        text = original.decode("utf-8")
        mode = stat.S_IMODE(target.path.stat().st_mode)  # the file keeps its permissions
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{target.shown}: cannot read: {error}") from None

    def write(data: bytes) -> None:
        write_output(target.shown, lambda: write_atomic(target.path, data, mode=mode))

    edited = edit(text)
    output: Output = ctx.obj
    changed = edited.text != text
    if changed:
        write(edited.text.encode("utf-8"))
    try:  # unchanged too: the lock may still be older than the input
        invoke(ctx, "compile", list(target.compile_args))
    except BaseException:
        if changed:
            write(original)
            output.warn(f"{target.shown} left as it was")
        raise
    if not changed:
        output.info(f"{target.shown} already has {', '.join(edited.updated)} as given")
    for verb, names in (("added", edited.added), ("updated", edited.updated), ("removed", edited.removed)):
        if names and changed:
            output.info(f"{verb} {', '.join(names)} in {target.shown}")
    if sync:
        invoke(ctx, "sync", [])
    return edited
