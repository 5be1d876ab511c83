"""A compile job's "lock kept" verdict: the existing lock already is what this compile would write, judged
from the job's one read of it, and remembered (``inputs.kept_cache``) for the same command line next time.
The resolver, the index and the lock model are never loaded on this path (issue 15)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envlock.inputs.settings import CompileSettings
from envlock.resolve.job_inputs import DEFAULT_SOURCES, LockRead

if TYPE_CHECKING:
    from envlock.inputs.settings import Resolved
    from envlock.resolve.job import CompileRequest


@dataclass(frozen=True)
class KeptReads:
    """What a compile read besides its command line, for its cached "lock kept" verdict."""

    root: Path
    resolved: Resolved
    interpreters: tuple[str, ...] | None
    """The interpreters the target came from; None when no verdict can vouch for the outcome."""
    started_ns: int


def lock_kept(
    request: CompileRequest, read: LockRead | None, resolved: Resolved, recorded: CompileSettings
) -> tuple[int, str] | None:
    """The number of packages of the lock ``read`` (``job_inputs.read_lock_text``) and the sha256 of the
    bytes judged, when it already is what this compile would write: it records this command line's
    settings (``recorded``: as a lock records them, target included) and the fingerprint its inputs
    have now, and nothing asks for a change (``--upgrade``, ``-P``, ``--dry-run``); else None."""
    if request.upgrade or request.upgrade_packages or request.dry_run or read is None:
        return None
    from envlock.runtime import sha256_text  # lazy: envlock --help loads the job

    text, data = read
    try:
        table = data["tool"]["envlock"]
        fingerprint, settings, packages = table["fingerprint"], table["settings"], data["packages"]
    except (KeyError, TypeError):
        return None
    if fingerprint != resolved.fingerprint(recorded.target) or not _records(settings, recorded):
        return None
    return (len(packages), sha256_text(text)) if isinstance(packages, list) else None


def _records(table: object, settings: CompileSettings) -> bool:
    """The lock's ``[tool.envlock.settings]`` ``table`` records ``settings``, in the single form written
    now or the earlier one (the target's identity beside ``targets`` too): a lock of either is kept."""
    if not isinstance(table, dict):
        return False
    try:
        return CompileSettings.from_tool(table) == settings
    except ValueError:
        return False


def kept_line(shown_out: str, kept: tuple[int, str], described: str) -> str:
    return f"{shown_out} is up to date ({kept[0]} packages, {described}; inputs unchanged)"


def remember_kept(
    request: CompileRequest, out: Path, lock_sha: str | None, message: str, reads: KeptReads
) -> None:
    """Cache the verdict (``inputs.kept_cache``): the lock is kept (``lock_sha``: the bytes judged), or
    ``--check`` found it fresh (None: the lock is hashed with the inputs, and must be as old), so that
    the same command, while nothing it was read from changes, is answered before click is imported."""
    if reads.interpreters is None or request.upgrade or request.upgrade_packages or request.dry_run:
        return
    # lazy: envlock --help loads the job
    from envlock.cache_dir import default_cache_path
    from envlock.inputs import kept_cache, kept_reads

    defaults = () if request.settings.sources else DEFAULT_SOURCES
    lock = str(out.absolute())
    files = kept_reads.read_files(reads.resolved, reads.root, defaults) + ([lock] if lock_sha is None else [])
    interpreters = (*reads.interpreters, sys.executable)
    variables = kept_reads.variables(reads.resolved)
    observed = kept_cache.observe(files, interpreters, variables, reads.started_ns)
    if observed is None or (lock_sha := lock_sha or observed["files"].get(lock)) is None:
        return
    values = {
        name: getattr(request.settings if hasattr(request.settings, name) else request, name)
        for name in kept_cache.REQUEST_FIELDS
    }
    key = kept_cache.request_key(values, str(reads.root), os.environ)
    folder = str(request.cache_dir) if request.cache_dir else default_cache_path()
    kept_cache.remember(key, folder, {"message": message, "lock": [lock, lock_sha], **observed})
