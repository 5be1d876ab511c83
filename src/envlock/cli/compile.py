"""``envlock compile``: options -> CompileRequest -> the compile job (``resolve.job``) -> its lines."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from envlock.cli._options import table_options
from envlock.inputs.settings import CompileSettings
from envlock.option_table import recorded
from envlock.resolve.job import CompileRequest

if TYPE_CHECKING:
    from envlock.cli import Output
    from envlock.resolve.job import CompileResult


@click.command("compile")
@table_options("compile")
@click.pass_obj
def command(output: Output, /, **params: Any) -> None:
    """Resolve SOURCES (default: requirements.in, else pyproject.toml) into a hashed PEP 751 lock.

    \b
    Exit codes: 0 written / up to date; 1 conflict, network failure or (--check) stale lock;
                2 bad input (file:line named).
    """
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in params.items()}
    values["sources"] = tuple(str(source) for source in values["sources"])
    names = {option.dest for option in recorded("compile")}  # the settings a lock records; the rest: this run
    settings = CompileSettings(**{k: v for k, v in values.items() if k in names})
    run(CompileRequest(settings=settings, **{k: v for k, v in values.items() if k not in names}), output)


def run(request: CompileRequest, output: Output) -> None:
    """Run the compile job with compile's progress line and warnings on stderr; print its result."""
    from envlock.cli._progress import CompileProgress
    from envlock.resolve.job import CompileEdges, run_compile

    progress = CompileProgress(output.verbosity, warn=output.warn)
    with _objects_kept_to_the_end():
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


@contextmanager
def _objects_kept_to_the_end() -> Iterator[None]:
    """The compile job and the sync cache's read of its lock without Python's cyclic garbage collector,
    and what they made frozen (left out of later collections, the last one at the process's end too):
    nearly every object a resolution makes lives until its lock is written, and the process ends soon
    after. Each collection walked them again and freed almost nothing (at 500 packages ~165 collections,
    ~9% of the compile, freeing a few hundred objects). Reference counting frees objects as before;
    only cycles wait for the process's end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


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
