"""``envlock doctor``: a readable report of what makes "installed but ModuleNotFoundError" happen."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from envlock.cli._options import table_options
from envlock.errors import EXIT_PROBLEM

_MARKS = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}


@click.command("doctor")
@table_options("doctor")
def command(venv: Path, lock: Path | None, as_json: bool) -> None:
    """Report PATH, VIRTUAL_ENV, wrong-place installs, lock and stamp state, cache; exit 1 on problems."""
    from envlock.guard.doctor import DoctorInputs, diagnose
    from envlock.index.cache import default_cache_dir

    report = diagnose(
        DoctorInputs(venv=venv, lock=lock, environ=dict(os.environ), cache_dir=default_cache_dir())
    )
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        for finding in report.findings:
            click.echo(f"[{_MARKS[finding.status]}] {finding.topic}: {finding.detail}")
            if finding.fix and finding.status != "ok":
                click.echo(f"         fix: {finding.fix}")
        click.echo(f"verdict: {report.verdict}")
    if not report.ok:
        raise click.exceptions.Exit(EXIT_PROBLEM)
