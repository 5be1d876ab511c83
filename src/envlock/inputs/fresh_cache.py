"""The cached answer to "is this lock still what its inputs compile to?", on ``envlock check``'s path.

A *fresh* verdict of ``inputs.freshness`` is a memo (``envlock.memo``, area ``freshness``) keyed by the lock's
and the inputs' sha256 as the stamp recorded them, and by the code judging (this module's import closure,
``memo.code_digest``), so a clean ``envlock check`` (and ``run``, ``doctor``) pays two small reads and a
``stat`` of each file of that code. Only without a remembered answer is ``inputs.freshness`` imported,
with the TOML parser, packaging and the input readers. Standard library, ``runtime`` and ``memo`` only,
and no ``pathlib``, ``typing`` or ``dataclasses``: each costs the check milliseconds to import
(tests/cli/test_check_cli.py pins the modules this path loads). It also holds the check ``envlock
check``, ``run`` and ``doctor`` run (``run_check``): the stamp check judged by that verdict.
"""

from __future__ import annotations

import os

from envlock import memo
from envlock.runtime import drift, sha256_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

FRESH, STALE, UNKNOWN = "fresh", "stale", "unknown"
"""The verdicts (``inputs.freshness.Freshness.state``)."""

CACHE_AREA = "freshness"
"""The memo area of the fresh verdicts."""

_LOCK_DRIFTS = frozenset({drift.NO_LOCK, drift.OTHER_LOCK, drift.LOCK_CHANGED})


def cache_key(
    stamp_data: Mapping[str, Any],
    lock: str,
    *,
    current: bool = False,
    remembered: memo.Memo | None = None,
) -> str | None:
    """The key of a verdict in ``remembered`` (default: ``verdicts()``): the lock's path and sha256, every
    input's sha256, and the code judging (``Memo.key``: this module's import closure). The input hashes
    are the stamp's (the stdlib check has just confirmed they are current), or with ``current`` read from
    the files (inputs changed since the sync). ``None`` for a stamp without them."""
    try:
        lock_path = os.path.abspath(lock)  # noqa: PTH100
        lock_dir = os.path.dirname(lock_path)  # noqa: PTH120
        parts = [lock_path, stamp_data["lock"]["sha256"]]
        for record in sorted(stamp_data.get("inputs", []), key=lambda r: str(r["path"])):
            digest = record.get("sha256")
            if current:
                path = os.path.join(lock_dir, record["path"])  # noqa: PTH118
                digest = sha256_file(path) if os.path.isfile(path) else None  # noqa: PTH113
            parts.append(f"{record['path']}={digest}")
    except (KeyError, TypeError, OSError):
        return None
    return (remembered or verdicts()).key([str(p) for p in parts])


def verdicts(cache_dir: str | os.PathLike[str] | None = None) -> memo.Memo:
    """The remembered verdicts in the cache folder (``--cache-dir``, else ``ENVLOCK_CACHE_DIR``, else
    the user's). Without a folder named, looked up where the user's cache most likely is, without
    importing platformdirs (~10 ms of a ~40 ms check; ``cache_dir.likely_cache_path``)."""
    from envlock.cache_dir import likely_cache_path  # lazy: envlock --help loads this module, not the cache

    return memo.Memo(CACHE_AREA, cache_dir or likely_cache_path(), code=__name__)


def judged(lock: str, key: str | None, remembered: memo.Memo) -> tuple[str, str, tuple[str, ...]]:
    """``inputs.freshness.verdict`` of ``lock`` (state, detail, inputs), a fresh one remembered under
    ``key`` (None: not remembered). Only without a remembered verdict is the input parser imported."""

    def compute() -> tuple[str, str, tuple[str, ...]]:
        from pathlib import Path  # lazy: only without a remembered verdict

        from envlock.inputs.freshness import verdict  # lazy: only without a remembered verdict

        found = verdict(Path(lock), os.environ)
        return found.state, found.detail, found.inputs

    if key is None:
        return compute()
    return remembered.through(key, compute, _encode, _decode)


def _encode(answer: tuple[str, str, tuple[str, ...]]) -> bytes | None:
    return FRESH.encode() if answer[0] == FRESH else None  # only "fresh" is a verdict of these bytes alone


def _decode(body: bytes) -> tuple[str, str, tuple[str, ...]]:
    if body != FRESH.encode():
        raise ValueError("not a fresh verdict")
    return FRESH, "", ()


def with_freshness(
    result: drift.CheckResult, options: drift.CheckOptions, cache_dir: str | os.PathLike[str] | None = None
) -> drift.CheckResult:
    """``result`` judged by the lock's real input fingerprint (``inputs.freshness``; docs/stamp.md).

    Adds a ``lock-stale`` drift for an input edited *before* the last sync, which the stdlib check (its
    baseline is the sync) cannot see; drops the stdlib's ``lock-stale`` when the inputs changed since the
    sync but still compile to this lock (a comment, a version bump in pyproject.toml). A remembered fresh
    verdict (``verdicts``: ``cache_dir``'s) costs a few ``stat`` calls and one small read; the input
    parser is imported only without one.
    """
    if result.stamp is None or result.lock is None or any(d.kind in _LOCK_DRIFTS for d in result.drifts):
        return result
    stdlib_stale = [d for d in result.drifts if d.kind == drift.LOCK_STALE]
    remembered = verdicts(cache_dir)
    key = cache_key(result.stamp, result.lock, current=bool(stdlib_stale), remembered=remembered)
    state, detail, inputs = judged(result.lock, key, remembered)
    if state == FRESH and stdlib_stale:
        kept = [d for d in result.drifts if d.kind != drift.LOCK_STALE]
        return drift.CheckResult(result.venv, result.lock, kept, result.stamp)
    if state != STALE:
        return result
    name = os.path.basename(result.lock)  # noqa: PTH119
    what = inputs[0] if len(inputs) == 1 else f"the inputs of {name} ({', '.join(inputs)})"
    stale = drift.Drift(
        drift.LOCK_STALE,
        inputs[0],
        f"{what} changed since {name} was compiled ({detail})",
        f"{options.compile_command} && {options.sync_command}",
    )
    # The recomputed verdict names what the lock lacks; it replaces the stdlib's coarser lock-stale.
    kept = [d for d in result.drifts if d.kind != drift.LOCK_STALE]
    return drift.CheckResult(result.venv, result.lock, [*kept, stale], result.stamp)


# --- the check ``envlock check`` / ``run`` / ``doctor`` run (``guard.launch_check`` names it for the guard
# stage; here, so the answer before click loads one module and no ``guard`` package for it) -----------------


def check_options(venv: str | Path, lock: str | Path | None, *, deep: bool = False) -> drift.CheckOptions:
    """CheckOptions whose fixes name ``--venv``/the lock when they are not the defaults."""
    named = None if lock is None else str(lock)
    sync, compile_ = drift.sync_fix(str(venv), named), drift.compile_fix(named)
    return drift.CheckOptions(
        lock=lock, deep=deep, venv_label=str(venv), sync_command=sync, compile_command=compile_
    )


def run_check(venv: str | Path, lock: str | Path | None, *, deep: bool = False) -> drift.CheckResult:
    """The check of ``venv`` against ``lock`` (None: the lock its stamp names), judged by the lock's input
    freshness: the stdlib stamp check with its fixes worded for the command line."""
    options = check_options(venv, lock, deep=deep)
    result = with_freshness(drift.check(venv, options), options)
    if lock is None and result.drifts and result.lock is not None:  # the drift path only
        return _fixes_naming(result, options, check_options(venv, _shown(result.lock), deep=deep))
    return result


def _fixes_naming(
    result: drift.CheckResult, old: drift.CheckOptions, new: drift.CheckOptions
) -> drift.CheckResult:
    """``result``'s fixes worded with ``new``'s commands: those of the lock the stamp names, when the check
    was not given one (its fixes named the default lock, which a venv synced from another one is not)."""
    words = {
        old.sync_command: new.sync_command,
        old.compile_command: new.compile_command,
        f"{old.compile_command} && {old.sync_command}": f"{new.compile_command} && {new.sync_command}",
    }
    drifts = [drift.Drift(d.kind, d.subject, d.message, words.get(d.fix, d.fix)) for d in result.drifts]
    return drift.CheckResult(result.venv, result.lock, drifts, result.stamp)


def _shown(path: str) -> str:
    """``path`` as a fix names it: relative to the working folder when it is inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if relative.startswith(os.pardir) else relative


def drift_message(result: drift.CheckResult, label: str) -> tuple[str, str]:
    """The error and the hint a drifted venv is reported with: every drift, then the fixes to run."""
    return "\n".join(drift.report_lines(result, label=label)), "run: " + " && ".join(drift.fixes(result))
