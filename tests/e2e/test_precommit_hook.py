"""The pre-commit hook envlock ships (.pre-commit-hooks.yaml): its command, which changes trigger it, and
its verdict on a lock compiled with extras, groups and settings (the hook gives no flags)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli.test_compile_lock_settings import PYPROJECT, publish, settings_args
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock

HOOKS = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"


def hook_fields() -> dict[str, str]:
    """The one hook's ``key: value`` lines (the file is flat; no YAML library needed)."""
    fields: dict[str, str] = {}
    for line in HOOKS.read_text().splitlines():
        match = re.match(r"^(?:- |  )([a-z_]+): (.*)$", line)
        if match:
            fields[match.group(1)] = match.group(2).strip()
    return fields


def test_hook_runs_compile_check_once_per_commit() -> None:
    fields = hook_fields()
    assert fields["id"] == "envlock-compile-check"
    assert fields["entry"] == "envlock compile --check"
    assert fields["language"] == "python"
    assert fields["pass_filenames"] == "false"


def test_hook_triggers_on_inputs_includes_and_locks_only() -> None:
    files = re.compile(hook_fields()["files"])
    for path in (
        "requirements.in",
        "dev.in",
        "reqs/base.in",
        "requirements/constraints.txt",
        "constraints.txt",
        "dev-requirements.txt",
        "pyproject.toml",
        "pylock.toml",
        "pylock.dev.toml",
        "services/api/pylock.toml",
    ):
        assert files.search(path), path
    for path in ("README.md", "src/app/main.py", "setup.cfg", "notes.txt", "config.toml"):
        assert not files.search(path), path


def test_the_hook_judges_a_lock_by_the_settings_it_was_compiled_with(
    kit_index: KitIndex, isolated: Path, run_envlock: RunEnvlock
) -> None:
    publish(kit_index)
    (isolated / "pyproject.toml").write_text(PYPROJECT)
    (isolated / "requirements.in").write_text("delta\n")  # the default source, not the lock's
    run_envlock("compile", *settings_args(kit_index), check=True)
    program, *args = hook_fields()["entry"].split()
    assert program == "envlock"
    fresh = run_envlock(*args)
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout == "pylock.toml is up to date with pyproject.toml (extras fast; groups test)\n"
    (isolated / "pyproject.toml").write_text(PYPROJECT.replace('fast = ["alpha"]', 'fast = ["alpha<2"]'))
    stale = run_envlock(*args)
    assert stale.returncode == 1
    assert "pyproject.toml changed since pylock.toml was compiled" in stale.stderr, stale.stderr
