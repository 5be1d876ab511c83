"""Resolver scale benchmark: envlock and uv compile a generated index of 30 to 1,000 projects
(``benchmarks/synthetic.py``), warm cache, the lock deleted first (a fresh resolution) and kept.

    .venv/bin/python benchmarks/scale.py [--sizes 30,100,300,500,1000] [--runs 3] [--src PATH]

``--src`` runs envlock from another checkout's ``src`` (a before → after comparison). Not a test: nothing
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
from pathlib import Path

import synthetic
import tools
from report import RESULTS_DIR, machine
from server import BenchIndex

SCENARIOS = ("warm, fresh", "warm, lock kept", "warm, lock kept, input changed")
"""The output deleted before each run; kept (envlock answers from its fingerprint); kept while the input
gains or loses a root requirement run by run (a resolution that keeps the previous pins)."""


def measure(cmd: list[str], work: Path, box: tools.Sandbox, out: Path, runs: int, scenario: str) -> float:
    """Median seconds of ``runs`` runs of one scenario (``SCENARIOS``)."""
    seconds = []
    for run in range(runs):
        if scenario == "warm, fresh":
            out.unlink(missing_ok=True)
        if scenario.endswith("input changed"):
            roots = [synthetic.name(0), synthetic.name(1)][: 1 + run % 2]
            (work / "requirements.in").write_text("".join(f"{root}\n" for root in roots))
        result = tools.timed(cmd, cwd=work, env=box.env())
        if not result.ok:
            raise SystemExit(f"failed: {result.detail}")
        seconds.append(result.seconds)
    return statistics.median(seconds)


def run_size(n: int, runs: int, scratch: Path, src: Path | None) -> dict[str, dict[str, float] | int]:
    files = synthetic.generate(n, scratch / f"index-{n}")
    row: dict[str, dict[str, float] | int] = {}
    with BenchIndex(files) as index:
        for tool in ("envlock", "uv"):
            work = scratch / f"{tool}-{n}"
            work.mkdir()
            src_file = work / "requirements.in"
            src_file.write_text(f"{synthetic.name(0)}\n")
            out = work / ("pylock.toml" if tool == "envlock" else "requirements.txt")
            box = tools.Sandbox(work / "box", src or tools.SRC)
            compile_cmd = tools.envlock_compile if tool == "envlock" else tools.uv_compile
            cmd = compile_cmd(src_file, out, index.url, box)
            measure(cmd, work, box, out, 1, SCENARIOS[0])  # cold: fills the cache
            row[tool] = {s: measure(cmd, work, box, out, runs, s) for s in SCENARIOS}
            if tool == "envlock":
                row["locked"] = out.read_text().count("[[packages]]")
    return row


def render(rows: dict[int, dict[str, dict[str, float] | int]], runs: int, src: Path | None) -> str:
    lines = [
        f"# Resolver scale: generated index, {runs} runs per cell (medians)",
        "",
        f"envlock from {src or tools.SRC}; load average {os.getloadavg()[0]:.1f} at the end",
        "",
        "| projects | locked | "
        + " | ".join(f"envlock {s} | uv {s} | envlock ÷ uv" for s in SCENARIOS)
        + " |",
        "|---:|---:|" + "---:|---:|---:|" * len(SCENARIOS),
    ]
    for n, row in rows.items():
        envlock, uv = row["envlock"], row["uv"]
        assert isinstance(envlock, dict) and isinstance(uv, dict)
        cells = [str(n), str(row["locked"])]
        for scenario in SCENARIOS:
            cells += [_ms(envlock[scenario]), _ms(uv[scenario]), f"{envlock[scenario] / uv[scenario]:.1f}×"]
        lines.append("| " + " | ".join(cells) + " |")
    sizes = list(rows)
    if len(sizes) >= 2:
        lines += ["", "Growth exponent of envlock's warm fresh compile (1.0 = linear), size to size:"]
        for small, large in itertools.pairwise(sizes):
            a, b = rows[small]["envlock"], rows[large]["envlock"]
            assert isinstance(a, dict) and isinstance(b, dict)
            slope = math.log(b["warm, fresh"] / a["warm, fresh"]) / math.log(large / small)
            lines.append(f"- {small} → {large}: {slope:.2f}")
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
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = {}
    with tempfile.TemporaryDirectory(prefix="envlock-scale-") as scratch:
        for n in sizes:
            print(f"size {n} ...", file=sys.stderr, flush=True)
            rows[n] = run_size(n, args.runs, Path(scratch), args.src)
    text = render(rows, args.runs, args.src)
    print(text)
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / time.strftime("scale-%Y-%m-%d-%H%M.md", time.gmtime())
    path.write_text(text)
    print(f"written: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
