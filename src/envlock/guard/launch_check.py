"""The check ``envlock check`` / ``run`` / ``doctor`` run: the stdlib stamp check with its fixes worded for
the command line, judged by the lock's input freshness. Light (no click, no packaging), so the answer
before click (``envlock.quick``) and the click commands share it."""

from __future__ import annotations

from envlock.inputs.fresh_cache import with_freshness
from envlock.runtime import drift

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def check_options(venv: str | Path, lock: str | Path | None, *, deep: bool = False) -> drift.CheckOptions:
    """CheckOptions whose fixes name ``--venv``/the lock when they are not the defaults."""
    sync = drift.sync_fix(str(venv), None if lock is None else str(lock))
    return drift.CheckOptions(lock=lock, deep=deep, venv_label=str(venv), sync_command=sync)


def run_check(venv: str | Path, lock: str | Path | None, *, deep: bool = False) -> drift.CheckResult:
    """The check of ``venv`` against ``lock`` (None: the lock its stamp names)."""
    options = check_options(venv, lock, deep=deep)
    return with_freshness(drift.check(venv, options), options)


def drift_message(result: drift.CheckResult, label: str) -> tuple[str, str]:
    """The error and the hint a drifted venv is reported with: every drift, then the fixes to run."""
    return "\n".join(drift.report_lines(result, label=label)), "run: " + " && ".join(drift.fixes(result))
