"""Shared shapes for the lock-reading commands' tests (why, tree, diff, outdated): a diamond and a
two-target lock compiled by envlock against the kit index, and a git repository to commit locks to."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock

TWO_TARGETS = ("cp311-linux-x86_64", "cp312-windows-amd64")
LINUX = "cpython 3.11 on linux/x86_64"
WINDOWS = "cpython 3.12 on win32/AMD64"


def publish_diamond(index: KitIndex) -> None:
    """app -> left, right; left and right -> base (base[fast] -> speed); and requirements.in also names
    base itself: three paths lead to base."""
    index.publish(
        DistSpec("app", "1.0", requires=("left>=1", "right")),
        DistSpec("left", "1.0", requires=("base<3,>=1",)),
        DistSpec("right", "1.0", requires=("base[fast]>=2",)),
        DistSpec("base", "2.0", extras=("fast",), requires=("speed; extra == 'fast'",)),
        DistSpec("speed", "1.0"),
    )


def publish_two_targets(index: KitIndex) -> None:
    """app needs colorama on Windows only, and native whose 2.0 needs Python 3.12: Linux (3.11) locks
    native 1.0 without colorama, Windows (3.12) native 2.0 with it."""
    index.publish(
        DistSpec("app", "1.0", requires=("native", "colorama; sys_platform == 'win32'")),
        DistSpec("native", "1.0"),
        DistSpec("native", "2.0", requires_python=">=3.12"),
        DistSpec("colorama", "0.4"),
    )


def git(folder: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=kit", "-c", "user.email=kit@example.invalid", *args]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=True)
    return done.stdout


def commit_all(folder: Path, message: str = "lock") -> None:
    if not (folder / ".git").exists():
        git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", message)


TARGET_ARGS = tuple(a for t in TWO_TARGETS for a in ("--target", t))
"""``--target`` for each of TWO_TARGETS."""


def compile_lock(
    run_envlock: RunEnvlock, index: KitIndex, folder: Path, requirements: str, *args: str
) -> None:
    """``requirements`` as ``folder/requirements.in``, compiled against ``index`` (with ``args``)."""
    (folder / "requirements.in").write_text(requirements)
    run_envlock("compile", "--index-url", index.url, *args, cwd=folder, check=True)
