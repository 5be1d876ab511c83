"""``envlock export``: a lock -> a hashed pip requirements file (stdout or ``-o FILE``)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from envlock.cli._options import table_options
from envlock.output_file import write_output

if TYPE_CHECKING:
    from envlock.cli import Output


@click.command("export")
@table_options("export")
@click.pass_obj
def command(output: Output, /, **params: Any) -> None:
    """Export LOCK (default: pylock.toml) as a hashed requirements file for
    `python -m pip install --require-hashes --no-deps -r FILE`.

    \b
    Exit codes: 0 written; 2 bad input (an unreadable lock, an undeclared extra/group,
                a package pip cannot install by hash, named).
    """
    from envlock.inputs.envlock_table import project_defaults
    from envlock.lock.export import ExportOptions, export_requirements
    from envlock.lock.lockfile import read_lock, write_text_atomic

    lock_path: Path = params["lock"] or Path(
        project_defaults(Path("pyproject.toml")).get("lock", "pylock.toml")
    )
    out: Path | None = params["output"]
    options = ExportOptions(
        extras=tuple(params["extras"]),
        groups=tuple(params["groups"]) if params["groups"] else None,
        emit_index_url=not params["no_emit_index_url"],
        lock_name=lock_path.name,
        command=_command_line(lock_path, params),
        lock_dir=lock_path.parent.absolute(),
        output_dir=(out or Path("-")).parent.absolute(),
    )
    text = export_requirements(read_lock(lock_path), options)
    if out is None:
        click.echo(text, nl=False)
        return
    write_output(str(out), lambda: write_text_atomic(out, text))
    output.info(f"wrote {out} from {lock_path}")


def _command_line(lock_path: Path, params: dict[str, Any]) -> str:
    words = ["envlock", "export", str(lock_path)]
    for extra in sorted(params["extras"]):
        words += ["--extra", extra]
    for group in sorted(params["groups"]):
        words += ["--group", group]
    if params["no_emit_index_url"]:
        words.append("--no-emit-index-url")
    if params["output"] is not None:
        words += ["-o", str(params["output"])]
    return shlex.join(words)
