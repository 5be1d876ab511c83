"""Before → after: envlock against another checkout of itself, on the daily commands, in one run.

    .venv/bin/python benchmarks/ab.py --before /path/to/other/checkout/src [--runs N] [--set fastapi]

For a change that must not slow envlock down (a restructuring): each scenario runs the two envlocks in
turn (before, after, before, after, ...), so a machine whose load drifts weighs on both alike. Each side
has its own cache box (their code identities differ, so their remembered answers would not be shared
anyway). Figures are the CPU time of the finished process (``wait4``: user + system, children included)
and its wall time; the ratio is after ÷ before (< 1: faster now). Not a test: nothing is asserted.

Scenarios: compile with a warm cache (output deleted: a full resolve), compile with the lock kept,
sync into a fresh venv with a warm cache, the no-op sync, a one-package change (and back, untimed), and
``envlock check`` of the synced venv.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import corpus
import report
import tools
from run import CHANGED_PACKAGE
from server import BenchIndex

SCENARIOS = (
    "compile, warm cache",
    "compile, lock kept",
    "sync, fresh venv, warm cache",
    "sync, no-op",
    "sync, one-package change",
    "check",
)


@dataclass(frozen=True)
class Sample:
    cpu: float
    wall: float


@dataclass
class Side:
    """One envlock (a source tree) and its own cache box, venv and locks."""

    label: str
    box: tools.Sandbox
    work: Path
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    venv: Path = Path()

    def command(self, *args: str) -> list[str]:
        return [str(tools.DEV_PYTHON), "-m", "envlock", *args, "--cache-dir", str(self.box.cache / "envlock")]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> Sample:
    """One finished process; a failure stops the benchmark (a broken side has no figure)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output = proc.stdout.read() if proc.stdout is not None else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0,):
        raise SystemExit(
            f"failed ({proc.returncode}): {' '.join(cmd)}\n{output.decode(errors='replace')[-800:]}"
        )
    return Sample(usage.ru_utime + usage.ru_stime, wall)


def new_venv(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([str(tools.DEV_PYTHON), "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def prepare(side: Side, set_name: str, pins_b: dict[str, str], index_url: str) -> None:
    """The side's inputs and locks: requirements.in, its lock, and a lock with one package moved."""
    side.work.mkdir(parents=True)
    (side.work / "requirements.in").write_text(corpus.set_file(set_name).read_text())
    moved = side.work / "moved"
    moved.mkdir()
    (moved / "pins.in").write_text("".join(f"{n}=={v}\n" for n, v in sorted(pins_b.items())))
    env = side.box.env()
    run(
        side.command("compile", "requirements.in", "-o", "pylock.toml", "--index-url", index_url),
        side.work,
        env,
    )
    run(side.command("compile", "pins.in", "-o", "pylock.toml", "--index-url", index_url), moved, env)
    side.venv = new_venv(side.work / "venv")
    run(side.command("sync", "pylock.toml", "--venv", str(side.venv)), side.work, env)


def once(side: Side, scenario: str, index_url: str) -> Sample:
    env, work, venv = side.box.env(), side.work, str(side.venv)
    if scenario == "compile, warm cache":
        (work / "out.toml").unlink(missing_ok=True)
        return run(
            side.command("compile", "requirements.in", "-o", "out.toml", "--index-url", index_url), work, env
        )
    if scenario == "compile, lock kept":
        return run(
            side.command("compile", "requirements.in", "-o", "pylock.toml", "--index-url", index_url),
            work,
            env,
        )
    if scenario == "sync, fresh venv, warm cache":
        new_venv(side.venv)
        return run(side.command("sync", "pylock.toml", "--venv", venv), work, env)
    if scenario == "sync, no-op":
        return run(side.command("sync", "pylock.toml", "--venv", venv), work, env)
    if scenario == "sync, one-package change":
        sample = run(side.command("sync", "moved/pylock.toml", "--venv", venv), work, env)
        run(side.command("sync", "pylock.toml", "--venv", venv), work, env)  # back, untimed
        return sample
    return run([str(tools.DEV_PYTHON), "-m", "envlock", "check", "--venv", venv], work, env)


def render(sides: list[Side], runs: int, set_name: str) -> str:
    before, after = sides
    lines = [
        f"**before → after** ({set_name}; median of {runs} runs each, in turn; CPU = user + system of the "
        "process and its children; ratio = after ÷ before)",
        "",
        "| scenario | before CPU | after CPU | CPU ratio | before wall | after wall | wall ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario in SCENARIOS:
        medians = []
        for side in (before, after):
            samples = side.samples.get(scenario, [])
            medians.append(
                (statistics.median(s.cpu for s in samples), statistics.median(s.wall for s in samples))
            )
        (bc, bw), (ac, aw) = medians
        lines.append(
            f"| {scenario} | {bc * 1000:.0f} ms | {ac * 1000:.0f} ms | {ac / bc:.2f} "
            f"| {bw * 1000:.0f} ms | {aw * 1000:.0f} ms | {aw / bw:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", type=Path, required=True, help="the other checkout's src folder")
    parser.add_argument("--runs", type=int, default=7, help="runs per side and scenario (default 7)")
    parser.add_argument("--set", default="fastapi", choices=corpus.set_names())
    args = parser.parse_args(argv)
    files = corpus.build(str(tools.DEV_PYTHON), refresh=False, say=say)
    scratch = Path(tempfile.mkdtemp(prefix="envlock-ab-"))
    try:
        with BenchIndex(files) as index:
            sides = [
                Side(
                    "before", tools.Sandbox(scratch / "box-before", args.before.resolve()), scratch / "before"
                ),
                Side("after", tools.Sandbox(scratch / "box-after", tools.SRC), scratch / "after"),
            ]
            pins = _pins(sides[1], args.set, index.url, scratch)
            changed = CHANGED_PACKAGE[args.set]
            older = report.previous_version(changed, pins[changed], files)
            pins_b = dict(pins, **({changed: older} if older else {}))
            for side in sides:
                prepare(side, args.set, pins_b, index.url)
            for scenario in SCENARIOS:
                say(f"  {scenario}")
                for number in range(args.runs + 1):  # the first round warms caches and is not counted
                    for side in sides if number % 2 else reversed(sides):
                        sample = once(side, scenario, index.url)
                        if number:
                            side.samples.setdefault(scenario, []).append(sample)
            print(render(sides, args.runs, args.set))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def _pins(side: Side, set_name: str, index_url: str, scratch: Path) -> dict[str, str]:
    """The set's pins (uv's hashed requirements reading of envlock's own resolve is not needed: the
    lock's packages are the pins)."""
    work = scratch / "pins"
    work.mkdir()
    (work / "requirements.in").write_text(corpus.set_file(set_name).read_text())
    box = tools.Sandbox(scratch / "box-pins")
    subprocess.run(
        tools.uv_compile(work / "requirements.in", work / "out.txt", index_url, box),
        cwd=work,
        env=box.env(),
        check=True,
        capture_output=True,
    )
    return report.read_pins((work / "out.txt").read_text())


if __name__ == "__main__":
    sys.exit(main())
