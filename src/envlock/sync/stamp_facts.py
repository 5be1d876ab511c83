"""What a sync's stamp records beyond the venv's files: why the lock is stale, if it is, and the
interpreter's facts taken from the probe the sync already ran."""

from __future__ import annotations

import os
from pathlib import Path

from envlock.env import venvs
from envlock.env.interpreter import InterpreterInfo
from envlock.guard import stamp_writer
from envlock.inputs import fresh_cache
from envlock.runtime import lock_header


def staleness(
    lock_path: Path, lock_sha: str, inputs: list[str], cache_dir: Path | None, lock_bytes: bytes
) -> str | None:
    """Why the lock is older than its inputs (its input fingerprint recomputed offline), or None when it is
    fresh or cannot be judged. Recorded in the stamp, so every later check and launcher refuses the venv
    until a compile and a sync: installing a stale lock must not make it look current. A fresh verdict is
    the one ``envlock check`` caches (``inputs/fresh_cache.py``: this lock's bytes, these inputs' bytes),
    so a sync of a lock judged before judges it from that memo. A lock whose bytes cannot name a
    fingerprint (``lock_header.mentions``: no such key, no escape that could spell one) cannot be judged:
    not even read again."""
    if not lock_header.mentions(lock_bytes, "fingerprint"):
        return None
    records = stamp_writer.input_records(os.fspath(lock_path), inputs)
    stamped = {"lock": {"sha256": lock_sha}, "inputs": records}
    remembered = fresh_cache.verdicts(cache_dir)
    key = fresh_cache.cache_key(stamped, os.fspath(lock_path), remembered=remembered)
    state, detail, _inputs = fresh_cache.judged(os.fspath(lock_path), key, remembered)
    return (detail or "its inputs changed") if state == fresh_cache.STALE else None


def probed_facts(info: InterpreterInfo) -> dict[str, object]:
    """What the stamp needs to know of the interpreter, from the probe the sync already ran (saves a
    subprocess of ~40 ms)."""
    paths = sorted({info.scheme.purelib, info.scheme.platlib})
    return {"version": info.version_str, "implementation": info.implementation, "paths": paths}


def moved_facts(info: InterpreterInfo, staging: Path, final: Path) -> dict[str, object] | None:
    """``probed_facts`` of a venv probed at ``staging`` and renamed to ``final`` (``venvs.moved_info``).
    None when the answer is not staging's or cannot be moved (the stamp writer asks then)."""
    moved = venvs.moved_info(info, final) if info.prefix == str(staging) else None
    return None if moved is None else probed_facts(moved)
