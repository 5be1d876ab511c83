"""The lock-reading rows: ``envlock why``, ``tree`` and ``diff`` on a set's lock (issue 25's target: each
answers from the lock alone in under 150 ms), wall and CPU time of the whole command, Python's start
included, as a user types it.

Standalone on any two locks: ``.venv/bin/python benchmarks/lock_read.py OLD NEW NAME [--runs N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

import tools
from launch import Sample, run_measured

TARGET_MS = 150.0


@dataclass
class ReadRow:
    """The runs of one lock-reading command."""

    command: str
    samples: list[Sample] = field(default_factory=list)
    failure: str | None = None

    def median(self, figure: str) -> float:
        return statistics.median(getattr(sample, figure) for sample in self.samples)


def lock_pins(lock: Path) -> dict[str, str]:
    """name -> version of a pylock.toml's index packages."""
    from envlock.lock.lockfile import read_lock  # the benchmark runs envlock's tree (as real_index.py)

    return {p.name: str(p.version) for p in read_lock(lock).packages if p.version is not None}


def commands(old: Path, new: Path, name: str) -> list[list[str]]:
    return [
        ["why", name, "--lock", str(new)],
        ["why", name, "--lock", str(new), "--json"],
        ["tree", "--lock", str(new)],
        ["tree", "--invert", name, "--lock", str(new)],
        ["diff", str(old), str(new)],
        ["diff", str(old), str(new), "--format", "markdown"],
    ]


def measure(old: Path, new: Path, name: str, runs: int, env: dict[str, str]) -> list[ReadRow]:
    """Each command ``runs`` times after one warm-up run (bytecode, page cache); diff's exit 1 (the locks
    differ) is an answer, not a failure."""
    rows = []
    for args in commands(old, new, name):
        row = ReadRow("envlock " + " ".join(a if "/" not in a else Path(a).name for a in args))
        for index in range(runs + 1):
            sample, code, output = run_measured(
                [str(tools.DEV_PYTHON), "-m", "envlock", *args], new.parent, env
            )
            if code not in (0, 1) or (code == 1 and args[0] != "diff"):
                row.failure = f"exited {code}: {output.decode(errors='replace')[-300:]}"
                break
            if index:
                row.samples.append(sample)
        rows.append(row)
    return rows


def render(rows_by_set: dict[str, list[ReadRow]], runs: int) -> list[str]:
    lines = [
        "",
        f"### Reading the lock (median of {runs} runs; whole command, Python's start included; "
        f"target < {TARGET_MS:.0f} ms)",
        "",
        "| set | command | wall | CPU | under target |",
        "|---|---|---|---|---|",
    ]
    for set_name, rows in rows_by_set.items():
        for row in rows:
            if row.failure:
                lines.append(f"| {set_name} | `{row.command}` | failed: {row.failure} | | |")
                continue
            wall, cpu = row.median("wall") * 1000, row.median("cpu") * 1000
            lines.append(
                f"| {set_name} | `{row.command}` | {wall:.1f} ms | {cpu:.1f} ms | "
                f"{'yes' if wall < TARGET_MS else 'no'} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("name", help="the package why and tree --invert ask about")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    env = tools.Sandbox(Path(args.new).absolute().parent / ".bench-box").env()
    rows = measure(args.old.absolute(), args.new.absolute(), args.name, args.runs, env)
    print("\n".join(render({args.new.name: rows}, args.runs)))
    return 0 if not any(row.failure for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
