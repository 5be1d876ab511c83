"""A lock as a git commit has it (``envlock diff``'s default old side): ``git show REF:./NAME`` run in the
lock's folder, through a runner passed in (tests use a real repository in a temporary folder)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from envlock.errors import InputError

GitRunner = Callable[[Sequence[str], Path], "subprocess.CompletedProcess[bytes]"]
"""Runs ``git ARGS`` in a folder and returns its exit code and raw output."""


def run_git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False, timeout=60)
    except FileNotFoundError:
        raise InputError("git is not installed (envlock diff reads the old lock from git)") from None


def lock_text_at(ref: str, lock: Path, runner: GitRunner = run_git) -> str | None:
    """The text ``lock`` has at commit ``ref``; None when that commit has no such file (a lock added
    since). An InputError (exit 2) when ``ref`` is no commit of the repository, or there is none."""
    if ref.startswith("-"):
        raise InputError(f"git ref {ref!r}: a ref cannot start with '-'")
    folder = lock.absolute().parent
    if not folder.is_dir():
        raise InputError(f"{lock}: its folder does not exist")
    found = runner(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], folder)
    if found.returncode != 0:
        why = _last_line(found.stderr)
        if "not a git repository" in why:
            raise InputError(
                f"{lock}: not in a git repository, so there is no {ref} to compare with",
                hint="name both locks: envlock diff OLD NEW",
            )
        raise InputError(
            f"git ref {ref!r} does not exist in the repository of {lock}" + (f" ({why})" if why else "")
        )
    shown = runner(["show", f"{ref}:./{lock.name}"], folder)
    if shown.returncode != 0:
        return None
    try:
        return shown.stdout.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{lock} at {ref}: cannot read lock file: {error}") from None


def _last_line(output: bytes) -> str:
    lines = output.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else ""
