"""The cached answer to "is this lock still what its inputs compile to?", on ``envlock check``'s path.

A *fresh* verdict of ``inputs.freshness`` is remembered under the cache folder (``freshness/<key>``),
keyed by the lock's and the inputs' sha256 as the stamp recorded them, so a clean ``envlock check`` (and
``run``, ``doctor``) pays one ``stat``. Only without a cached answer is ``inputs.freshness`` imported,
with the TOML parser, packaging and the input readers. Standard library and ``runtime.hashing`` only, and no
``pathlib``, ``typing`` or ``dataclasses``: each costs the check milliseconds to import
(tests/cli/test_check_cli.py pins the modules this path loads).
"""

from __future__ import annotations

import os

from envlock.runtime import drift
from envlock.runtime.hashing import sha256_file, sha256_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

FRESH, STALE, UNKNOWN = "fresh", "stale", "unknown"
"""The verdicts (``inputs.freshness.Freshness.state``)."""

CACHE_AREA = "freshness"
"""Cache area of the fresh verdicts (one empty file per key)."""

_LOCK_DRIFTS = frozenset({drift.NO_LOCK, drift.OTHER_LOCK, drift.LOCK_CHANGED})


def cache_key(stamp_data: Mapping[str, Any], lock: str, *, current: bool = False) -> str | None:
    """The key of a verdict: the lock's path and sha256 and every input's sha256. The input hashes are
    the stamp's (the stdlib check has just confirmed they are current), or with ``current`` read from
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
    return sha256_text("\n".join(str(p) for p in parts))


def _cache_dir() -> str:
    from envlock.cache_dir import default_cache_path  # lazy: envlock --help loads this module, not the cache

    return default_cache_path()


def known_fresh(key: str, cache_dir: str | os.PathLike[str] | None = None) -> bool:
    """A fresh verdict was cached for ``key``. Looked up where the cache most likely is, without
    importing platformdirs (~10 ms of a ~40 ms check): a wrong guess only misses, and the verdict is
    then worked out and written where platformdirs says."""
    from envlock.cache_dir import likely_cache_path, memo_disabled  # lazy: as _cache_dir

    if memo_disabled():
        return False
    folder = cache_dir or likely_cache_path()
    return os.path.isfile(os.path.join(folder, CACHE_AREA, key))  # noqa: PTH113, PTH118


def remember_fresh(key: str, cache_dir: str | os.PathLike[str] | None = None) -> None:
    """Cache a fresh verdict (best effort: a read-only cache only costs the next check the parse)."""
    from envlock.cache_dir import memo_disabled  # lazy: as _cache_dir

    if memo_disabled():
        return
    folder = os.path.join(cache_dir or _cache_dir(), CACHE_AREA)  # noqa: PTH118
    try:
        os.makedirs(folder, exist_ok=True)  # noqa: PTH103
        with open(os.path.join(folder, key), "ab"):  # noqa: PTH118
            pass
    except OSError:
        pass


def with_freshness(result: drift.CheckResult, options: drift.CheckOptions) -> drift.CheckResult:
    """``result`` judged by the lock's real input fingerprint (``inputs.freshness``; docs/stamp.md).

    Adds a ``lock-stale`` drift for an input edited *before* the last sync, which the stdlib check (its
    baseline is the sync) cannot see; drops the stdlib's ``lock-stale`` when the inputs changed since the
    sync but still compile to this lock (a comment, a version bump in pyproject.toml). A cached fresh
    verdict costs one ``stat``; the input parser is imported only without one.
    """
    if result.stamp is None or result.lock is None or any(d.kind in _LOCK_DRIFTS for d in result.drifts):
        return result
    stdlib_stale = [d for d in result.drifts if d.kind == drift.LOCK_STALE]
    key = cache_key(result.stamp, result.lock, current=bool(stdlib_stale))
    inputs: tuple[str, ...] = ()
    if key is not None and known_fresh(key):
        state, detail = FRESH, ""
    else:
        from pathlib import Path  # lazy: only without a cached verdict

        from envlock.inputs.freshness import verdict  # lazy: only without a cached verdict

        found = verdict(Path(result.lock), os.environ)
        state, detail, inputs = found.state, found.detail, found.inputs
        if state == FRESH and key is not None:
            remember_fresh(key)
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
