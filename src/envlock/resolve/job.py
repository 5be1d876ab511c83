"""The compile job: a compile request -> its inputs, targets and the existing lock (read once) -> the lock
kept, judged (``--check``), printed (``--dry-run``) or resolved and written, as a result the CLI prints.

Its side effects are handed in (``CompileEdges``: the index client factory, the cache, the clock and the
sink for warnings and progress); it prints nothing. The "lock kept" path loads neither the resolver nor
the index client (``job_kept``), so each step imports its stage when it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from envlock.inputs.settings import CompileSettings
from envlock.resolve.job_inputs import read_job
from envlock.resolve.job_kept import KeptReads, kept_line, lock_kept, remember_kept

if TYPE_CHECKING:
    from envlock.index.cache import Cache
    from envlock.index.client import IndexClient, IndexSettings
    from envlock.index.metadata import MetadataBuilder
    from envlock.resolve.progress import ResolveEvent


@dataclass(frozen=True)
class CompileRequest:
    """The command line as values: the settings that shape the lock, and how this run goes."""

    settings: CompileSettings
    output: Path | None
    upgrade: bool
    upgrade_packages: tuple[str, ...]
    python: str | None
    check: bool
    reset_settings: bool
    """``--reset-settings``: the existing lock's settings are not this compile's defaults."""
    no_default_groups: bool
    """``--no-default-groups``: the dependency groups are exactly the ``--group`` ones."""
    dry_run: bool
    cache_dir: Path | None


class CompileSink(Protocol):
    """Where a running compile reports what is not its result: warnings, resolver events, builds."""

    @property
    def verbosity(self) -> int:
        """-1 quiet, 0 normal, 1+ verbose (a build backend's own output is shown from 1)."""

    def warn(self, message: str) -> None: ...

    def on_event(self, event: ResolveEvent) -> None: ...

    def building(self, label: str) -> None: ...


class ClientFactory(Protocol):
    """Makes the index client a resolution reads from (and closes what it opened on exit)."""

    def __call__(
        self, settings: IndexSettings, cache: Cache, builder: MetadataBuilder | None
    ) -> AbstractContextManager[IndexClient]: ...


@dataclass(frozen=True)
class CompileEdges:
    """The side effects a compile job is handed."""

    sink: CompileSink
    clock: Callable[[], int] = time.time_ns
    """Nanoseconds since the epoch: when the job started, for the cached verdict's racy-file rule."""
    client: ClientFactory | None = None
    """None: the HTTP index client, with the project's logins (``job_lock.http_index``)."""
    cache: Cache | None = None
    """None: the request's ``--cache-dir``, else the default cache folder."""


Outcome = Literal["kept", "fresh", "written", "unchanged", "printed"]


@dataclass(frozen=True)
class CompileResult:
    """What a compile did, for the CLI to print."""

    outcome: Outcome
    """kept: the lock already is what this compile would write (nothing resolved); fresh: ``--check``
    found it up to date; written / unchanged: resolved, and the lock written or found byte-identical;
    printed: ``--dry-run`` (``text``)."""
    lock: Path
    message: str
    """The result line ('' when printed)."""
    changes: tuple[str, ...] = ()
    """A resolved lock's change summary: ``+ name ver``, ``- name ver``, ``~ name old -> new``."""
    text: str | None = None
    """``--dry-run``: the lock's text."""


def run_compile(request: CompileRequest, edges: CompileEdges) -> CompileResult:
    """One ``envlock compile``: see the module docstring. A stale lock under ``--check`` raises
    StaleLockError; bad input, InputError (exit 2); a conflict or an index failure, their errors."""
    started = edges.clock()
    job = read_job(request, Path.cwd())
    reads = KeptReads(job.root, job.resolved, job.interpreters, started)
    if request.check:
        from envlock.resolve.job_check import check  # lazy: only --check judges staleness

        message = check(job)
        message += f" ({job.selection})" if job.selection else ""
        remember_kept(request, job.out, None, message, reads)
        return CompileResult("fresh", job.out, message)
    kept = lock_kept(request, job.read, job.resolved, job.recorded)
    if kept is not None:
        message = kept_line(job.shown_out, kept, job.described)
        remember_kept(request, job.out, kept[1], message, reads)
        return CompileResult("kept", job.out, message)
    from envlock.resolve.job_lock import resolve_lock  # lazy: the kept lock never loads the resolver

    result, written = resolve_lock(request, job, edges)
    # judged from what was written, not from a read of it
    if written is not None and (kept := lock_kept(request, written, job.resolved, job.recorded)):
        remember_kept(request, job.out, kept[1], kept_line(job.shown_out, kept, job.described), reads)
    return result
