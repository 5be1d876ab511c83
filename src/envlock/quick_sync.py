"""A plain ``envlock sync`` carried out without click: what ``quick.py`` parsed -> ``SyncOptions`` ->
``syncer.sync`` -> the lines the click command prints. Also what both paths print: the per-package lines,
the summary, the download progress line.

Importing click and its dependencies costs a small sync as much as its work (docs/benchmarks.md, "Why
the fast paths exist"): a sync whose options ``quick.py`` understands runs here; anything else
(``--json``, ``--dry-run``, ``--python`` ...) runs through the click command, which shares these functions.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from envlock.errors import EnvlockError, render
from envlock.sync.summary import summary

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from envlock.models.artifacts import Artifact
    from envlock.sync.plan import PlanItem, SyncEvent, SyncResult

EXIT_INTERRUPTED = 130


def run(
    lock: str,
    venv: str,
    *,
    extras: Sequence[str],
    groups: Sequence[str] | None,
    cache_dir: str | None,
    link_mode: str | None,
    verbosity: int,
) -> int:
    """Sync ``venv`` to ``lock`` as ``envlock sync`` with these options does; the exit code. Errors are
    reported as the click CLI reports them (``error:`` and ``hint:`` lines, the documented exit code)."""
    from envlock.sync.syncer import SyncEdges, SyncOptions, sync  # lazy: after the no-op answer

    options = SyncOptions(
        lock_path=Path(lock),
        venv=Path(venv),
        extras=tuple(extras),
        groups=tuple(groups) if groups else None,
        cache_dir=Path(cache_dir) if cache_dir else None,
        link_mode=link_mode,
    )
    progress = Progress(_to_stderr, live=sys.stderr.isatty()) if verbosity >= 0 else None
    try:
        try:
            notice = (lambda line: _to_stderr(f"warning: {line}\n")) if verbosity >= 0 else None
            edges = SyncEdges(
                progress=progress.update if progress else None,
                notice=notice,
                report=progress.report if progress else None,
                backend_output=verbosity >= 1,
            )
            result = sync(options, edges)
        finally:
            if progress:
                progress.close()
    except EnvlockError as error:
        _to_stderr(render(error))
        return error.exit_code
    except KeyboardInterrupt:
        _to_stderr("interrupted\n")
        return EXIT_INTERRUPTED
    print_result(
        result, info=print if verbosity >= 0 else _silent, detail=print if verbosity >= 1 else _silent
    )
    return 0


def print_result(
    result: SyncResult, *, info: Callable[[str], object], detail: Callable[[str], object]
) -> None:
    """A sync's notes, one line per changed package (``detail``) and the summary."""
    for note in result.notes:
        info(note)
    for item in result.plan.items:
        line = item_line(item)
        if line:
            detail(line)
    # "(already in sync)" whichever path found nothing to change: the stamp's no-op is a memo of this answer
    unchanged = not (result.dry_run or any(result.counts[k] for k in ("installed", "replaced", "removed")))
    up_to_date = result.up_to_date or unchanged
    info(summary(result.counts, result.elapsed, dry_run=result.dry_run, up_to_date=up_to_date))


def item_line(item: PlanItem) -> str | None:
    """`` + name==version``, `` ~ name old -> new (reason)``, `` - name==version``; None when kept."""
    from envlock.sync.plan import Action  # lazy: loaded by the sync that made the item anyway

    if item.action is Action.INSTALL:
        return f" + {item.name}=={item.new_version}"
    if item.action is Action.REPLACE:
        return f" ~ {item.name} {item.old_version} -> {item.new_version} ({item.reason})"
    if item.action is Action.REMOVE:
        return f" - {item.name}=={item.old_version}"
    return None


class Progress:
    """What a sync shows on stderr while it works: one line per phase and per build (``report``), so a
    CI log shows where an 80-second sync is; on a terminal (``live``) also one updating download line
    with its totals (``update``)."""

    def __init__(self, write: Callable[[str], object], *, live: bool) -> None:
        self._write = write
        self._live = live
        self._lock = threading.Lock()
        self._received: dict[str, int] = {}
        self._done: set[str] = set()
        """Files received whole (their size is known from the lock)."""
        self._files = 0
        self._size: int | None = None
        self._shown = False

    def update(self, artifact: Artifact, received: int) -> None:
        if not self._live:
            return
        with self._lock:
            self._received[artifact.filename] = received
            if artifact.size is not None and received >= artifact.size:
                self._done.add(artifact.filename)
            got = sum(self._received.values()) / 1e6
            of = f"/{self._size / 1e6:.1f}" if self._size is not None else ""
            done = len(self._done) if self._size is not None else len(self._received)  # else: begun
            files = f"{done}/{self._files}" if self._files else f"{len(self._received)}"
            self._write(f"\rdownloading {files} files, {got:.1f}{of} MB")
            self._shown = True

    def report(self, event: SyncEvent) -> None:
        with self._lock:
            if event.kind == "download":
                self._files, self._size = event.count, event.size
                if self._live:  # the download line shows it, with the totals
                    return
            line = phase_line(event)
            if self._shown:
                self._write("\r\033[K")
                self._shown = False
            self._write(line + "\n")

    def close(self) -> None:
        if self._shown:
            self._write("\r\033[K")


def phase_line(event: SyncEvent) -> str:
    """``downloading 3 files (1.2 MB)``, ``building foo 1.0 (sdist)…``, ``built foo 1.0 in 12.3s``,
    ``installing 38 packages, removing 2``."""
    if event.kind == "download":
        size = f" ({_megabytes(event.size)})" if event.size is not None else ""
        return f"downloading {_count(event.count, 'file')}{size}"
    if event.kind == "build":
        return f"building {event.subject}…"
    if event.kind == "built":
        return f"built {event.subject} in {event.seconds:.1f}s"
    parts = [f"installing {_count(event.count, 'package')}"] if event.count else []
    parts += [f"removing {_count(event.removed, 'package')}"] if event.removed else []
    return ", ".join(parts)


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _to_stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def _silent(_line: str) -> None:
    return None
