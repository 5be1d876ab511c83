"""``envlock compile`` says what it is doing: a status line redrawn in place on a terminal, the resolver's
decisions (rejected candidates, backtracking) with ``-v``, and only the result when not on a terminal."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.terminal import run_on_terminal

# The newest a needs b==2, which the root excludes: the resolver pins a 2.0, meets the clash and goes
# back to a 1.0.
BACKTRACKING = (
    DistSpec("a", "1.0", requires=("b==1",)),
    DistSpec("a", "2.0", requires=("b==2",)),
    DistSpec("b", "1.0"),
    DistSpec("b", "2.0"),
)


def test_verbose_lists_backtracking_decisions(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(*BACKTRACKING)
    Path("requirements.in").write_text("b<2\na\n")
    result = run_envlock("-v", "compile", "--index-url", kit_index.url)
    assert result.returncode == 0, result.stderr
    assert "rejected a 2.0 (requirements.in:1 requires b<2; a 2.0 requires b==2)" in result.stderr
    quiet = run_envlock("compile", "--index-url", kit_index.url, "--upgrade")
    assert "rejected" not in quiet.stderr and "\r" not in quiet.stderr  # not a terminal: no status line


def test_verbosity_may_follow_the_command(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    """``envlock compile -v`` / ``-q`` (as pip-compile and uv take them) are the group's ``-v`` / ``-q``;
    a ``-v`` after ``run``'s or ``launcher``'s command line stays the command's."""
    kit_index.publish(*BACKTRACKING)
    Path("requirements.in").write_text("b<2\na\n")
    verbose = run_envlock("compile", "--index-url", kit_index.url, "-v")
    assert verbose.returncode == 0 and "rejected a 2.0" in verbose.stderr, verbose.stderr
    quiet = run_envlock("compile", "--index-url", kit_index.url, "--upgrade", "-q")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    synced = run_envlock("sync", "-q", env={"ENVLOCK_INDEX_URL": kit_index.url})
    assert (synced.returncode, synced.stdout) == (0, "")
    assert "installed" in run_envlock("sync", "--rebuild", "-v").stdout
    made = run_envlock("launcher", "tool", "-o", "bin", "python", "-v", check=True)
    assert made.stdout == "launcher bin/tool runs: python -v\n"


def test_a_terminal_gets_a_status_line_that_is_cleared(kit_index: KitIndex, isolated: Path) -> None:
    kit_index.publish(*BACKTRACKING)
    Path("requirements.in").write_text("b<2\na\n")
    code, stdout, seen = run_on_terminal(
        [sys.executable, "-m", "envlock", "compile", "--index-url", kit_index.url]
    )
    assert code == 0, seen
    assert b"resolving: " in seen and b"metadata read" in seen
    assert seen.endswith(b"\r\x1b[K")  # the status line is gone before the result is printed
    assert b"wrote pylock.toml" in stdout
