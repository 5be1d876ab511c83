"""The pre-commit hook envlock ships (.pre-commit-hooks.yaml): its command and which changes trigger it."""

from __future__ import annotations

import re
from pathlib import Path

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
