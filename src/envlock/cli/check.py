"""``envlock check``: does the venv match its stamp and lock? Silent exit 0, or every drift and its fix.

Imports only click, the standard library and ``envlock.runtime`` at start-up, so it answers in a few
milliseconds beyond the interpreter's start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from envlock.cli._options import table_options
from envlock.errors import EXIT_PROBLEM, DriftError
from envlock.guard import launch_check
from envlock.runtime import drift

if TYPE_CHECKING:
    from envlock.cli import Output


@dataclass(frozen=True)
class CheckSettings:
    """What ``envlock check`` was asked to do."""

    venv: Path
    """The venv to check."""
    lock: Path | None
    """The lock it must match; ``None``: the lock its stamp names."""
    deep: bool = False
    """Also hash every installed file against its RECORD."""
    json: bool = False
    """Print the documented JSON document instead of the human report."""


def run_check(settings: CheckSettings) -> drift.CheckResult:
    """The check of ``settings.venv``, with the fix commands worded for this command line."""
    return launch_check.run_check(settings.venv, settings.lock, deep=settings.deep)


def drift_error(result: drift.CheckResult, label: str) -> DriftError:
    """The error ``check``, ``run`` and ``doctor`` raise for a drifted venv: report and the fix to run."""
    message, hint = launch_check.drift_message(result, label)
    return DriftError(message, hint=hint)


@click.command("check")
@table_options("check")
@click.pass_obj
def command(output: Output, venv: Path, lock: Path | None, deep: bool, as_json: bool) -> None:
    """Check that a venv matches its lock: exit 0 when it does, else name every drift and its fix (exit 1)."""
    settings = CheckSettings(venv=venv, lock=lock, deep=deep, json=as_json)
    result = run_check(settings)
    if settings.json:
        click.echo(json.dumps(result.as_dict(), indent=2, sort_keys=True, ensure_ascii=False))
        if not result.ok:
            raise click.exceptions.Exit(EXIT_PROBLEM)
        return
    if not result.ok:
        raise drift_error(result, str(venv))
    output.detail(drift.report_lines(result, label=str(venv))[0])
