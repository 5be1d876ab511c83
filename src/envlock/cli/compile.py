"""``envlock compile``: options -> CompileRequest -> the compile job (``resolve.job``) -> its lines."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from envlock.inputs.settings import CompileSettings
from envlock.resolve.job import CompileRequest

if TYPE_CHECKING:
    from envlock.cli import Output
    from envlock.resolve.job import CompileResult


@click.command("compile")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Lock file [pylock.toml]."
)
@click.option("--index-url", envvar="ENVLOCK_INDEX_URL", metavar="URL", help="Primary index (simple API).")
@click.option("--extra-index-url", "extra_index_urls", multiple=True, metavar="URL", help="Later index.")
@click.option("--find-links", "find_links", multiple=True, metavar="PATH|URL", help="Extra files source.")
@click.option("-U", "--upgrade", is_flag=True, help="Ignore the pins of the existing lock.")
@click.option(
    "-P", "--upgrade-package", "upgrade_packages", multiple=True, metavar="NAME[==VER]", help="Free one pin."
)
@click.option("--pre", is_flag=True, help="Allow prereleases.")
@click.option("--only-binary", "only_binary", multiple=True, metavar="NAME|:all:", help="Never use sdists.")
@click.option("--no-binary", "no_binary", multiple=True, metavar="NAME|:all:", help="Never use wheels.")
@click.option(
    "--python", metavar="PATH|NAME", help="Resolve for this interpreter (./path, or a name on PATH)."
)
@click.option(
    "--python-version", metavar="X.Y[.Z]", help="Resolve for this Python version (on --python's platform)."
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="cpXY-OS-ARCH",
    help="Resolve for this target too (repeatable): cp312-windows-amd64, cp311-linux-x86_64...",
)
@click.option(
    "--universal",
    is_flag=True,
    help="Resolve for Linux, Windows and macOS and every CPython 3.10+ (--python-version: from X.Y) of the "
    "project's requires-python.",
)
@click.option(
    "--exclude-newer", metavar="TIMESTAMP", help="Ignore files uploaded after this instant (PEP 700)."
)
@click.option("--extra", "extras", multiple=True, metavar="NAME", help="Include a pyproject extra.")
@click.option("--group", "groups", multiple=True, metavar="NAME", help="Include a PEP 735 dependency group.")
@click.option(
    "--no-default-groups",
    is_flag=True,
    help="Only the --group groups: not the lock's, [tool.envlock]'s or the project's dev group.",
)
@click.option(
    "--reset-settings", is_flag=True, help="Do not take unset options from the settings the lock records."
)
@click.option("--check", is_flag=True, help="Exit 1 if the lock is stale for its inputs (offline).")
@click.option("--dry-run", is_flag=True, help="Print the lock instead of writing it.")
@click.option("--cache-dir", envvar="ENVLOCK_CACHE_DIR", type=click.Path(path_type=Path, file_okay=False))
@click.pass_obj
def command(output: Output, /, **params: Any) -> None:
    """Resolve SOURCES (default: requirements.in, else pyproject.toml) into a hashed PEP 751 lock.

    \b
    Exit codes: 0 written / up to date; 1 conflict, network failure or (--check) stale lock;
                2 bad input (file:line named).
    """
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in params.items()}
    values["sources"] = tuple(str(source) for source in values["sources"])
    names = {f.name for f in dataclasses.fields(CompileSettings)} - {"target"}
    settings = CompileSettings(**{k: v for k, v in values.items() if k in names})
    run(CompileRequest(settings=settings, **{k: v for k, v in values.items() if k not in names}), output)


def run(request: CompileRequest, output: Output) -> None:
    """Run the compile job with compile's progress line and warnings on stderr; print its result."""
    from envlock.cli._progress import CompileProgress
    from envlock.resolve.job import CompileEdges, run_compile

    progress = CompileProgress(output.verbosity, warn=output.warn)
    try:
        result = run_compile(request, CompileEdges(sink=progress))
    finally:
        progress.close()
    show(result, output)
    if result.outcome in ("written", "unchanged"):
        _prime_sync(result.lock, request.cache_dir)


def show(result: CompileResult, output: Output) -> None:
    """The lock itself (``--dry-run``), else what changed and the result line."""
    if result.text is not None:
        click.echo(result.text, nl=False)
        return
    for line in result.changes:
        output.info(line)
    output.info(result.message)


def _prime_sync(out: Path, cache_dir: Path | None) -> None:
    """The read of the new lock remembered for the plain ``envlock sync`` that usually follows
    (``selection_cache.prime``): best effort, as every cache entry; a failure costs that sync the full
    read, never this compile."""
    from envlock.errors import EnvlockError
    from envlock.inputs.envlock_table import project_defaults
    from envlock.sync.selection_cache import prime

    try:
        venv = Path(project_defaults(Path("pyproject.toml")).get("venv", ".venv"))
        prime(out, out.read_bytes(), venv, cache_dir)
    except (EnvlockError, OSError, ValueError):
        return
