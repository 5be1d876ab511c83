"""Resolver scale benchmark: envlock and uv compile a generated index of 30 to 1,000 projects
(``benchmarks/synthetic.py``), warm cache, the lock deleted first (a fresh resolution) and kept.

    .venv/bin/python benchmarks/scale.py [--sizes 30,100,300,500,1000] [--runs 3] [--src PATH]
                                         [--before PATH]

``--src`` runs envlock from another checkout's ``src``; ``--before`` adds a second envlock from that
``src`` (a before → after comparison in one run). The tools take turns run by run (envlock, uv,
envlock before, envlock, ...), so a machine whose load changes weighs on each alike. Not a test: nothing
is asserted. Prints a markdown table (medians; envlock ÷ uv; the growth exponent between sizes, 1.0 =
linear) and writes it to ``benchmarks/results/scale-<date>.md``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import synthetic
import tools
from report import RESULTS_DIR, machine
from server import BenchIndex

SCENARIOS = ("warm, fresh", "warm, lock kept", "warm, lock kept, input changed")
"""The output deleted before each run; kept (envlock answers from its fingerprint); kept while the input
names a second root requirement, another one run by run (a resolution that keeps the previous pins and
writes a lock never written before)."""


@dataclass
class Tool:
    """One compiler under test in its own work folder and sandbox (warm after its cold run)."""

    name: str
    cmd: list[str]
    work: Path
    box: tools.Sandbox
    out: Path
    seconds: dict[str, list[float]] = field(default_factory=dict)

    def run(self, scenario: str, run: int) -> None:
        """One timed run of ``scenario`` (``SCENARIOS``; -1: the untimed cold run)."""
        if scenario == "warm, fresh":
            self.out.unlink(missing_ok=True)
        if scenario.endswith("input changed"):
            # every run a change, to a lock never written before (the sync cache's read of it is new)
            roots = [synthetic.name(0), synthetic.name(1 + max(run, 0))]
            (self.work / "requirements.in").write_text("".join(f"{root}\n" for root in roots))
        result = tools.timed(self.cmd, cwd=self.work, env=self.box.env())
        if not result.ok:
            raise SystemExit(f"{self.name} failed: {result.detail}")
        if run >= 0:
            self.seconds.setdefault(scenario, []).append(result.seconds)

    def median(self, scenario: str) -> float:
        return statistics.median(self.seconds[scenario])


def _tool(name: str, src: Path, n: int, index_url: str, scratch: Path) -> Tool:
    work = scratch / f"{name}-{n}"
    work.mkdir()
    src_file = work / "requirements.in"
    src_file.write_text(f"{synthetic.name(0)}\n")
    out = work / ("requirements.txt" if name == "uv" else "pylock.toml")
    box = tools.Sandbox(work / "box", src)
    compile_cmd = tools.uv_compile if name == "uv" else tools.envlock_compile
    return Tool(name, compile_cmd(src_file, out, index_url, box), work, box, out)


def run_size(
    n: int, runs: int, scratch: Path, src: Path | None, before: Path | None
) -> dict[str, dict[str, float] | int]:
    files = synthetic.generate(n, scratch / f"index-{n}")
    row: dict[str, dict[str, float] | int] = {}
    with BenchIndex(files) as index:
        sources = {"envlock": src or tools.SRC, "uv": tools.SRC}
        if before is not None:
            sources["before"] = before
        taking_turns = [_tool(name, path, n, index.url, scratch) for name, path in sources.items()]
        for tool in taking_turns:
            tool.run(SCENARIOS[0], -1)  # cold: fills the cache
        for scenario in SCENARIOS:
            for run in range(runs):
                for tool in taking_turns:
                    tool.run(scenario, run)
        for tool in taking_turns:
            row[tool.name] = {scenario: tool.median(scenario) for scenario in SCENARIOS}
        row["locked"] = taking_turns[0].out.read_text().count("[[packages]]")
    return row


def render(
    rows: dict[int, dict[str, dict[str, float] | int]], runs: int, src: Path | None, before: Path | None
) -> str:
    was = f"envlock before ({before}) → " if before else ""
    lines = [
        f"# Resolver scale: generated index, {runs} runs per cell (medians), the tools taking turns",
        "",
        f"envlock from {src or tools.SRC}; load average {os.getloadavg()[0]:.1f} at the end",
        "",
        "| projects | locked | "
        + " | ".join(f"{was}envlock {s} | uv {s} | envlock ÷ uv" for s in SCENARIOS)
        + " |",
        "|---:|---:|" + "---:|---:|---:|" * len(SCENARIOS),
    ]
    for n, row in rows.items():
        envlock, uv, old = row["envlock"], row["uv"], row.get("before")
        assert isinstance(envlock, dict) and isinstance(uv, dict)
        cells = [str(n), str(row["locked"])]
        for scenario in SCENARIOS:
            ratio = f"{envlock[scenario] / uv[scenario]:.1f}×"
            if isinstance(old, dict):
                cells += [f"{_ms(old[scenario])} → {_ms(envlock[scenario])}", _ms(uv[scenario])]
                cells.append(f"{old[scenario] / uv[scenario]:.1f}× → {ratio}")
            else:
                cells += [_ms(envlock[scenario]), _ms(uv[scenario]), ratio]
        lines.append("| " + " | ".join(cells) + " |")
    sizes = list(rows)
    if len(sizes) >= 2:
        lines += ["", "Growth exponent of envlock's warm fresh compile (1.0 = linear), size to size:"]
        for small, large in itertools.pairwise(sizes):
            slopes = []
            for name in ("before", "envlock") if before else ("envlock",):
                a, b = rows[small][name], rows[large][name]
                assert isinstance(a, dict) and isinstance(b, dict)
                slopes.append(math.log(b["warm, fresh"] / a["warm, fresh"]) / math.log(large / small))
            lines.append(f"- {small} → {large}: " + " → ".join(f"{slope:.2f}" for slope in slopes))
    return "\n".join([*lines, "", *machine(), ""])


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="30,100,300,500,1000", help="projects per generated index")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool and scenario (default 3)")
    parser.add_argument("--src", type=Path, help="run envlock from this src folder (default: this checkout)")
    parser.add_argument("--before", type=Path, help="also run envlock from this src folder, taking turns")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = {}
    with tempfile.TemporaryDirectory(prefix="envlock-scale-") as scratch:
        for n in sizes:
            print(f"size {n} ...", file=sys.stderr, flush=True)
            rows[n] = run_size(n, args.runs, Path(scratch), args.src, args.before)
    text = render(rows, args.runs, args.src, args.before)
    print(text)
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / time.strftime("scale-%Y-%m-%d-%H%M.md", time.gmtime())
    path.write_text(text)
    print(f"written: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
